from mappings.matching import Record, match_records
from mappings.normalize import name_key, normalize_uscc

VALID_A = "91110108551385082Q"


def make(ref, name, uscc=None, u8_code=None):
    system = ref.split(":")[0]
    return Record(ref=ref, system=system, name=name, key=name_key(name), uscc=normalize_uscc(uscc),
                  u8_code=u8_code, owner=None)


def groups(result):
    return sorted(sorted(r.ref for r in c.records) for c in result.clusters)


def valid_code(body17: str) -> str:
    from stdnum.cn import uscc

    return body17 + uscc.calc_check_digit(body17)


def test_same_code_merges_and_name_joins_codeless_record():
    result = match_records([
        make("crm:AccountObj:1", "广州恒通建材有限公司", VALID_A),
        make("u8:customer:C1", "恒通建材（广州）", VALID_A, "C1"),
        make("finance:credit_rating:C1", "恒通建材", None, "C1"),
        make("crm:AccountObj:2", "广州恒通建材股份有限公司"),  # no code: joins by name key
    ])
    assert groups(result) == [["crm:AccountObj:1", "crm:AccountObj:2", "finance:credit_rating:C1", "u8:customer:C1"]]
    assert result.methods["crm:AccountObj:2"] == "name"
    assert result.methods["finance:credit_rating:C1"] == "u8_code"


def test_different_valid_codes_never_merge_and_ambiguous_name_goes_to_review():
    other = valid_code("91440101MA59XXXX0")
    result = match_records([
        make("crm:AccountObj:1", "恒通建材有限公司", VALID_A),
        make("u8:customer:C2", "恒通建材有限公司", other, "C2"),
        make("u8:customer:C3", "恒通建材"),  # key points to two customers
    ])
    assert len(result.clusters) == 3
    assert "u8:customer:C3" in result.review


def test_mistyped_code_is_treated_as_missing():
    bad = VALID_A[:-1] + ("0" if VALID_A[-1] != "0" else "1")
    result = match_records([
        make("crm:AccountObj:1", "华润医疗器械有限公司", bad),
        make("u8:customer:C1", "华润医疗器械", VALID_A, "C1"),
    ])
    assert groups(result) == [["crm:AccountObj:1", "u8:customer:C1"]]


def test_codeless_records_group_by_key_but_branches_and_other_cities_stay_apart():
    result = match_records([
        make("crm:AccountObj:1", "恒通机电有限公司"),
        make("u8:customer:C1", "恒通机电", None, "C1"),
        make("u8:customer:C2", "恒通机电有限公司广州分公司", None, "C2"),
        make("u8:customer:C3", "深圳恒通机电有限公司", None, "C3"),
        make("u8:customer:C4", "广州恒通机电有限公司", None, "C4"),
    ])
    g = groups(result)
    assert ["u8:customer:C2"] in g
    assert not any("u8:customer:C3" in grp and "u8:customer:C4" in grp for grp in g)


def test_customer_ids_are_stable_and_code_based():
    a = match_records([make("crm:AccountObj:1", "恒通建材", VALID_A)])
    b = match_records([make("crm:AccountObj:9", "恒通建材有限公司", VALID_A), make("u8:customer:X", "x", VALID_A, "X")])
    assert a.clusters[0].customer_id == b.clusters[0].customer_id


def test_codeless_rating_without_u8_link_joins_a_codeless_customer_by_name():
    result = match_records([
        make("crm:AccountObj:1", "恒通机电有限公司"),
        make("finance:credit_rating:X9", "恒通机电", None, "X9"),  # X9 is no U8 customer
    ])
    assert groups(result) == [["crm:AccountObj:1", "finance:credit_rating:X9"]]


def test_coded_rating_pulls_in_its_codeless_u8_customer():
    result = match_records([
        make("crm:AccountObj:1", "苏州百川贸易有限公司", VALID_A),
        make("finance:credit_rating:U2", "苏州百川贸易有限公司", VALID_A, "U2"),
        make("u8:customer:U2", "百川", None, "U2"),  # name alone would not match
    ])
    assert groups(result) == [["crm:AccountObj:1", "finance:credit_rating:U2", "u8:customer:U2"]]
    assert result.methods["u8:customer:U2"] == "finance_link"


def test_name_joins_carry_their_city_so_a_conflicting_city_stays_apart():
    result = match_records([
        make("u8:customer:C1", "某某科技有限公司", VALID_A, "C1"),
        make("crm:AccountObj:1", "广州某某科技有限公司"),
        make("crm:AccountObj:2", "深圳某某科技有限公司"),
    ])
    g = groups(result)
    assert ["crm:AccountObj:1", "u8:customer:C1"] in g
    assert ["crm:AccountObj:2"] in g


def test_deleted_records_follow_their_company_but_attract_nobody():
    deleted = make("crm:AccountObj:0", "恒通机电有限公司")
    deleted.deleted = True
    result = match_records([deleted, make("u8:customer:C1", "恒通机电", None, "C1")])
    assert groups(result) == [["crm:AccountObj:0", "u8:customer:C1"]]
    # a deleted account does not make a live name ambiguous
    other = make("crm:AccountObj:9", "广州恒通机电有限公司")
    other.deleted = True
    result = match_records([other, make("crm:AccountObj:1", "恒通机电", VALID_A), make("u8:customer:C2", "恒通机电")])
    assert any({"crm:AccountObj:1", "u8:customer:C2"} <= set(g) for g in groups(result))
    assert "u8:customer:C2" not in result.review


def test_review_entries_name_their_candidates():
    other = valid_code("91440101MA59XXXX0")
    result = match_records([
        make("crm:AccountObj:1", "恒通建材有限公司", VALID_A),
        make("u8:customer:C2", "恒通建材有限公司", other, "C2"),
        make("u8:customer:C3", "恒通建材"),
    ])
    reason, candidates = result.review["u8:customer:C3"]
    assert len(candidates) == 2
