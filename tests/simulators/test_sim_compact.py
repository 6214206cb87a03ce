"""The compact world (simulators/compact.py, bench-only) answers exactly as the same world loaded
whole: every page of every read a connector makes, and the same after the bench's 1 % change
(bench/incremental.py) applied through ``CompactWorld.edit`` on one and in place on the other."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from simulators.app import create_app
from simulators.compact import CompactRecords, load_compact
from simulators.credentials import CRM, FINANCE, U8, WECOM
from simulators.generator import write
from simulators.world import load_world

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from incremental import change_one_percent


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """(plain world, compact world) of the same generated world file; every object compact."""
    folder = tmp_path_factory.mktemp("compact")
    write(folder, seed=11, customers=40)  # 673 calls of every_read (60 customers: 914, 40 % more time)
    path = folder / "world.json"
    plain, compact = load_world(path), load_compact(path, min_records=0)
    assert isinstance(compact.data["u8"]["saleorderlist"], CompactRecords)
    return plain, compact


class Pair:
    """The same call to both apps; the answers compared, with their volatile fields removed."""

    def __init__(self, plain, compact, **options) -> None:
        self.clients = [TestClient(create_app(w, **options)) for w in (plain, compact)]
        self.calls = 0

    def same(self, method: str, url: str, token_of=None, **kw) -> dict:
        answers = []
        for client in self.clients:
            extra = token_of(client) if token_of else {}
            reply = client.request(method, url, **_merge(kw, extra))
            body = reply.json()
            if isinstance(body, dict):
                body.pop("traceId", None)
            answers.append((reply.status_code, body))
        assert answers[0] == answers[1], f"{method} {url} {kw}"
        self.calls += 1
        return answers[0][1]


def _merge(kw: dict, extra: dict) -> dict:
    out = dict(kw)
    for key, value in extra.items():
        out[key] = {**out.get(key, {}), **value}
    return out


def _crm_token(client) -> dict:
    cached = getattr(client, "_crm", None)
    if cached is None:
        body = client.post("/crm/cgi/corpAccessToken/get/V2", json={
            "appId": CRM.app_id, "appSecret": CRM.app_secret, "permanentCode": CRM.permanent_code}).json()
        cached = client._crm = {"corpAccessToken": body["corpAccessToken"], "corpId": body["corpId"],
                                "currentOpenUserId": CRM.current_open_user_id}
    return {"json": cached}


def crm_walk(pair: Pair, obj: str, limit: int, filters: list[dict]) -> int:
    """A connector's keyset walk: ``_id GT <last>``, ordered by ``_id``; returns the rows read."""
    after, seen = None, 0
    while True:
        page_filters = filters + ([{"field_name": "_id", "operator": "GT", "field_values": [after]}] if after else [])
        info = {"limit": limit, "offset": 0, "filters": page_filters, "orders": [{"fieldName": "_id", "isAsc": True}]}
        body = pair.same("POST", "/crm/cgi/crm/v2/data/query", _crm_token,
                         json={"data": {"dataObjectApiName": obj, "search_query_info": info}})
        rows = body["data"]["dataList"]
        seen += len(rows)
        if len(rows) < limit:
            return seen
        after = rows[-1]["_id"]


