"""The weekly report: languages, offline HTML, contract files, the since-last-report window, trend
reconstruction, business context, managers, held-back rules."""

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from hub_core.schema import discrepancy
from hub_core.schema_report import report_run
from quality.report import open_discrepancies, week_end, write_report
from quality.report.data import gather
from quality.report.i18n import LANGS, messages
from tests.quality.report_seed import AS_OF, seed

CST = timezone(timedelta(hours=8))
CONTRACT_KEYS = {"rule", "severity", "customer_id", "customer_name", "owner", "region", "amount_cny", "refs",
                 "first_seen", "status"}


def _keys(node, prefix=""):
    if not isinstance(node, dict):
        return {prefix}
    return set().union(*(_keys(v, f"{prefix}.{k}") for k, v in node.items()))


def test_catalogues_agree_and_name_every_rule():
    zh, en = messages("zh"), messages("en")
    assert _keys(zh.data) == _keys(en.data)
    for n in range(1, 12):
        assert zh.rule(f"R{n}") != f"R{n}" and en.rule(f"R{n}") != f"R{n}"
        assert re.search(r"[\u4e00-\u9fff]", zh.rule(f"R{n}")), zh.rule(f"R{n}")
    assert set(LANGS) == {"zh", "en"}
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        messages("fr")


