"""Robot simulators: DingTalk signatures and timestamp window, per-robot rate limits, payload
checks, recorded messages and injected faults (served in-process by SimulatorServer)."""

import time

import httpx
import pytest

from simulators.robots import DINGTALK_ROBOTS, WECOM_ROBOT_KEYS, dingtalk_sign
from simulators.server import SimulatorServer

TOKEN, SECRET = next(iter(DINGTALK_ROBOTS.items()))
KEY = WECOM_ROBOT_KEYS[0]


@pytest.fixture
def server():
    with SimulatorServer({}) as sim:
        yield sim


@pytest.fixture
def robots(server):
    return server.app.state.robots


def wecom(server, key=KEY, content="**hello** <@zhangsan>", **kw):
    return httpx.post(f"{server.base_url}/robots/cgi-bin/webhook/send", params={"key": key},
                      json={"msgtype": "markdown", "markdown": {"content": content}}, **kw)


def dingtalk_url(server, token=TOKEN, secret=SECRET, timestamp=None, sign=None):
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    # The signature goes into the URL already encoded, as DingTalk documents it.
    sig = dingtalk_sign(ts, secret) if sign is None else sign
    return f"{server.base_url}/robots/robot/send?access_token={token}&timestamp={ts}&sign={sig}"


def dingtalk(server, url=None, text="#### alert\n@13800000000"):
    return httpx.post(url or dingtalk_url(server), json={
        "msgtype": "markdown", "markdown": {"title": "alert", "text": text},
        "at": {"atMobiles": ["13800000000"], "isAtAll": False}})


def test_signed_dingtalk_message_is_accepted_and_recorded(server, robots):
    reply = dingtalk(server)
    assert reply.status_code == 200 and reply.json() == {"errcode": 0, "errmsg": "ok"}
    [message] = robots.received("dingtalk")
    assert message["robot"] == TOKEN
    assert message["payload"]["at"]["atMobiles"] == ["13800000000"]


def test_wrong_signature_or_secret_is_refused(server, robots):
    assert dingtalk(server, dingtalk_url(server, secret="SECnot-the-secret")).json()["errcode"] == 310000
    assert dingtalk(server, dingtalk_url(server, sign="bm90LWEtc2lnbg%3D%3D")).json()["errcode"] == 310000
    assert dingtalk(server, dingtalk_url(server, token="unknown")).json()["errcode"] == 300001
    assert robots.received() == []
    assert [r["errcode"] for r in robots.rejected] == [310000, 310000, 300001]


def test_timestamp_must_be_within_one_hour(server):
    old = int((time.time() - 3601) * 1000)
    assert dingtalk(server, dingtalk_url(server, timestamp=old)).json()["errcode"] == 310000
    recent = int((time.time() - 3500) * 1000)
    assert dingtalk(server, dingtalk_url(server, timestamp=recent)).json()["errcode"] == 0


def test_twenty_messages_a_minute_per_robot(server, robots):
    codes = [wecom(server).json()["errcode"] for _ in range(21)]
    assert codes == [0] * 20 + [45009]
    assert wecom(server, key=WECOM_ROBOT_KEYS[1]).json()["errcode"] == 0  # another robot has its own budget
    ding = [dingtalk(server).json()["errcode"] for _ in range(21)]
    assert ding == [0] * 20 + [130101]
    start = robots.clock()
    robots.clock = lambda: start + 61  # a minute later the budget is back
    assert wecom(server).json()["errcode"] == 0


def test_wecom_key_and_payload_checks(server):
    assert wecom(server, key="nope").json()["errcode"] == 93000
    assert wecom(server, content="x" * 4097).json()["errcode"] == 40058
    assert wecom(server, content="汉" * 1365).json()["errcode"] == 0  # 4095 bytes
    bad_type = httpx.post(f"{server.base_url}/robots/cgi-bin/webhook/send", params={"key": KEY},
                          json={"msgtype": "image", "image": {}})
    assert bad_type.json()["errcode"] == 40008


def test_injected_faults(server, robots):
    robots.faults.inject(count=1, code=503, path="/cgi-bin/webhook/send")
    assert wecom(server).status_code == 503
    robots.faults.inject(count=1, code=45009)
    assert wecom(server).json()["errcode"] == 45009
    robots.timeout_delay = 1.0
    robots.faults.inject(count=1, code="timeout", path="/robot/send")
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(dingtalk_url(server), json={}, timeout=0.2)
    assert wecom(server).json()["errcode"] == 0
    assert len(robots.received()) == 1 and robots.calls["/cgi-bin/webhook/send"] == 3
