"""``connector: rest`` (connectors.kit.generic): a REST source described by a folder of data files
only - catalogue, schemas, vendor file with its settings schema - is discovered, read end to end
into the warehouse, and refuses a wrong config in one line that names the key, never its value."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from connectors.kit.errors import SourceKitError
from connectors.kit.generic import TapRest
from connectors.sources import SourceConfig
from connectors.sync import sync_source
from hub_core.schema import raw_record
from tests.connectors import helpers
from tests.connectors.test_catalogue import GROUPCHAT_LIST_PATH
from tests.connectors.test_tap_wecom import WECOM, reps

sim, wecom = helpers.simulator_fixtures("wecom")

STREAMS_YAML = f"""
streams:
  - name: groupchats
    path: {GROUPCHAT_LIST_PATH}
    method: POST
    primary_keys: [chat_id]
    records: $.group_chat_list[*]
    body: {{limit: 2, status_filter: 0}}
    paging: {{kind: cursor, token: $.next_cursor, to: body.cursor}}
"""

GROUPCHATS_SCHEMA = {
    "type": "object",
    "properties": {"chat_id": {"type": ["string", "null"]}, "status": {"type": ["integer", "null"]},
                   "name": {"type": ["string", "null"]}},
    "additionalProperties": True,
}

VENDOR_YAML = """
config_schema:
  type: object
  required: [base_url, corpid, corpsecret]
  properties:
    base_url: {type: string, description: WeCom server API base URL.}
    corpid: {type: string, description: Corp id.}
    corpsecret: {type: string, secret: true, description: Secret of the app with customer-contact access.}
errors:
  vendor: WeCom
  code_field: errcode
  message_field: errmsg
  missing: fatal
  unknown: fatal
  codes:
    0: ok
    -1: retry
    45009: rate
    40014: token
    42001: token
    40001: {action: config, hint: "check corpsecret in the tap config"}
budgets:
  - {name: api, match: /cgi-bin/, max_calls: 10000, window_seconds: 60, per_path: true}
retry: {budget_seconds: 30, backoff_factor: 0.01, max_backoff_seconds: 1}
token:
  label: WeCom access_token
  what: WeCom gettoken
  method: GET
  path: /cgi-bin/gettoken
  query: {corpid: corpid, corpsecret: corpsecret}
  value: access_token
  expires_in: expires_in
  default_lifetime: 7200
  missing: "gettoken reply lacks access_token; check base_url"
  send: {query: access_token}
