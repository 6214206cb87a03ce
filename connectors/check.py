"""Check that a source can be reached with its credentials, and describe what it offers.

``check_source`` makes one real call: for the built-in connectors the token call (the first
thing every sync does, and what fails for a wrong URL, port or secret), with a single attempt
and a short timeout so IT gets an answer in seconds; for any other Singer tap ``--discover``
(most taps connect while discovering). ``describe_streams`` lists a catalog's streams with
their keys and replication keys.
"""

from __future__ import annotations

import importlib
import socket
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.failures import address_of, explain
from connectors.singer_runner import TapError, TapProcess, redact, secret_values
from connectors.sources import BUILTIN_TAP_CLASSES, SourceConfig

CHECK_TIMEOUT_S = 10
PREFLIGHT_TIMEOUT_S = 5


def unreachable(base_url: str | None, timeout_s: float = PREFLIGHT_TIMEOUT_S) -> str | None:
    """Why a TCP connection to ``base_url``'s host and port fails (an error text for
    connectors/failures.yaml), or None when it connects or cannot be judged (no URL, or a proxy
    is configured for it). Costs no API call, so no rate-limit budget: syncs run it first to
    fail in seconds on a wrong host or port instead of retrying inside the tap."""
    if not base_url:
        return None
    try:
        parts = urlsplit(str(base_url))
        host, port = parts.hostname, parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if not host or not port:
        return None
    proxies = urllib.request.getproxies()
    if proxies.get(parts.scheme) and not urllib.request.proxy_bypass(host):
        return None
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except ConnectionRefusedError:
        return f"ConnectionError: [Errno 111] Connection refused ({host}:{port})"
    except socket.gaierror as exc:
        return f"NameResolutionError: Name or service not known ({host}: {exc.strerror})"
    except TimeoutError:
        return f"ConnectTimeout: connecting to {host}:{port} timed out after {timeout_s:.0f} s"
    except OSError as exc:
        return f"ConnectionError: {exc.strerror or exc} ({host}:{port})"


@dataclass
class CheckResult:
    """The outcome of one check: ok, how long it took, and else the one-line reason."""

    source: str
    ok: bool
    seconds: float
    message: str
    kind: str | None = None


def _token_call(connector: str, config: dict) -> None:
    module, _, name = BUILTIN_TAP_CLASSES[connector].partition(":")
    tap_class = getattr(importlib.import_module(module), name)
    quick = {"max_tries": 1, "request_timeout": CHECK_TIMEOUT_S, **config}
    tap_class.token_cache_factory(quick).get()


def check_source(source: SourceConfig) -> CheckResult:
    """One real connection (token) call for ``source``; never raises."""
    begun = time.monotonic()
    secrets = secret_values(source.config)
    try:
        if source.config_error:
            raise TapError(source.config_error)
        if source.connector:
            _token_call(source.connector, source.config)
            what = "token call OK"
        elif source.kind == "airbyte":  # a plugin or manifest: the source's own `check`
            from connectors.airbyte_runner import source_process

            source_process(source, CHECK_TIMEOUT_S * 6).check()
            what = "Airbyte check OK"
        else:
            TapProcess(source.tap_command(), source.config, timeout_s=CHECK_TIMEOUT_S * 6).discover()
            what = "--discover OK"
    except Exception as exc:
        raw = str(exc) if isinstance(exc, TapError) else redact(f"{type(exc).__name__}: {exc}", secrets)
        explanation = explain(source.name, source.connector, address_of(source.connector, source.config), raw)
        return CheckResult(source.name, False, time.monotonic() - begun, explanation.message, explanation.kind)
    return CheckResult(source.name, True, time.monotonic() - begun, what)


@dataclass
class StreamInfo:
    """What a catalog says about one stream."""

    name: str
    key_properties: list[str]
    replication_method: str
    replication_keys: list[str]
    selected_by_default: bool


def describe_streams(catalog: dict) -> list[StreamInfo]:
    """The streams of a Singer catalog with keys and replication keys (entry fields first,
    then the top-level metadata singer-sdk writes)."""
    found = []
    for entry in catalog.get("streams", []):
        top = next((m.get("metadata", {}) for m in entry.get("metadata", []) if not m.get("breadcrumb")), {})
        keys = entry.get("key_properties") or top.get("table-key-properties") or []
        rep_key = entry.get("replication_key")
        rep_keys = [rep_key] if rep_key else list(top.get("valid-replication-keys") or [])
        method = (entry.get("replication_method") or top.get("forced-replication-method")
                  or ("INCREMENTAL" if rep_keys else "FULL_TABLE"))
        found.append(StreamInfo(entry.get("tap_stream_id") or entry.get("stream"), list(keys), method, rep_keys,
                                bool(top.get("selected-by-default", True))))
    return found
