"""The resolution engine: deterministic keys, evidence in blocks, hard constraints, review queue."""

from stdnum.cn import uscc as _uscc

from mappings.identity.config import Matching
from mappings.identity.engine import Rec, resolve
from mappings.identity.phones import extract_phones
from mappings.identity.records import code_text
from mappings.normalize import name_key, normalize_uscc

VALID_A = "91110108551385082Q"
CFG = Matching()


def valid_code(body17: str) -> str:
    return body17 + _uscc.calc_check_digit(body17)


VALID_B = valid_code("91440101MA59XXXX0")
VALID_C = valid_code("91310000MA1FL0000")


def make(ref, name, code=None, link=None, phones=(), address=None, contacts=(), aliases=(), deleted=False):
    uscc = normalize_uscc(code)
    return Rec(ref=ref, system=ref.split(":")[0], key=name_key(name),
               aliases=tuple(name_key(a) for a in aliases), uscc=uscc,
               code_raw=None if uscc else code_text(code), link_code=link,
               phones=tuple(extract_phones(*phones)), address=address, contacts=tuple(contacts), deleted=deleted)


def groups(result):
    return sorted(result.clusters)


def together(result, *refs):
    return any(set(refs) <= set(c) for c in result.clusters)


def test_same_code_merges_and_name_joins_codeless_record():
    result = resolve([
        make("crm:AccountObj:1", "广州恒通建材有限公司", VALID_A),
        make("u8:customer:C1", "恒通建材（广州）", VALID_A, "C1"),
        make("finance:credit_rating:C1", "恒通建材", None, "C1"),
        make("crm:AccountObj:2", "广州恒通建材股份有限公司"),  # no code: joins by name key
    ], CFG)
    assert groups(result) == [["crm:AccountObj:1", "crm:AccountObj:2", "finance:credit_rating:C1", "u8:customer:C1"]]
    assert result.joins["crm:AccountObj:2"].rule == "name"
    assert result.joins["finance:credit_rating:C1"].rule == "link_code"


def test_different_valid_codes_never_merge_even_with_every_other_signal():
    result = resolve([
        make("crm:AccountObj:1", "恒通建材有限公司", VALID_A, phones=["13800000001"], address="天河路1号"),
        make("u8:customer:C2", "恒通建材有限公司", VALID_B, "C2", phones=["13800000001"], address="天河路1号"),
        make("finance:credit_rating:C2", "恒通建材有限公司", VALID_A, "C2"),  # link code, other code
    ], CFG)
    assert not together(result, "crm:AccountObj:1", "u8:customer:C2")
    assert not together(result, "u8:customer:C2", "finance:credit_rating:C2")
    assert "finance:credit_rating:C2" in result.review or "u8:customer:C2" in result.review


def test_ambiguous_name_goes_to_review_with_candidates_and_evidence():
    result = resolve([
        make("crm:AccountObj:1", "恒通建材有限公司", VALID_A),
        make("u8:customer:C2", "恒通建材有限公司", VALID_B, "C2"),
        make("u8:customer:C3", "恒通建材"),  # key points to two customers, nothing else says which
    ], CFG)
    assert ["u8:customer:C3"] in groups(result)
    _reason, cands = result.review["u8:customer:C3"]
    assert len(cands) == 2 and all("name_exact" in sig for _, _, sig in cands)


def test_evidence_breaks_a_name_tie():
    result = resolve([
        make("crm:AccountObj:1", "恒通建材有限公司", VALID_A, phones=["020-87654321"]),
        make("u8:customer:C2", "恒通建材有限公司", VALID_B, "C2", phones=["0755-12345678"]),
        make("u8:customer:C3", "恒通建材", phones=["电话 (0755) 1234 5678 转 801"]),
    ], CFG)
    assert together(result, "u8:customer:C2", "u8:customer:C3")
    join = result.joins["u8:customer:C3"]
    assert join.rule == "evidence" and "phone" in join.signals


def test_mistyped_code_is_missing_but_near_code_is_evidence():
    bad = VALID_A[:10] + VALID_A[11] + VALID_A[10] + VALID_A[12:]  # two characters swapped
    assert normalize_uscc(bad) is None
    result = resolve([
        make("crm:AccountObj:1", "华润医疗器械有限公司", VALID_A),
        make("u8:customer:C1", "华涧医疗器械", bad, "C1"),  # a look-alike typo in the name too
    ], CFG)
    assert together(result, "crm:AccountObj:1", "u8:customer:C1")
    assert set(result.joins["u8:customer:C1"].signals) == {"name_one_edit", "near_code"}


def test_branches_and_other_cities_stay_apart():
    result = resolve([
        make("crm:AccountObj:1", "恒通机电有限公司", VALID_A, phones=["13800000001"]),
        make("u8:customer:C2", "恒通机电有限公司广州分公司", None, "C2", phones=["13800000001"]),
        make("u8:customer:C5", "恒通机电有限公司广州办事处", VALID_A, "C5"),  # even with the parent's code
        make("u8:customer:C3", "深圳恒通机电有限公司", None, "C3"),
        make("u8:customer:C4", "广州恒通机电有限公司", None, "C4", phones=["13800000002"]),
        make("crm:AccountObj:4", "广州恒通机电", None, phones=["13800000002"]),
    ], CFG)
    assert not together(result, "crm:AccountObj:1", "u8:customer:C2")
    assert not together(result, "crm:AccountObj:1", "u8:customer:C5")
    assert not together(result, "u8:customer:C3", "u8:customer:C4")
    assert together(result, "u8:customer:C4", "crm:AccountObj:4")
    assert "u8:customer:C5" in result.review  # same code, but a branch: IT decides


