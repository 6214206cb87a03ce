"""Phone numbers out of messy fields: several per field, mobiles and area-coded landlines."""

import pytest

from mappings.identity.phones import extract_phones


@pytest.mark.parametrize("values, expected", [
    (["138 0013 8000"], ["13800138000"]),
    (["+86 139-0000-1111", "0086 13700000003", "8613600000004"], ["13900001111", "13700000003", "13600000004"]),
    (["0755-8888 1234 转 8012 / 138 0013 8000"], ["13800138000", "0755-88881234"]),
    (["(020)87654321;02087654322"], ["020-87654321", "020-87654322"]),
    (["电话：010-1234567，手机：13512345678"], ["13512345678", "010-1234567"]),
    (["０７５５－８８８８１２３４"], ["0755-88881234"]),  # full-width
    ([["13800000001", "13800000001"], None, 12345678], ["13800000001"]),  # lists, repeats, junk
    (["87654321", "12345", "1380013800", "138001380001"], []),  # no area code / too short / too long
])
def test_extract_phones(values, expected):
    assert extract_phones(*values) == expected
