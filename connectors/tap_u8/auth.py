"""Yonyou U8 OpenAPI authentication.

Token: ``GET /system/token?from_account=&app_key=&app_secret=`` ->
``{"errcode":"0","errmsg":"","token":{"id":"...","expiresIn":7200}}`` - ``errcode`` is a
*string*. Data calls carry the token as the ``token`` query parameter; the
authenticator (re)writes it on every send so a replay after a refresh uses the new one.
"""

from __future__ import annotations

import typing as t

from connectors._singer_common import (
    QueryTokenAuthenticator,
    SourceConfigError,
    SourceKit,
    TokenCache,
    TokenEndpoint,
    scrub,
    token_lifetime,
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


def make_token_cache(config: t.Mapping[str, t.Any], kit: SourceKit | None = None) -> TokenCache:
    endpoint = TokenEndpoint(config, SECRET_KEYS, kit)  # kit: the tap's shared pacer and retry policy
    secrets = endpoint.secrets
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
        payload = endpoint.fetch(
            "GET",
            TOKEN_PATH,
            what="U8 token request",
            params={
                "from_account": config.get("from_account"),
                "app_key": config.get("app_key"),
                "app_secret": config.get("app_secret"),
            },
            classify=classify,
        )
        token = payload["token"]
        return str(token["id"]), token_lifetime(token.get("expiresIn"), 7200), {}

    return TokenCache(fetch, name="U8 token")


class U8Authenticator(QueryTokenAuthenticator):
    """Put the current token in the ``token`` query parameter."""

    param = "token"