def crm_reads(pair: Pair, world) -> None:
    for obj in world.names("crm"):
        crm_walk(pair, obj, 7, [])
        stamps = sorted(r.get("last_modified_time") or 0 for r in world.data["crm"].get(obj, []))
        if stamps:
            since = stamps[len(stamps) // 2]
            crm_walk(pair, obj, 5, [{"field_name": "last_modified_time", "operator": "GT", "field_values": [str(since)]}])
        for info in (
            {"limit": 10, "offset": 20, "orders": [{"fieldName": "last_modified_time", "isAsc": False}]},
            {"limit": 10, "offset": 10, "filters": [{"field_name": "name", "operator": "LIKE", "field_values": ["公司"]}],
             "orders": [{"fieldName": "owner", "isAsc": True}, {"fieldName": "_id", "isAsc": False}]},
            {"limit": 3, "offset": 3, "fieldProjection": ["name"]},
            {"limit": 5, "offset": 0, "filters": [{"field_name": "_id", "operator": "GTE", "field_values": ["6"]}],
             "orders": [{"fieldName": "_id", "isAsc": True}]},
            {"limit": 5, "offset": 0, "orders": "bad"},
        ):
            pair.same("POST", "/crm/cgi/crm/v2/data/query", _crm_token,
                      json={"data": {"dataObjectApiName": obj, "search_query_info": info}})


def _u8_token(client) -> dict:
    cached = getattr(client, "_u8", None)
    if cached is None:
        body = client.get("/u8/system/token", params={"from_account": U8.from_account, "app_key": U8.app_key,
                                                      "app_secret": U8.app_secret}).json()
        cached = client._u8 = {"from_account": U8.from_account, "to_account": U8.to_account,
                               "app_key": U8.app_key, "token": body["token"]["id"]}
    return {"params": cached}


def u8_reads(pair: Pair, world) -> None:
    for resource in world.names("u8"):
        records = world.data["u8"].get(resource, [])
        days = sorted(str(r.get("date", ""))[:10] for r in records if r.get("date"))
        windows = [{}, {"date_begin": days[len(days) // 3], "date_end": days[2 * len(days) // 3]}] if days else [{}]
        windows += [{"name": "公司"}, {"code_begin": "C0010", "code_end": "C0030"}, {"state": "Approved"}]
        for window in windows:
            page = 1
            while True:
                body = pair.same("GET", f"/u8/api/{resource}/batch_get", _u8_token,
                                 params={**window, "page_index": page, "rows_per_page": 13})
                if body["errcode"] != "0" or page >= int(body["page_count"]):
                    break
                page += 1
        from simulators.u8 import natural_key

        for record in records[::3]:
            pair.same("GET", f"/u8/api/{resource}/get", _u8_token, params={"id": natural_key(resource, record)})
        pair.same("GET", f"/u8/api/{resource.removesuffix('list')}/get", _u8_token, params={"id": "nope"})


def _wecom_token(client) -> dict:
    cached = getattr(client, "_wecom", None)
    if cached is None:
        cached = client._wecom = client.get("/wecom/cgi-bin/gettoken", params={
            "corpid": WECOM.corpid, "corpsecret": WECOM.corpsecret}).json()["access_token"]
    return {"params": {"access_token": cached}}


def wecom_reads(pair: Pair, world) -> None:
    users = pair.same("GET", "/wecom/cgi-bin/externalcontact/get_follow_user_list", _wecom_token)["follow_user"]
    for user in users[:3]:
        pair.same("GET", "/wecom/cgi-bin/user/get", _wecom_token, params={"userid": user})
    for batch in (users[:2], users[2:]):
        cursor = ""
        while batch:
            body = pair.same("POST", "/wecom/cgi-bin/externalcontact/batch/get_by_user", _wecom_token,
                             json={"userid_list": batch, "cursor": cursor, "limit": 9})
            cursor = body["next_cursor"]
            if not cursor:
                break
    seq = 0
    while True:
        chat = pair.same("POST", "/wecom/cgi-bin/msgaudit/get_chat_data", _wecom_token,
                         json={"seq": seq, "limit": 50})["chatdata"]
        if not chat:
            break
        seq = max(m["seq"] for m in chat)


def _finance_token(client) -> dict:
    cached = getattr(client, "_finance", None)
    if cached is None:
        cached = client._finance = client.post("/finance/api/v1/auth/token", json={
            "client_id": FINANCE.client_id, "client_secret": FINANCE.client_secret}).json()["data"]["access_token"]
    return {"headers": {"Authorization": f"Bearer {cached}"}}


def finance_reads(pair: Pair, world) -> None:
    dates = sorted(r["rated_at"] for r in world.data["finance"]["credit_rating"])
    for since in (None, dates[len(dates) // 2], "2099-01-01"):
        page = 1
        while True:
            params = {"page": page, "page_size": 11} | ({"updated_since": since} if since else {})
            body = pair.same("GET", "/finance/api/v1/credit-ratings", _finance_token, params=params)
            if not body["data"]["items"]:
                break
            page += 1


def every_read(pair: Pair, world) -> None:
    crm_reads(pair, world)
    u8_reads(pair, world)
    wecom_reads(pair, world)
    finance_reads(pair, world)


def test_compact_answers_as_the_whole_world(worlds):
    plain, compact = worlds
    pair = Pair(plain, compact)
    every_read(pair, plain)
    assert pair.calls > 500


def test_retention_window_is_the_same(worlds):
    plain, compact = worlds
    pair = Pair(plain, compact, message_retention_days=30)
    wecom_reads(pair, plain)


def test_the_bench_change_through_edit_answers_as_in_place(tmp_path):
    write(tmp_path, seed=12, customers=30)  # the same 1 % change as at 40 (one record of four objects)
    plain, compact = load_world(tmp_path / "world.json"), load_compact(tmp_path / "world.json", min_records=0)
    pair = Pair(plain, compact)
    every_read(pair, plain)  # builds every index before the change
    counts = change_one_percent(plain.data, random.Random(7))
    assert compact.edit(lambda data: change_one_percent(data, random.Random(7))) == counts
    for section in ("crm", "u8", "finance", "wecom"):
        for name, records in plain.data[section].items():
            assert list(compact.data[section][name]) == records, f"{section}.{name}"
    every_read(pair, plain)


def test_small_objects_stay_plain_lists(tmp_path):
    write(tmp_path, seed=5, customers=20)
    world = load_compact(tmp_path / "world.json", min_records=100)
    whole = load_world(tmp_path / "world.json").data
    for section in ("crm", "u8", "finance", "wecom"):
        for name, records in whole[section].items():
            kept = world.data[section][name]
            assert isinstance(kept, CompactRecords) == (len(records) >= 100), f"{section}.{name}"
            assert list(kept) == records
    assert world.now == load_world(tmp_path / "world.json").now


def test_empty_and_custom_objects_are_known_alike(tmp_path):
    from simulators.generator import dumps

    data = {"meta": {"now": "2026-11-20T09:00:00+08:00"},
            "crm": {"Foo__c": [], "AccountObj": [{"_id": "a1", "name": "甲"}, {"_id": "a2"}]},
            "u8": {"customer": [{"code": "C1", "name": "乙"}]}, "finance": {}, "wecom": {"messages": []}}
    (tmp_path / "world.json").write_text(dumps(data), encoding="utf-8")
    plain, compact = load_world(tmp_path / "world.json"), load_compact(tmp_path / "world.json", min_records=0)
    for section in ("crm", "u8", "finance", "wecom"):
        assert plain.names(section) == compact.names(section)
    pair = Pair(plain, compact)
    for obj in ("Foo__c", "AccountObj"):
        pair.same("POST", f"/crm/cgi/crm/{'custom/' if obj.endswith('__c') else ''}v2/data/query", _crm_token,
                  json={"data": {"dataObjectApiName": obj, "search_query_info": {"limit": 10}}})
    pair.same("GET", "/u8/api/customer/batch_get", _u8_token, params={"page_index": 1})


def test_a_file_not_one_record_a_line_is_refused(tmp_path):
    (tmp_path / "world.json").write_text('{"meta": {}, "crm": {"AccountObj": [{"_id": "a"}]}}')
    with pytest.raises(ValueError, match="not a one-record-per-line world file"):
        load_compact(tmp_path / "world.json")
