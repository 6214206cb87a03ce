"""Hard identity cases: every kind planted at both difficulties, and the invariants that keep
the truth sound (different valid codes, branches and cities never in one group)."""

from collections import Counter

import pytest
from typer.testing import CliRunner

from simulators.generator import Knobs, build, dumps
from simulators.generator.identity import KINDS
from simulators.generator.names import LOCATIONS
from tests.generator.namekey import _normal_code, name_key
from tests.generator.test_identity import _master_records

CITIES = {city or province for province, places in LOCATIONS.items() for city, _ in places}
PROVINCES = set(LOCATIONS)


@pytest.fixture(scope="module")
def worlds():
    """The same 400-customer world at both difficulties (about 0.5 s each)."""
    return {d: build(3, customers=400, knobs=Knobs(difficulty=d)) for d in ("default", "hard")}


def _records_by_ref(world):
    recs = {f"crm:AccountObj:{r['_id']}": ("crm", r) for r in world["crm"]["AccountObj"]}
    recs.update({f"u8:customer:{r['code']}": ("u8", r) for r in world["u8"]["customer"]})
    recs.update({f"finance:credit_rating:{r['customer_code']}": ("finance", r)
                 for r in world["finance"]["credit_rating"]})
    return recs


def _name(system, rec):
    return rec["customer_name"] if system == "finance" else rec["name"]


def _cases(built, kind):
    return [i for i in built.truth["identity_cases"] if i["kind"] == kind]


def _group_of(built):
    return {ref: n for n, group in enumerate(built.truth["same_customer"]) for ref in group}


@pytest.mark.parametrize("difficulty", ["default", "hard"])
def test_every_master_record_in_exactly_one_group(worlds, difficulty):
    built = worlds[difficulty]
    refs = [ref for ref, _, _ in _master_records(built.world)]
    grouped = Counter(ref for group in built.truth["same_customer"] for ref in group)
    assert set(grouped) == set(refs) and set(grouped.values()) == {1}
    assert len(built.truth["same_customer"]) == 400


def test_every_kind_present_and_hard_has_more(worlds):
    counts = {d: Counter(i["kind"] for i in w.truth["identity_cases"]) for d, w in worlds.items()}
    assert set(counts["default"]) == set(counts["hard"]) == set(KINDS)
    for kind in KINDS:
        assert counts["default"][kind] >= 2, kind
        assert counts["hard"][kind] > counts["default"][kind], kind
    planted = sum(n for k, n in counts["default"].items() if k != "mistyped_code")
    assert planted <= 0.15 * 400  # a modest share at default


def test_evidence_mostly_at_default_less_at_hard(worlds):
    def share(built):
        items = [i for i in built.truth["identity_cases"] if i["companies"] == 1]
        return sum(1 for i in items if i["evidence"]) / len(items)

    assert share(worlds["default"]) >= 0.8
    assert share(worlds["hard"]) < share(worlds["default"])
    nasty = [i for i in _cases(worlds["hard"], "typo") if not i["evidence"]]
    assert nasty  # one-character typos with nothing else shared exist at hard


@pytest.mark.parametrize("difficulty", ["default", "hard"])
def test_different_valid_codes_never_in_one_group(worlds, difficulty):
    built = worlds[difficulty]
    recs = _records_by_ref(built.world)
    for group in built.truth["same_customer"]:
        codes = set()
        for ref in group:
            system, rec = recs[ref]
            code = _normal_code({"crm": rec.get("uscc__c"), "u8": rec.get("taxno"),
                                 "finance": rec.get("uscc")}[system])
            if code and _valid(code):
                codes.add(code)
        assert len(codes) <= 1, group


def _valid(code):
    from stdnum.cn import uscc

    return uscc.is_valid(code)


@pytest.mark.parametrize("difficulty", ["default", "hard"])
def test_different_cities_never_in_one_group(worlds, difficulty):
    built = worlds[difficulty]
    recs = _records_by_ref(built.world)
    for group in built.truth["same_customer"]:
        cities = set()
        for ref in group:
            _, places = name_key(_name(*recs[ref]))
            cities |= {p for p in places if p in CITIES and p not in PROVINCES - CITIES}
        assert len(cities) <= 1, (group, cities)


@pytest.mark.parametrize("difficulty", ["default", "hard"])
def test_branch_never_with_parent(worlds, difficulty):
    built = worlds[difficulty]
    group_of, recs = _group_of(built), _records_by_ref(built.world)
    for case in built.cases:
        if case.kind != "branch":
            continue
        parent, branch = (built.companies[i] for i in case.companies)
        assert parent.name.legal in branch.name.legal and branch.name.legal.endswith(("分公司", "办事处"))
        parent_groups = {group_of[r] for r in _refs_of(built, parent.idx)}
        branch_groups = {group_of[r] for r in _refs_of(built, branch.idx)}
        assert len(parent_groups) == len(branch_groups) == 1 and parent_groups != branch_groups
        for ref in _refs_of(built, branch.idx):
            assert _name(*recs[ref]).strip().endswith(("分公司", "办事处", "）"))


def _refs_of(built, idx):
    return [ref for ref, company in built.company_of.items() if company == idx]


