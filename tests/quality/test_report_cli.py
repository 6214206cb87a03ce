"""`hub report --week --lang`: the weekly window and the language reach the files."""

import json

from typer.testing import CliRunner

from hub_cli.main import app


def test_weekly_english_report_from_the_cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "--out", str(out), "--warehouse", url,
                                      "--as-of", "2026-11-20T09:00:00+08:00", "--week", "--lang", "en"])
    assert result.exit_code == 0, result.output
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Cross-system consistency report · 2026-11-16 08:00")  # Friday -> the Monday before
    assert "Report window 2026-11-09 08:00 – 2026-11-16 08:00" in md
    assert json.loads((out / "discrepancies.json").read_text(encoding="utf-8")) == []
    zh = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "zh"), "--warehouse", url,
                                  "--as-of", "2026-11-20T09:00:00+08:00"])
    assert zh.exit_code == 0, zh.output
    assert (tmp_path / "zh" / "report.md").read_text(encoding="utf-8").startswith("# 跨系统一致性报告 · 2026-11-20 09:00")


def test_unknown_language_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "out"), "--warehouse",
                                      f"sqlite:///{tmp_path / 'w.db'}", "--lang", "fr"])
    assert result.exit_code == 1
    assert "unknown report language 'fr'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
