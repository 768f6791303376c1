"""Every conversation of docs/flows.md, walked through against the fake Bot API.

Each step names what the user does (a heading and a few lines that say why); what the
bot answers is recorded, never written here. The same walk runs in English and Russian.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import time, timedelta
from pathlib import Path

from bot.app import Parts
from scheduler.digest import DigestJob
from tests.audience.support import bot_running
from tests.e2e.support import GEORGIA_CHANNEL, declare_channels
from tests.fakes.botapi import FakeBotAPI
from tests.flows import world
from tests.flows.recorder import Recorder

READER, SECOND, ADMIN, OPERATOR = 7001, 7002, 9001, 9501
CHANNEL = -1002000000001
GROUP = -1003000000001
TOPIC = 42
PICKED = -100777  # a chat where a reader sends a story found inline


@contextlib.asynccontextmanager
async def running(directory: Path) -> AsyncIterator[tuple[FakeBotAPI, Parts, world.StillClock]]:
    clock = world.StillClock(world.START)
    database = f"sqlite+aiosqlite:///{directory / 'flows.db'}"
    async with FakeBotAPI(inline=True) as api:
        declare_channels(api)  # the catalog's own channels exist at Telegram
        async with bot_running(
            api, database, clock, world.catalog(), admin_ids=str(OPERATOR)
        ) as parts:
            yield api, parts, clock


async def walk(lang: str, directory: Path) -> Recorder:
    """The whole walk in ``lang``; returns the recorded steps."""
    async with running(directory) as (api, parts, clock):
        r = Recorder(api, parts, lang)
        for part in (reader, settings, digest, follows, revenue, search, admins, groups, operators):
            await part(r, clock)
        return r


def word(r: Recorder) -> Callable[[str], str]:
    return lambda key: r.parts.translator.plain(r.lang, key)


async def reader(r: Recorder, clock: world.StillClock) -> None:
    t = word(r)
    r.section("Readers (private chat)")
    r.step("/start")
    await r.say(READER, "/start")
    await r.capture()
    r.note(
        "Tapping a language redraws the greeting in that language and makes it the edition "
        "language (articles in that language are the ones the reader gets)."
    )
    r.step(
        "tap Choose regions, then Done with none chosen",
        "Done with no region chosen changes nothing; Telegram shows the reader a notice.",
    )
    await r.tap(READER, t("start.choose_regions_button"))
    await r.tap(READER, t("settings.done_button"))
    await r.capture()
    r.step(
        "tap Georgia, then Done",
        "Each tap switches one region on or off at once; only the keyboard is redrawn "
        "(`editMessageReplyMarkup`).",
    )
    await r.tap(READER, r.parts.services.catalog.region_name("georgia", r.lang))
    await r.capture()
    await r.tap(READER, t("settings.done_button"))
    await r.capture()
    r.note(
        "New readers get instant delivery and quiet hours from 23:00 to 08:00 in the time "
        "zone of the first region they chose (here Asia/Tbilisi)."
    )
    r.step(
        "the next article for Georgia",
        "**Share** (only when the bot has inline mode, BotFather's `/setinline`) opens "
        "Telegram's chat picker for that story.",
    )
    await world.publish(r.parts, "metro", r.lang, clock.now())
    await r.capture()
    r.step(
        "One tap from the website",
        "`https://t.me/<bot>?start=georgia-economy` subscribes to Georgia and the topic "
        "Economy in the reader's language; `?start=<region>-<lang>` to that edition. A link "
        "to another language adds it, with a button to undo.",
    )
    await r.say(SECOND, "/start georgia-economy")
    await r.capture()
    other = "ru" if r.lang == "en" else "en"
    await r.say(SECOND, f"/start georgia-{other}")
    await r.capture()
    r.step("a link that names nothing known")
    await r.say(SECOND, "/start nowhere-xx")
    await r.capture()
    r.step("/stop", 'The settings are kept: `/start` later says "Welcome back!".')
    await r.say(SECOND, "/stop")
    await r.capture()


async def settings(r: Recorder, clock: world.StillClock) -> None:
    t = word(r)
    r.step("/settings")
    await r.say(READER, "/settings")
    await r.capture()
    r.step("Language", "The first language is the reader's own; **Also** adds other editions.")
    await r.tap(READER, t("settings.language_button"))
    await r.capture()
    await r.tap(READER, t("settings.back_button"))
    r.skip()
    r.step("Quiet hours", "Picking a start hour asks for the end hour.")
    await r.tap(READER, t("settings.quiet_button"))
    await r.capture()
    await r.tap(READER, t("settings.back_button"))
    r.skip()
    r.step(
        "Time zone → Another time zone… → Berlin",
        "Any country (names in the reader's language, twenty a page), then its zones; or a "
        "city or UTC offset sent as the answer.",
    )
    await r.tap(READER, t("settings.timezone_button"))
    await r.capture()
    await r.tap(READER, t("timezone.other_button"))
    await r.capture()
    await r.say(READER, "Berlin")
    await r.capture()
    r.skip()


async def digest(r: Recorder, clock: world.StillClock) -> None:
    t = word(r)
    r.step("Delivery → Once a day (digest), at 18:00")
    await r.say(READER, "/settings")
    r.skip()
    await r.tap(READER, t("settings.delivery_button"))
    await r.capture()
    await r.tap(READER, t("settings.mode_digest_button"))
    await r.capture()
    await r.tap(READER, r.parts.translator.format_time(r.lang, time(18, 0)))
    await r.capture()
    r.step(
        "the digest",
        "At the digest time in the reader's time zone one digest arrives, listing the "
        "day's articles in their languages and regions (each story once), grouped by region, "
        "leaving out what they already received. A day without news sends no digest unless "
        "the reader asks for one (**Also on days without news** under Delivery).",
    )
    clock.at(world.START + timedelta(hours=1))
    await world.publish(r.parts, "port", r.lang, clock.now(), ("economy",))
    await world.publish(r.parts, "airport", r.lang, clock.now())
    clock.at(world.START + timedelta(hours=9))  # 20:00 in Berlin
    job = DigestJob(r.parts.services.catalog, r.parts.translator, r.parts.sessions, clock)
    await job.run()
    await r.capture()


async def follows(r: Recorder, clock: world.StillClock) -> None:
    t = word(r)
    r.step(
        "Topics and keywords",
        "A reader who chose topics or keywords gets only the stories of their regions that "
        "have one of those topics or hold one of the keywords (up to 10; capitals and marks "
        "do not matter).",
    )
    await r.say(READER, "/settings")
    r.skip()
    await r.tap(READER, t("settings.follow_button"))
    await r.capture()
    await r.tap(READER, r.parts.services.catalog.topic_name("economy", r.lang))
    await r.tap(READER, t("follow.add_keyword_button"))
    await r.capture()
    await r.answer(READER, "Karabakh")
    await r.capture()


async def revenue(r: Recorder, clock: world.StillClock) -> None:
    r.step("/mostread")
    await r.say(READER, "/mostread")
    await r.capture()
    r.step(
        "/donate, then ⭐ 250 Stars",
        "Stars are paid inside Telegram; the bot thanks the donor and tells them if the "
        "donation is ever refunded.",
    )
    await r.say(READER, "/donate")
    await r.capture()
    await r.tap(READER, r.parts.translator.plain(r.lang, "donate.stars_button", n=250))
    await r.capture()
    payload = str(r.api.calls("sendInvoice")[-1].params["payload"])
    r.api.push_pre_checkout_query(READER, 250, payload, language_code=r.lang)
    await r.settle()
    clock.at(world.START + timedelta(days=1, hours=2))  # /donations lists the time
    r.api.push_successful_payment(
        READER, 250, payload, telegram_payment_charge_id="stxCharge1", language_code=r.lang
    )
    await r.settle()
    await r.capture()


async def search(r: Recorder, clock: world.StillClock) -> None:
    r.step(
        "/search and inline mode",
        "`/search <words>` lists recent stories (the last 30 days) in the reader's language "
        "that hold every word, best match first. In any chat, `@<bot> <words>` lists them "
        "too, and picking one sends the story's card as channels get it.",
    )
    await world.publish(r.parts, "parliament", r.lang, clock.now())
    r.skip()
    words = "budget" if r.lang == "en" else "бюджет"
    await r.say(READER, f"/search {words}")
    await r.capture()
    await r.say(READER, "/search")
    await r.capture()
    await r.inline(READER, words, chat=PICKED)


async def admins(r: Recorder, clock: world.StillClock) -> None:
    t = word(r)
    r.section("Channel and group admins")
    bot_id = r.api.bot_user["id"]
    r.api.set_chat(CHANNEL, "channel", title="CW Private")
    r.api.set_member(CHANNEL, ADMIN, "creator")
    r.api.set_member(CHANNEL, bot_id, "administrator", can_post_messages=True)
    r.step(
        "/channels (in private chat with the bot)",
        "The buttons open Telegram's own chat picker; after the pick the bot asks Telegram "
        "again (`getChatMember`) whether the user is an administrator there.",
    )
    await r.say(ADMIN, "/channels")
    await r.capture()
    r.step("the chat is picked, then Georgia and Done")
    r.api.push_chat_shared(ADMIN, 1, CHANNEL, language_code=r.lang)
    await r.capture()
    await r.tap(ADMIN, r.parts.services.catalog.region_name("georgia", r.lang))
    r.skip()
    r.places[CHANNEL] = "In the channel"
    await r.tap(ADMIN, t("settings.done_button"))
    await r.capture()
    r.step("/channels again", "Each chat opens its card (above).")
    await r.say(ADMIN, "/channels")
    await r.capture()
    r.step(
        "a channel listed in the catalog",
        "An admin who connects (or opens) a channel that the catalog's `[[channels]]` lists "
        "gets its card, not the editor: the catalog sets its regions, language, night "
        "silence and link previews at every start, so the card shows them without buttons.",
    )
    r.api.set_member(GEORGIA_CHANNEL, ADMIN, "creator")
    r.api.set_member(GEORGIA_CHANNEL, bot_id, "administrator", can_post_messages=True)
    r.api.push_chat_shared(ADMIN, 1, GEORGIA_CHANNEL, language_code=r.lang)
    await r.capture()
    r.step(
        "the bot is removed from the channel, then added back",
        "The configuration is kept while paused. A chat an admin paused on purpose stays "
        "paused when the bot is re-added.",
    )
    r.api.push_my_chat_member(CHANNEL, ADMIN, "left", "administrator")
    await r.settle()
    r.actor = ADMIN
    await r.capture()
    r.api.push_my_chat_member(CHANNEL, ADMIN, "administrator", "left", can_post_messages=True)
    await r.settle()
    await r.capture()


async def groups(r: Recorder, clock: world.StillClock) -> None:
    r.step(
        "Added with a startgroup= link, in a forum topic",
        "`https://t.me/<bot>?startgroup=georgia-en` lets an admin pick a group and add the "
        "bot in one go; Telegram then sends `/start@<bot> georgia-en` in the group. Sent "
        "inside a forum topic, the edition is bound to that topic, shown by its name.",
    )
    r.api.set_chat(GROUP, "supergroup", title="Caucasus Readers", is_forum=True)
    r.api.set_member(GROUP, ADMIN, "creator")
    r.api.set_member(GROUP, r.api.bot_user["id"], "member")
    await r.topic_created(GROUP, ADMIN, TOPIC, "Economy")
    r.skip()
    bot = r.api.bot_user["username"]
    await r.say(ADMIN, f"/start@{bot} georgia-{r.lang}", chat=GROUP, thread=TOPIC)
    await r.capture()
    r.step("someone who is not an admin sends /settings there")
    await r.say(ADMIN + 1, "/settings", chat=GROUP, thread=TOPIC)
    await r.capture()


async def operators(r: Recorder, clock: world.StillClock) -> None:
    r.section("Operators (`NEWSBOT_ADMIN_IDS`, private chat)")
    r.step(
        "/stats",
        "In the operator's language. Readers are people; subscriptions are one per region "
        "and language a reader follows. Two pictures follow the text.",
    )
    clock.at(world.START + timedelta(days=1, hours=3))  # the stats say when
    await r.say(OPERATOR, "/stats")
    await r.capture()
    r.step("/queue", "How much is still to send, and when it will be out.")
    await r.say(OPERATOR, "/queue")
    await r.capture()
    r.step("/donations, then /refund", "The donor is told when a donation is refunded.")
    await r.say(OPERATOR, "/donations")
    await r.capture()
    r.places[READER] = "The donor"
    await r.say(OPERATOR, "/refund stxCharge1")
    await r.capture()
    del r.places[READER]
    r.step("anyone else")
    await r.say(READER, "/stats")
    await r.capture()
    r.section("Safety")
    r.step(
        "Buttons, limits and the audit log",
        "Button data is signed (HMAC with the bot's signing key), bound to the user and the "
        'chat it was shown in, and expires after a week; anything else is answered "This '
        'button has expired…" and changes nothing. Configuration actions are rate-limited '
        "per user (a burst of 15, then one a second). Every change to a channel or group is "
        "recorded in the `audit_log` table with who, what and when.",
    )
