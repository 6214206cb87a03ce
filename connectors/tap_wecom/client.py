"""WeCom's error class and the message-archive client.

Every WeCom reply is HTTP 200 with ``errcode`` (0 = ok), classified by the table in
``vendor.yaml`` (shared with gettoken); a code the table stops on becomes a
:class:`WecomAPIError`, which carries the errcode so callers can tolerate specific ones.

Message archive (会话内容存档): the real product is a vendor C SDK (``GetChatData`` +
``DecryptData``), not HTTP. :class:`MessageArchiveClient` is the small interface the
``messages`` stream uses - "give me up to ``limit`` decrypted messages after ``seq``" -
and :class:`HttpMessageArchiveClient` implements it over the simulator's HTTP rendering
(``POST /cgi-bin/msgaudit/get_chat_data?access_token=`` ``{"seq","limit"}`` ->
``{"errcode":0,"chatdata":[...]}``). A binding to the real SDK implements the same
interface and is plugged in by overriding ``MessagesStream.make_archive_client``.
"""

from __future__ import annotations

import abc
import typing as t

from connectors.kit.errors import SourceAPIError

MAX_ARCHIVE_LIMIT = 1000


class WecomAPIError(SourceAPIError):
    """A non-retriable WeCom errcode (``errcode``: the code as an int, when numeric)."""

    @property
    def errcode(self) -> int | None:
        """The errcode as an int, None when absent or not numeric."""
        try:
            return int(self.code) if self.code is not None else None
        except ValueError:
            return None


class MessageArchiveClient(abc.ABC):
    """Source of decrypted archive messages, pulled in ``seq`` order."""

    @abc.abstractmethod
    def get_chat_data(self, seq: int, limit: int) -> list[dict[str, t.Any]]:
        """Up to ``limit`` messages with a sequence number greater than ``seq``,
        ascending by ``seq``, each ``{msgid, seq, action, from, tolist, msgtime,
        msgtype, <msgtype payload>}``."""

    def close(self) -> None:  # noqa: B027 - an optional hook: most clients hold nothing to release
        """Release SDK resources (nothing to do over HTTP)."""


class HttpMessageArchiveClient(MessageArchiveClient):
    """The archive over HTTP (the simulator's rendering of the SDK's output)."""

    path = "/cgi-bin/msgaudit/get_chat_data"

    def __init__(self, call_api: t.Callable[..., t.Any]) -> None:
        self._call_api = call_api

    def get_chat_data(self, seq: int, limit: int) -> list[dict[str, t.Any]]:
        payload = self._call_api(
            "POST",
            self.path,
            json_body={"seq": seq, "limit": max(1, min(limit, MAX_ARCHIVE_LIMIT))},
        )
        chatdata = payload.get("chatdata") if isinstance(payload, dict) else None
        return chatdata if isinstance(chatdata, list) else []
