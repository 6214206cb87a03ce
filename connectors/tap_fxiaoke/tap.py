"""tap-fxiaoke: Fenxiang Xiaoke (纷享销客 / ShareCRM) CRM objects as Singer streams.

Objects, schemas, error codes, call budgets and the token call are data beside this file
(``streams.yaml``, ``schemas/``, ``vendor.yaml``; see docs/connectors-kit.md).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from singer_sdk import typing as th

from connectors.kit.catalogue import load_catalogue
from connectors.kit.schemas import (
    base_url_property,
    catalogue_property,
    tuning_properties,
)
from connectors.kit.tap import HubTap
from connectors.tap_fxiaoke.client import FxiaokeStream

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapFxiaoke(HubTap):
    """Fenxiang Xiaoke OpenAPI tap (object query with deep paging, incremental on
    ``last_modified_time``)."""

    name = "tap-fxiaoke"
    package_dir = Path(__file__).parent
    stream_kinds = {"query": FxiaokeStream}

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
                f"{load_catalogue(Path(__file__).with_name('streams.yaml')).default_names} (e.g. add LeadsObj)."
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
        catalogue_property(),
        *tuning_properties(),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        """The ``objects`` (default: the catalogue's), then the ``custom_objects``; an object the
        catalogue does not list is read with the generic schema (``*__c``: custom endpoint)."""
        catalogue = self.catalogue
        named = [(n, "custom_object" if n.endswith("__c") else "object")
                 for n in self.config.get("objects") or catalogue.default_names]
        named += [(n, "custom_object") for n in self.config.get("custom_objects") or []]
        chosen = dict(reversed(named))  # the first mention of a name wins
        return [self.stream_for(catalogue.entry(name, chosen[name])) for name in dict(named)]


if __name__ == "__main__":
    TapFxiaoke.cli()
