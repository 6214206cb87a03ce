"""WeCom streams: ``follow_users``, ``external_contacts``, ``messages``."""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import JSONPathPaginator

from connectors._singer_common import is_int_value, loose_object, prop
from connectors.tap_wecom.client import (
    MAX_ARCHIVE_LIMIT,
    HttpMessageArchiveClient,
    MessageArchiveClient,
    WecomAPIError,
    WecomStream,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

FOLLOW_USER_LIST_PATH = "/cgi-bin/externalcontact/get_follow_user_list"
USER_GET_PATH = "/cgi-bin/user/get"
BATCH_BY_USER_PATH = "/cgi-bin/externalcontact/batch/get_by_user"
MAX_USERIDS_PER_CALL = 100
#: user/get errcodes after which the rep is still emitted (with its userid only).
USER_GET_TOLERATED = frozenset({60111, 60011, 48002})

_STR = prop("string")
_STR_LIST = prop("array", items={"type": ["string", "null"]})


def follow_user_ids(stream: WecomStream) -> list[str]:
    """The reps with the customer-contact permission (cached for the tap run)."""
    tap = stream._tap
    cached = getattr(tap, "_follow_user_ids", None)
    if cached is None:
        payload = stream.call_api("GET", FOLLOW_USER_LIST_PATH)
        ids = payload.get("follow_user") if isinstance(payload, dict) else None
        cached = [str(u) for u in ids or [] if u not in (None, "")]
        tap._follow_user_ids = cached
    return list(cached)


class FollowUsersStream(WecomStream):
    """Reps who have external contacts; details from ``/cgi-bin/user/get``.

    Each record is the ``user/get`` reply without its ``errcode``/``errmsg`` envelope
    (``userid``, ``name``, ``mobile``, ...).
    """

    name = "follow_users"
    path = FOLLOW_USER_LIST_PATH
    primary_keys: t.ClassVar[list[str]] = ["userid"]
    replication_key = None
    schema = loose_object(
        {"userid": _STR, "name": _STR, "mobile": _STR}, "WeCom reps (follow users)"
    )

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        for userid in follow_user_ids(self):
            try:
                payload = self.call_api(
                    "GET", USER_GET_PATH, params={"userid": userid}, context=context
                )
            except WecomAPIError as exc:
                if exc.errcode not in USER_GET_TOLERATED:
                    raise
                self.logger.warning(
                    "user/get refused for %s (%s); emitting the userid only.", userid, exc
                )
                yield {"userid": userid}
                continue
            yield {k: v for k, v in payload.items() if k not in {"errcode", "errmsg"}}


class ExternalContactsStream(WecomStream):
    """Customers added by reps: ``batch/get_by_user`` over chunks of <= 100 reps.

    Each record is one ``external_contact_list`` item in its native shape
    ``{external_contact:{...}, follow_info:{...}}`` plus top-level ``external_userid``
    and ``userid`` copied from inside it (the key is the pair: a customer followed by
    two reps is two records).
    """

    name = "external_contacts"
    path = BATCH_BY_USER_PATH
    http_method = "POST"
    primary_keys: t.ClassVar[list[str]] = ["external_userid", "userid"]
    replication_key = None
    records_jsonpath = "$.external_contact_list[*]"
    schema = loose_object(
        {
            "external_userid": _STR,
            "userid": _STR,
            "external_contact": prop(
                "object",
                properties={
                    "external_userid": _STR,
                    "name": _STR,
                    "type": prop("integer"),
                    "corp_name": _STR,
                    "corp_full_name": _STR,
                    "position": _STR,
                },
            ),
            "follow_info": prop(
                "object",
                properties={
                    "userid": _STR,
                    "remark": _STR,
                    "description": _STR,
                    "createtime": prop("integer"),
                    "tag_id": _STR_LIST,
                    "remark_corp_name": _STR,
                    "remark_mobiles": _STR_LIST,
                    "add_way": prop("integer"),
                },
            ),
        },
        "WeCom external contacts (one per contact and rep)",
    )

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._chunks: list[list[str]] = []

    def get_new_paginator(self) -> JSONPathPaginator:  # type: ignore[override]
        return JSONPathPaginator("$.next_cursor")

    def prepare_request_payload(
        self,
        context: Context | None,
        next_page_token: str | None,
    ) -> dict[str, t.Any]:
        chunk = self._chunks[int((context or {}).get("chunk", 0))]
        return {"userid_list": chunk, "cursor": next_page_token or "", "limit": 100}

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        ids = follow_user_ids(self)
        self._chunks = [
            ids[i : i + MAX_USERIDS_PER_CALL] for i in range(0, len(ids), MAX_USERIDS_PER_CALL)
        ]
        for index in range(len(self._chunks)):
            for item in self.request_records({"chunk": index}):
                yield self.with_keys(item)

    @staticmethod
    def with_keys(item: dict[str, t.Any]) -> dict[str, t.Any]:
        """Native item + top-level copies of its two key fields."""
        contact = item.get("external_contact")
        follow = item.get("follow_info")
        external_userid = contact.get("external_userid") if isinstance(contact, dict) else None
        userid = follow.get("userid") if isinstance(follow, dict) else None
        return {"external_userid": external_userid, "userid": userid, **item}


class MessagesStream(WecomStream):
    """Archived chat messages, incremental on ``seq`` (strictly increasing).

    A run asks for messages after the bookmark ``seq`` in batches of up to 1000 and
    stops at a short batch; STATE follows every full batch, so an interrupted run resumes
    after the last committed ``seq``. The archive keeps only the last few days: run at
    least daily.
    """

    name = "messages"
    path = HttpMessageArchiveClient.path
    primary_keys: t.ClassVar[list[str]] = ["msgid"]
    replication_key = "seq"
    is_sorted = True
    schema = loose_object(
        {
            "msgid": _STR,
            "seq": prop("integer"),
            "action": _STR,
            "from": _STR,
            "tolist": _STR_LIST,
            "roomid": _STR,
            "msgtime": prop("integer"),
            "msgtype": _STR,
            "text": prop("object", properties={"content": _STR}),
        },
        "WeCom archived messages (decrypted)",
    )

    def make_archive_client(self) -> MessageArchiveClient:
        """Override to plug in a binding of the real message-archive SDK."""
        return HttpMessageArchiveClient(self.call_api)

    def is_valid_bookmark_value(self, value: t.Any) -> bool:
        return is_int_value(value)

    @property
    def batch_size(self) -> int:
        size = int(self.config.get("message_batch_size") or MAX_ARCHIVE_LIMIT)
        return max(1, min(size, MAX_ARCHIVE_LIMIT))

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        start = self.get_starting_replication_key_value(context)
        seq = int(start) if is_int_value(start) else 0
        client = self.make_archive_client()
        try:
            while True:
                batch = client.get_chat_data(seq, self.batch_size)
                if not batch:
                    return
                yield from batch
                seqs = [m.get("seq") for m in batch if isinstance(m, dict)]
                valid = [s for s in seqs if is_int_value(s)]
                if not valid or max(valid) <= seq:
                    self.logger.warning(
                        "messages: batch after seq %s carries no greater seq; stopping.", seq
                    )
                    return
                seq = max(valid)
                if len(batch) < self.batch_size:
                    return
                # Reached once every message of the batch is written: commit point (STATE).
                self.write_checkpoint()
        finally:
            client.close()
