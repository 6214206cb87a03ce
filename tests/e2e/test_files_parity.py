"""Finance ratings from a spreadsheet drop folder = finance ratings from the REST API: the same
raw records (up to blank cells and padding spaces), the same unified customers and R1 findings;
a bad row is quarantined, not dropped; an unchanged folder is not read again."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from connectors.sources import parse_sources
from connectors.sync import sync_source
from hub_cli.demo import demo_sources
from hub_core.schema import raw_record, raw_reject
from hub_core.warehouse import open_warehouse
from simulators.generator import generate
from simulators.server import SimulatorServer
from tests.e2e.test_u8db_parity import unified_result

# taps forked warm (tests/conftest.py): 6 tap start-ups
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("warm_tap_launcher")]

HEADERS = {"rated_at": "评级日期", "customer_code": "客户编码", "customer_name": "客户名称", "uscc": "统一社会信用代码",
           "rating": "信用等级", "previous_rating": "上次等级", "credit_limit": "信用额度", "credit_days": "信用天数"}
_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


def drop_folder(folder, ratings: list[dict]) -> None:
    """Half the ratings in a workbook, half in a GBK CSV (plus one row off the rating ladder)."""
    (folder / "ratings").mkdir(parents=True)
    half = len(ratings) // 2
    book = openpyxl.Workbook()
    book.active.append(list(HEADERS.values()))
    for r in ratings[:half]:
        book.active.append([r.get(f) for f in HEADERS])
    book.save(folder / "ratings" / "2026-11-a.xlsx")
    rows = [",".join(HEADERS.values())]
    rows += [",".join(str(r.get(f, "")) for f in HEADERS) for r in ratings[half:]]
    bad = {"customer_code": "C9999", "customer_name": "坏行有限公司", "rating": "AAAA", "credit_limit": 1000,
           "credit_days": 30, "rated_at": "2026-11-01"}
    rows.append(",".join(str(bad.get(f, "")) for f in HEADERS))
    (folder / "ratings" / "2026-11-b.csv").write_bytes("\r\n".join(rows).encode("gbk"))


def normalized(record: dict) -> dict:
    out = {}
    for key, value in record.items():
        if isinstance(value, str):
            value = value.strip(" \u3000")
            if value == "":
                continue
            if _NUMERIC.match(value):
                value = Decimal(value).normalize()
        elif isinstance(value, (int, float)):
            value = Decimal(str(value)).normalize()
        out[key] = value
    return out


def current(engine, source: str) -> dict[str, dict]:
    r = raw_record.c
    with engine.connect() as conn:
        rows = conn.execute(select(r.record_key, r.data).where(
            r.source == source, r.stream == "credit_rating", r.is_current))
        return {key: normalized(json.loads(data)) for key, data in rows}


def test_ratings_from_files_feed_the_same_model(tmp_path, monkeypatch):
    world, _ = generate(7, customers=60)
    drop_folder(tmp_path / "drop", world["finance"]["credit_rating"])
    engine = open_warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")
    try:
        with SimulatorServer(world) as server:
            sources, secrets = demo_sources(server.urls)
            for name, value in secrets.items():
                monkeypatch.setenv(name, value)
            sources["sources"]["finance_files"] = {"connector": "files", "config": {
                "folder": str(tmp_path / "drop"), "streams": [{"name": "credit_rating", "pattern": "ratings/*"}]}}
            results = {s.name: sync_source(engine, s) for s in parse_sources(sources)}
            as_of = server.world.now
        # the drop folder holds one planted bad row (rating 'AAAA'): that sync ends partial
        statuses = {k: (r.status, r.error, r.rejected) for k, r in results.items()}
        assert results.pop("finance_files").status == "partial", statuses
        assert all(r.status == "succeeded" for r in results.values()), statuses

        api, files = current(engine, "finance"), current(engine, "finance_files")
        assert files == api and len(files) == len(world["finance"]["credit_rating"])
        with engine.connect() as conn:  # the bad row: quarantined with its reason, wherever the loader puts it
            rejects = conn.execute(select(raw_reject.c.reason).where(raw_reject.c.source == "finance_files")).scalars().all()
            landed_rejects = conn.execute(select(raw_record.c.data).where(
                raw_record.c.source == "finance_files", raw_record.c.stream == "_rejects")).scalars().all()
        reasons = rejects + [json.loads(d)["reason"] for d in landed_rejects]
        bad_row = len(world["finance"]["credit_rating"]) - len(world["finance"]["credit_rating"]) // 2 + 2
        assert len(reasons) == 1  # the loader may prefix it ("set aside by the tap: ...")
        assert reasons[0].endswith(f"ratings/2026-11-b.csv row {bad_row}: 信用等级 'AAAA' is none of AAA, AA, A, BBB, BB, B, C")

        from mappings.config import load_mapping

        mapping = load_mapping()
        via_api = unified_result(engine, mapping, as_of)
        via_files = unified_result(engine, mapping.model_copy(
            update={"systems": {**mapping.systems, "finance": "finance_files"}}), as_of)
        assert via_files == via_api
        assert any(ref.startswith("finance:credit_rating:") for group in via_files[0] for ref in group)

        (files_source,) = [s for s in parse_sources(sources) if s.name == "finance_files"]
        again = sync_source(engine, files_source)
        assert (again.status, again.seen, again.landed) == ("succeeded", 0, 0)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(raw_record).where(
                raw_record.c.source == "finance_files")).scalar() == len(files) + len(landed_rejects)
    finally:
        engine.dispose()
