"""``hub run`` exits non-zero and names the check when a critical expectation blocks publishing;
a failed warning leaves the exit code alone."""

import pytest
from typer.testing import CliRunner

from hub_cli.main import app
from tests.hub_cli.test_it_commands import flat, plain  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow
runner = CliRunner()

FILE = """
assets: {{unified_customers: [customer], customer_360: [data_completeness]}}
expectations:
  - {{name: customers_present, table: customer, type: expect_table_row_count_to_be_between,
     kwargs: {{min_value: 1}}, severity: {severity}}}
"""


def test_hub_run_exits_1_on_a_blocked_publish_and_0_on_a_warning(plain, tmp_path, monkeypatch):  # noqa: F811
    conn, wh = plain  # one plain tap: its records map to no customer, so "customers_present" fails
    path = tmp_path / "expectations.yaml"
    monkeypatch.setenv("HUB_EXPECTATIONS_FILE", str(path))

    path.write_text(FILE.format(severity="critical"))
    blocked = runner.invoke(app, ["run", "--out", str(tmp_path / "out"), *conn, *wh])
    assert blocked.exit_code == 1, blocked.output
    assert ("quality check unified_customers:customers_present failed "
            "(expect_table_row_count_to_be_between on customer") in flat(blocked)
    assert not (tmp_path / "out" / "report.md").exists()
    assert "Traceback" not in blocked.output

    path.write_text(FILE.format(severity="warning"))
    # a fresh warehouse: this plain tap declares no bookmark_properties, so its empty second pass
    # would look like an outage (deletions withheld, the source stale, exit 1 for that reason)
    fresh = ["--warehouse", f"sqlite:///{tmp_path / 'w2.db'}"]
    warned = runner.invoke(app, ["run", "--out", str(tmp_path / "out2"), *conn, *fresh])
    assert warned.exit_code == 0, warned.output
    assert (tmp_path / "out2" / "report.md").exists()
