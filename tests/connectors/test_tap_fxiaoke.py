"""tap-fxiaoke against the CRM simulator: singer-sdk standard suite + targeted behaviour."""

from __future__ import annotations

import contextlib
import io
import json
import random
import subprocess
import time
from pathlib import Path

import pytest

from connectors.kit.errors import SourceConfigError, SourceQuotaError
from connectors.kit.tokens import TokenCache
from connectors.tap_fxiaoke.client import FxiaokeStream
from connectors.tap_fxiaoke.tap import TapFxiaoke
from simulators import credentials
from tests.connectors import helpers

REPO = Path(__file__).resolve().parents[2]
CRM = credentials.CRM
TOKEN_PATH = "/cgi/corpAccessToken/get/V2"
QUERY_PATH = "/cgi/crm/v2/data/query"
DAY_MS = 86_400_000
# Relative to the real clock: the tap caps bookmarks at "sync start - lag", so test data
# must lie in the past of whatever machine runs the suite.
BASE_MS = (int(time.time()) // 86_400 - 30) * DAY_MS


def base_config(url: str, **overrides: object) -> dict:
    auth = {
        "app_id": CRM.app_id,
        "app_secret": CRM.app_secret,
        "permanent_code": CRM.permanent_code,
        "current_open_user_id": CRM.current_open_user_id,
    }
    return helpers.tap_config(url, auth, **overrides)


def run_tap(config: dict, state: dict | None = None) -> helpers.SyncResult:
    return helpers.sync_tap(TapFxiaoke, config, state)


# ------------------------------------------------------------------ standard suite


def standard_world() -> dict:
    """A small tenant: every default object has records (only declared fields)."""
    t = BASE_MS
    return {
        "meta": {"name": "tap-fxiaoke-standard"},
        "crm": {
            "PersonnelObj": [
                {"_id": "1000", "name": "张伟", "mobile": "13800000001",
                 "main_department": "华东", "last_modified_time": t},
                {"_id": "1001", "name": "李娜", "mobile": "13800000002",
                 "main_department": "华北", "leader_id": "1000", "last_modified_time": t + 1},
                # some tenants have no last_modified_time on employees
                {"_id": "1002", "name": "王强", "mobile": "13800000003"},
            ],
            "AccountObj": [
                {"_id": f"acc{i}", "name": f"客户{i}有限公司", "owner": ["1000"],
                 "create_time": t, "last_modified_time": t + i, "life_status": "normal",
                 "is_deleted": False, "record_type": "default__c", "industry": "制造",
                 "deal_status": "2", "account_level": "A", "tel": "021-5555000",
                 "uscc__c": "91110108551385082Q", "data_own_department": ["1001"]}
                for i in range(3)
            ],
            "ContactObj": [
                {"_id": f"con{i}", "name": f"联系人{i}", "account_id": "acc0",
                 "account_id__r": "客户0有限公司", "mobile": "13900000000",
                 "email": "a@example.com", "job_title": "采购", "last_modified_time": t + i}
                for i in range(2)
            ],
            "NewOpportunityObj": [
                {"_id": f"opp{i}", "name": f"商机{i}", "account_id": "acc0", "owner": ["1000"],
                 "sales_stage": "4", "sales_status": "1", "amount": 120000.5,
                 "probability": 60, "close_date": t + 10 * DAY_MS,
                 "stg_changed_time": t, "last_modified_time": t + i}
                for i in range(2)
            ],
            "SalesOrderObj": [
                {"_id": "so1", "name": "SO-1", "account_id": "acc0", "new_opportunity_id": "opp0",
                 "order_time": t, "order_amount": 5000, "payment_amount": 1000,
                 "receivable_amount": 4000, "invoice_amount": 0, "order_status": "7",
                 "last_modified_time": t},
            ],
            "ContractObj": [{"_id": "ct1", "name": "合同1", "account_id": "acc0",
                             "last_modified_time": t}],
            "PaymentObj": [{"_id": "pay1", "name": "回款1", "account_id": "acc0",
                            "last_modified_time": t}],
            "ActiveRecordObj": [{"_id": "ar1", "account_id": "acc0", "owner": ["1000"],
                                 "create_time": t, "active_record_content": "拜访客户",
                                 "last_modified_time": t}],
        },
    }


STANDARD_CONFIG = base_config("http://127.0.0.1:9/crm", page_size=2)

_StandardTests = helpers.standard_tests(TapFxiaoke, STANDARD_CONFIG, "crm", standard_world)


class TestTapFxiaokeStandard(_StandardTests):  # type: ignore[misc, valid-type]
    """singer-sdk's standard tap tests, against a simulator started for this class."""


# ------------------------------------------------------------------ targeted tests


sim, crm = helpers.simulator_fixtures("crm")


def accounts(n: int, start_ms: int = BASE_MS) -> list[dict]:
    return [
        {"_id": f"A{i:04d}", "name": f"客户{i}", "owner": ["1000"],
         "last_modified_time": start_ms + i * 1000}
        for i in range(n)
    ]


def test_deep_paging_keysets_on_id_with_offset_zero(crm, monkeypatch):
    rows = accounts(250)
    random.Random(7).shuffle(rows)  # world order != _id order
    crm.set_world({"crm": {"AccountObj": rows}})
    sent = helpers.record_results(
        monkeypatch, FxiaokeStream, "query_body",
        lambda body: json.loads(json.dumps(body)),
    )
    result = run_tap(base_config(crm.urls["crm"], objects=["AccountObj"]))

    ids = [r["_id"] for r in result.records["AccountObj"]]
    expected = sorted(r["_id"] for r in rows)
    assert ids == expected  # all 250, none twice, in _id order
    infos = [body["data"]["search_query_info"] for body in sent]
    assert [i["offset"] for i in infos] == [0, 0, 0]
    assert all(i["limit"] == 100 for i in infos)
    assert all(i["orders"] == [{"fieldName": "_id", "isAsc": True}] for i in infos)
    assert infos[0]["filters"] == []
    assert infos[1]["filters"] == [
        {"field_name": "_id", "operator": "GT", "field_values": [expected[99]]}
    ]
    assert infos[2]["filters"] == [
        {"field_name": "_id", "operator": "GT", "field_values": [expected[199]]}
    ]
    assert sent[0]["data"]["dataObjectApiName"] == "AccountObj"
    assert crm.sims["crm"].calls[QUERY_PATH] == 3
    assert crm.sims["crm"].calls[TOKEN_PATH] == 1  # token cached across pages


def test_incremental_second_run_returns_only_changed_records(crm):
    crm.set_world({"crm": {"AccountObj": accounts(120), "PersonnelObj": [
        {"_id": "1000", "name": "张伟"},  # no last_modified_time
    ]}})
    config = base_config(crm.urls["crm"], objects=["AccountObj", "PersonnelObj"])
    first = run_tap(config)
    assert len(first.records["AccountObj"]) == 120
    bookmark = first.state["bookmarks"]["AccountObj"]
    assert bookmark["replication_key"] == "last_modified_time"
    assert bookmark["replication_key_value"] == BASE_MS + 119_000
    assert "progress_markers" not in json.dumps(first.state)

    live = crm.world.data["crm"]["AccountObj"]
    live[5]["name"] = "改名"
    live[5]["last_modified_time"] = BASE_MS + DAY_MS
    live[110]["last_modified_time"] = BASE_MS + DAY_MS + 5
    live.append({"_id": "A9999", "name": "新客户", "last_modified_time": BASE_MS + DAY_MS + 9})

    second = run_tap(config, state=first.state)
    changed = sorted(r["_id"] for r in second.records["AccountObj"])
    assert changed == ["A0005", "A0110", "A9999"]
    assert second.state["bookmarks"]["AccountObj"]["replication_key_value"] == (
        BASE_MS + DAY_MS + 9
    )
    # employees without last_modified_time never get a bookmark, so they are re-read
    assert [r["_id"] for r in second.records["PersonnelObj"]] == ["1000"]

    third = run_tap(config, state=second.state)
    assert "AccountObj" not in third.records


def test_start_date_and_bookmark_never_pass_sync_start(crm):
    rows = accounts(3)
    rows.append({"_id": "A_future", "name": "clock skew", "last_modified_time":
                 int(time.time() * 1000) + DAY_MS})
    crm.set_world({"crm": {"AccountObj": rows, "PersonnelObj": [{"_id": "1000", "name": "E"}]}})
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((BASE_MS + 1500) / 1000))
    result = run_tap(base_config(
        crm.urls["crm"], objects=["AccountObj", "PersonnelObj"], start_date=start,
    ))
    assert sorted(r["_id"] for r in result.records["AccountObj"]) == ["A0002", "A_future"]
    assert [r["_id"] for r in result.records["PersonnelObj"]] == ["1000"]  # start_date n/a
    signpost = result.tap.initialized_at - 300_000
    assert result.state["bookmarks"]["AccountObj"]["replication_key_value"] == signpost


