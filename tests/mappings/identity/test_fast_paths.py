"""The faster paths of entity resolution give exactly what the plain ones gave: epoch ms without
an aware datetime, phone tuples, phone JSON written directly, the one-pass name table, and
pinyin readings without pypinyin's phrase dictionary."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from mappings.declarative.casts import clean_text
from mappings.identity.contacts import phones_json
from mappings.identity.extract import clean_strings, phones, phones_of, text, to_ms
from mappings.normalize import _OTHER_BRACKETS, _key_table, _trad_simp, simplify

CHINA = timezone(timedelta(hours=8))


def _aware_ms(written: str) -> int:
    return int(datetime.fromisoformat(written).replace(tzinfo=CHINA).timestamp() * 1000)


def test_local_times_give_the_epoch_ms_an_aware_datetime_gives():
    rng = random.Random(5)
    start = datetime(1900, 1, 1)
    for _ in range(20_000):
        moment = start + timedelta(microseconds=rng.randrange(250 * 365 * 86_400 * 10**6))
        for written in (moment.isoformat(sep=" "), moment.strftime("%Y-%m-%d %H:%M:%S"),
                        moment.strftime("%Y-%m-%d"), moment.isoformat(timespec="milliseconds")):
            assert to_ms(written) == _aware_ms(written), written
    assert to_ms("2026-11-30T08:00:00+00:00") == 1_796_025_600_000  # an explicit offset is kept
    assert to_ms(1_700_000_000_000) == 1_700_000_000_000 and to_ms("17") == 17
    assert to_ms("not a time") is None and to_ms(None) is None and to_ms(True) is None


def test_phone_tuples_are_the_phone_lists():
    values = ["0755-8888 1234 转 8012 / 138 0013 8000", ["13800138000", None, True, "+86 139-0000-1111"],
              13900001111, None, "0755-88881234", ("010 6552 9999",), [["13700000000"]], "", []]
    for n in range(len(values) + 1):
        assert list(phones_of(values[:n])) == phones(*values[:n])
        assert isinstance(phones_of(values[:n]), tuple)
    assert phones_of([None, "no number"]) == ()


def test_phone_json_is_json_dumps():
    for numbers in ((), ("13800138000",), ("0571-87654321", "13800138000"), ['a"b'], ["x\\y"], ["中文"],
                    ["a\x01"], ["a/b"], ('", "',)):
        assert phones_json(numbers) == json.dumps(list(numbers))


def test_printable_texts_skip_the_control_character_search():
    for value in ("  ACME\x00 Ltd \x07 ", "恒通\u3000建材", "a\u200bb", "plain", "\x85x", "\x7f"):
        assert text(value) == (clean_text(value)[0].strip() or None)
    row = {"a": "恒通\u3000建材", "b": "x\x00y", "n": 1}
    clean_strings(row)
    assert row == {"a": "恒通\u3000建材", "b": "xy", "n": 1}


def test_one_pass_name_table_is_simplify_then_brackets():
    table = _key_table()
    chars = "".join(chr(c) for c in list(_trad_simp()) + list(_OTHER_BRACKETS)) + "恒通(建材)【上海】abc"
    assert chars.translate(table) == simplify(chars).translate(_OTHER_BRACKETS)
    assert not set(_trad_simp()) & set(_OTHER_BRACKETS)


_READINGS = """
import sys
from mappings.identity.homophones import readings
chars = [chr(c) for c in range(0x3400, 0xA000, 7)] + list("智志丰风长昌技枝驰盛诚")
print(sys.argv[1] == "phrases" or "pypinyin.phrases_dict" not in sys.modules, hash(tuple(map(readings, chars))))
"""


def test_readings_without_the_phrase_dictionary_are_the_same():
    def run(mode: str) -> str:
        code = ("import pypinyin\n" if mode == "phrases" else "") + _READINGS
        return subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": "0", "PATH": ""}, cwd=".").stdout
    lean, full = run("lean"), run("phrases")
    assert lean.startswith("True") and lean == full
