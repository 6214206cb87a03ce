"""WeCom simulator: tokens, reps, external contacts cursor paging, message archive, robot."""

import httpx
import pytest

from simulators.credentials import WECOM
from simulators.server import SimulatorServer

NOW_MS = 1_795_136_400_000  # 2026-11-20T09:00:00+08:00
DAY = 86_400_000


def contact(i: int, userid: str) -> dict:
    return {
        "external_contact": {"external_userid": f"wm{i:03d}", "name": f"客户联系人{i}", "type": 2,
                             "corp_name": "某公司", "corp_full_name": "某某有限公司"},
        "follow_info": {"userid": userid, "remark": "", "createtime": 1700000000 + i,
                        "tag_id": [], "remark_mobiles": [], "add_way": 1},
    }


def make_world() -> dict:
    return {
        "meta": {"now": "2026-11-20T09:00:00+08:00"},
        "wecom": {
            "follow_users": [
                {"userid": "zhangsan", "name": "张三", "mobile": "13800000001"},
                {"userid": "lisi", "name": "李四", "mobile": "13800000002"},
                {"userid": "wangwu", "name": "王五", "mobile": "13800000003"},
            ],
            "external_contacts": [contact(i, ["zhangsan", "lisi", "wangwu"][i % 3])
                                  for i in range(10)],
            "messages": [
                {"msgid": f"m{seq}", "seq": seq, "action": "send", "from": "zhangsan",
                 "tolist": ["wm000"], "msgtime": NOW_MS - (7 - seq) * DAY, "msgtype": "text",
                 "text": {"content": f"hello {seq}"}}
                for seq in (3, 1, 5, 2, 4, 6, 7)
            ],
            "groupchats": [
                {"chat_id": "wrOg1", "status": 0, "owner": "zhangsan", "name": "项目群"},
                {"chat_id": "wrOg2", "status": 0, "owner": "lisi", "name": "售后群"},
            ],
        },
    }


@pytest.fixture(scope="module")
def server():
    with SimulatorServer(make_world()) as sim:
        yield sim


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.urls["wecom"]) as http:
        yield http


def get_token(client) -> str:
    body = client.get("/cgi-bin/gettoken",
                      params={"corpid": WECOM.corpid, "corpsecret": WECOM.corpsecret}).json()
    assert body["errcode"] == 0 and body["errmsg"] == "ok" and body["expires_in"] == 7200
    return body["access_token"]


@pytest.fixture
def token(client):
    return get_token(client)


def post(client, path, token, body):
    return client.post(path, params={"access_token": token}, json=body).json()


def test_bad_secret_and_corpid(client):
    assert client.get("/cgi-bin/gettoken", params={
        "corpid": WECOM.corpid, "corpsecret": "nope"}).json()["errcode"] == 40001
    assert client.get("/cgi-bin/gettoken", params={
        "corpid": "wwother", "corpsecret": WECOM.corpsecret}).json()["errcode"] == 40013


def test_follow_users_and_user_get(client, token):
    body = client.get("/cgi-bin/externalcontact/get_follow_user_list",
                      params={"access_token": token}).json()
    assert body["follow_user"] == ["zhangsan", "lisi", "wangwu"]
    user = client.get("/cgi-bin/user/get", params={"access_token": token, "userid": "lisi"}).json()
    assert (user["errcode"], user["userid"], user["name"], user["mobile"]) == (
        0, "lisi", "李四", "13800000002")
    missing = client.get("/cgi-bin/user/get", params={"access_token": token, "userid": "nobody"})
    assert missing.json()["errcode"] == 60111


def test_external_contacts_cursor_paging(client, token):
    seen, cursor, pages = [], "", 0
    while True:
        body = post(client, "/cgi-bin/externalcontact/batch/get_by_user", token,
                    {"userid_list": ["zhangsan", "wangwu"], "cursor": cursor, "limit": 2})
        assert body["errcode"] == 0
        pages += 1
        seen += body["external_contact_list"]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 4  # 7 matching contacts, 2 per page
    assert [c["external_contact"]["external_userid"] for c in seen] == [
        "wm000", "wm002", "wm003", "wm005", "wm006", "wm008", "wm009"]
    assert all(c["follow_info"]["userid"] in ("zhangsan", "wangwu") for c in seen)


