"""The sync progress display counts what the tap reports: pages per stream and waits."""

import io
from types import SimpleNamespace

from rich.console import Console

from connectors.sync import SyncResult
from hub_cli.progress import SyncProgress


def metric(stream: str) -> str:
    return ('2026-11-30 11:31:16,879 | INFO | singer_sdk.metrics | METRIC: {"type":"counter",'
            f'"metric":"http_request_count","value":1,"tags":{{"stream":"{stream}"}}}}\n')


def render(renderable) -> str:
    console = Console(file=io.StringIO(), width=200)
    console.print(renderable)
    return console.file.getvalue()


def test_pages_per_stream_waits_and_records_show_live_and_in_the_summary():
    out = Console(file=io.StringIO(), width=200)
    progress = SyncProgress(out, live=False)
    stats = SimpleNamespace(seen=5, streams={"AccountObj": SimpleNamespace(seen=3), "ContactObj": SimpleNamespace(seen=2)})
    progress.tap_line(metric("AccountObj"))  # before any sync: ignored
    progress.sync_started("crm", 1, stats)
    for line in (metric("AccountObj"), metric("AccountObj"), metric("ContactObj"),
                 "WARNING CRM: call budget exhausted, waiting 2.0 s\n", "Backing off _request(...) for 1.0s\n",
                 "INFO something unrelated\n", "METRIC: {not json\n"):
        progress.tap_line(line)
    live = render(progress._table())
    account = next(line for line in live.splitlines() if "AccountObj" in line)
    assert [c.strip() for c in account.strip("│ ").split("│")][:4] == ["crm", "AccountObj", "3", "2"]
    total = next(line for line in live.splitlines() if " all " in line)
    assert [c.strip() for c in total.strip("│ ").split("│")][-1] == "2"  # two waits
    progress.sync_finished(SyncResult("crm", 1, "failed", 5, 4, 1, error="credentials rejected (10006) — check "
                                      "app_secret", per_stream={"AccountObj": {}, "ContactObj": {}}, duration_s=2.0))
    assert out.file.getvalue().splitlines() == ["crm: failed — credentials rejected (10006) — check app_secret"]
    row = next(line for line in render(progress.summary()).splitlines() if "│ crm" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")] == [
        "crm", "failed", "5", "4", "1", "2", "3", "2", "2.0 s", "2/s"]
