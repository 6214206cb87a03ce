"""``kit.rest.json_body``: the same values as requests' ``Response.json(parse_float=Decimal)``."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from connectors.kit.rest import json_body, response_json


def reply(body: bytes, content_type: str | None = "application/json") -> requests.Response:
    response = requests.Response()
    response._content = body
    response.status_code = 200
    if content_type:
        response.headers["Content-Type"] = content_type
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response


BODIES = [
    '{"errcode":0,"external_contact_list":[{"name":"客户","remark":"上海 1.5e3"}],"next_cursor":""}',
    '{"money":123.40,"sum":"1E+2","n":-0.0,"big":123456789012345678901234567890,"e":1e-7}',
    '{"k":1,"k":2,"nested":{"a":[1,2.50,{"b":null}]},"t":true,"f":false}',
    '[1, 2.0, "\\u540d\\ud83d\\ude00", "\\n"]',
]


@pytest.mark.parametrize("text", BODIES)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32-le", "utf-8-sig"])
@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8"])
def test_same_values_as_requests_json(text, encoding, content_type):
    if encoding != "utf-8" and content_type and "charset" in content_type:
        content_type = f"application/json; charset={encoding}"
    body = text.encode(encoding)
    try:
        expected = reply(body, content_type).json(parse_float=Decimal)
    except ValueError:  # e.g. UTF-16 declared as UTF-8: requests refuses it, and so must we
        with pytest.raises(ValueError):
            json_body(reply(body, content_type))
        return
    got = json_body(reply(body, content_type))
    assert got == expected
    assert repr(got) == repr(expected)  # the same types too (Decimal digits, int, str)


def test_a_declared_charset_other_than_utf8_is_honoured():
    body = '{"name":"客户"}'.encode("gbk")
    response = reply(body, "application/json; charset=gbk")
    assert json_body(response) == {"name": "客户"} == reply(body, "application/json; charset=gbk").json()


def test_floats_are_decimals_with_their_digits():
    got = json_body(reply(b'{"a":123.40,"b":1e2}'))
    assert got == {"a": Decimal("123.40"), "b": Decimal("1E+2")}
    assert str(got["a"]) == "123.40"


@pytest.mark.parametrize("body", [b"", b"<html>busy</html>", b'{"a":', b'{"a":1}garbage', b'{"x": NaN}',
                                  b'[Infinity]'])
def test_a_body_that_is_not_json_raises_value_error_as_requests_does(body):
    with pytest.raises(ValueError):
        reply(body).json(parse_float=Decimal)
    with pytest.raises(ValueError):
        json_body(reply(body))


def test_response_json_parses_once():
    response = reply(b'{"a":[1]}')
    first = response_json(response)
    assert response_json(response) is first
