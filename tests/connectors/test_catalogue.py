"""Stream catalogues as data (connectors.kit.catalogue): a REST endpoint declared only in a
catalogue YAML is discovered and read with no new Python; malformed catalogues fail in one line."""

from __future__ import annotations

import pytest
import yaml

from connectors.kit.catalogue import CatalogueStream, load_catalogue
from connectors.kit.errors import SourceKitError
from connectors.kit.tap import HubTap
from connectors.tap_finance.tap import TapFinance
from connectors.tap_fxiaoke.tap import TapFxiaoke
from connectors.tap_u8.tap import TapU8
from connectors.tap_wecom.tap import TapWecom
from tests.connectors import helpers
from tests.connectors.test_tap_wecom import base_config, reps

GROUPCHAT_LIST_PATH = "/cgi-bin/externalcontact/groupchat/list"

#: An endpoint tap-wecom has no code for: the simulator's group-chat list (POST, cursor paging).
GROUPCHATS_ENTRY = {
    "name": "groupchats",
    "path": GROUPCHAT_LIST_PATH,
    "method": "POST",
    "primary_keys": ["chat_id"],
    "records": "$.group_chat_list[*]",
    "body": {"limit": 2, "status_filter": 0},
    "paging": {"kind": "cursor", "token": "$.next_cursor", "to": "body.cursor"},
    "schema": {
        "type": "object",
        "properties": {"chat_id": {"type": ["string", "null"]}, "status": {"type": ["integer", "null"]}},
        "additionalProperties": True,
    },
}

sim, wecom = helpers.simulator_fixtures("wecom")


def catalogue_with(tmp_path, tap: type[HubTap], *entries: dict) -> str:
    """The tap's shipped catalogue plus ``entries``, written to a file of its own."""
    shipped = yaml.safe_load((tap.package_dir / "streams.yaml").read_text(encoding="utf-8"))
    shipped["streams"].extend(entries)
    path = tmp_path / "streams.yaml"
    path.write_text(yaml.safe_dump(shipped, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_a_stream_declared_only_in_the_catalogue_is_discovered_and_read(wecom, tmp_path, monkeypatch):
    chats = [{"chat_id": f"wr{i:03d}", "status": 0, "owner": "rep000", "name": f"群{i}"} for i in range(5)]
    wecom.set_world({"wecom": {"follow_users": reps(1), "groupchats": chats}})
    config = base_config(wecom.urls["wecom"], catalogue_file=catalogue_with(tmp_path, TapWecom, GROUPCHATS_ENTRY))
    bodies = helpers.record_results(monkeypatch, CatalogueStream, "prepare_request_payload", dict)

    tap = TapWecom(config=config, parse_env_config=False)
    catalog = {s["tap_stream_id"]: s for s in tap.catalog_dict["streams"]}
    assert sorted(catalog) == ["external_contacts", "follow_users", "groupchats", "messages"]
    assert catalog["groupchats"]["key_properties"] == ["chat_id"]
    assert type(tap.streams["groupchats"]).__mro__[1] is CatalogueStream  # no class of its own

    result = helpers.sync_tap(TapWecom, config)
    assert result.records["groupchats"] == [{"chat_id": c["chat_id"], "status": 0} for c in chats]
    pages = [b for b in bodies if "status_filter" in b]
    assert [b["cursor"] == "" for b in pages] == [True, False, False]  # 2 + 2 + 1: the cursor walks
    assert wecom.sims["wecom"].calls[GROUPCHAT_LIST_PATH] == 3
    assert wecom.sims["wecom"].calls["/cgi-bin/gettoken"] == 1  # one token for every stream


def test_a_catalogue_stream_shares_the_error_table_and_token_refresh(wecom, tmp_path):
    chats = [{"chat_id": "wr001", "status": 0}]
    wecom.set_world({"wecom": {"follow_users": reps(1), "groupchats": chats}})
    wecom.inject_fault("wecom", count=1, code=42001, path="groupchat/list")  # token expired
    wecom.inject_fault("wecom", count=1, code=-1, path="groupchat/list")  # busy
    config = base_config(wecom.urls["wecom"], catalogue_file=catalogue_with(tmp_path, TapWecom, GROUPCHATS_ENTRY))
    result = helpers.sync_tap(TapWecom, config)
    assert result.records["groupchats"] == chats
    assert wecom.sims["wecom"].calls["/cgi-bin/gettoken"] == 2


@pytest.mark.parametrize("tap", [TapFinance, TapFxiaoke, TapU8, TapWecom])
def test_every_shipped_catalogue_stream_has_a_schema_file_and_a_known_kind(tap):
    catalogue = load_catalogue(tap.package_dir / "streams.yaml")
    for entry in catalogue.entries.values():
        assert entry.kind == "rest" or entry.kind in tap.stream_kinds, entry.name
        assert (tap.package_dir / "schemas" / f"{entry.schema or entry.name}.json").is_file(), entry.name
        assert entry.primary_keys, entry.name
    for template in catalogue.templates.values():
        assert (tap.package_dir / "schemas" / f"{template['schema']}.json").is_file()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("streams: [{path: /x}]", "needs a name"),
        ("streams: [{name: a, colour: red}]", "unknown keys ['colour']"),
        ("streams: [{name: a, paging: {kind: offset}}]", "paging kind must be one of"),
        ("streams: [{name: a}, {name: a}]", "listed twice"),
        ("streams: {a: 1}", "a 'streams' list"),
    ],
)
def test_a_malformed_catalogue_is_one_clear_line(tmp_path, body, problem):
    path = tmp_path / "streams.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SourceKitError, match="streams.yaml") as info:
        load_catalogue(path)
    assert problem in str(info.value)
    assert "\n" not in str(info.value)


def test_an_unknown_kind_names_the_known_ones(tmp_path):
    config = {"corpid": "ww1", "corpsecret": "s" * 8,
              "catalogue_file": catalogue_with(tmp_path, TapWecom, {"name": "x", "kind": "magic", "path": "/x"})}
    with pytest.raises(SourceKitError, match="unknown kind 'magic'.*archive"):
        TapWecom(config=config, parse_env_config=False).discover_streams()
