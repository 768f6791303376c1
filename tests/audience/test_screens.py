"""Screens are pure functions of what is stored: built here from rows in memory, with no
bot, no database and no Telegram, and read back through the callback data they carry."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup

from bot.callbacks import CallbackSigner
from bot.catalog import Catalog, load_catalog
from bot.i18n import Translator
from bot.storage.follows import Follows
from bot.storage.models import ChatRow
from handlers.buttons import Buttons, action_pattern
from handlers.channel_screens import CATALOG_ACTIONS, ChannelScreens
from handlers.reader_screens import ReaderScreens, ReaderView

CATALOG = Path(__file__).resolve().parents[2] / "catalog.example.toml"
USER, CHAT = 1001, 1001
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


@pytest.fixture(scope="module")
def signer() -> CallbackSigner:
    return CallbackSigner(b"test key for the screens")


@pytest.fixture(scope="module")
def readers(catalog: Catalog, signer: CallbackSigner) -> ReaderScreens:
    translator = Translator.load(catalog.languages, catalog.default_language)
    return ReaderScreens(translator, catalog, Buttons(signer))


@pytest.fixture(scope="module")
def chats(catalog: Catalog, signer: CallbackSigner) -> ChannelScreens:
    translator = Translator.load(catalog.languages, catalog.default_language)
    return ChannelScreens(translator, catalog, Buttons(signer))


def reader(**changes: object) -> ChatRow:
    row = ChatRow(
        id=7,
        address=str(CHAT),
        thread_id=0,
        kind="private",
        title="Reader",
        language="en",
        origin="user",
        active=True,
        paused=False,
        mode="instant",
        timezone="UTC",
        digest_minute=480,
        quiet_start=None,
        quiet_end=None,
        digest_when_empty=False,
        hide_appeals=False,
        weekly_mostread=False,
        breaking_alerts=True,
        silent_at_night=False,
        link_preview="auto",
        created_at=NOW,
        updated_at=NOW,
    )
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def actions(markup: InlineKeyboardMarkup | None, signer: CallbackSigner) -> list[str]:
    """Each button's action with its arguments, as the user it was shown to taps it."""
    assert markup is not None
    out = []
    for row in markup.inline_keyboard:
        for button in row:
            action = signer.verify(str(button.callback_data), USER, CHAT)
            assert action is not None, button.text
            out.append(".".join([action.name, *action.args]))
    return out


def test_the_menu_says_what_is_stored_and_every_button_is_signed_for_the_reader(
    readers: ReaderScreens, signer: CallbackSigner
) -> None:
    row = reader(mode="digest", digest_minute=18 * 60, quiet_start=0, quiet_end=6 * 60)
    view = ReaderView(row, "en", USER, CHAT, ["georgia"], Follows())
    text, markup = readers.render("m", view)
    assert "Georgia" in text
    quiet = (readers.clock_time("en", 0), readers.clock_time("en", 6 * 60))
    assert all(at in text for at in quiet)  # quiet hours from midnight to six
    shown = actions(markup, signer)
    assert shown[:2] == ["sO.r", "sO.l"]
    assert {"fO", "sO.z", "sW.on", "sB.off", "sD"} <= set(shown)
    assert markup is not None
    foreign = markup.inline_keyboard[0][0].callback_data
    assert signer.verify(str(foreign), USER + 1, CHAT) is None  # nobody else's to tap


def test_the_closing_summary_has_no_buttons_and_an_unknown_screen_is_the_menu(
    readers: ReaderScreens,
) -> None:
    view = ReaderView(reader(), "en", USER, CHAT, ["armenia"], Follows())
    text, markup = readers.render("done", view)
    assert markup is None and "Armenia" in text
    assert readers.render("nonsense", view) == readers.render("m", view)


def test_a_zone_picked_elsewhere_comes_first_checked_and_the_greeting_before_any_contact(
    readers: ReaderScreens, signer: CallbackSigner
) -> None:
    view = ReaderView(reader(timezone="America/Lima"), "en", USER, CHAT)
    _, markup = readers.render("z", view)
    assert markup is not None
    assert markup.inline_keyboard[0][0].text.startswith("✅")
    assert "zC.0" in actions(markup, signer)
    text, markup = readers.render("s", ReaderView(None, "ru", USER, CHAT))
    assert text == readers.greeting("ru")  # no chat yet: the greeting, in Telegram's language
    assert actions(markup, signer)[-1] == "sO.g"


def test_the_delivery_screen_offers_the_empty_digest_only_to_digest_readers(
    readers: ReaderScreens, signer: CallbackSigner
) -> None:
    instant = actions(readers.render("d", ReaderView(reader(), "en", USER, CHAT))[1], signer)
    digest_row = reader(mode="digest", digest_when_empty=True)
    digest = actions(readers.render("d", ReaderView(digest_row, "en", USER, CHAT))[1], signer)
    assert not any(a.startswith("sN") for a in instant)
    assert "sN.off" in digest  # the button names the state it sets


def channel(**changes: object) -> ChatRow:
    return reader(**{"id": 42, "address": "-100123", "kind": "channel", "title": "Wire", **changes})


def test_a_catalog_channel_card_leaves_out_what_the_catalog_sets(
    chats: ChannelScreens, signer: CallbackSigner
) -> None:
    own = actions(chats.details(channel(), ["georgia"], "en", USER, CHAT)[1], signer)
    managed_text, managed_markup = chats.details(
        channel(origin="catalog"), ["georgia"], "en", USER, CHAT
    )
    managed = actions(managed_markup, signer)
    names = {a.split(".")[0] for a in managed}
    assert {"cE", "cX", "cN", "cV"} <= {a.split(".")[0] for a in own}
    assert not names & CATALOG_ACTIONS
    assert {"cP", "cW", "cB"} <= names
    assert "Wire" in managed_text


def test_a_card_shown_in_the_group_itself_has_no_way_back_to_a_list(
    chats: ChannelScreens, signer: CallbackSigner
) -> None:
    _, markup = chats.details(channel(), [], "en", USER, -100123)
    data = [str(b.callback_data) for row in markup.inline_keyboard for b in row]
    assert data and not any(d.startswith("cB") for d in data)


def test_an_action_pattern_takes_its_own_action_only() -> None:
    pattern = re.compile(action_pattern("sO"))
    assert pattern.match("sO.m~k2~AAAAAAAAAAA")
    assert pattern.match("sO~k2~AAAAAAAAAAA")
    assert not pattern.match("sOx.m~k2~AAAAAAAAAAA")
    assert not pattern.match("xsO.m~k2~AAAAAAAAAAA")
