"""The Python tap-wecom needs beyond its catalogue (``streams.yaml``): three stream kinds.

- ``follow_users``: the reps of ``get_follow_user_list``, each detailed by ``user/get``;
- ``by_rep_chunks``: a catalogue stream asked once per chunk of reps (``userid_list``);
- ``archive``: the message archive, incremental on ``seq`` (a vendor SDK in production).
"""

from __future__ import annotations

import typing as t

from connectors.kit.catalogue import CatalogueStream
from connectors.kit.schemas import is_int_value
from connectors.tap_wecom.client import (
    MAX_ARCHIVE_LIMIT,
    HttpMessageArchiveClient,
    MessageArchiveClient,
    WecomAPIError,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

FOLLOW_USER_LIST_PATH = "/cgi-bin/externalcontact/get_follow_user_list"


class WecomStream(CatalogueStream):
    """A WeCom catalogue stream: stops raise :class:`WecomAPIError` (with the errcode)."""

    fatal_error_class = WecomAPIError


def follow_user_ids(stream: WecomStream) -> list[str]:
    """The reps with the customer-contact permission (cached for the tap run)."""
    tap = stream.hub_tap
    cached = getattr(tap, "follow_user_ids", None)
    if cached is None:
        payload = stream.call_api("GET", FOLLOW_USER_LIST_PATH)
        ids = payload.get("follow_user") if isinstance(payload, dict) else None
        cached = [str(u) for u in ids or [] if u not in (None, "")]
        tap.follow_user_ids = cached
    return list(cached)


class FollowUsersStream(WecomStream):
    """Reps who have external contacts; each record is the ``detail_path`` (``user/get``) reply
    without its ``errcode``/``errmsg`` envelope (``userid``, ``name``, ``mobile``, ...)."""

    detail_path: t.ClassVar[str] = "/cgi-bin/user/get"
    #: Detail errcodes after which the rep is still emitted (with its userid only).
    tolerated_errcodes: t.ClassVar[list[int]] = []

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        for userid in follow_user_ids(self):
            try:
                payload = self.call_api("GET", self.detail_path, params={"userid": userid}, context=context)
            except WecomAPIError as exc:
                if exc.errcode not in set(self.tolerated_errcodes):
                    raise
                self.logger.warning("user/get refused for %s (%s); emitting the userid only.", userid, exc)
                yield {"userid": userid}
                continue
            yield {k: v for k, v in payload.items() if k not in {"errcode", "errmsg"}}


class ByRepChunksStream(WecomStream):
    """A catalogue stream asked once per chunk of ``chunk_size`` reps (``userid_list`` in the
    body). Records are the items in their native shape ``{external_contact:{...},
    follow_info:{...}}`` plus top-level copies of their keys ``external_userid`` and ``userid``
    (a customer followed by two reps is two records)."""

    chunk_size: t.ClassVar[int] = 100

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._chunks: list[list[str]] = []

    def prepare_request_payload(self, context: Context | None, next_page_token: t.Any) -> dict | None:
        body = super().prepare_request_payload(context, next_page_token) or {}
        return {"userid_list": self._chunks[int((context or {}).get("chunk", 0))], **body}

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        ids = follow_user_ids(self)
        size = self.chunk_size
        self._chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
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


class ArchiveStream(WecomStream):
    """Archived chat messages, incremental on ``seq`` (strictly increasing).

    A run asks for messages after the bookmark ``seq`` in batches of up to 1000 and stops at a
    short batch; STATE follows every full batch, so an interrupted run resumes after the last
    committed ``seq``. The archive keeps only the last few days: run at least daily.
    """

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
                valid = [s for s in (m.get("seq") for m in batch if isinstance(m, dict)) if is_int_value(s)]
                if not valid or max(valid) <= seq:
                    self.logger.warning("messages: batch after seq %s carries no greater seq; stopping.", seq)
                    return
                seq = max(valid)
                if len(batch) < self.batch_size:
                    return
                # Reached once every message of the batch is written: commit point (STATE).
                self.checkpoint()
        finally:
            client.close()


STREAM_KINDS: dict[str, type] = {
    "follow_users": FollowUsersStream,
    "by_rep_chunks": ByRepChunksStream,
    "archive": ArchiveStream,
}
