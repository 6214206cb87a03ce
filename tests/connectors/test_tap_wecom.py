"""tap-wecom against the WeCom simulator: standard suite + targeted behaviour."""

from __future__ import annotations

import json

import pytest

from connectors.kit.errors import SourceConfigError
from connectors.tap_wecom.client import HttpMessageArchiveClient, MessageArchiveClient
from connectors.tap_wecom.streams import ArchiveStream as MessagesStream
from connectors.tap_wecom.streams import ByRepChunksStream as ExternalContactsStream
from connectors.tap_wecom.tap import TapWecom
from simulators import credentials
from tests.connectors import helpers

WECOM = credentials.WECOM
TOKEN_PATH = "/cgi-bin/gettoken"
BY_USER_PATH = "/cgi-bin/externalcontact/batch/get_by_user"
ARCHIVE_PATH = "/cgi-bin/msgaudit/get_chat_data"


def base_config(url: str, **overrides: object) -> dict:
    auth = {"corpid": WECOM.corpid, "corpsecret": WECOM.corpsecret}
    return helpers.tap_config(url, auth, **overrides)


def run_tap(config: dict, state: dict | None = None) -> helpers.SyncResult:
    return helpers.sync_tap(TapWecom, config, state)


def reps(n: int) -> list[dict]:
    return [{"userid": f"rep{i:03d}", "name": f"销售{i}", "mobile": f"1380000{i:04d}"}
            for i in range(n)]


def contact(i: int, userid: str) -> dict:
    return {
        "external_contact": {"external_userid": f"wm{i:05d}", "name": f"客户{i}", "type": 2,
                             "corp_name": "甲公司", "corp_full_name": "上海甲有限公司",
                             "position": "采购"},
        "follow_info": {"userid": userid, "remark": "", "description": "", "createtime": 1_700_000_000,
                        "tag_id": ["et1"], "remark_corp_name": "甲", "remark_mobiles": ["13900000000"],
                        "add_way": 1},
    }


def message(seq: int) -> dict:
    return {"msgid": f"msg{seq:06d}", "seq": seq, "action": "send", "from": "rep000",
            "tolist": ["wm00001"], "msgtime": 1_763_600_000_000 + seq, "msgtype": "text",
            "text": {"content": f"您好 {seq}"}}


# ------------------------------------------------------------------ standard suite


def standard_world() -> dict:
    return {"wecom": {
        "follow_users": reps(2),
        "external_contacts": [contact(1, "rep000"), contact(2, "rep001"),
                              contact(1, "rep001")],
        "messages": [message(s) for s in (1, 2, 3)],
    }}


STANDARD_CONFIG = base_config("http://127.0.0.1:9/wecom")

_StandardTests = helpers.standard_tests(TapWecom, STANDARD_CONFIG, "wecom", standard_world)


class TestTapWecomStandard(_StandardTests):  # type: ignore[misc, valid-type]
    """singer-sdk's standard tap tests, against a simulator started for this class."""


# ------------------------------------------------------------------ targeted tests


sim, wecom = helpers.simulator_fixtures("wecom")


def test_contacts_cursor_paging_over_chunks_of_100_reps(wecom, monkeypatch):
    users = reps(150)
    contacts = [contact(i, users[i % 150]["userid"]) for i in range(330)]
    wecom.set_world({"wecom": {"follow_users": users, "external_contacts": contacts}})
    bodies = helpers.record_results(
        monkeypatch, ExternalContactsStream, "prepare_request_payload",
        lambda body: json.loads(json.dumps(body)),
    )
    result = run_tap(base_config(wecom.urls["wecom"]))

    records = result.records["external_contacts"]
    assert len(records) == 330
    assert len({(r["external_userid"], r["userid"]) for r in records}) == 330
    first = records[0]
    assert first["external_userid"] == first["external_contact"]["external_userid"]
    assert first["userid"] == first["follow_info"]["userid"]
    assert {k: v for k, v in first.items() if k not in {"external_userid", "userid"}} in contacts
    assert all(1 <= len(b["userid_list"]) <= 100 and b["limit"] == 100 for b in bodies)
    assert [len(b["userid_list"]) for b in bodies] == [100, 100, 100, 50]
    assert [b["cursor"] == "" for b in bodies] == [True, False, False, True]
    assert wecom.sims["wecom"].calls[BY_USER_PATH] == 4
    assert [r["userid"] for r in result.records["follow_users"]] == [u["userid"] for u in users]
    assert result.records["follow_users"][0] == users[0]  # errcode/errmsg envelope dropped
    assert wecom.sims["wecom"].calls["/cgi-bin/externalcontact/get_follow_user_list"] == 1
    assert wecom.sims["wecom"].calls[TOKEN_PATH] == 1


