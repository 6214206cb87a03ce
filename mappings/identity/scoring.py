"""Evidence scoring: how strongly one group of records is another (the engine's stage 4).

Split from :mod:`mappings.identity.engine`, which decides *what* is compared (blocks, hard
constraints, accept/margin/review); this module decides *how much* a comparison says. Pure
functions of the two groups' records, the switchboard numbers and the matching configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rapidfuzz.distance import OSA, Levenshtein
from rapidfuzz.fuzz import ratio

from mappings.identity.cities import clash, group_location
from mappings.identity.homophones import homophone_swap
from mappings.normalize import NameKey
from mappings.regions import places_compatible

if TYPE_CHECKING:
    from mappings.identity.config import Matching
    from mappings.identity.engine import Rec

BRANCH_TAG = "#branch:"


def branch_tag(key: NameKey) -> str:
    """The branch part of a name key's core ("" for a company that is no branch)."""
    _, _, tag = key.core.partition(BRANCH_TAG)
    return tag


def base(core: str) -> str:
    """A name core without its branch part."""
    return core.partition(BRANCH_TAG)[0]


def score_groups(a: list[Rec], b: list[Rec], switchboards: set[str], cfg: Matching) -> tuple[float, tuple[str, ...]]:
    """Evidence that the records ``a`` are the records ``b`` (the caller passes only ``b``'s live
    ones): the best name signal plus phone, address, contact and near-code evidence; a name alone
    across places that exclude each other is capped at the review threshold."""
    w = cfg.weights
    name, name_sig = 0.0, None
    for x in a:
        for y in b:
            for kx in ((x.key,) if x.key else ()) + x.aliases:
                for ky in ((y.key,) if y.key else ()) + y.aliases:
                    s, sig = name_score(kx, ky, kx is not x.key or ky is not y.key, cfg)
                    if s > name:
                        name, name_sig = s, sig
    phones_a = {p for x in a for p in x.phones} - switchboards
    phones_b = {p for y in b for p in y.phones} - switchboards
    if name_sig == "name_homophone" and phones_a and phones_b and not phones_a & phones_b:
        # Each side has numbers of its own, none in common: namesakes a sound apart (驰盛 and
        # 驰诚 are two firms), not one firm keyed in wrong; the sound counts as any typo.
        name, name_sig = w.name_one_edit, "name_one_edit"
    signals = [name_sig] if name_sig else []
    score = name
    if phones_a & phones_b:
        score += w.phone
        signals.append("phone")
    if {x.address for x in a if x.address} & {y.address for y in b if y.address}:
        score += w.address
        signals.append("address")
    if {c for x in a for c in x.contacts} & {c for y in b for c in y.contacts}:
        score += w.contact
        signals.append("contact")
    codes_a = {c for x in a for c in (x.uscc, x.code_raw) if c}
    codes_b = {c for y in b for c in (y.uscc, y.code_raw) if c}
    if any(OSA.distance(p, q, score_cutoff=1) <= 1 for p in codes_a for q in codes_b):
        score += w.near_code
        signals.append("near_code")
    if signals == [name_sig] and cfg.infer_cities and clash(group_location(a), group_location(b)):
        # a name alone across places that exclude each other: the review queue, never a join
        return min(score, cfg.review), (name_sig, "other_city")
    return score, tuple(signals)


def name_score(a: NameKey, b: NameKey, alias: bool, cfg: Matching) -> tuple[float, str | None]:
    """The name signal between two keys (``alias``: one of them is an alias): exact, a one
    character typo (stronger when the two characters sound alike), fuzzy similarity, or none;
    never across branches or places that exclude each other."""
    w = cfg.weights
    if branch_tag(a) != branch_tag(b) or not places_compatible(a.place, b.place):
        return 0.0, None
    if a.core == b.core:
        return (w.name_alias, "name_alias") if alias else (w.name_exact, "name_exact")
    x, y = base(a.core), base(b.core)
    if min(len(x), len(y)) >= 4 and Levenshtein.distance(x, y, score_cutoff=1) <= 1:
        if homophone_swap(x, y):  # the input-method slip: stronger than any one-character edit
            return w.name_homophone, "name_homophone"
        return w.name_one_edit, "name_one_edit"
    sim = ratio(x, y) / 100
    if sim >= cfg.fuzzy_min:
        return w.name_fuzzy * sim, "name_fuzzy"
    return 0.0, None
