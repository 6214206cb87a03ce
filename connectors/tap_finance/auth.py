"""Finance API authentication.

``POST /api/v1/auth/token {"client_id","client_secret"}`` ->
``{"code":0,"data":{"access_token","expires_in"}}``; data calls send
``Authorization: Bearer <access_token>``. Token and data calls classify errors with the
same table (``vendor.yaml``): HTTP 401 ``code 40100`` is a configuration error,
``40101``/``40102`` a rejected token.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import requests

from connectors._singer_common import (
    CachedTokenAuthenticator,
    SourceConfigError,
    SourceKit,
    TokenCache,
    TokenEndpoint,
    error_table,
    token_lifetime,
)

TOKEN_PATH = "/api/v1/auth/token"
VENDOR_FILE = Path(__file__).with_name("vendor.yaml")
ERRORS = error_table(VENDOR_FILE)
SECRET_KEYS = ("client_secret",)


def make_token_cache(config: t.Mapping[str, t.Any], kit: SourceKit | None = None) -> TokenCache:
    """A token cache bound to the tap config (and the tap's kit: pacer, retry, errors)."""
    endpoint = TokenEndpoint(config, SECRET_KEYS, kit)

    def check(payload: dict[str, t.Any]) -> str | None:
        data = payload.get("data")
        if not isinstance(data, dict) or not data.get("access_token"):
            msg = "Finance token response lacks data.access_token; check base_url in the tap config."
            raise SourceConfigError(msg)
        return None

    def fetch() -> tuple[str, float | None, dict[str, t.Any]]:
        payload = endpoint.fetch(
            "POST",
            TOKEN_PATH,
            what="Finance token request",
            json_body={
                "client_id": config.get("client_id"),
                "client_secret": config.get("client_secret"),
            },
            errors=ERRORS,
            classify=check,
        )
        data = payload["data"]
        return str(data["access_token"]), token_lifetime(data.get("expires_in"), 3600), {}

    return TokenCache(fetch, name="finance access token")


class FinanceBearerAuthenticator(CachedTokenAuthenticator):
    """``Authorization: Bearer <current token>`` on every send."""

    def authenticate_request(
        self,
        request: requests.PreparedRequest,
    ) -> requests.PreparedRequest:
        self.auth_headers = {"Authorization": f"Bearer {self.token_cache.get().value}"}
        return super().authenticate_request(request)
