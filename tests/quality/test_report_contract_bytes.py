"""discrepancies.json, now taken from the enriched items, is byte for byte the contract read
straight from the discrepancy rows (same keys in the same order, same item order)."""

import json

from quality.report import open_discrepancies, write_report
from quality.report.data import CONTRACT_KEYS
from tests.quality.report_seed import seed


def test_discrepancies_json_bytes_equal_the_rows_contract(engine, tmp_path):
    seed(engine, items=40)
    write_report(engine, tmp_path)
    expected = open_discrepancies(engine)
    assert expected and all(tuple(i) == CONTRACT_KEYS for i in expected)
    text = (tmp_path / "discrepancies.json").read_text(encoding="utf-8")
    assert text == json.dumps(expected, ensure_ascii=False, indent=1)
