"""WeCom authentication.

``GET /cgi-bin/gettoken?corpid=&corpsecret=`` ->
``{"errcode":0,"errmsg":"ok","access_token","expires_in"}``. Data calls carry
``access_token`` as a query parameter; the authenticator rewrites it on every send, so a
replay after a refresh (WeCom may invalidate tokens early: 40014 / 42001) uses the new one.
"""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from connectors._singer_common import SourceConfigError, TokenCache, fetch_json, scrub

TOKEN_PATH = "/cgi-bin/gettoken"
SECRET_KEYS = ("corpsecret",)

OK = 0
TOKEN_CODES = frozenset({40014, 42001, 41001})  # invalid / expired / missing token
RETRY_CODES = frozenset({-1, 45009})  # busy / rate limit
BAD_SECRET = 40001
BAD_CORPID = 40013


def errcode(payload: t.Any) -> int | None:  # noqa: ANN401
    if not isinstance(payload, dict):
        return None
    code = payload.get("errcode")
    if isinstance(code, bool):
        return None
    try:
        return int(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def make_token_cache(config: t.Mapping[str, t.Any]) -> TokenCache:
    session = requests.Session()
    base_url = str(config.get("base_url") or "").rstrip("/")
    secrets = [config.get(k) for k in SECRET_KEYS]

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
        payload = fetch_json(
            session,
            "GET",
            base_url + TOKEN_PATH,
            what="WeCom gettoken",
            params={"corpid": config.get("corpid"), "corpsecret": config.get("corpsecret")},
            timeout=float(config.get("request_timeout") or 60),
            max_tries=int(config.get("max_tries") or 5),
            backoff_factor=float(
                1.0 if config.get("backoff_factor") is None else config["backoff_factor"]
            ),
            secrets=secrets,
            classify=classify,
        )
        try:
            lifetime = float(payload.get("expires_in") or 7200)
        except (TypeError, ValueError):
            lifetime = 7200.0
        return str(payload["access_token"]), lifetime, {}

    return TokenCache(fetch, name="WeCom access_token")


class WecomAuthenticator(APIAuthenticatorBase):
    """``access_token`` query parameter with the current token."""

    def __init__(self, token_cache: TokenCache) -> None:
        super().__init__()
        self.token_cache = token_cache

    def authenticate_request(
        self,
        request: requests.PreparedRequest,
    ) -> requests.PreparedRequest:
        self.auth_params = {"access_token": self.token_cache.get().value}
        return super().authenticate_request(request)
