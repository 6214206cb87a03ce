"""Token calls as data, and the one authenticator that puts the token on every data call.

A tap's ``vendor.yaml`` describes its token endpoint in a ``token`` section (no Python)::

    token:
      label: WeCom access_token            # for logs
      what: WeCom gettoken                 # names the call in messages
      method: GET
      path: /cgi-bin/gettoken
      query: {corpid: corpid, corpsecret: corpsecret}   # request field -> config key
      json: {}                                          # body field -> config key (POST)
      value: access_token                  # dotted path of the token in the reply
      expires_in: expires_in               # dotted path of its lifetime (seconds)
      default_lifetime: 7200               # when the reply has none (or a broken one)
      extras: {}                           # name -> dotted path, kept with the token
      missing: "WeCom gettoken reply lacks access_token; check base_url in the tap config."
      refused: ""                          # set: any refusal of the token call is a config error
      send: {query: access_token}          # or {header: Authorization, format: "Bearer {token}"}
                                           # or {body: {field: token | extras.X | config.Y}}

The call goes through the source's :class:`~connectors.kit.source.SourceKit` - the same pacer,
retry policy and error table as the data calls - so token and data calls cannot drift apart.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, field
from urllib.parse import unquote_plus, urlencode

from singer_sdk.authenticators import APIAuthenticatorBase

from connectors.kit.errors import ErrorTable, SourceConfigError, SourceKitError
from connectors.kit.tokens import TokenCache, TokenEndpoint, token_lifetime

if t.TYPE_CHECKING:
    import requests

    from connectors.kit.source import SourceKit

SEND_KINDS = ("header", "query", "body")


def dig(payload: t.Any, path: str) -> t.Any:
    """The value at dotted ``path`` (``data.access_token``) of a JSON reply; None when absent."""
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _str_map(where: str, value: t.Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        msg = f"{where} must be a mapping"
        raise SourceKitError(msg)
    return {str(k): str(v) for k, v in value.items()}


@dataclass(frozen=True)
class TokenSpec:
    """One source's token endpoint and how its data calls carry the token (module docstring)."""

    label: str
    what: str
    method: str
    path: str
    value: str
    missing: str
    query: dict[str, str] = field(default_factory=dict)
    json: dict[str, str] = field(default_factory=dict)
    expires_in: str | None = None
    default_lifetime: float = 7200.0
    extras: dict[str, str] = field(default_factory=dict)
    refused: str = ""
    send: dict[str, t.Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: t.Mapping[str, t.Any]) -> TokenSpec:
        """Read the ``token`` section of a ``vendor.yaml``; one clear line when it is malformed."""
        missing = [k for k in ("what", "method", "path", "value", "send") if not data.get(k)]
        if missing:
            msg = f"vendor file token section: missing {', '.join(missing)}"
            raise SourceKitError(msg)
        send = dict(data["send"])
        if len([k for k in SEND_KINDS if k in send]) != 1:
            msg = f"vendor file token.send: exactly one of {', '.join(SEND_KINDS)}"
            raise SourceKitError(msg)
        return cls(
            label=str(data.get("label") or data["what"]),
            what=str(data["what"]),
            method=str(data["method"]).upper(),
            path=str(data["path"]),
            value=str(data["value"]),
            missing=str(data.get("missing") or f"{data['what']}: the reply lacks {data['value']}."),
            query=_str_map("token.query", data.get("query")),
            json=_str_map("token.json", data.get("json")),
            expires_in=str(data["expires_in"]) if data.get("expires_in") else None,
            default_lifetime=float(data.get("default_lifetime") or 7200),
            extras=_str_map("token.extras", data.get("extras")),
            refused=str(data.get("refused") or ""),
            send=send,
        )


