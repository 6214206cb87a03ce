"""JSON-schema helpers for loose, additive record schemas, the config knobs every hub tap
accepts, and small value helpers (dates, integers)."""

from __future__ import annotations

import datetime as _dt
import typing as t

from singer_sdk import typing as th

from connectors.kit.tokens import DEFAULT_REQUEST_TIMEOUT

# --------------------------------------------------------------------------- dates


def iso_to_epoch_ms(value: str) -> int:
    """``2026-01-01`` / ``2026-01-01T08:00:00+08:00`` -> epoch milliseconds (UTC if naive)."""
    text = value.strip().replace("Z", "+00:00")
    parsed = _dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.UTC)
    return int(parsed.timestamp() * 1000)


# --------------------------------------------------------------------------- schemas


def prop(
    *types: str,
    fmt: str | None = None,
    items: dict[str, t.Any] | None = None,
    properties: dict[str, t.Any] | None = None,
    description: str | None = None,
) -> dict[str, t.Any]:
    """One JSON-schema property; ``null`` is always allowed (sources omit/blank fields)."""
    type_list = list(types)
    if "null" not in type_list:
        type_list.append("null")
    result: dict[str, t.Any] = {"type": type_list}
    if fmt:
        result["format"] = fmt
    if items is not None:
        result["items"] = items
    if properties is not None:
        result["properties"] = properties
        result["additionalProperties"] = True
    if description:
        result["description"] = description
    return result


def loose_object(properties: dict[str, t.Any], description: str | None = None) -> dict:
    """A record schema that declares ``properties`` and allows any other field.

    ``additionalProperties: true`` is what makes tenant custom fields (``*__c``)
    and undocumented API fields survive; :class:`HubRESTStream` additionally turns
    singer-sdk's type conformance off so values are never rewritten.
    """
    schema: dict[str, t.Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": True,
    }
    if description:
        schema["description"] = description
    return schema


def base_url_property(
    default: str | None = None, description: str = "API base URL."
) -> th.Property:
    """The ``base_url`` setting (see :func:`config_base_url`); required without a default."""
    return th.Property(
        "base_url",
        th.StringType,
        required=default is None,
        default=default,
        description=description,
    )


def catalogue_property() -> th.Property:
    """The ``catalogue_file`` setting: a stream catalogue replacing the tap's shipped one."""
    return th.Property(
        "catalogue_file",
        th.StringType,
        description=(
            "A streams YAML replacing the shipped streams.yaml (same shape; add an endpoint "
            "that fits the catalogue's kinds without code). See docs/connectors-kit.md."
        ),
    )


def tuning_properties() -> list[th.Property]:
    """Config knobs every hub tap accepts (all optional; defaults from the vendor file)."""
    return [
        th.Property(
            "request_timeout",
            th.NumberType,
            default=DEFAULT_REQUEST_TIMEOUT,
            description="Seconds before an HTTP request times out.",
        ),
        th.Property(
            "lean_http",
            th.BooleanType,
            default=True,
            description=(
                "Single calls (e.g. one per U8 document) on a kept-alive http.client connection "
                "per thread instead of requests' adapter: same request, reply and errors, about "
                "half the tap CPU per call; off (false) or not applicable (a proxy, a client "
                "certificate) means requests' own path."
            ),
        ),
        th.Property(
            "state_interval_seconds",
            th.NumberType(minimum=0),
            default=1.0,
            description=(
                "Least seconds between two STATE checkpoints of a paged stream (one may follow each "
                "page or batch; 0: after every one). A killed sync resumes at the last one."
            ),
        ),
        th.Property(
            "retry_budget_seconds",
            th.NumberType(minimum=0),
            description=(
                "How long one call may keep retrying busy / rate-limit / 5xx answers "
                "(default: the vendor file's, 300 s). Retry-After is always honoured."
            ),
        ),
        th.Property(
            "max_tries",
            th.IntegerType(minimum=1),
            description="Optional cap on attempts per call (the time budget applies anyway).",
        ),
        th.Property(
            "backoff_factor",
            th.NumberType(minimum=0),
            description="Base of the exponential backoff in seconds (1, 2, 4, ...).",
        ),
        th.Property(
            "rate_limits",
            th.ArrayType(
                th.ObjectType(
                    th.Property("name", th.StringType),
                    th.Property("match", th.StringType, required=True),
                    th.Property("max_calls", th.IntegerType(minimum=1), required=True),
                    th.Property("window_seconds", th.NumberType, required=True),
                    th.Property("per_path", th.BooleanType),
                )
            ),
            description=(
                "Call budgets replacing the vendor's defaults: at most max_calls per "
                "window_seconds for paths containing match (per_path: per endpoint)."
            ),
        ),
        th.Property(
            "emit_unchanged",
            th.BooleanType,
            default=False,
            description=(
                "Emit every record of a full-table stream even when the hub's sync offers what it "
                "already holds (landed_fingerprints); without that offer every record is emitted anyway."
            ),
        ),
        th.Property(
            "landed_fingerprints",
            th.ObjectType(additional_properties=th.ObjectType(
                th.Property("schema", th.StringType), th.Property("prints", th.StringType))),
            description=(
                "Set by the hub's sync, not by hand: per full-table stream, the key and content hashes "
                "of the records the hub holds; records matching them are not emitted "
                "(docs/incremental-sync.md)."
            ),
        ),
    ]


def is_int_value(value: t.Any) -> bool:
    """True for real JSON integers (not bools, not floats, not numeric strings)."""
    return isinstance(value, int) and not isinstance(value, bool)
