"""Every handler, registered in one place and in a deliberate order."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeAllPrivateChats
from telegram.ext import Application, ExtBot

from handlers.basics import Basics
from handlers.buttons import Guard
from handlers.channel_connect import ChannelConnect
from handlers.channel_screens import ChannelScreens
from handlers.channels import Channels
from handlers.chat_members import ChatMembers
from handlers.donate import Donate
from handlers.follows import FollowSettings
from handlers.ids import ChatIds
from handlers.mostread import MostRead
from handlers.operator import Operator
from handlers.payments import Payments
from handlers.reader_screens import ReaderScreens
from handlers.reply_failures import ReplyFailures
from handlers.search import Search
from handlers.services import Services
from handlers.settings import SubscriberSettings
from handlers.stats import Stats
from handlers.timezones import TimeZonePicker
from handlers.topics import Topics

log = logging.getLogger(__name__)

# The update types the handlers below take (commands and messages, also edited; channel
# posts for /id; buttons; the bot's own membership; Stars checkout). Telegram sends only
# these, by webhook or long polling: chat_member, reactions and the like never arrive.
# Inline queries (``@bot words``) once inline mode is on in BotFather.
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "callback_query",
    "my_chat_member",
    "pre_checkout_query",
    "inline_query",
)
MENU = ("start", "help", "mostread", "search", "donate", "settings", "channels", "stop")
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def register(application: AnyApplication, services: Services) -> None:
    """Every capability's handlers, in the order Telegram's updates try them."""
    guard = Guard(services)  # one rate limiter for every configuration action
    readers = ReaderScreens(services.translator, services.catalog, guard)
    chats = ChannelScreens(services.translator, services.catalog, guard)
    basics = Basics(services, guard, readers)
    ids = ChatIds(services)
    for early in ids.early_handlers():  # group -1: a forward it leaves goes on to group 0
        application.add_handler(early, group=-1)
    for handler in [
        *basics.handlers(),
        *SubscriberSettings(services, guard, readers).handlers(),
        *FollowSettings(services, guard, readers).handlers(),
        *TimeZonePicker(services, guard, readers).handlers(),
        *ChannelConnect(services, guard, chats).handlers(),
        *Channels(services, guard, chats).handlers(),
        *Topics(services).handlers(),
        *ChatMembers(services).handlers(),
        *MostRead(services).handlers(),
        *Donate(services).handlers(),
        *Payments(services).handlers(),
        *Stats(services).handlers(),
        *Search(services).handlers(),
        *Operator(services).handlers(),
        *ids.handlers(),
    ]:
        application.add_handler(handler)
    for handler in basics.fallbacks():  # last in the same group: only when nothing else matched
        application.add_handler(handler)
    application.add_error_handler(ReplyFailures(services).on_error)


async def publish_menus(bot: ExtBot[Any], services: Services) -> None:
    """setMyCommands for every language (and the default), in private chats."""
    scope = BotCommandScopeAllPrivateChats()
    tr = services.translator
    for lang in [None, *tr.languages]:
        commands = [
            BotCommand(name, desc)
            for name, desc in tr.commands(lang or services.catalog.default_language)
            if name in MENU
        ]
        await bot.set_my_commands(commands, scope=scope, language_code=lang)
