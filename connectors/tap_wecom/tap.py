"""tap-wecom: WeCom reps, external contacts and archived messages as Singer streams."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from connectors._singer_common import HubTap, base_url_property, tuning_properties
from connectors.tap_wecom.auth import VENDOR_FILE, make_token_cache
from connectors.tap_wecom.streams import (
    ExternalContactsStream,
    FollowUsersStream,
    MessagesStream,
)

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapWecom(HubTap):
    """WeCom (企业微信) tap."""

    name = "tap-wecom"
    token_cache_factory = make_token_cache
    vendor_file = VENDOR_FILE

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
        *tuning_properties(),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        return [
            FollowUsersStream(tap=self),
            ExternalContactsStream(tap=self),
            MessagesStream(tap=self),
        ]


if __name__ == "__main__":
    TapWecom.cli()