def test_token_refreshed_and_request_replayed_on_20016(crm):
    crm.set_world({"crm": {"PersonnelObj": [{"_id": "1000", "name": "E"}],
                           "AccountObj": accounts(3)}})
    tap = TapFxiaoke(config=base_config(crm.urls["crm"]), parse_env_config=False)
    helpers.capture_sync(tap.streams["PersonnelObj"])
    crm.expire_tokens("crm")  # the cached token is now rejected with 20016
    buf = helpers.capture_sync(tap.streams["AccountObj"])
    records = [json.loads(x) for x in buf.getvalue().splitlines() if '"RECORD"' in x]
    assert len(records) == 3
    assert crm.sims["crm"].calls[TOKEN_PATH] == 2


def test_token_rejected_twice_is_a_clear_config_error(crm):
    crm.set_world({"crm": {"AccountObj": accounts(2)}})
    crm.inject_fault("crm", count=2, code=20016, path="/data/query")
    with pytest.raises(SourceConfigError, match="freshly issued"):
        run_tap(base_config(crm.urls["crm"], objects=["AccountObj"]))


def test_busy_and_rate_limit_errors_are_retried(crm):
    crm.set_world({"crm": {"AccountObj": accounts(5)}})
    crm.inject_fault("crm", count=1, code=-1, path="corpAccessToken")
    for code in (-1, 30004, 14001, 50009):
        crm.inject_fault("crm", count=1, code=code, path="/data/query")
    result = run_tap(base_config(crm.urls["crm"], objects=["AccountObj"]))
    assert len(result.records["AccountObj"]) == 5
    assert crm.sims["crm"].calls[TOKEN_PATH] == 2  # 1 busy + 1 success
    assert crm.sims["crm"].calls[QUERY_PATH] == 5  # 4 failures + 1 success