def test_external_contacts_parameter_errors(client, token):
    path = "/cgi-bin/externalcontact/batch/get_by_user"
    too_many = {"userid_list": [f"u{i}" for i in range(101)], "cursor": "", "limit": 100}
    assert post(client, path, token, too_many)["errcode"] == 40058
    assert post(client, path, token, {"userid_list": ["lisi"], "limit": 101})["errcode"] == 40058
    assert post(client, path, token, {"userid_list": ["lisi"], "cursor": "%%"})["errcode"] == 40058


def test_message_archive_seq_paging(client, token):
    path = "/cgi-bin/msgaudit/get_chat_data"
    first = post(client, path, token, {"seq": 0, "limit": 3})
    assert [m["seq"] for m in first["chatdata"]] == [1, 2, 3]
    rest = post(client, path, token, {"seq": 3, "limit": 1000})
    assert [m["seq"] for m in rest["chatdata"]] == [4, 5, 6, 7]
    assert post(client, path, token, {"seq": 7, "limit": 10})["chatdata"] == []
    assert post(client, path, token, {"seq": 0, "limit": 1001})["errcode"] == 40058


def test_message_retention_window():
    with SimulatorServer(make_world(), message_retention_days=5) as sim, \
            httpx.Client(base_url=sim.urls["wecom"]) as http:
        body = post(http, "/cgi-bin/msgaudit/get_chat_data", get_token(http),
                    {"seq": 0, "limit": 100})
    # msgtime = now - (7 - seq) days: only seq 2..7 are within the last 5 days
    assert [m["seq"] for m in body["chatdata"]] == [2, 3, 4, 5, 6, 7]


def test_groupchats(client, token):
    body = post(client, "/cgi-bin/externalcontact/groupchat/list", token,
                {"status_filter": 0, "owner_filter": {"userid_list": ["lisi"]}, "limit": 10})
    assert body["group_chat_list"] == [{"chat_id": "wrOg2", "status": 0}]
    assert body["next_cursor"] == ""
    chat = post(client, "/cgi-bin/externalcontact/groupchat/get", token, {"chat_id": "wrOg2"})
    assert chat["group_chat"]["name"] == "售后群"


def test_token_errors(client, token, server):
    path = "/cgi-bin/externalcontact/get_follow_user_list"
    assert client.get(path).json()["errcode"] == 41001
    assert client.get(path, params={"access_token": "bogus"}).json()["errcode"] == 40014
    server.expire_tokens("wecom")
    assert client.get(path, params={"access_token": token}).json()["errcode"] == 42001
    assert client.get(path, params={"access_token": get_token(client)}).json()["errcode"] == 0


def test_world_mutation_and_faults(client, token, server):
    users = server.world.data["wecom"]["follow_users"]
    users.append({"userid": "zhaoliu", "name": "赵六", "mobile": "13800000004"})
    path = "/cgi-bin/externalcontact/get_follow_user_list"
    try:
        assert "zhaoliu" in client.get(path, params={"access_token": token}).json()["follow_user"]
    finally:
        users.pop()
    server.inject_fault("wecom", code=45009)
    assert client.get(path, params={"access_token": token}).json()["errcode"] == 45009
    server.inject_fault("wecom")
    assert client.get(path, params={"access_token": token}).json()["errcode"] == -1
    assert client.get(path, params={"access_token": token}).json()["errcode"] == 0


def test_group_robot_records_messages(client, server):
    body = {"msgtype": "markdown", "markdown": {"content": "**R1** <@zhangsan>"}}
    assert client.post("/cgi-bin/webhook/send", params={"key": "k1"}, json=body).json() == {
        "errcode": 0, "errmsg": "ok"}
    assert server.sims["wecom"].webhook_messages[-1] == {"key": "k1", "payload": body}
    long_text = {"msgtype": "text", "text": {"content": "字" * 700}}  # 2100 bytes
    assert client.post("/cgi-bin/webhook/send", params={"key": "k1"},
                       json=long_text).json()["errcode"] != 0
    assert client.post("/cgi-bin/webhook/send", json=body).json()["errcode"] == 93000
