"""Fenxiang Xiaoke authentication: corpAccessToken cache + request-body authenticator.

Token: ``POST /cgi/corpAccessToken/get/V2`` ``{"appId","appSecret","permanentCode"}`` ->
``{"errorCode":0,"corpAccessToken","corpId","expiresIn"}`` (seconds). The token endpoint
allows only ~10 calls a minute, so one :class:`TokenCache` is shared by every stream of
a tap run, the token is renewed shortly before it expires, and the call goes through the
tap's pacer. Its errorCodes are read from the same table as data calls (``vendor.yaml``).

Unlike most APIs the credentials travel in the JSON *body* of every call
(``corpAccessToken``, ``corpId``, ``currentOpenUserId``); :class:`FxiaokeAuthenticator`
writes them into the prepared request each time it is sent, so a replay after a token
refresh carries the new token.
"""

from __future__ import annotations

import json
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

TOKEN_PATH = "/cgi/corpAccessToken/get/V2"
VENDOR_FILE = Path(__file__).with_name("vendor.yaml")
ERRORS = error_table(VENDOR_FILE)
SECRET_KEYS = ("app_secret", "permanent_code")


def make_token_cache(config: t.Mapping[str, t.Any], kit: SourceKit | None = None) -> TokenCache:
    """A token cache bound to the tap config (and the tap's kit: pacer, retry, errors)."""
    endpoint = TokenEndpoint(config, SECRET_KEYS, kit)

    def check(payload: dict[str, t.Any]) -> str | None:
        if not payload.get("corpAccessToken") or not payload.get("corpId"):
            msg = "CRM token response lacks corpAccessToken/corpId; check the base_url in the tap config."
            raise SourceConfigError(msg)
        return None

    def fetch() -> tuple[str, float | None, dict[str, t.Any]]:
        payload = endpoint.fetch(
            "POST",
            TOKEN_PATH,
            what="CRM token request",
            json_body={
                "appId": config.get("app_id"),
                "appSecret": config.get("app_secret"),
                "permanentCode": config.get("permanent_code"),
            },
            errors=ERRORS,
            classify=check,
        )
        lifetime = token_lifetime(payload.get("expiresIn"), 7200)
        return str(payload["corpAccessToken"]), lifetime, {"corpId": payload["corpId"]}

    return TokenCache(fetch, name="CRM corpAccessToken")


class FxiaokeAuthenticator(CachedTokenAuthenticator):
    """Write ``corpAccessToken`` / ``corpId`` / ``currentOpenUserId`` into the JSON body."""

    def __init__(self, token_cache: TokenCache, current_open_user_id: str) -> None:
        super().__init__(token_cache)
        self.current_open_user_id = current_open_user_id

    def authenticate_request(
        self,
        request: requests.PreparedRequest,
    ) -> requests.PreparedRequest:
        token = self.token_cache.get()
        body: dict[str, t.Any] = {}
        if request.body:
            loaded = json.loads(request.body)
            if isinstance(loaded, dict):
                body = loaded
        new_body = {
            "corpAccessToken": token.value,
            "corpId": token.extras["corpId"],
            "currentOpenUserId": self.current_open_user_id,
        }
        new_body.update({k: v for k, v in body.items() if k not in new_body})
        request.prepare_body(data=None, files=None, json=new_body)
        return request