def test_same_brand_in_other_cities(worlds):
    for difficulty, built in worlds.items():
        recs = _records_by_ref(built.world)
        for case in (c for c in built.cases if c.kind == "same_brand_other_city"):
            a, b = (built.companies[i] for i in case.companies)
            assert a.name.core == b.name.core and a.name.place != b.name.place
            assert a.uscc != b.uscc
            cityless = []
            for company in (a, b):
                for ref in _refs_of(built, company.idx):
                    core, places = name_key(_name(*recs[ref]))
                    assert core == a.name.core
                    if not places:
                        cityless.append(ref)
            if difficulty == "default":
                assert not cityless  # every spelling names its city
            else:
                assert len(cityless) <= 1


def test_renamed_keeps_the_code(worlds):
    built = worlds["default"]
    recs = _records_by_ref(built.world)
    cases = _cases(built, "renamed")
    assert cases
    for case in cases:
        (_, account), (_, customer) = (recs[r] for r in case["refs"])
        assert name_key(account["name"])[0] != name_key(customer["name"])[0]
        assert _normal_code(account["uscc__c"]) == _normal_code(customer["taxno"])
        assert "code" in case["evidence"]


def test_record_level_kinds(worlds):
    from simulators.generator.variants import S2T

    built = worlds["hard"]
    recs = _records_by_ref(built.world)
    company = {ref: built.companies[built.company_of[ref]] for ref in built.company_of}
    for case in _cases(built, "typo"):
        [ref] = case["refs"]
        core = name_key(_name(*recs[ref]))[0]
        truth_core = company[ref].name.core
        assert len(core) == len(truth_core) and sum(x != y for x, y in zip(core, truth_core, strict=True)) == 1
    for case in _cases(built, "traditional"):
        name = _name(*recs[case["refs"][0]])
        assert any(ch in S2T.values() for ch in name)
    for case in _cases(built, "legal_form"):
        names = [_name(*recs[r]) for r in case["refs"]]
        assert len({name_key(n)[0] for n in names}) == 1 and len(set(names)) == 2
        assert any(n.endswith(("股份公司", "股份有限公司")) for n in names)
    for case in _cases(built, "province_city_prefix"):
        ref = case["refs"][0]
        _, places = name_key(_name(*recs[ref]))
        assert places[:2] == [company[ref].name.province, company[ref].name.city]
    for case in _cases(built, "abbreviation"):
        (_, account), (_, customer) = (recs[r] for r in case["refs"])
        assert account["name"] == customer["abbrname"] and len(account["name"]) < len(customer["name"])
    for case in _cases(built, "mistyped_code"):
        system, rec = recs[case["refs"][0]]
        code = _normal_code({"crm": rec.get("uscc__c"), "u8": rec.get("taxno"),
                             "finance": rec.get("uscc")}[system])
        assert not _valid(code) and len(code) == 18


def test_shared_switchboards_span_different_companies(worlds):
    built = worlds["default"]
    phones = {}
    for c in built.companies:
        phones.setdefault(c.phone, set()).add(c.idx)
    shared = {p: idx for p, idx in phones.items() if len(idx) > 1}
    cases = [c for c in built.cases if c.kind == "shared_switchboard"]
    assert cases and {frozenset(c.companies) for c in cases} == {frozenset(v) for v in shared.values()}
    world_phones = Counter()
    for rec in built.world["u8"]["customer"]:
        if rec["phone"] in shared:
            world_phones[rec["phone"]] += 1
    assert any(n > 1 for n in world_phones.values())  # the same number on several customers


def test_evidence_fields_in_spec_shapes(worlds):
    world = worlds["default"].world
    accounts, customers = world["crm"]["AccountObj"], world["u8"]["customer"]
    assert sum(1 for a in accounts if a.get("tel")) > 0.7 * len(accounts)
    assert all(a["address"] for a in accounts)
    for c in customers:
        assert {"phone", "mobile", "address", "contact", "taxno", "abbrname"} <= set(c)
    assert sum(1 for c in customers if c["phone"]) > 0.7 * len(customers)


def test_hard_is_deterministic_and_cli_option(tmp_path):
    a = build(5, customers=70, knobs=Knobs(difficulty="hard"))
    b = build(5, customers=70, knobs=Knobs(difficulty="hard"))
    assert dumps(a.truth) == dumps(b.truth) and dumps(a.world) == dumps(b.world)
    assert dumps(a.truth) != dumps(build(5, customers=70).truth)
    with pytest.raises(ValueError, match="unknown difficulty"):
        build(5, customers=30, knobs=Knobs(difficulty="nasty"))

    from hub_cli.main import app

    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--customers", "50",
                                      "--seed", "5", "--difficulty", "hard"])
    assert result.exit_code == 0, result.output
    expected = build(5, customers=50, knobs=Knobs(difficulty="hard"))
    assert (tmp_path / "truth.json").read_text(encoding="utf-8") == dumps(expected.truth)
    bad = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--difficulty", "nasty"])
    assert bad.exit_code != 0


def test_identity_shares_can_be_overridden():
    none = {kind: 0.0 for kind in KINDS if kind != "mistyped_code"}
    plain = build(3, customers=200, knobs=Knobs(identity={**none, "code_typo": 0.0}))
    kinds = {i["kind"] for i in plain.truth["identity_cases"]}
    assert kinds <= {"mistyped_code"}  # the ordinary share of mistyped codes (crm/u8 knobs) stays
    typos_only = build(3, customers=200, knobs=Knobs(identity={**none, "typo": 0.05}))
    assert Counter(i["kind"] for i in typos_only.truth["identity_cases"])["typo"] == 10
