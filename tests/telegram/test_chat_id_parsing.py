"""One reading of a stored chat address: number or @username, and which ids are private."""

from __future__ import annotations

import pytest

from bot.chat_ids import chat_id_of, is_private_chat, numeric_chat_id


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42),
        ("-1002000000001", -1002000000001),
        ("-5", -5),
        ("@cw_georgia", None),
        ("", None),
        ("--5", None),
        ("4 2", None),
        ("12a", None),
    ],
)
def test_numeric_chat_id(text: str, number: int | None) -> None:
    assert numeric_chat_id(text) == number


def test_the_bot_api_gets_numbers_as_numbers_and_usernames_as_they_are() -> None:
    assert chat_id_of("-1002000000001") == -1002000000001
    assert chat_id_of("@cw_georgia") == "@cw_georgia"


@pytest.mark.parametrize(
    ("chat", "private"),
    [(6161, True), ("6161", True), (-5, False), ("-1002000000001", False), ("@cw", False)],
)
def test_only_positive_ids_are_private_chats(chat: int | str, private: bool) -> None:
    assert is_private_chat(chat) is private
