"""The kit's batching Singer writer and the REST stream's environment-read-once session."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime
from decimal import Decimal

from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter

from connectors.kit.writer import HubSingerWriter
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


def test_output_is_line_for_line_singer_sdks():
    assert written(HubSingerWriter(), messages()) == written(SimpleSingerWriter(), messages())


def test_state_lines_are_singer_sdks_too():
    states = [StateMessage({"bookmarks": {"s": {"seen": {"单1": ["2026-10-01", "ab"]}, "cursor": None,
                                                "amount": Decimal("1.50")}}}), StateMessage({})]
    assert written(HubSingerWriter(), states) == written(SimpleSingerWriter(), states)


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
