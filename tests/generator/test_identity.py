"""Master records: same_customer groups, credit codes, and matchability by the spec's rules."""

import re
from collections import Counter, defaultdict

from stdnum.cn import uscc

from tests.generator.namekey import _normal_code, name_key


def _ordinary(built):
    """Companies in no name-changing identity case (their records follow the plain rules)."""
    special = {i for case in built.cases if case.kind != "mistyped_code" for i in case.companies}
    return {c.idx for c in built.companies} - special


def _master_records(world):
    for r in world["crm"]["AccountObj"]:
        yield f"crm:AccountObj:{r['_id']}", r["name"], r.get("uscc__c")
    for r in world["u8"]["customer"]:
        yield f"u8:customer:{r['code']}", r["name"], r["taxno"]
    for r in world["finance"]["credit_rating"]:
        yield f"finance:credit_rating:{r['customer_code']}", r["customer_name"], r["uscc"]


def test_every_master_record_in_exactly_one_group(default_world):
    world, truth = default_world.world, default_world.truth
    refs = [ref for ref, _, _ in _master_records(world)]
    grouped = Counter(ref for group in truth["same_customer"] for ref in group)
    assert set(grouped) == set(refs) and set(grouped.values()) == {1}
    assert len(truth["same_customer"]) == 60
    for group in truth["same_customer"]:
        assert len({default_world.company_of[ref] for ref in group}) == 1
    sizes = Counter(len(g) for g in truth["same_customer"])
    assert sizes[1] >= 2 and max(sizes) >= 4  # singletons and duplicates both occur


def test_credit_codes(default_world):
    by_company = defaultdict(set)
    typos = missing = 0
    for c in default_world.companies:
        assert uscc.is_valid(c.uscc) and c.uscc[:2] == "91" and c.uscc[2:8].isdigit()
    valid_codes = Counter(c.uscc for c in default_world.companies)
    assert max(valid_codes.values()) == 1
    for ref, _, code in _master_records(default_world.world):
        company = default_world.companies[default_world.company_of[ref]]
        if not code:
            missing += 1
            continue
        code = _normal_code(code)
        if uscc.is_valid(code):
            by_company[company.idx].add(code)
            assert code == company.uscc
        else:
            typos += 1
            assert len(code) == 18 and sum(a != b for a, b in zip(code, company.uscc)) <= 2
    assert all(len(codes) == 1 for codes in by_company.values())
    assert typos >= 2 and missing >= 10


def test_every_record_is_matchable(default_world):
    """A record without a valid code has a name key that points to exactly one company."""
    cores = defaultdict(set)
    ordinary = _ordinary(default_world)
    assert len(ordinary) >= 35
    records = [r for r in _master_records(default_world.world) if default_world.company_of[r[0]] in ordinary]
    for ref, name, _ in records:
        cores[name_key(name)[0]].add(default_world.company_of[ref])
    assert all(len(companies) == 1 for companies in cores.values())
    for ref, name, _ in records:
        company = default_world.companies[default_world.company_of[ref]]
        core, places = name_key(name)
        assert core == company.name.core, name
        assert set(places) <= {company.name.province, company.name.city}, name


def test_wecom_corp_names_point_to_their_company(default_world):
    cores = {c.name.core for c in default_world.companies}
    for x in default_world.world["wecom"]["external_contacts"]:
        name = x["external_contact"].get("corp_full_name") or x["follow_info"]["remark_corp_name"]
        key = name_key(name)[0]
        assert key in cores or any(key.startswith(core) for core in cores), name  # or a branch


def test_spellings_vary(default_world):
    world = default_world.world
    names = [r["name"] for r in world["u8"]["customer"] + world["crm"]["AccountObj"]]
    assert any("(" in n for n in names) and any("（" in n for n in names)
    assert any(n != n.strip() for n in names)
    assert any(not n.strip().endswith("公司") for n in names)


def test_no_key_collisions_at_scale(big_world):
    built = big_world
    cores = defaultdict(set)
    ordinary = _ordinary(built)
    for ref, name, _ in _master_records(built.world):
        if built.company_of[ref] in ordinary:
            cores[name_key(name)[0]].add(built.company_of[ref])
    assert len(cores) == len(ordinary) > 1500 and all(len(v) == 1 for v in cores.values())


def test_employees_link_by_mobile(default_world):
    world = default_world.world

    def digits(mobile):
        d = re.sub(r"\D", "", mobile)
        return d[2:] if len(d) == 13 and d.startswith("86") else d

    crm = {digits(p["mobile"]): p["name"] for p in world["crm"]["PersonnelObj"]}
    u8 = {digits(p["mobile"]): p["name"] for p in world["u8"]["person"]}
    wecom = {digits(p["mobile"]): p["name"] for p in world["wecom"]["follow_users"]}
    assert crm == wecom and set(crm.items()) < set(u8.items())
    assert any(not p["mobile"].isdigit() for p in world["u8"]["person"])
    regions = {p["main_department"] for p in world["crm"]["PersonnelObj"]}
    assert 4 <= len(regions) <= 5  # 3-4 regions + head office
