"""Yonyou U8 OpenAPI authentication.

Token: ``GET /system/token?from_account=&app_key=&app_secret=`` ->
``{"errcode":"0","errmsg":"","token":{"id":"...","expiresIn":7200}}`` - ``errcode`` is a
*string*. Data calls carry the token as the ``token`` query parameter; the
authenticator (re)writes it on every send so a replay after a refresh uses the new one.
"""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from connectors._singer_common import (
    SourceConfigError,
    TokenCache,
    fetch_json,
    scrub,
)

TOKEN_PATH = "/system/token"
OK = "0"
SECRET_KEYS = ("app_secret",)


def errcode(payload: t.Any) -> str | None:  # noqa: ANN401
    """The errcode as a string (the API sends strings; tolerate numbers)."""
    if not isinstance(payload, dict) or payload.get("errcode") is None:
        return None
    return str(payload.get("errcode")).strip()


def retry_errcodes(config: t.Mapping[str, t.Any]) -> set[str]:
    value = config.get("retry_errcodes")
    return {str(v) for v in (["-1"] if value is None else value)}


def make_token_cache(config: t.Mapping[str, t.Any]) -> TokenCache:
    session = requests.Session()
    base_url = str(config.get("base_url") or "").rstrip("/")
    secrets = [config.get(k) for k in SECRET_KEYS]
    retry_codes = retry_errcodes(config)

    def classify(payload: dict[str, t.Any]) -> str | None:
        code = errcode(payload)
        message = scrub(str(payload.get("errmsg", "")), secrets)
        if code == OK:
            token = payload.get("token")
            if not isinstance(token, dict) or not token.get("id"):
                msg = "U8 token response lacks token.id."
                raise SourceConfigError(msg)
            return None
        if code in retry_codes:
            return f"errcode {code} ({message})"
        msg = (
            f"U8 refused the token request (errcode {code}: {message}): check "
            "from_account, app_key and app_secret in the tap config."
        )
        raise SourceConfigError(msg)

    def fetch() -> tuple[str, float | None, dict[str, t.Any]]:
        payload = fetch_json(
            session,
            "GET",
            base_url + TOKEN_PATH,
            what="U8 token request",
            params={
                "from_account": config.get("from_account"),
                "app_key": config.get("app_key"),
                "app_secret": config.get("app_secret"),
            },
            timeout=float(config.get("request_timeout") or 60),
            max_tries=int(config.get("max_tries") or 5),
            backoff_factor=float(
                1.0 if config.get("backoff_factor") is None else config["backoff_factor"]
            ),
            secrets=secrets,
            classify=classify,
        )
        token = payload["token"]
        try:
            lifetime = float(token.get("expiresIn") or 7200)
        except (TypeError, ValueError):
            lifetime = 7200.0
        return str(token["id"]), lifetime, {}

    return TokenCache(fetch, name="U8 token")


class U8Authenticator(APIAuthenticatorBase):
    """Put the current token in the ``token`` query parameter."""

    def __init__(self, token_cache: TokenCache) -> None:
        super().__init__()
        self.token_cache = token_cache

    def authenticate_request(
        self,
        request: requests.PreparedRequest,
    ) -> requests.PreparedRequest:
        self.auth_params = {"token": self.token_cache.get().value}
        return super().authenticate_request(request)