"""


def source_dir(tmp_path, vendor: str = VENDOR_YAML, streams: str = STREAMS_YAML):
    """A data-only source folder: streams.yaml, schemas/groupchats.json, vendor.yaml."""
    folder = tmp_path / "wecom_groupchats"
    (folder / "schemas").mkdir(parents=True)
    (folder / "streams.yaml").write_text(streams, encoding="utf-8")
    (folder / "vendor.yaml").write_text(vendor, encoding="utf-8")
    (folder / "schemas" / "groupchats.json").write_text(json.dumps(GROUPCHATS_SCHEMA), encoding="utf-8")
    return folder


def config_for(server, folder, **overrides) -> dict:
    auth = {"corpid": WECOM.corpid, "corpsecret": WECOM.corpsecret}
    return helpers.tap_config(server.urls["wecom"], auth, source_dir=str(folder), **overrides)


def chats(n: int) -> list[dict]:
    return [{"chat_id": f"wr{i:03d}", "status": 0, "owner": "rep000", "name": f"群{i}"} for i in range(n)]


def test_a_source_folder_is_discovered_with_its_own_settings_schema(wecom, tmp_path):
    tap = TapRest(config=config_for(wecom, source_dir(tmp_path)), parse_env_config=False)
    [stream] = tap.catalog_dict["streams"]
    assert (stream["tap_stream_id"], stream["key_properties"]) == ("groupchats", ["chat_id"])
    assert set(stream["schema"]["properties"]) >= {"chat_id", "status", "name"}
    assert isinstance(tap, TapRest) and type(tap) is not TapRest  # specialised for the folder
    assert type(tap).secret_keys() == ["corpsecret"]
    assert {"source_dir", "corpid", "request_timeout"} <= set(type(tap).config_jsonschema["properties"])


def test_a_source_folder_is_synced_end_to_end_into_the_warehouse(wecom, tmp_path, engine):
    wecom.set_world({"wecom": {"follow_users": reps(1), "groupchats": chats(5)}})
    source = SourceConfig(name="groupchats", connector="rest", config=config_for(wecom, source_dir(tmp_path)))
    result = sync_source(engine, source)
    assert (result.status, result.landed, result.error) == ("succeeded", 5, None)
    with engine.connect() as conn:
        rows = conn.execute(select(raw_record.c.stream, raw_record.c.record_key, raw_record.c.data)
                            .where(raw_record.c.source == "groupchats")).all()
    assert sorted(r.record_key for r in rows) == sorted(c["chat_id"] for c in chats(5))
    assert {r.stream for r in rows} == {"groupchats"}
    # (the list call answers chat_id and status; the name is groupchat/get's)
    assert json.loads(next(r.data for r in rows if "wr003" in r.record_key)) == {"chat_id": "wr003", "status": 0}
    assert wecom.sims["wecom"].calls[GROUPCHAT_LIST_PATH] == 3  # cursor paging: 2 + 2 + 1
    assert wecom.sims["wecom"].calls["/cgi-bin/gettoken"] == 1


def test_explicit_files_replace_the_folder(wecom, tmp_path):
    folder = source_dir(tmp_path)
    config = config_for(wecom, folder, catalogue_file=str(folder / "streams.yaml"),
                        vendor_file=str(folder / "vendor.yaml"))
    del config["source_dir"]
    wecom.set_world({"wecom": {"follow_users": reps(1), "groupchats": chats(3)}})
    result = helpers.sync_tap(TapRest, config)
    assert [r["chat_id"] for r in result.records["groupchats"]] == ["wr000", "wr001", "wr002"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"corpsecret": None}, "'corpsecret' is a required property"),
        ({"corpsecret": 98765432}, "'corpsecret' fails type \"string\""),
        ({"source_dir": None}, "config needs 'source_dir'"),
        ({"source_dir": "/nonexistent/folder"}, "is not a folder"),
    ],
)
def test_a_wrong_config_is_one_line_naming_the_key_not_its_value(wecom, tmp_path, engine, change, problem):
    config = {k: v for k, v in {**config_for(wecom, source_dir(tmp_path)), **change}.items() if v is not None}
    with pytest.raises(SourceKitError) as info:
        TapRest(config=config, parse_env_config=False)
    assert problem in str(info.value)
    assert "\n" not in str(info.value) and "98765432" not in str(info.value)
    result = sync_source(engine, SourceConfig(name="groupchats", connector="rest", config=config))
    assert result.status == "failed" and problem in result.error
    assert "98765432" not in result.error and WECOM.corpsecret not in result.error


@pytest.mark.parametrize(
    ("vendor", "streams", "problem"),
    [
        ("errors: {}\n", STREAMS_YAML, "needs a 'config_schema' mapping"),
        ("config_schema: {properties: {a: {type: 7}}}\n", STREAMS_YAML, "not a valid JSON schema"),
        (VENDOR_YAML, "streams: [{name: x, kind: rating_pass, path: /x}]", "kind 'rating_pass' needs Python"),
    ],
)
def test_malformed_source_data_is_one_clear_line(wecom, tmp_path, vendor, streams, problem):
    config = config_for(wecom, source_dir(tmp_path, vendor=vendor, streams=streams))
    with pytest.raises(SourceKitError) as info:
        TapRest(config=config, parse_env_config=False).discover_streams()
    assert problem in str(info.value) and "\n" not in str(info.value)

