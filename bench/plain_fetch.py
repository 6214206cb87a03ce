"""A bare client for the simulators' HTTP APIs: the yardsticks' source of records.

Standard library only, so the same code feeds the plain SQLAlchemy bulk insert (our venv) and
the dlt peer (its own venv): both read exactly the same records with the same calls the hub's
taps make (CRM keyset pages by ``_id``, U8 list pages plus one ``get`` per document for its
lines, finance pages). No retries, no budgets, no state: the simulators run unthrottled.
What is read comes from ``bench/peer_streams.json``; credentials from the hub's sources file.

    for source, stream, key, record in fetch_all(sources["sources"]): ...
"""

from __future__ import annotations

import http.client
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

STREAMS = json.loads((Path(__file__).with_name("peer_streams.json")).read_text())
NO_DATA = "20002"  # U8: an empty page


def _secret(value: str) -> str:
    """``${VAR}`` references of the sources file, read from the environment."""
    return re.sub(r"\$\{(\w+)\}", lambda m: os.environ[m.group(1)], value)


class Client:
    """One keep-alive HTTP connection to a base URL, JSON in and out."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.prefix = parts.path.rstrip("/")
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.calls = 0

    def call(self, method: str, path: str, params: dict | None = None, body: dict | None = None,
             headers: dict | None = None) -> dict:
        url = self.prefix + path + ("?" + urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        self.conn.request(method, url, body=data, headers=hdrs)
        response = self.conn.getresponse()
        payload = response.read()
        self.calls += 1
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")
        return json.loads(payload)


def _key(record: dict, fields: list[str] | None) -> str:
    if not fields:
        return json.dumps(record, sort_keys=True, ensure_ascii=False)[:200]
    return "|".join(str(record.get(f, "")) for f in fields)


def fetch_crm(cfg: dict) -> Iterator[tuple[str, str, dict]]:
    """Every default CRM object, pages of ``page`` ordered by ``_id`` (keyset: offset stays 0)."""
    spec = STREAMS["crm"]
    api = Client(cfg["base_url"])
    token = api.call("POST", "/cgi/corpAccessToken/get/V2", body={
        "appId": cfg["app_id"], "appSecret": _secret(cfg["app_secret"]),
        "permanentCode": _secret(cfg["permanent_code"])})
    auth = {"corpAccessToken": token["corpAccessToken"], "corpId": token["corpId"],
            "currentOpenUserId": cfg["current_open_user_id"]}
    for name in spec["objects"]:
        after = None
        while True:
            filters = [{"field_name": "_id", "operator": "GT", "field_values": [after]}] if after else []
            reply = api.call("POST", "/cgi/crm/v2/data/query", body={**auth, "data": {
                "dataObjectApiName": name, "search_query_info": {
                    "limit": spec["page"], "offset": 0, "filters": filters,
                    "orders": [{"fieldName": "_id", "isAsc": True}]}}})
            if reply.get("errorCode") != 0:
                raise RuntimeError(f"CRM {name}: errorCode {reply.get('errorCode')}")
            rows = reply["data"]["dataList"]
            for row in rows:
                yield name, _key(row, spec["key"]), row
            if len(rows) < spec["page"]:
                break
            after = rows[-1]["_id"]


def fetch_u8(cfg: dict) -> Iterator[tuple[str, str, dict]]:
    """Every default U8 resource, list pages; documents completed by their ``get`` (lines)."""
    spec = STREAMS["u8"]
    api = Client(cfg["base_url"])
    token = api.call("GET", "/system/token", params={
        "from_account": cfg["from_account"], "app_key": cfg["app_key"], "app_secret": _secret(cfg["app_secret"])})
    auth = {"token": token["token"]["id"], "from_account": cfg["from_account"], "app_key": cfg["app_key"],
            "to_account": cfg["to_account"]}
    for resource, res in spec["resources"].items():
        page = 1
        while True:
            reply = api.call("GET", f"/api/{resource}/batch_get",
                             params={**auth, "page_index": page, "rows_per_page": spec["page"]})
            if reply.get("errcode") == NO_DATA:
                break
            if reply.get("errcode") != "0":
                raise RuntimeError(f"U8 {resource}: errcode {reply.get('errcode')}")
            rows = reply.get(resource) or []
            for row in rows:
                if res.get("get"):
                    doc = api.call("GET", f"/api/{res['get']}/get", params={**auth, "id": _key(row, res["key"])})
                    row = doc.get(res["get"]) or row
                yield resource, _key(row, res["key"]), row
            if len(rows) < spec["page"]:
                break
            page += 1


def fetch_finance(cfg: dict) -> Iterator[tuple[str, str, dict]]:
    """Credit ratings, pages of ``page``."""
    spec = STREAMS["finance"]
    api = Client(cfg["base_url"])
    token = api.call("POST", "/api/v1/auth/token", body={
        "client_id": cfg["client_id"], "client_secret": _secret(cfg["client_secret"])})
    headers = {"Authorization": f"Bearer {token['data']['access_token']}"}
    for stream, res in spec["streams"].items():
        page = 1
        while True:
            reply = api.call("GET", "/api/v1/credit-ratings", params={"page": page, "page_size": spec["page"]},
                             headers=headers)
            items = reply["data"]["items"]
            for row in items:
                yield stream, _key(row, res["key"]), row
            if len(items) < spec["page"]:
                break
            page += 1


FETCHERS = {"crm": fetch_crm, "u8": fetch_u8, "finance": fetch_finance}


def fetch_all(sources: dict, only: str | None = None) -> Iterator[tuple[str, str, str, dict]]:
    """``(source, stream, key, record)`` for every source the bare client knows (not WeCom)."""
    for name, source in sources.items():
        if name in FETCHERS and (only is None or name == only):
            for stream, key, record in FETCHERS[name](source["config"]):
                yield name, stream, key, record
