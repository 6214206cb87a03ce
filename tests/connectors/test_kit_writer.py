"""The kit's batching Singer writer and the REST stream's environment-read-once session."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter

from connectors.kit.writer import HubSingerWriter, dumps
from connectors.tap_finance.tap import TapFinance
from simulators import credentials
from tests.connectors import helpers


def messages() -> list:
    when = datetime(2026, 10, 1, 8, 30, tzinfo=UTC)
    out: list = [SchemaMessage("s", {"type": "object"}, ["id"])]
    out += [RecordMessage("s", {"id": i, "amount": Decimal("123.40"), "名": "客户"}) for i in range(3)]
    out.append(StateMessage({"bookmarks": {"s": {"replication_key_value": 2}}}))
    out.append(RecordMessage("s", {"id": 9}, version=7, time_extracted=when))
    return out


def written(writer: SimpleSingerWriter, items: list, *, flush: bool = True) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        for message in items:
            writer.write_message(message)
        if flush and isinstance(writer, HubSingerWriter):
            writer.flush()
    return buf.getvalue()


def parsed(text: str) -> list:
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines()]


def test_output_reads_as_singer_sdks_and_ascii_lines_are_identical():
    ours, theirs = written(HubSingerWriter(), messages()), written(SimpleSingerWriter(), messages())
    assert parsed(ours) == parsed(theirs)
    assert '"amount":123.40' in ours and '"名":"客户"' in ours  # exact digits; UTF-8, not \\u escapes
    ascii_only = [m for m in messages() if "名" not in str(getattr(m, "record", ""))]
    assert written(HubSingerWriter(), ascii_only) == written(SimpleSingerWriter(), ascii_only)


def test_state_lines_are_singer_sdks_too():
    states = [StateMessage({"bookmarks": {"s": {"seen": {"单1": ["2026-10-01", "ab"]}, "cursor": None,
                                                "amount": Decimal("1.50")}}}), StateMessage({})]
    assert parsed(written(HubSingerWriter(), states)) == parsed(written(SimpleSingerWriter(), states))


@pytest.mark.parametrize("value", [
    Decimal("NaN"), 2**70, "\ud800", {1: "x"}, date(2026, 10, 1), time(8, 30), float("nan"),
    datetime(2026, 10, 1, 8, 30, 0, 5, tzinfo=UTC), ("a", 1), uuid.UUID(int=5), Decimal("1E+2"),
])
def test_values_orjson_cannot_write_as_singer_sdk_does_are_singer_sdks(value):
    items = [RecordMessage("s", {"v": value})]
    assert written(HubSingerWriter(), items) == written(SimpleSingerWriter(), items)


def test_a_stdout_that_is_not_utf8_gets_singer_sdks_ascii_lines():
    buf = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    with contextlib.redirect_stdout(buf):
        assert dumps({"type": "RECORD", "record": {"名": "客户"}}) == '{"type":"RECORD","record":{"\\u540d":"\\u5ba2\\u6237"}}'


def test_the_utf8_check_follows_stdout_when_it_is_replaced():
    # the check is kept per stdout object: a UTF-8 stdout, then a latin-1 one, then UTF-8 again
    message = {"type": "RECORD", "record": {"名": "客户"}}
    utf8, latin1 = io.StringIO(), io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    with contextlib.redirect_stdout(utf8):
        assert dumps(message) == '{"type":"RECORD","record":{"名":"客户"}}'
    with contextlib.redirect_stdout(latin1):
        assert dumps(message) == '{"type":"RECORD","record":{"\\u540d":"\\u5ba2\\u6237"}}'
    with contextlib.redirect_stdout(io.StringIO()):
        assert dumps(message) == '{"type":"RECORD","record":{"名":"客户"}}'


def test_records_wait_for_the_next_other_message_and_state_follows_them():
    out = written(HubSingerWriter(), messages(), flush=False)
    kinds = [line.split('"type":"')[1].split('"')[0] for line in out.splitlines()]
    assert kinds == ["SCHEMA", "RECORD", "RECORD", "RECORD", "STATE"]  # last RECORD still pending


def test_a_full_batch_is_written_without_waiting():
    writer = HubSingerWriter()
    writer.FLUSH_LINES = 4
    out = written(writer, [RecordMessage("s", {"id": i}) for i in range(6)], flush=False)
    assert out.count('"type":"RECORD"') == 4
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        writer.flush()
    assert buf.getvalue().count('"type":"RECORD"') == 2


def test_hub_taps_use_the_batching_writer():
    assert TapFinance.message_writer_class is HubSingerWriter


def test_session_reads_proxies_and_ca_bundle_once(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    auth = {"client_id": credentials.FINANCE.client_id, "client_secret": credentials.FINANCE.client_secret}
    tap = TapFinance(config=helpers.tap_config("http://api.example/finance", auth), parse_env_config=False)
    session = tap.streams["credit_rating"].requests_session
    assert session.trust_env is False
    assert session.proxies.get("http") == "http://proxy.example:3128"
    assert session.verify == str(bundle)
    monkeypatch.setenv("HTTP_PROXY", "http://other.example:1")
    assert tap.streams["credit_rating"].requests_session.proxies.get("http") == "http://proxy.example:3128"


def test_the_state_writer_writes_a_state_only_when_it_changed_as_singer_sdks_does():
    """HubStateWriter keeps the line it wrote instead of a deep copy: the same STATE lines as
    singer-sdk's StateWriter for a state mutated in place between writes."""
    from singer_sdk.helpers._state import StateWriter

    from connectors.kit.writer import HubStateWriter

    def states(writer_class) -> list[dict]:
        message_writer = HubSingerWriter()
        writer = writer_class(message_writer)
        state: dict = {"bookmarks": {"s": {"seen": {"A": ["2026-01-01", "f1"]}}}}
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            writer.write_state(state)
            writer.write_state(state)  # unchanged: nothing
            state["bookmarks"]["s"]["seen"]["B"] = ["2026-01-02", "f2"]  # changed in place
            writer.write_state(state)
            writer.write_state(state)
            state["bookmarks"]["s"]["seen"]["B"][1] = "f3"  # a nested list changed in place
            writer.write_state(state)
        return [json.loads(line) for line in buf.getvalue().splitlines()]

    mine = states(HubStateWriter)
    assert mine == states(StateWriter)
    assert [m["value"]["bookmarks"]["s"]["seen"].get("B") for m in mine] == [None, ["2026-01-02", "f2"],
                                                                          ["2026-01-02", "f3"]]


def test_the_token_goes_into_the_query_as_singer_sdk_puts_it_or_singer_sdk_does_it():
    """A plain append gives singer-sdk's URL; anything else (a replayed token, a blank value,
    a fragment) is left to singer-sdk's own ``_add_parameters``."""
    from singer_sdk.authenticators import _add_parameters

    from connectors.kit.auth import _with_query_param

    token = {"access_token": "t/k+n=1 令牌"}
    for url in ["http://h/api/saleorder/get", "http://h/api/saleorder/get?ds=1&id=SO%2F1+a",
                "http://h/p?a=1&a=2", "http://h/p?"]:
        assert _with_query_param(url, token) == _add_parameters(url, token)
    for url in ["http://h/p?access_token=old&id=1", "http://h/p?access%5Ftoken=old", "http://h/p?a=&id=1",
                "http://h/p?flag&id=1", "http://h/p?id=1#top"]:
        assert _with_query_param(url, token) is None