def test_switchboard_number_is_no_evidence():
    board = "0571-88886666"
    result = resolve([
        make("crm:AccountObj:1", "云帆科技有限公司", VALID_A, phones=[board]),
        make("crm:AccountObj:2", "星河贸易有限公司", VALID_B, phones=[board]),
        make("crm:AccountObj:3", "远航物流有限公司", None, phones=[board]),
        make("u8:customer:C1", "云帆科枝", None, "C1", phones=[board]),  # typo + only the switchboard
    ], CFG)
    assert ["u8:customer:C1"] in groups(result)
    _, cands = result.review["u8:customer:C1"]
    assert all("phone" not in sig for _, _, sig in cands)


def test_typo_with_shared_phone_or_homophone_joins_a_lookalike_alone_goes_to_review():
    result = resolve([
        make("crm:AccountObj:1", "苏州峻辉塑胶有限公司", VALID_A, phones=["13912345678"]),
        make("u8:customer:C1", "苏州峻辉塑交有限公司", None, "C1", phones=["139 1234 5678"]),
        make("crm:AccountObj:2", "泰捷钢结构有限公司", VALID_B),
        make("u8:customer:C2", "秦捷钢结构有限公司", None, "C2"),  # 秦/泰: a slip of the eye only
        make("crm:AccountObj:3", "鸿运物流有限公司", VALID_C),
        make("u8:customer:C3", "洪运物流有限公司", None, "C3"),  # 洪/鸿 hong: an input-method slip
    ], CFG)
    assert together(result, "crm:AccountObj:1", "u8:customer:C1")
    assert ["u8:customer:C2"] in groups(result)
    reason, cands = result.review["u8:customer:C2"]
    assert "below" in reason and cands[0][2] == ("name_one_edit",)
    assert together(result, "crm:AccountObj:3", "u8:customer:C3")
    assert result.joins["u8:customer:C3"].signals == ("name_homophone",)


def test_a_homophone_typo_never_crosses_a_hard_constraint():
    """The same homophone slip, but the names say other cities, one is a branch, or both carry
    valid codes: never joined."""
    result = resolve([
        make("crm:AccountObj:1", "广州鸿运物流有限公司", VALID_A),
        make("u8:customer:C1", "深圳洪运物流有限公司", None, "C1"),
        make("u8:customer:C2", "洪运物流有限公司广州分公司", None, "C2"),
        make("crm:AccountObj:3", "广州洪运物流有限公司", VALID_B),
    ], CFG)
    assert len(result.clusters) == 4


def test_traditional_characters_and_legal_forms_read_alike():
    result = resolve([
        make("crm:AccountObj:1", "廣州恒通機電股份有限公司", VALID_A),
        make("u8:customer:C1", "广州恒通机电股份公司", None, "C1"),
        make("finance:credit_rating:C1", "广东省广州市恒通机电有限公司", None, "C1"),
    ], CFG)
    assert len(result.clusters) == 1


def test_u8_abbreviation_as_the_only_crm_name():
    result = resolve([
        make("u8:customer:C1", "广州恒通机电股份有限公司", VALID_A, "C1", aliases=["恒通"]),
        make("u8:customer:C2", "深圳恒通建材有限公司", VALID_B, "C2", aliases=["恒通建材"]),
        make("crm:AccountObj:1", "恒通"),
    ], CFG)
    assert together(result, "u8:customer:C1", "crm:AccountObj:1")
    assert result.joins["crm:AccountObj:1"].signals == ("name_alias",)


def test_placeless_name_is_ambiguous_between_two_cities():
    result = resolve([
        make("crm:AccountObj:1", "广州恒通机电有限公司", VALID_A),
        make("crm:AccountObj:2", "深圳恒通机电有限公司"),
        make("u8:customer:C1", "恒通机电有限公司", None, "C1"),
    ], CFG)
    assert ["u8:customer:C1"] in groups(result)
    assert len(result.review["u8:customer:C1"][1]) == 2


def test_deleted_records_follow_their_company_but_attract_nobody():
    deleted = make("crm:AccountObj:0", "恒通机电有限公司", deleted=True)
    result = resolve([deleted, make("u8:customer:C1", "恒通机电", None, "C1")], CFG)
    assert groups(result) == [["crm:AccountObj:0", "u8:customer:C1"]]
    other = make("crm:AccountObj:9", "广州恒通机电有限公司", deleted=True)
    result = resolve([other, make("crm:AccountObj:1", "恒通机电", VALID_A), make("u8:customer:C2", "恒通机电")], CFG)
    assert together(result, "crm:AccountObj:1", "u8:customer:C2")
    assert "u8:customer:C2" not in result.review


def test_result_does_not_depend_on_input_order():
    recs = [make("crm:AccountObj:1", "恒通建材有限公司", VALID_A, phones=["13800000001"]),
            make("u8:customer:C2", "恒通建材有限公司", VALID_B, "C2"),
            make("u8:customer:C3", "恒通建材", phones=["13800000001"]),
            make("crm:AccountObj:5", "恒通建材股份公司")]
    assert groups(resolve(recs, CFG)) == groups(resolve(list(reversed(recs)), CFG))
