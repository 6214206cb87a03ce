"""tap-fxiaoke: Fenxiang Xiaoke (纷享销客 / ShareCRM) CRM objects as Singer streams."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from connectors._singer_common import HubTap, base_url_property, tuning_properties
from connectors.tap_fxiaoke.auth import VENDOR_FILE, make_token_cache
from connectors.tap_fxiaoke.streams import (
    DEFAULT_OBJECTS,
    GENERIC_SCHEMA,
    STREAM_TYPES,
    FxiaokeCustomObjectStream,
    FxiaokeStream,
)

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapFxiaoke(HubTap):
    """Fenxiang Xiaoke OpenAPI tap (object query with deep paging, incremental on
    ``last_modified_time``)."""

    name = "tap-fxiaoke"
    token_cache_factory = make_token_cache
    vendor_file = VENDOR_FILE

    config_jsonschema = th.PropertiesList(
        base_url_property("https://open.fxiaoke.com", "OpenAPI base URL."),
        th.Property("app_id", th.StringType, required=True, description="appId (FSAID_...)."),
        th.Property(
            "app_secret", th.StringType, required=True, secret=True, description="appSecret."
        ),
        th.Property(
            "permanent_code",
            th.StringType,
            required=True,
            secret=True,
            description="The enterprise's permanentCode.",
        ),
        th.Property(
            "current_open_user_id",
            th.StringType,
            required=True,
            description="currentOpenUserId (FSUID_...) of the API user.",
        ),
        th.Property(
            "start_date",
            th.StringType,
            description=(
                "ISO date or date-time: without a bookmark, read only records modified "
                "after it (not applied to PersonnelObj)."
            ),
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=100),
            default=100,
            description="Records per query (the API allows at most 100).",
        ),
        th.Property(
            "objects",
            th.ArrayType(th.StringType),
            description=(
                "Preset object api names to read, replacing the default list "
                f"{list(DEFAULT_OBJECTS)} (e.g. add LeadsObj)."
            ),
        ),
        th.Property(
            "custom_objects",
            th.ArrayType(th.StringType),
            description="Custom object api names (*__c), read via /cgi/crm/custom/v2/data/query.",
        ),
        th.Property(
            "bookmark_lag_seconds",
            th.IntegerType(minimum=0),
            default=300,
            description=(
                "The bookmark never passes sync start minus this lag, so changes made "
                "during a run (or under clock skew) are read again next run."
            ),
        ),
        *tuning_properties(),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        streams: list[Stream] = []
        seen: set[str] = set()
        for api_name in self.config.get("objects") or DEFAULT_OBJECTS:
            if api_name in seen:
                continue
            seen.add(api_name)
            stream_type = STREAM_TYPES.get(api_name)
            if stream_type is not None:
                streams.append(stream_type(tap=self))
            elif api_name.endswith("__c"):  # custom objects live on the custom endpoint
                streams.append(
                    FxiaokeCustomObjectStream(tap=self, name=api_name, schema=dict(GENERIC_SCHEMA))
                )
            else:
                streams.append(
                    FxiaokeStream(tap=self, name=api_name, schema=dict(GENERIC_SCHEMA))
                )
        for api_name in self.config.get("custom_objects") or []:
            if api_name in seen:
                continue
            seen.add(api_name)
            streams.append(
                FxiaokeCustomObjectStream(
                    tap=self, name=api_name, schema=dict(GENERIC_SCHEMA)
                )
            )
        return streams


if __name__ == "__main__":
    TapFxiaoke.cli()
