"""Finance API authentication.

``POST /api/v1/auth/token {"client_id","client_secret"}`` ->
``{"code":0,"data":{"access_token","expires_in"}}``; data calls send
``Authorization: Bearer <access_token>``.
"""

from __future__ import annotations

import typing as t

import requests

from connectors._singer_common import (
    CachedTokenAuthenticator,
    SourceConfigError,
    TokenCache,
    TokenEndpoint,
    scrub,
    token_lifetime,
)

TOKEN_PATH = "/api/v1/auth/token"
SECRET_KEYS = ("client_secret",)


def make_token_cache(config: t.Mapping[str, t.Any]) -> TokenCache:
    endpoint = TokenEndpoint(config, SECRET_KEYS)
    secrets = endpoint.secrets

    def refuse(code: t.Any, message: str) -> t.NoReturn:  # noqa: ANN401
        msg = (
            f"Finance API refused the token request (code {code}: {message}): "
            "check client_id and client_secret in the tap config."
        )
        raise SourceConfigError(msg)

    def classify(payload: dict[str, t.Any]) -> str | None:
        code = payload.get("code")
        data = payload.get("data")
        if code in (0, "0") and isinstance(data, dict) and data.get("access_token"):
            return None
        refuse(code, scrub(str(payload.get("message", "")), secrets))
        return None  # unreachable

    def on_http_error(response: requests.Response) -> None:
        if response.status_code in {400, 401, 403}:
            try:
                payload = response.json()
            except ValueError:
                payload = {}
            payload = payload if isinstance(payload, dict) else {}
            refuse(
                payload.get("code", f"HTTP {response.status_code}"),
                scrub(str(payload.get("message", response.reason)), secrets),
            )

    def fetch() -> tuple[str, float | None, dict[str, t.Any]]:
        payload = endpoint.fetch(
            "POST",
            TOKEN_PATH,
            what="Finance token request",
            json_body={
                "client_id": config.get("client_id"),
                "client_secret": config.get("client_secret"),
            },
            classify=classify,
            on_http_error=on_http_error,
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
