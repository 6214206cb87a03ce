from pathlib import Path

import pytest

from connectors.sources import SourcesError, load_sources, parse_sources

EXAMPLE = Path(__file__).resolve().parents[2] / "connectors.example.yaml"


def test_shipped_example_is_valid(monkeypatch):
    for name in ("CRM_APP_SECRET", "CRM_PERMANENT_CODE", "U8_APP_SECRET", "FINANCE_CLIENT_SECRET", "WECOM_CORPSECRET"):
        monkeypatch.setenv(name, f"value-of-{name}")
    sources = load_sources(EXAMPLE)
    assert [s.name for s in sources] == ["crm", "u8", "finance", "wecom"]
    assert sources[0].config["app_secret"] == "value-of-CRM_APP_SECRET"
    assert sources[1].tap_command() == ["tap-u8"]


@pytest.mark.parametrize("body, message", [
    ({"sources": {"x": {"connector": "nope"}}}, "unknown connector 'nope'"),
    ({"sources": {"x": {"connector": "u8", "command": ["tap-u8"]}}}, "exactly one of"),
    ({"sources": {"x": {}}}, "exactly one of"),
    ({"sources": {"x": "tap-u8"}}, "must be a mapping"),
    ({"nothing": 1}, "top-level 'sources:'"),
])
def test_bad_sources_are_clear_errors(body, message):
    with pytest.raises(SourcesError, match=message):
        parse_sources(body)


def test_third_party_command_with_stream_selection():
    [source] = parse_sources({"sources": {"x": {"command": ["tap-foo", "--flag"], "streams": ["a"]}}})
    assert source.tap_command() == ["tap-foo", "--flag"] and source.streams == ["a"]
