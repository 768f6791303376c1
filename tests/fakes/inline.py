"""Inline mode for the fake Bot API: queries typed as ``@bot words``, ``answerInlineQuery``
checked as Telegram checks it, and a user picking a result (the message then appears in
the chat the user typed in, sent "via" the bot, with the result's buttons).

Kept apart from ``botapi.py``; ``FakeBotAPI`` mixes it in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tests.fakes.botapi import RecordedRequest, SentMessage

JSON = dict[str, Any]
MAX_RESULTS = 50
QUERY_TTL = 10.0  # seconds Telegram waits for an answer before the query expires
_RESULT_TYPES = frozenset({"article", "photo"})


@dataclass(slots=True)
class InlineAnswer:
    """What the bot answered to one inline query."""

    query_id: str
    results: list[JSON]
    cache_time: int | None
    is_personal: bool
    params: JSON = field(default_factory=dict)


class InlineMode:
    """Mixed into ``FakeBotAPI``; uses its update queue, chats and message records."""

    inline_answers: dict[str, InlineAnswer]
    chosen: list[SentMessage]
    _inline_queries: dict[str, tuple[JSON, float]]

    def _init_inline(self, enabled: bool) -> None:
        self.inline_answers = {}
        self.chosen = []
        self._inline_queries = {}
        self.bot_user["supports_inline_queries"] = enabled  # type: ignore[attr-defined]

    def push_inline_query(
        self,
        user_id: int,
        query: str,
        *,
        language_code: str | None = "en",
        chat_type: str | None = "sender",
        offset: str = "",
    ) -> str:
        """A user types ``@bot <query>`` in a chat; returns the inline query's id."""
        user = self._sender(user_id, language_code, None, None)  # type: ignore[attr-defined]
        query_id = str(next(self._ids) * 1000 + 11)  # type: ignore[attr-defined]
        raw: JSON = {"id": query_id, "from": user, "query": query, "offset": offset}
        if chat_type is not None:
            raw["chat_type"] = chat_type
        self._inline_queries[query_id] = (raw, time.monotonic())
        self.push_update({"inline_query": raw})  # type: ignore[attr-defined]
        return query_id

    async def _answer_inline_query(self, record: RecordedRequest) -> bool:
        from tests.fakes.botapi import _ApiError, _json_param

        params = record.params
        query_id = str(params.get("inline_query_id") or "")
        asked = self._inline_queries.pop(query_id, None)
        if asked is None or time.monotonic() - asked[1] > QUERY_TTL:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        results = _json_param(params, "results")
        if not isinstance(results, list):
            raise _ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > MAX_RESULTS:
            raise _ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            self._check_result(result, seen)
        if len(str(params.get("next_offset") or "").encode()) > 64:
            raise _ApiError(400, "Bad Request: NEXT_OFFSET_INVALID")
        cache = params.get("cache_time")
        self.inline_answers[query_id] = InlineAnswer(
            query_id,
            results,
            int(cache) if cache is not None else None,
            str(params.get("is_personal")).lower() == "true",
            params,
        )
        return True

    def _check_result(self, result: Any, seen: set[str]) -> None:
        from tests.fakes.botapi import (
            TELEGRAM_TEXT_LIMIT,
            _ApiError,
            _check_markup,
            _parse_text,
        )

        if not isinstance(result, dict) or result.get("type") not in _RESULT_TYPES:
            raise _ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
        result_id = str(result.get("id") or "")
        if not 1 <= len(result_id.encode()) <= 64:
            raise _ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if result_id in seen:
            raise _ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if result["type"] == "article" and not str(result.get("title") or "").strip():
            raise _ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
        for key in ("thumbnail_url", "photo_url"):
            url = result.get(key)
            if url is not None and urlsplit(str(url)).scheme not in ("http", "https"):
                raise _ApiError(400, "Bad Request: PHOTO_THUMB_URL_INVALID")
        content = result.get("input_message_content")
        if result["type"] == "article":
            if not isinstance(content, dict) or "message_text" not in content:
                raise _ApiError(400, "Bad Request: MESSAGE_EMPTY")
            _parse_text(
                str(content["message_text"]),
                content.get("parse_mode"),
                TELEGRAM_TEXT_LIMIT,
                "message",
            )
        _check_markup(result.get("reply_markup"))

    def choose_inline_result(self, query_id: str, result_id: str, chat_id: int) -> SentMessage:
        """The user picks result ``result_id`` of their answered query: Telegram posts its
        message in ``chat_id`` in the user's name, "via" the bot."""
        from tests.fakes.botapi import SentMessage, _parse_markup

        answer = self.inline_answers[query_id]
        result = next(r for r in answer.results if str(r["id"]) == result_id)
        content = result["input_message_content"]
        text = str(content["message_text"])
        mode = content.get("parse_mode")
        plain, entities = _parse_markup(text, mode)
        chat = self._chat(chat_id)  # type: ignore[attr-defined]
        sent = SentMessage(
            chat_id=int(chat["id"]),
            message_id=self._next_message_id(chat_id),  # type: ignore[attr-defined]
            text=text,
            parse_mode=str(mode) if mode else None,
            reply_markup=result.get("reply_markup"),
            method="inline",
            at=time.monotonic(),
            params={"via_bot": self.bot_user, "result_id": result_id},  # type: ignore[attr-defined]
            plain_text=plain,
            entities=entities,
        )
        self.chosen.append(sent)
        return sent
