"""The engine's typo blocks, kept per distinct name core, are the blocks one per record and
one-deletion variant would be: same members (as often), same too-common blocks."""

from __future__ import annotations

from collections import Counter, defaultdict

from mappings.identity.blocks import big_blocks, block_keys, block_members, deletions
from mappings.identity.config import Matching
from mappings.identity.engine import Engine, Rec
from mappings.identity.typos import TypoIndex
from mappings.normalize import NameKey


def _recs() -> list[Rec]:
    cores = ["恒通建材", "恒通建材", "恒通达材", "恒恒通建", "百川贸易", "百川贸易", "百川贸", "云帆科技", "aabbcc", "abbcc"]
    recs = [Rec(ref=f"r{n}", system="crm", key=NameKey(core, None), deleted=n == 1,
                aliases=(NameKey("恒通建材", None),) if n == 4 else ())
            for n, core in enumerate(cores)]
    return recs + [Rec(ref=f"s{n}", system="u8", key=NameKey("百川贸易", "苏州")) for n in range(4)]


def test_typo_blocks_per_core_have_the_members_of_blocks_per_record():
    recs = _recs()
    engine = Engine(recs, Matching(max_block=3))
    plain = defaultdict(list)
    for i, r in enumerate(engine.recs):
        if not r.deleted:
            for key in block_keys(r):
                plain[key].append(i)
    typo_blocks = {k for k in plain if k[0] == "del"}
    assert typo_blocks and any(len(set(v)) < len(v) for v in plain.values())  # a record twice in a block
    for kind, variant in typo_blocks:
        assert Counter(engine._typo_members(engine.typos.cores_of(variant))) == Counter(plain[(kind, variant)])
    assert engine.big == big_blocks(((r, block_keys(r)) for r in engine.recs), 3)
    assert any(k[0] == "del" for k in engine.big)


def test_typo_index_lists_the_cores_a_dict_of_variant_texts_would():
    """The hashed arrays give, per variant, the cores (as often, in core order) a dict keyed by
    the variant texts gives; every distinct variant comes out of ``variants`` once."""
    cores = ["恒通建材", "恒通达材", "恒恒通建", "恒通建", "aabbcc", "abbcc", "abcc", "aabbc", "xyz", "百川贸易"]
    by_text: dict[str, list[str]] = defaultdict(list)
    for core in cores:
        for d in deletions(core):
            by_text[d].append(core)
    typos = TypoIndex(cores)
    assert typos and len(typos) == sum(len(v) for v in by_text.values())
    for d, listed in by_text.items():
        assert typos.cores_of(d) == listed
    assert typos.cores_of("nothing") == [] and typos.cores_of("zzz") == []
    found = list(typos.variants())
    assert len(found) == len(by_text) and dict(found) == by_text
    assert not TypoIndex() and not TypoIndex(["abc"])


def test_block_index_has_the_members_of_a_dict_of_lists_in_record_order():
    """The flat-array block index (a block of one record kept as its index, bigger blocks as a
    slice of one array) gives every block's records, as often and in record order, as a dict of
    lists would."""
    recs = _recs()
    engine = Engine(recs, Matching(max_block=3))
    plain = defaultdict(list)
    for i, r in enumerate(engine.recs):
        if not r.deleted:
            for key in block_keys(r, False):
                plain[key].append(i)
    index = engine.index
    assert len(index) == len(plain)
    assert any(len(v) > 2 for v in plain.values()) and any(len(v) == 1 for v in plain.values())
    for key, members in plain.items():
        assert list(block_members(index, key)) == members
        assert index.size(index.get(key)) == len(members)
    assert {k for k, _ in index.items()} == set(plain)
    assert list(block_members(index, ("core", "无此公司"))) == []
