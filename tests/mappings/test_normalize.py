import pytest

from mappings.normalize import NameKey, name_key, normalize_mobile, normalize_uscc


@pytest.mark.parametrize("raw, expected", [
    ("91110108551385082Q", "91110108551385082Q"),
    (" 9111 0108-5513 85082q ", "91110108551385082Q"),
    ("９１１１０１０８５５１３８５０８２Ｑ", "91110108551385082Q"),  # full-width
    ("91110000600037342L", None),  # wrong check character
    ("110108551385082", None),  # old 15-digit registration number
    ("", None),
    (None, None),
    (12345, None),
])
def test_uscc(raw, expected):
    assert normalize_uscc(raw) == expected


def test_uscc_check_matches_stdnum():
    """The inlined check character gives python-stdnum's verdict on valid codes, every one-character
    change of them (typos, letters stdnum's alphabet lacks, letters in the leading digits) and
    non-ASCII digits."""
    import random

    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError

    def reference(text):
        try:
            return uscc.validate(text)
        except ValidationError:
            return None

    rng = random.Random(5)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    codes = []
    for _ in range(300):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(alphabet) for _ in range(9))
        codes.append(body + uscc.calc_check_digit(body))
    variants = list(codes)
    for code in codes[:60]:
        for i in range(18):
            for c in "0179AHIOSVZ\u0663":
                variants.append(code[:i] + c + code[i + 1:])
    assert sum(reference(v) is not None for v in variants) > 300
    for v in variants:
        assert normalize_uscc(v) == reference(v), v


@pytest.mark.parametrize("a, b", [
    ("广州恒通建材有限公司", "恒通建材（广州）有限公司"),
    ("广州恒通建材有限公司", "广东省广州市恒通建材股份有限公司"),
    ("恒通建材有限公司", "恒通建材"),
    ("恒通建材(集团)有限公司", "恒通建材集团有限公司"),
    ("恒通建材有限公司", "广州恒通建材有限公司"),  # no explicit city on one side
    (" 华润 医疗器械 有限公司 ", "华润医疗器械股份公司"),
    ("廣州恒通機電股份有限公司", "广州恒通机电有限公司"),  # traditional characters
    ("恒通机电有限公司-广州分公司", "恒通机电有限公司（广州分公司）"),  # separators, bracketed branch
    ("恒通机电有限公司广州分公司", "恒通机电有限公司广州办事处"),
])
def test_same_company_keys_are_compatible(a, b):
    assert name_key(a).compatible(name_key(b))


@pytest.mark.parametrize("a, b", [
    ("广州恒通建材有限公司", "深圳恒通建材有限公司"),  # explicit cities differ
    ("恒通建材有限公司广州分公司", "恒通建材有限公司"),  # a branch is never its parent
    ("恒通建材有限公司北京办事处", "恒通建材有限公司"),  # nor is a representative office
    ("恒通建材有限公司", "恒通机电有限公司"),
])
def test_different_companies_are_not(a, b):
    assert not name_key(a).compatible(name_key(b))


def test_city_belongs_to_its_province():
    assert name_key("北京市朝阳科技有限公司") == NameKey("朝阳科技", "北京")
    assert name_key("广东恒通建材").compatible(name_key("广州恒通建材"))


def test_name_key_of_nothing():
    assert name_key(None) is None and name_key("  ") is None


@pytest.mark.parametrize("raw, expected", [
    ("+86 138-0013-8000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("0086 13800138000", "13800138000"),
    ("020-12345678; 139 1234 5678", "13912345678"),
    ("020-12345678", None),
    (None, None),
])
def test_mobile(raw, expected):
    assert normalize_mobile(raw) == expected


@pytest.mark.parametrize("a, b", [
    ("某某科技广州分公司", "某某科技有限公司广州分公司"),
    ("某某科技有限公司广州市分公司", "某某科技有限公司广州分公司"),
    ("恒通建材【集团】有限公司", "恒通建材有限公司"),
    ("恒通投资(有限合伙)", "恒通投资"),
])
def test_more_spellings_of_one_company(a, b):
    assert name_key(a).compatible(name_key(b))


def test_branches_of_different_cities_differ():
    assert not name_key("某某科技有限公司广州分公司").compatible(name_key("某某科技有限公司深圳分公司"))


def test_legal_suffixes_stripped_like_the_plain_loop():
    """The suffix table indexed by last character strips exactly what trying every suffix in
    order did, on names built of suffixes (nested, repeated, nothing left before them)."""
    import itertools

    from mappings.normalize import LEGAL_SUFFIXES, _strip_legal_suffixes
    from tests.generator.namekey import strip_suffixes_plainly

    def plain(text):
        return strip_suffixes_plainly(text, LEGAL_SUFFIXES)

    parts = ("", "恒通", "限", "司") + LEGAL_SUFFIXES
    for a, b, c in itertools.product(parts, repeat=3):
        assert _strip_legal_suffixes(a + b + c) == plain(a + b + c), a + b + c
