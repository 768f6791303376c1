"""Operators read their screens and the editors' alerts in their own language."""

from __future__ import annotations

from bot.alerts import BatchedAlerts, notice
from handlers.payments import make_payload
from tests.audience.support import NOON, bot_running, next_from_bot
from tests.e2e.support import make_catalog, make_settings
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.clock import FakeClock

OPERATOR, DONOR, EDITORS = 4343, 5560001, -1004000000001
DONATE = {
    "text": {"en": "Support independent journalism"},
    "links": [{"label": "Support us", "url": "https://caucasus-wire.example/support/"}],
    "stars": {"amounts": [50, 250]},
}


async def test_donations_refund_and_alerts_in_the_operators_language(database_url: str) -> None:
    clock = FakeClock(NOON, runs=True)
    async with (
        FakeBotAPI() as api,
        bot_running(
            api,
            database_url,
            clock,
            make_catalog([], donate=DONATE),
            admin_ids=str(OPERATOR),
            editors_chat_id=EDITORS,
        ) as parts,
    ):
        api.set_chat(EDITORS, "supergroup", title="Editors")
        # The operator reads the Russian edition: the bot knows their language from then on.
        api.push_message(OPERATOR, OPERATOR, "/start georgia-ru", language_code="en")
        await next_from_bot(api, OPERATOR, "sendMessage", 1)

        api.push_message(OPERATOR, OPERATOR, "/donations")
        await next_from_bot(api, OPERATOR, "sendMessage", 2)
        assert api.messages_to(OPERATOR)[-1].plain_text == "Пожертвований пока нет."

        key = make_settings(api, database_url).signing_key()
        payload = make_payload(key, 250, DONOR)
        api.push_successful_payment(DONOR, 250, payload, telegram_payment_charge_id="stxRu")
        await next_from_bot(api, DONOR, "sendMessage", 1)
        api.push_message(OPERATOR, OPERATOR, "/donations")
        await next_from_bot(api, OPERATOR, "sendMessage", 3)
        listing = api.messages_to(OPERATOR)[-1].plain_text
        assert listing.startswith("Последние пожертвования (1):")
        assert f"250 XTR · пользователь {DONOR} · stxRu" in listing

        api.push_message(OPERATOR, OPERATOR, "/refund")
        await next_from_bot(api, OPERATOR, "sendMessage", 4)
        assert api.messages_to(OPERATOR)[-1].plain_text.startswith("Как пользоваться: /refund")
        api.push_message(OPERATOR, OPERATOR, "/refund stxRu")
        await next_from_bot(api, OPERATOR, "sendMessage", 5)
        assert api.messages_to(OPERATOR)[-1].plain_text == (
            f"Возвращено 250 XTR пользователю {DONOR} (stxRu); ему сообщено."
        )
        api.push_message(OPERATOR, OPERATOR, "/refund stxRu")
        await next_from_bot(api, OPERATOR, "sendMessage", 6)
        assert "уже возвращено" in api.messages_to(OPERATOR)[-1].plain_text

        # The editors' chat hears in the language the operator chose (Russian here).
        assert isinstance(parts.alerts, BatchedAlerts)
        await parts.alerts.alert(notice("feed_back", url="https://caucasus-wire.example/feed/"))
        await parts.alerts.flush()
        await parts.sender.drain(within=20)
        await next_from_bot(api, EDITORS, "sendMessage", 1)
        assert api.messages_to(EDITORS)[-1].plain_text == (
            "• Лента снова работает: https://caucasus-wire.example/feed/"
        )
