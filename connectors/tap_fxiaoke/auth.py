"""Fenxiang Xiaoke authentication: corpAccessToken cache + request-body authenticator.

Token: ``POST /cgi/corpAccessToken/get/V2`` ``{"appId","appSecret","permanentCode"}`` ->
``{"errorCode":0,"corpAccessToken","corpId","expiresIn"}`` (seconds). The token endpoint
allows only ~10 calls a minute, so one :class:`TokenCache` is shared by every stream of
a tap run and the token is renewed shortly before it expires.

Unlike most APIs the credentials travel in the JSON *body* of every call
(``corpAccessToken``, ``corpId``, ``currentOpenUserId``); :class:`FxiaokeAuthenticator`
writes them into the prepared request each time it is sent, so a replay after a token
refresh carries the new token.
"""

from __future__ import annotations

import json
import typing as t

import requests

from connectors._singer_common import (
    CachedTokenAuthenticator,
    SourceConfigError,
    SourceQuotaError,
    TokenCache,
    TokenEndpoint,
    int_code,
    scrub,
    token_lifetime,
)

TOKEN_PATH = "/cgi/corpAccessToken/get/V2"

# errorCode table (source-systems.md section 1). Never branch on errorMessage text.
OK = 0
TOKEN_INVALID = 20016  # token missing / expired: refresh once and retry
NO_AUTH = 20017  # no authorization / wrong corpId
RETRY_CODES = frozenset({30004, 14001, -1, 50009})  # per-second limit, call limit, busy, timeout
QUOTA_CODES = frozenset({30002, 30003})  # daily quota used up / none bought
BAD_APP_SECRET = 10006

SECRET_KEYS = ("app_secret", "permanent_code")


def error_code(payload: t.Any) -> int | None:  # noqa: ANN401
    """``errorCode`` as an int (tolerates numeric strings); None when absent/odd."""
    return int_code(payload, "errorCode")


def make_token_cache(config: t.Mapping[str, t.Any]) -> TokenCache:
    """A token cache bound to the tap config."""
    endpoint = TokenEndpoint(config, SECRET_KEYS)
    secrets = endpoint.secrets

    def classify(payload: dict[str, t.Any]) -> str | None:
        code = error_code(payload)
        message = scrub(str(payload.get("errorMessage", "")), secrets)
        if code == OK:
            if not payload.get("corpAccessToken") or not payload.get("corpId"):
                msg = "CRM token response lacks corpAccessToken/corpId."
                raise SourceConfigError(msg)
            return None
        if code in RETRY_CODES:
            return f"errorCode {code} ({message})"
        if code in QUOTA_CODES:
            msg = f"CRM API quota exhausted (errorCode {code}: {message}); stopping."
            raise SourceQuotaError(msg)
        if code == BAD_APP_SECRET:
            msg = (
                "CRM rejected the app credentials (errorCode 10006, bad appSecret): "
                "check app_id, app_secret and permanent_code in the tap config."
            )
            raise SourceConfigError(msg)
        msg = (
            f"CRM token request refused (errorCode {code}: {message}): check app_id, "
            "app_secret and permanent_code in the tap config."
        )
        raise SourceConfigError(msg)

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
            classify=classify,
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
