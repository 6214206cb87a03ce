"""WeCom authentication.

``GET /cgi-bin/gettoken?corpid=&corpsecret=`` ->
``{"errcode":0,"errmsg":"ok","access_token","expires_in"}``. Data calls carry
``access_token`` as a query parameter; the authenticator rewrites it on every send, so a
replay after a refresh (WeCom may invalidate tokens early: 40014 / 42001) uses the new one.
gettoken and data calls classify errcodes with the same table (``vendor.yaml``).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from connectors._singer_common import (
    QueryTokenAuthenticator,
    SourceConfigError,
    SourceKit,
    TokenCache,
    TokenEndpoint,
    error_table,
    token_lifetime,
)

TOKEN_PATH = "/cgi-bin/gettoken"
VENDOR_FILE = Path(__file__).with_name("vendor.yaml")
ERRORS = error_table(VENDOR_FILE)
SECRET_KEYS = ("corpsecret",)


def make_token_cache(config: t.Mapping[str, t.Any], kit: SourceKit | None = None) -> TokenCache:
    """A token cache bound to the tap config (and the tap's kit: pacer, retry, errors)."""
    endpoint = TokenEndpoint(config, SECRET_KEYS, kit)

    def check(payload: dict[str, t.Any]) -> str | None:
        if not payload.get("access_token"):
            msg = "WeCom gettoken reply lacks access_token; check base_url in the tap config."
            raise SourceConfigError(msg)
        return None

    def fetch() -> tuple[str, float | None, dict[str, t.Any]]:
        payload = endpoint.fetch(
            "GET",
            TOKEN_PATH,
            what="WeCom gettoken",
            params={"corpid": config.get("corpid"), "corpsecret": config.get("corpsecret")},
            errors=ERRORS,
            classify=check,
        )
        lifetime = token_lifetime(payload.get("expires_in"), 7200)
        return str(payload["access_token"]), lifetime, {}

    return TokenCache(fetch, name="WeCom access_token")


class WecomAuthenticator(QueryTokenAuthenticator):
    """``access_token`` query parameter with the current token."""

    param = "access_token"