def test_chinese_by_default_english_on_request(engine, tmp_path):
    seed(engine, items=20)
    write_report(engine, tmp_path / "zh")
    write_report(engine, tmp_path / "en", lang="en")
    zh = (tmp_path / "zh" / "report.html").read_text(encoding="utf-8")
    en = (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and "跨系统一致性报告" in zh and "CRM 已赢单，ERP 无销售订单" in zh
    assert '<html lang="en">' in en and "Cross-system consistency report" in en and "won in CRM, no ERP sales order" in en
    assert "Cross-system" not in zh and "跨系统" not in en
    assert "账龄分布" in zh and "Aging" in en
    md_zh = (tmp_path / "zh" / "report.md").read_text(encoding="utf-8")
    assert md_zh.startswith("# 跨系统一致性报告")
    # the public files do not depend on the language
    for name in ("discrepancies.json", "customers.json"):
        assert (tmp_path / "zh" / name).read_bytes() == (tmp_path / "en" / name).read_bytes()


def test_html_opens_offline_with_charts_that_render_chinese(engine, tmp_path):
    seed(engine, items=20)
    write_report(engine, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.replace("&lt;script", "") and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)\s*=""", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert html.count("<svg") == 5  # rule count, rule money, region count, region money, aging
    assert "Noto Sans CJK SC" in html and "Microsoft YaHei" in html and "PingFang SC" in html
    assert "华东大区" in html.split("<svg", 3)[3]  # region names inside a chart


def test_hostile_region_is_escaped_inside_the_charts(engine, tmp_path):
    seed(engine, items=5, hostile=False)
    evil = '<img src=x onerror="alert(1)">区'
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), {
            "discrepancy_id": "R5|u8:oughtreceivelist:X", "rule": "R5", "severity": "red", "customer_id": None,
            "customer_name": "</svg><script>x()</script>", "owner": "a&b", "region": evil, "amount_cents": 100,
            "refs": json.dumps(["u8:oughtreceivelist:X"]), "first_seen": (AS_OF - timedelta(days=9)).astimezone(UTC),
            "last_seen": AS_OF.astimezone(UTC), "resolved_at": None, "status": "open"})
    write_report(engine, tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<img" not in html and "<script>" not in html and "&lt;img src=x" in html
    assert "a&amp;b" in html


def test_contract_files_keep_their_exact_shape(engine, tmp_path):
    seed(engine, items=30)
    files = write_report(engine, tmp_path)
    items = json.loads((tmp_path / "discrepancies.json").read_text(encoding="utf-8"))
    assert items == open_discrepancies(engine) and files.discrepancies == len(items) > 0
    assert all(set(i) == CONTRACT_KEYS for i in items)
    assert all(re.fullmatch(r"\d+\.\d\d", i["amount_cny"]) and i["status"] in ("open", "acknowledged") for i in items)
    assert [int(i["rule"][1:]) for i in items] == sorted(int(i["rule"][1:]) for i in items)
    customers = json.loads((tmp_path / "customers.json").read_text(encoding="utf-8"))
    assert all(set(c) == {"customer_id", "name", "refs"} for c in customers)


def _row(did, first, resolved=None, rule="R5", region="华东大区", cents=10000):
    # stored in UTC as reconcile stores them (SQLite keeps no offset)
    first, resolved = first.astimezone(UTC), resolved and resolved.astimezone(UTC)
    return {"discrepancy_id": did, "rule": rule, "severity": "orange", "customer_id": None, "customer_name": did,
            "owner": None, "region": region, "amount_cents": cents, "refs": json.dumps([f"u8:oughtreceivelist:{did}"]),
            "first_seen": first, "last_seen": resolved or AS_OF.astimezone(UTC), "resolved_at": resolved,
            "status": "resolved" if resolved else "open"}


def test_new_persisting_resolved_since_the_last_report(engine, tmp_path):
    t = AS_OF
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), [
            _row("old", t - timedelta(days=30)), _row("fresh", t - timedelta(days=2), cents=25000),
            _row("fixed", t - timedelta(days=20), resolved=t - timedelta(days=1)),
            _row("long-fixed", t - timedelta(days=40), resolved=t - timedelta(days=10))])
    first = write_report(engine, tmp_path / "a", as_of=t).data
    assert first.since == (t - timedelta(days=7)).astimezone(CST)  # no earlier report: one week back
    by_id = {i["customer_name"]: i for i in first.items}
    assert (by_id["old"]["change"], by_id["fresh"]["change"]) == ("persisting", "new")
    assert (by_id["old"]["age_days"], by_id["fresh"]["age_days"]) == (30, 2)
    assert [r["customer_name"] for r in first.resolved] == ["fixed"]
    assert first.counts["cents"] == {"new": 25000, "persisting": 10000, "resolved": 10000}
    with engine.connect() as conn:
        runs = conn.execute(select(report_run)).all()
    assert len(runs) == 1 and (runs[0].open_count, runs[0].new_count, runs[0].resolved_count) == (2, 1, 1)
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), _row("future", t + timedelta(days=1)))
    later = t + timedelta(days=3)
    second = write_report(engine, tmp_path / "b", as_of=later).data
    assert second.since == t.astimezone(CST)  # the previous report
    assert second.counts["resolved"] == 0 and {i["customer_name"] for i in second.items if i["change"] == "new"} \
        == {"future"}
    weekly = write_report(engine, tmp_path / "c", as_of=later, weekly=True).data
    assert weekly.since == (later - timedelta(days=7)).astimezone(CST)  # weekly: always the full week


def test_weekly_trend_is_rebuilt_from_first_seen_and_resolved_at(engine):
    t = AS_OF
    with engine.begin() as conn:
        conn.execute(insert(discrepancy), [
            _row("a", t - timedelta(days=20), region="华南大区", cents=100),  # open at weeks -2, -1, 0
            _row("b", t - timedelta(days=15), resolved=t - timedelta(days=3), rule="R1", cents=1000),  # weeks -2, -1
            _row("c", t - timedelta(days=60), resolved=t - timedelta(days=50), cents=5)])  # before the window
    d = gather(engine, as_of=t)
    assert d.trend["weeks"][-1] == t.astimezone(CST) and len(d.trend["weeks"]) == 8
    assert d.trend["rule"]["R5"][-4:] == [0, 1, 1, 1] and d.trend["rule"]["R1"][-4:] == [0, 1, 1, 0]
    assert d.trend["region_cents"]["华南大区"][-3:] == [100, 100, 100]
    assert d.trend["region_cents"]["华东大区"][-3:] == [1000, 1000, 0]
    assert sum(d.trend["rule"]["R5"]) == 3  # "c" was resolved before the eight weeks shown
    assert [b["count"] for b in d.aging] == [0, 1, 0, 0]  # only "a" is open: 20 days old


def test_week_end_is_the_monday_08_00_boundary():
    assert week_end(datetime(2026, 11, 20, 9, tzinfo=CST)) == datetime(2026, 11, 16, 8, tzinfo=CST)
    assert week_end(datetime(2026, 11, 23, 8, tzinfo=CST)) == datetime(2026, 11, 23, 8, tzinfo=CST)
    assert week_end(datetime(2026, 11, 23, 7, 59, tzinfo=CST)) == datetime(2026, 11, 16, 8, tzinfo=CST)
    assert week_end(datetime(2026, 11, 23, 0, 30, tzinfo=UTC)) == datetime(2026, 11, 23, 8, tzinfo=CST)


def test_items_carry_business_context_manager_and_age(engine, tmp_path):
    seed(engine, items=14)
    d = write_report(engine, tmp_path).data
    r1 = next(i for i in d.items if i["rule"] == "R1")
    assert r1["deal"].endswith("2026年采购项目") and r1["stage"] == "negotiation"
    assert str(r1["close_date"]) == "2026-11-01" and r1["documents"].startswith("SO")
    r5 = next(i for i in d.items if i["rule"] == "R5")
    assert r5["deal"] is None and r5["documents"].startswith("D")  # the document code from the ref
    assert {i["manager"] for i in d.items if i["owner"] == "李强"} == {"周总监"}
    assert {i["manager"] for i in d.items if i["owner"] == "王芳"} == {None}  # no leader on file
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert r1["deal"] in html and "谈判跟进" in html and "周总监" in html
    assert html.count('<td class="sev">') == len(d.items) + d.counts["new"] + d.counts["resolved"]  # markup, not text


def test_sources_freshness_and_held_back_rules(engine, tmp_path):
    seed(engine, items=3)
    d = write_report(engine, tmp_path / "a", lang="en", held_back=["R7", "R10"]).data
    by = {s["source"]: s for s in d.sources}
    assert by["crm"]["stale"] is False and 0.9 <= by["crm"]["age_hours"] <= 1.2
    assert by["u8"]["stale"] is True and by["u8"]["status"] == "failed" and by["u8"]["age_hours"] >= 71
    assert by["wecom"]["last_success"] is None and by["wecom"]["stale"] is True
    html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert "R7 stale follow-up; R10 off-channel selling" in html and "never succeeded" in html
    assert "completeness not wired yet" in html  # no table scores completeness yet: the hook says so
    write_report(engine, tmp_path / "b", lang="en")
    md = (tmp_path / "b" / "report.md").read_text(encoding="utf-8")
    assert "Rules held back: none" in md


def test_completeness_hook_reads_any_table_that_scores_its_records(engine):
    from sqlalchemy import Column, Float, MetaData, Table, Text

    from quality.report.data import source_completeness

    scored = Table("scored_entity", MetaData(), Column("ref", Text, primary_key=True), Column("completeness", Float))
    scored.create(engine)
    with engine.begin() as conn:
        conn.execute(insert(scored), [{"ref": f"crm:X:{n}", "completeness": c} for n, c in enumerate([1, 0.8, 0.5, 0.2])])
        assert source_completeness(conn, [scored]) == [{"entity": "scored_entity", "source": "crm", "records": 4,
                                                        "share": 0.5}]
        assert source_completeness(conn, []) is None