def test_catalog_selection_is_honoured_and_unknown_fields_follow_the_stream(crm):
    crm.set_world({"crm": {
        "AccountObj": [{"_id": "A1", "name": "甲", "tel": "021-1", "level__c": "VIP",
                        "last_modified_time": BASE_MS}],
        "ContactObj": [{"_id": "C1", "name": "乙", "last_modified_time": BASE_MS}],
    }})
    config = base_config(crm.urls["crm"], objects=["AccountObj", "ContactObj"])
    catalog = TapFxiaoke(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for md in entry["metadata"]:
            if md["breadcrumb"] == []:
                md["metadata"]["selected"] = entry["tap_stream_id"] == "AccountObj"
            elif md["breadcrumb"] == ["properties", "tel"]:
                md["metadata"]["selected"] = False
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        TapFxiaoke(config=config, catalog=catalog, parse_env_config=False).sync_all()
    records = [json.loads(x) for x in buf.getvalue().splitlines() if '"RECORD"' in x]
    assert [(r["stream"], r["record"]) for r in records] == [
        ("AccountObj", {"_id": "A1", "name": "甲", "level__c": "VIP",
                        "last_modified_time": BASE_MS}),
    ]


def test_daily_quota_exhausted_stops_without_retrying(crm):
    crm.set_world({"crm": {"AccountObj": accounts(5)}})
    crm.inject_fault("crm", count=1, code=30002, path="/data/query")
    with pytest.raises(SourceQuotaError, match="30002"):
        run_tap(base_config(crm.urls["crm"], objects=["AccountObj"]))
    assert crm.sims["crm"].calls[QUERY_PATH] == 1


def test_bad_secret_fails_fast_with_clear_message_and_no_secret(crm, tmp_path):
    secret = "wrong-app-secret-7f3a9c"
    permanent = "wrong-permanent-code-51d2"
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(base_config(
        crm.urls["crm"], app_secret=secret, permanent_code=permanent, objects=["AccountObj"],
    )))
    proc = subprocess.run(
        [str(REPO / ".venv/bin/tap-fxiaoke"), "--config", str(cfg)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode != 0
    assert "10006" in proc.stderr
    assert "app_secret" in proc.stderr
    for text in (proc.stdout, proc.stderr):
        assert secret not in text
        assert permanent not in text
    assert crm.sims["crm"].calls[TOKEN_PATH] == 1  # a config error is not retried
    assert crm.sims["crm"].calls[QUERY_PATH] == 0


def test_records_pass_through_unchanged_with_custom_fields_and_bad_values(crm):
    odd_account = {
        "_id": "B1", "name": "Odd", "last_modified_time": "not-a-number",
        "is_deleted": 0, "uscc__c": "91110000600037342L",
        "region__c": {"code": "E", "tags": [1, "x"]}, "owner": "1000",
    }
    good_account = {"_id": "B2", "name": "Good", "last_modified_time": BASE_MS}
    odd_opp = {"_id": "O1", "amount": "abc", "close_date": "not-a-date",
               "probability": "70%", "last_modified_time": BASE_MS + 5}
    crm.set_world({"crm": {
        "AccountObj": [odd_account, good_account],
        "NewOpportunityObj": [odd_opp],
        "PersonnelObj": [{"_id": "1000", "name": "E"}],
        "Project__c": [{"_id": "P1", "name": "定制", "stage__c": "x"}],
        "Survey__c": [{"_id": "S1", "score__c": 9}],
    }})
    result = run_tap(base_config(
        crm.urls["crm"],
        objects=["AccountObj", "NewOpportunityObj", "PersonnelObj", "Project__c"],
        custom_objects=["Survey__c"],
    ))
    assert result.records["AccountObj"] == [odd_account, good_account]
    assert result.records["NewOpportunityObj"] == [odd_opp]
    assert result.records["Project__c"] == [{"_id": "P1", "name": "定制", "stage__c": "x"}]
    assert result.records["Survey__c"] == [{"_id": "S1", "score__c": 9}]
    assert crm.sims["crm"].calls["/cgi/crm/custom/v2/data/query"] == 2
    bookmarks = result.state["bookmarks"]
    assert bookmarks["AccountObj"]["replication_key_value"] == BASE_MS  # from B2 only
    assert bookmarks["NewOpportunityObj"]["replication_key_value"] == BASE_MS + 5


def test_token_cache_refreshes_before_expiry(monkeypatch):
    issued = iter(["t1", "t2", "t3"])
    cache = TokenCache(lambda: (next(issued), 100, {}))
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    assert cache.get().value == "t1"
    clock[0] += 85  # 15 s left of 100: still more than the 10 s margin
    assert cache.get().value == "t1"
    clock[0] += 6  # 9 s left: renewed early
    assert cache.get().value == "t2"
    cache.invalidate("stale")  # not the current token: kept
    assert cache.get().value == "t2"
    cache.invalidate()
    assert cache.get().value == "t3"


def test_console_scripts_discover_and_about(tmp_path):
    """All four console scripts resolve; --discover prints a catalog, --about the settings."""
    configs = {
        "tap-fxiaoke": base_config("http://127.0.0.1:9/crm"),
        "tap-u8": {"base_url": "http://127.0.0.1:9/u8", "from_account": "a",
                   "to_account": "b", "app_key": "k", "app_secret": "s"},
        "tap-finance": {"base_url": "http://127.0.0.1:9/finance", "client_id": "c",
                        "client_secret": "s"},
        "tap-wecom": {"base_url": "http://127.0.0.1:9/wecom", "corpid": "c",
                      "corpsecret": "s"},
    }
    procs = {}
    for name, config in configs.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(config))
        procs[name] = subprocess.Popen(
            [str(REPO / ".venv/bin" / name), "--config", str(path), "--discover"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
    about = subprocess.Popen(
        [str(REPO / ".venv/bin/tap-fxiaoke"), "--about", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    catalogs = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        catalogs[name] = {s["tap_stream_id"]: s for s in json.loads(out)["streams"]}
    out, err = about.communicate(timeout=60)
    assert about.returncode == 0, err
    info = json.loads(out)

    crm_streams = catalogs["tap-fxiaoke"]
    assert set(crm_streams) == {
        "PersonnelObj", "AccountObj", "ContactObj", "NewOpportunityObj", "SalesOrderObj",
        "ContractObj", "PaymentObj", "ActiveRecordObj",
    }
    account = crm_streams["AccountObj"]
    assert account["key_properties"] == ["_id"]
    assert account["replication_key"] == "last_modified_time"
    assert account["schema"]["additionalProperties"] is True
    assert set(catalogs["tap-u8"]) == {
        "person", "customer", "saleorderlist", "consignmentlist", "saleinvoicelist",
        "oughtreceivelist", "acceptlist", "inventory", "currentstock",
    }
    assert catalogs["tap-u8"]["saleinvoicelist"]["key_properties"] == ["invoiceno"]
    assert set(catalogs["tap-finance"]) == {"credit_rating"}
    assert set(catalogs["tap-wecom"]) == {"follow_users", "external_contacts", "messages"}
    assert catalogs["tap-wecom"]["external_contacts"]["key_properties"] == [
        "external_userid", "userid",
    ]

    settings = info["settings"]["properties"]
    assert settings["app_secret"]["secret"] is True
    assert settings["permanent_code"]["secret"] is True
    assert "STATE" in [c.upper() for c in info["capabilities"]]
