"""WeCom authentication.

``GET /cgi-bin/gettoken?corpid=&corpsecret=`` ->
``{"errcode":0,"errmsg":"ok","access_token","expires_in"}``. Data calls carry
``access_token`` as a query parameter; the authenticator rewrites it on every send, so a
replay after a refresh (WeCom may invalidate tokens early: 40014 / 42001) uses the new one.
"""

from __future__ import annotations

import typing as t

from connectors._singer_common import (
    QueryTokenAuthenticator,
    SourceConfigError,
    TokenCache,
    TokenEndpoint,
    int_code,
    scrub,
    token_lifetime,
)

TOKEN_PATH = "/cgi-bin/gettoken"
SECRET_KEYS = ("corpsecret",)

OK = 0
TOKEN_CODES = frozenset({40014, 42001, 41001})  # invalid / expired / missing token
RETRY_CODES = frozenset({-1, 45009})  # busy / rate limit
BAD_SECRET = 40001
BAD_CORPID = 40013


def errcode(payload: t.Any) -> int | None:  # noqa: ANN401
    """``errcode`` as an int (tolerates numeric strings); None when absent/odd."""
    return int_code(payload, "errcode")


def make_token_cache(config: t.Mapping[str, t.Any]) -> TokenCache:
    endpoint = TokenEndpoint(config, SECRET_KEYS)
    secrets = endpoint.secrets

    def classify(payload: dict[str, t.Any]) -> str | None:
        code = errcode(payload)
        message = scrub(str(payload.get("errmsg", "")), secrets)
        if code in (OK, None) and payload.get("access_token"):
            return None
        if code in RETRY_CODES:
            return f"errcode {code} ({message})"
        if code == BAD_SECRET:
            msg = "WeCom rejected corpsecret (errcode 40001): check corpsecret in the tap config."
            raise SourceConfigError(msg)
        if code == BAD_CORPID:
            msg = "WeCom rejected corpid (errcode 40013): check corpid in the tap config."
            raise SourceConfigError(msg)
        msg = (
            f"WeCom refused the token request (errcode {code}: {message}): "
            "check corpid and corpsecret in the tap config."
        )
        raise SourceConfigError(msg)

    def fetch() -> tuple[str, float | None, dict[str, t.Any]]:
        payload = endpoint.fetch(
            "GET",
            TOKEN_PATH,
            what="WeCom gettoken",
            params={"corpid": config.get("corpid"), "corpsecret": config.get("corpsecret")},
            classify=classify,
        )
        lifetime = token_lifetime(payload.get("expires_in"), 7200)
        return str(payload["access_token"]), lifetime, {}

    return TokenCache(fetch, name="WeCom access_token")


class WecomAuthenticator(QueryTokenAuthenticator):
    """``access_token`` query parameter with the current token."""

    param = "access_token"
