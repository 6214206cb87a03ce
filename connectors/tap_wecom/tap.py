"""tap-wecom: WeCom reps, external contacts and archived messages as Singer streams.

Streams, schemas, error codes, call budgets and the token call are data beside this file
(``streams.yaml``, ``schemas/``, ``vendor.yaml``; see docs/connectors-kit.md).
"""

from __future__ import annotations

from pathlib import Path

from singer_sdk import typing as th

from connectors.kit.schemas import (
    base_url_property,
    catalogue_property,
    tuning_properties,
)
from connectors.kit.tap import HubTap
from connectors.tap_wecom.streams import STREAM_KINDS


class TapWecom(HubTap):
    """WeCom (企业微信) tap."""

    name = "tap-wecom"
    package_dir = Path(__file__).parent
    stream_kinds = STREAM_KINDS

    config_jsonschema = th.PropertiesList(
        base_url_property("https://qyapi.weixin.qq.com", "WeCom server API base URL."),
        th.Property("corpid", th.StringType, required=True, description="Corp id (ww...)."),
        th.Property(
            "corpsecret",
            th.StringType,
            required=True,
            secret=True,
            description="Secret of the app with customer-contact (and archive) access.",
        ),
        th.Property(
            "message_batch_size",
            th.IntegerType(minimum=1, maximum=1000),
            default=1000,
            description="Messages per archive pull (the SDK allows at most 1000).",
        ),
        catalogue_property(),
        *tuning_properties(),
    ).to_dict()


if __name__ == "__main__":
    TapWecom.cli()
