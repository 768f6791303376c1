"""The Share button under private posts: Telegram's chat picker with the story's query."""

from __future__ import annotations

from bot.i18n import Translator
from bot.outbox.compose import PostBuilder
from bot.outbox.queue import Delivery
from bot.telegram.markup import keyboard
from tests.e2e.support import make_catalog

TR = Translator.load(["en", "ru", "ka", "hy", "az"], "en")


def delivery(kind: str, lang: str = "en") -> Delivery:
    return Delivery(
        id=1,
        attempts=0,
        plain_text=False,
        chat_pk=1,
        address="5",
        thread_id=0,
        chat_kind=kind,
        chat_language=lang,
        article_id=42,
        title="Title",
        url="https://caucasus-wire.example/t/",
        summary="Summary.",
        regions=("georgia",),
    )


def test_private_posts_get_a_share_button_when_inline_mode_is_on() -> None:
    posts = PostBuilder(make_catalog([]), TR, sharing=lambda: True)
    markup = keyboard(posts.build(delivery("private", "ru")))
    assert markup is not None
    share = [b for row in markup.inline_keyboard for b in row if b.switch_inline_query_chosen_chat]
    assert [b.text for b in share] == ["Поделиться"]
    chosen = share[0].switch_inline_query_chosen_chat
    assert chosen is not None and chosen.query == "#42"
    assert chosen.allow_user_chats and chosen.allow_group_chats and chosen.allow_channel_chats
    assert markup.inline_keyboard[0][0].text == "Читать далее" or markup.inline_keyboard[0][0].url


def test_channels_and_bots_without_inline_mode_get_none() -> None:
    on = PostBuilder(make_catalog([]), TR, sharing=lambda: True)
    off = PostBuilder(make_catalog([]), TR)
    for message in (on.build(delivery("channel")), off.build(delivery("private"))):
        assert all(b.share_query is None for row in message.buttons for b in row)
