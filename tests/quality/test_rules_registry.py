"""The rule registry, the shipped rules file and docs/rules.md stay in step; config is strict."""

import re
from pathlib import Path

import pytest
import yaml

from quality.config import DEFAULT_RULES_FILE, load_rules
from quality.registry import RULES, rule, titles

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def _sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.M)
    return {p.split(" ", 1)[0]: p for p in parts[1:] if re.match(r"R\d+ ", p)}


def test_yaml_declares_every_rule_and_every_key():
    data = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    assert list(data["rules"]) == [s.id for s in RULES]
    for spec in RULES:
        assert set(data["rules"][spec.id]) == set(spec.config.model_fields), spec.id


def test_docs_describe_every_rule_with_its_titles_and_keys():
    sections = _sections()
    assert list(sections) == [s.id for s in RULES]
    for spec in RULES:
        head = sections[spec.id].splitlines()[0]
        assert spec.title_zh in head and spec.title_en in head, spec.id
        for key in spec.config.model_fields:
            if key != "enabled":
                assert f"`{key}`" in sections[spec.id], f"{spec.id}.{key} not documented"


def test_shipped_defaults_equal_the_models_defaults():
    shipped = load_rules()
    for spec in RULES:
        assert shipped.rule(spec.id) == spec.config(), spec.id
    assert shipped.enabled() == [s.id for s in RULES]
    assert titles("en")["R5"] == rule("R5").title_en


@pytest.mark.parametrize("text, bad", [
    ("rules:\n  R1: {grace_dayz: 3}\n", "rules.R1.grace_dayz"),
    ("rules:\n  R12: {enabled: true}\n", "rules.R12"),
    ("pairing: {order_window: 3}\n", "pairing.order_window"),
    ("staleness: {max_drop: 1.5}\n", "staleness.max_drop"),
    ("rule: {}\n", "rule"),
    ("rules:\n  R7: {yellow_hours: soon}\n", "rules.R7.yellow_hours"),
])
def test_a_bad_key_or_value_is_an_error_naming_it(tmp_path, text, bad):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as err:
        load_rules(path)
    assert bad in str(err.value)


def test_a_partial_file_keeps_the_other_defaults(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  R5: {red_days_past_due: 30}\n  R8: {enabled: false}\n")
    cfg = load_rules(path)
    assert cfg.rule("R5").red_days_past_due == 30 and cfg.rule("R7").yellow_hours == 48
    assert "R8" not in cfg.enabled()


def test_unknown_rule_id_is_refused():
    with pytest.raises(ValueError, match="unknown rule 'R0'"):
        rule("R0")