def make_token_cache(
    spec: TokenSpec,
    config: t.Mapping[str, t.Any],
    *,
    secret_keys: t.Iterable[str],
    errors: ErrorTable | None,
    kit: SourceKit | None = None,
) -> TokenCache:
    """A token cache whose fetch is ``spec``'s call, paced and retried by ``kit`` (when given)."""
    endpoint = TokenEndpoint(config, secret_keys, kit)
    required = [spec.value, *spec.extras.values()]

    def check(payload: dict[str, t.Any]) -> str | None:
        if any(dig(payload, path) in (None, "") for path in required):
            raise SourceConfigError(spec.missing)
        return None

    def fetch() -> tuple[str, float | None, dict[str, t.Any]]:
        try:
            payload = endpoint.fetch(
                spec.method,
                spec.path,
                what=spec.what,
                params={k: config.get(v) for k, v in spec.query.items()} or None,
                json_body={k: config.get(v) for k, v in spec.json.items()} or None,
                errors=errors,
                classify=check,
            )
        except SourceConfigError:
            raise
        except Exception as exc:
            if spec.refused and getattr(exc, "code", None) is not None:
                raise SourceConfigError(f"{exc}; {spec.refused}") from None
            raise
        lifetime = dig(payload, spec.expires_in) if spec.expires_in else None
        extras = {name: dig(payload, path) for name, path in spec.extras.items()}
        return str(dig(payload, spec.value)), token_lifetime(lifetime, spec.default_lifetime), extras

    return TokenCache(fetch, name=spec.label)


class TokenAuthenticator(APIAuthenticatorBase):
    """Puts the current token where ``send`` says, on every send (not once), so a request
    replayed after a token refresh carries the new token."""

    def __init__(
        self, token_cache: TokenCache, send: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any]
    ) -> None:
        super().__init__()
        self.token_cache = token_cache
        self.send = dict(send)
        self.tap_config = config

    def _value(self, ref: str) -> t.Any:
        """``token``, ``extras.<name>`` or ``config.<key>``."""
        token = self.token_cache.get()
        if ref == "token":
            return token.value
        kind, _, name = ref.partition(".")
        if kind == "extras":
            return token.extras.get(name)
        if kind == "config":
            return str(self.tap_config.get(name) or "")
        msg = f"token.send.body: unknown value {ref!r} (token, extras.<name> or config.<key>)"
        raise SourceKitError(msg)

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Write the token into the header, the query string or the JSON body."""
        if "header" in self.send:
            template = str(self.send.get("format") or "{token}")
            self.auth_headers = {str(self.send["header"]): template.format(token=self._value("token"))}
        elif "query" in self.send:
            self.auth_params = {str(self.send["query"]): self._value("token")}
            url = _with_query_param(request.url, self.auth_params)
            if url is not None:
                request.url = url
                return request
        else:
            return self._write_body(request)
        return super().authenticate_request(request)

    def _write_body(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body: dict[str, t.Any] = {}
        if request.body:
            loaded = json.loads(request.body)
            if isinstance(loaded, dict):
                body = loaded
        new_body = {str(k): self._value(str(v)) for k, v in dict(self.send["body"]).items()}
        new_body.update({k: v for k, v in body.items() if k not in new_body})
        request.prepare_body(data=None, files=None, json=new_body)
        return request


def _with_query_param(url: t.Any, params: dict[str, t.Any]) -> str | None:
    """``url`` with ``params`` appended to its query - what singer-sdk's ``_add_parameters``
    (split, ``parse_qs``, ``urlencode``, join: a visible share of a U8 tap's CPU, one call per
    document) makes of it whenever that is a plain append: no fragment, none of ``params``'s names
    already there (a request replayed with a new token), and no blank value (``parse_qs`` would
    drop it). Otherwise None: the caller takes singer-sdk's way."""
    if not isinstance(url, str) or "#" in url:
        return None
    base, _, query = url.partition("?")
    if query:
        for part in query.split("&"):
            name, eq, value = part.partition("=")
            if "%" in name or "+" in name:
                name = unquote_plus(name)
            if not eq or not value or name in params:
                return None
    return f"{url}&{urlencode(params)}" if query else f"{base}?{urlencode(params)}"
