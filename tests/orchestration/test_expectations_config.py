"""The expectations file is validated before any check is generated from it."""

import pytest

from quality.gx_checks import QualityConfigError, load_quality_config


def test_the_shipped_file_declares_keys_amounts_references_and_completeness():
    cfg = load_quality_config()
    types = {e.type for e in cfg.all_expectations()}
    assert {"expect_column_values_to_be_unique", "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_between", "unexpected_rows_expectation"} <= types
    completeness = next(e for e in cfg.all_expectations() if e.table == "data_completeness")
    assert completeness.kwargs["min_value"] == 0.9 and completeness.severity == "warning"
    assert {e.severity for e in cfg.all_expectations()} == {"critical", "warning"}
    assert cfg.freshness.max_age_for("crm") == cfg.freshness.max_age_hours


HEAD = "assets: {a: [t, data_completeness]}\nexpectations:\n"
UNIQUE = "  - {name: x, table: t, type: expect_column_values_to_be_unique}\n"


@pytest.mark.parametrize("text, message", [
    (HEAD + UNIQUE + UNIQUE, "used twice: x"),
    (HEAD + UNIQUE.replace("table: t", "table: other"), "not listed under any asset: other"),
    (HEAD + "  - {name: x, table: t, type: y, severity: fatal}\n", "expectations.yaml"),
    ("assets: [", "expectations.yaml"),
])
def test_a_bad_file_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "expectations.yaml"
    path.write_text(text)
    with pytest.raises(QualityConfigError, match=message) as err:
        load_quality_config(path)
    assert "\n" not in str(err.value)
