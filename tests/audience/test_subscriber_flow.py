"""A reader subscribes with buttons or a deep link, gets posts, switches to a digest, stops."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.models import OutboxRow
from scheduler.digest import DigestJob
from tests.audience.support import (
    NOON,
    bot_running,
    buttons,
    latest,
    next_from_bot,
    publish,
    run_and_send,
    subscription,
    tap,
)
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

READER = 7001


async def test_subscribe_with_buttons_then_post_then_digest(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.push_message(READER, READER, "/start", language_code="en")
        await next_from_bot(api, READER, "sendMessage", 1)
        greeting = latest(api, READER)
        assert greeting is not None and "Choose regions" in greeting.plain_text
        labels = buttons(greeting)
        assert {"✅ English", "Русский", "Choose regions"} <= set(labels)

        await tap(api, READER, READER, "Choose regions")
        assert {"Georgia", "Armenia", "Done"} <= set(buttons(latest(api, READER)))
        await tap(api, READER, READER, "Georgia")  # one tap: on, shown with a check mark
        assert "✅ Georgia" in buttons(latest(api, READER))
        assert api.calls("editMessageReplyMarkup")
        row, regions = await subscription(parts, READER)
        assert row is not None and regions == ["georgia"]
        assert row.language == "en" and row.timezone == "Asia/Tbilisi" and row.mode == "instant"
        assert (row.quiet_start, row.quiet_end) == (23 * 60, 8 * 60)

        await tap(api, READER, READER, "Armenia")
        await tap(api, READER, READER, "✅ Armenia")  # and off again
        await tap(api, READER, READER, "Done")
        summary = latest(api, READER)
        assert summary is not None and "1 region: Georgia" in summary.plain_text
        assert "Quiet hours: from" in summary.plain_text

        # The next Georgian article in English reaches the reader; others do not.
        await publish(parts, "g1", "Tbilisi news", "en", ("georgia",), clock.now())
        await publish(parts, "a1", "Yerevan news", "en", ("armenia",), clock.now())
        await publish(parts, "g1ru", "Новости Тбилиси", "ru", ("georgia",), clock.now())
        await parts.sender.drain(within=20)
        posts = api.messages_to(READER)[1:]  # after the greeting
        assert len(posts) == 1 and posts[0].plain_text.startswith("Tbilisi news")

        # Switch to a daily digest at 18:00 local time.
        api.push_message(READER, READER, "/settings")
        await next_from_bot(api, READER, "sendMessage", 3)
        await tap(api, READER, READER, "Delivery")
        await tap(api, READER, READER, "Once a day (digest)")
        assert "digest" in latest(api, READER).plain_text.lower()  # type: ignore[union-attr]
        await tap(api, READER, READER, "6:00\u202fPM")
        row, _ = await subscription(parts, READER)
        assert row is not None and row.mode == "digest" and row.digest_minute == 18 * 60

        # Digest readers get no instant posts...
        clock.advance(hours=1)
        await publish(parts, "g2", "Batumi port expands", "en", ("georgia",), clock.now())
        await publish(
            parts, "g3", "Kutaisi airport & <b>flights</b>", "en", ("georgia",), clock.now()
        )
        async with parts.sessions() as session:
            rows = (await session.scalars(select(OutboxRow).where(OutboxRow.article_id > 3))).all()
        assert rows == []
        # ...but one digest after 18:00 in Tbilisi (14:00 UTC), with the new articles only.
        job = DigestJob(parts.services.catalog, parts.translator, parts.sessions, clock)
        assert await run_and_send(parts, job.run) == 0  # 15:00 in Tbilisi: not yet
        clock.advance(hours=4)
        before = len(api.messages_to(READER))
        assert await run_and_send(parts, job.run) == 1
        assert await run_and_send(parts, job.run) == 0  # once a day
        digest = api.messages_to(READER)[before:]
        assert len(digest) == 1
        text = digest[0].plain_text
        assert "daily digest" in text and "2 new articles" in text
        assert "Georgia" in text and "Batumi port expands" in text
        assert "Kutaisi airport & <b>flights</b>" in text  # outside text is escaped
        assert "&amp; &lt;b&gt;" in digest[0].text
        assert "Tbilisi news" not in text and "Yerevan news" not in text
        assert api.limit_violations == 0


async def test_deep_link_subscribes_in_one_tap_and_stop_unsubscribes(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.push_message(READER, READER, "/start armenia-ru", language_code="en")
        await next_from_bot(api, READER, "sendMessage", 1)
        row, regions = await subscription(parts, READER)
        assert row is not None and row.language == "ru" and regions == ["armenia"]
        assert row.timezone == "Asia/Yerevan"
        assert (
            "Armenia" in api.messages_to(READER)[0].plain_text
            or "Армения" in api.messages_to(READER)[0].plain_text
        )

        await publish(parts, "a1ru", "Ереван: новости", "ru", ("armenia",), clock.now())
        await parts.sender.drain(within=20)
        assert any("Ереван: новости" in m.plain_text for m in api.messages_to(READER))

        api.push_message(READER, READER, "/start nowhere-xx")
        await next_from_bot(api, READER, "sendMessage", 3)
        assert "/settings" in api.messages_to(READER)[-1].plain_text

        api.push_message(READER, READER, "/stop")
        await next_from_bot(api, READER, "sendMessage", 4)
        assert "/start" in api.messages_to(READER)[-1].plain_text
        row, regions = await subscription(parts, READER)
        assert row is not None and not row.active and regions == ["armenia"]  # settings kept
        await publish(parts, "a2ru", "Ещё новости", "ru", ("armenia",), clock.now())
        await parts.sender.drain(within=20)
        assert not any("Ещё новости" in m.plain_text for m in api.messages_to(READER))

        api.push_message(READER, READER, "/start")
        await next_from_bot(api, READER, "sendMessage", 6)
        row, _ = await subscription(parts, READER)
        assert row is not None and row.active


async def test_forged_foreign_and_stale_buttons_change_nothing(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    other = 7002
    async with FakeBotAPI() as api, bot_running(api, database_url, clock) as parts:
        api.push_message(READER, READER, "/start")
        await next_from_bot(api, READER, "sendMessage", 1)
        await tap(api, READER, READER, "Choose regions")
        georgia = buttons(latest(api, READER))["Georgia"]

        forged = [
            "sR.g.0~zz~AAAAAAAAAAA",
            georgia.replace("sR.g.0", "sR.g.1"),
            "x" * 64,
            "",
        ]
        for data in forged:
            query = api.push_callback_query(READER, data or "?", chat_id=READER)
            qid = str(query["callback_query"]["id"])
            await api.wait_for(lambda qid=qid: qid in api.callback_answers, within=10)  # type: ignore[misc]
            assert "expired" in str(api.callback_answers[qid].get("text"))
        # The same button, tapped by another user in their own chat, is foreign.
        query = api.push_callback_query(other, georgia, chat_id=other)
        qid = str(query["callback_query"]["id"])
        await api.wait_for(lambda: qid in api.callback_answers, within=10)
        assert "expired" in str(api.callback_answers[qid].get("text"))

        _row, regions = await subscription(parts, READER)
        assert regions == []
        row2, regions2 = await subscription(parts, other)
        assert row2 is None and regions2 == []
