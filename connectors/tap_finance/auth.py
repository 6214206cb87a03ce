"""Finance API authentication.

``POST /api/v1/auth/token {"client_id","client_secret"}`` ->
``{"code":0,"data":{"access_token","expires_in"}}``; data calls send
``Authorization: Bearer <access_token>``.
"""

from __future__ import annotations

import typing as t

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from connectors._singer_common import SourceConfigError, TokenCache, fetch_json, scrub

TOKEN_PATH = "/api/v1/auth/token"
SECRET_KEYS = ("client_secret",)


def make_token_cache(config: t.Mapping[str, t.Any]) -> TokenCache:
    session = requests.Session()
    base_url = str(config.get("base_url") or "").rstrip("/")
    secrets = [config.get(k) for k in SECRET_KEYS]

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
        payload = fetch_json(
            session,
            "POST",
            base_url + TOKEN_PATH,
            what="Finance token request",
            json_body={
                "client_id": config.get("client_id"),
                "client_secret": config.get("client_secret"),
            },
            timeout=float(config.get("request_timeout") or 60),
            max_tries=int(config.get("max_tries") or 5),
            backoff_factor=float(
                1.0 if config.get("backoff_factor") is None else config["backoff_factor"]
            ),
            secrets=secrets,
            classify=classify,
            on_http_error=on_http_error,
        )
        data = payload["data"]
        try:
            lifetime = float(data.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        return str(data["access_token"]), lifetime, {}

    return TokenCache(fetch, name="finance access token")


class FinanceBearerAuthenticator(APIAuthenticatorBase):
    """``Authorization: Bearer <current token>`` on every send."""

    def __init__(self, token_cache: TokenCache) -> None:
        super().__init__()
        self.token_cache = token_cache

    def authenticate_request(
        self,
        request: requests.PreparedRequest,
    ) -> requests.PreparedRequest:
        self.auth_headers = {"Authorization": f"Bearer {self.token_cache.get().value}"}
        return super().authenticate_request(request)