def test_messages_are_incremental_on_seq(wecom, monkeypatch):
    live = [message(s) for s in range(1, 2501)]
    wecom.set_world({"wecom": {"messages": live}})
    asked: list[int] = []
    original = HttpMessageArchiveClient.get_chat_data

    def spy(self, seq, limit):
        asked.append(seq)
        return original(self, seq, limit)

    monkeypatch.setattr(HttpMessageArchiveClient, "get_chat_data", spy)
    config = base_config(wecom.urls["wecom"])
    first = run_tap(config)
    assert [m["seq"] for m in first.records["messages"]] == list(range(1, 2501))
    assert asked == [0, 1000, 2000]
    assert first.state["bookmarks"]["messages"]["replication_key_value"] == 2500

    live.extend(message(s) for s in (2501, 2502, 2503))
    asked.clear()
    second = run_tap(config, state=first.state)
    assert [m["msgid"] for m in second.records["messages"]] == [
        "msg002501", "msg002502", "msg002503",
    ]
    assert second.records["messages"][0] == message(2501)
    assert asked == [2500]
    assert second.state["bookmarks"]["messages"]["replication_key_value"] == 2503


def test_message_archive_client_is_replaceable(wecom, monkeypatch):
    wecom.set_world({"wecom": {}})

    class FakeSdkClient(MessageArchiveClient):
        closed = False

        def get_chat_data(self, seq, limit):
            return [message(s) for s in range(seq + 1, min(seq + limit, 5) + 1)]

        def close(self):
            FakeSdkClient.closed = True

    monkeypatch.setattr(MessagesStream, "make_archive_client", lambda self: FakeSdkClient())
    result = run_tap(base_config(wecom.urls["wecom"], message_batch_size=2))
    assert [m["seq"] for m in result.records["messages"]] == [1, 2, 3, 4, 5]
    assert FakeSdkClient.closed
    assert wecom.sims["wecom"].calls[ARCHIVE_PATH] == 0


def test_expired_token_is_refreshed_and_replayed(wecom):
    wecom.set_world({"wecom": {"follow_users": reps(2),
                               "messages": [message(1), message(2)]}})
    tap = TapWecom(config=base_config(wecom.urls["wecom"]), parse_env_config=False)
    helpers.capture_sync(tap.streams["follow_users"])
    wecom.expire_tokens("wecom")  # next call: errcode 42001
    buf = helpers.capture_sync(tap.streams["messages"])
    assert buf.getvalue().count('"type":"RECORD"') == 2
    assert wecom.sims["wecom"].calls[TOKEN_PATH] == 2


def test_busy_and_rate_limit_are_retried(wecom):
    wecom.set_world({"wecom": {"follow_users": reps(1),
                               "external_contacts": [contact(1, "rep000")]}})
    wecom.inject_fault("wecom", count=1, code=-1, path="batch/get_by_user")
    wecom.inject_fault("wecom", count=1, code=45009, path="batch/get_by_user")
    result = run_tap(base_config(wecom.urls["wecom"]))
    assert len(result.records["external_contacts"]) == 1
    assert wecom.sims["wecom"].calls[BY_USER_PATH] == 3


@pytest.mark.parametrize(
    ("override", "code", "key"),
    [({"corpsecret": "wrong-corp-secret-9931"}, "40001", "corpsecret"),
     ({"corpid": "ww-wrong"}, "40013", "corpid")],
)
def test_bad_credentials_are_clear_config_errors(wecom, override, code, key):
    with pytest.raises(SourceConfigError) as info:
        run_tap(base_config(wecom.urls["wecom"], **override))
    message_text = str(info.value)
    assert code in message_text
    assert key in message_text
    assert "wrong-corp-secret-9931" not in message_text
    assert wecom.sims["wecom"].calls[TOKEN_PATH] == 1
