"""Stars donations end to end against the Bot API fake: invoice -> pre-checkout ->
payment -> duplicate update ignored -> refund; forged buttons and payloads refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.storage.engine import create_engine, session_factory
from bot.storage.models import DonationRow
from handlers.payments import make_payload, precheckout_problem, read_payload
from tests.e2e.support import make_catalog
from tests.fakes.botapi import FakeBotAPI
from tests.revenue.support import running, settings_for

USER, OTHER, OPERATOR = 5550001, 5550002, 4242
DONATE = {
    "text": {"en": "Support independent journalism"},
    "links": [{"label": "Support us", "url": "https://caucasus-wire.example/support/"}],
    "stars": {"amounts": [50, 250, 1000]},
}
KEY = b"k"


def test_payload_round_trip_and_refusals() -> None:
    payload = make_payload(KEY, 250, USER)
    assert len(payload.encode()) <= 128
    signed = read_payload(KEY, payload)
    assert signed is not None and (signed.amount, signed.user_id) == (250, USER)
    assert read_payload(b"other", payload) is None
    assert read_payload(KEY, payload.replace(".250.", ".251.")) is None
    assert read_payload(KEY, "") is None

    def problem(**kw: Any) -> str | None:
        args: dict[str, Any] = {
            "payload": payload,
            "currency": "XTR",
            "total": 250,
            "user_id": USER,
        }
        return precheckout_problem(KEY, [50, 250], **{**args, **kw})

    assert problem() is None
    assert problem(payload="don1.250.5550001.AAAAAAAAAAAAAAAA") == "payload is not ours"
    assert problem(currency="USD") is not None
    assert problem(user_id=OTHER) is not None
    assert problem(total=1) is not None
    assert (
        precheckout_problem(KEY, [50], payload=payload, currency="XTR", total=250, user_id=USER)
        is not None
    )


def stars_buttons(api: FakeBotAPI, chat: int) -> dict[str, str]:
    reply = api.messages_to(chat)[-1]
    assert reply.reply_markup is not None
    return {
        b["text"]: b["callback_data"]
        for row in reply.reply_markup["inline_keyboard"]
        for b in row
        if "callback_data" in b
    }


async def donations(database_url: str) -> list[DonationRow]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return list(await session.scalars(select(DonationRow)))
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_stars_flow(database_url: str) -> None:
    async with FakeBotAPI() as api:
        catalog = make_catalog([], donate=DONATE)
        settings = settings_for(api, database_url, admin_ids=f"{OPERATOR}")
        async with running(settings, catalog):
            api.push_message(USER, USER, "/donate", language_code="ru")
            await api.wait_for(lambda: bool(api.messages_to(USER)), within=10)
            donate = api.messages_to(USER)[-1]
            assert "Support independent journalism" in donate.plain_text
            buttons = stars_buttons(api, USER)
            assert len(buttons) == 3
            data = next(d for label, d in buttons.items() if "250" in label)
            assert len(data.encode()) <= 64

            # Someone else replaying the button gets nothing.
            api.push_callback_query(OTHER, data)
            await api.wait_for(lambda: len(api.callback_answers) == 1, within=10)
            assert api.calls("sendInvoice") == []

            api.push_callback_query(USER, data, language_code="ru")
            await api.wait_for(lambda: bool(api.calls("sendInvoice")), within=10)
            invoice = api.calls("sendInvoice")[0].params
            assert invoice["currency"] == "XTR"
            assert not invoice.get("provider_token")
            prices = invoice["prices"]
            prices = prices if isinstance(prices, list) else json.loads(prices)
            assert [p["amount"] for p in prices] == [250]
            payload = str(invoice["payload"])

            forged = api.push_pre_checkout_query(USER, 250, payload[:-2] + "xx")
            wrong_amount = api.push_pre_checkout_query(USER, 1, payload)
            good = api.push_pre_checkout_query(USER, 250, payload, language_code="ru")
            ids = [u["pre_checkout_query"]["id"] for u in (forged, wrong_amount, good)]
            await api.wait_for(lambda: all(i in api.pre_checkout_answers for i in ids), 10)
            answers = [api.pre_checkout_answers[i] for i in ids]
            assert [str(a.get("ok")).lower() for a in answers] == ["false", "false", "true"]
            assert answers[0].get("error_message")

            sent_before = len(api.messages_to(USER))
            api.push_successful_payment(
                USER, 250, payload, telegram_payment_charge_id="stxCharge1", language_code="ru"
            )
            await api.wait_for(lambda: len(api.messages_to(USER)) > sent_before, within=10)
            thanks = api.messages_to(USER)[-1].plain_text
            assert "Спасибо" in thanks and "250" in thanks and "Caucasus Wire" in thanks

            # The same update delivered again is recorded once and not thanked twice.
            api.push_successful_payment(
                USER, 250, payload, telegram_payment_charge_id="stxCharge1", language_code="ru"
            )
            api.push_message(OPERATOR, OPERATOR, "/donations")
            await api.wait_for(lambda: bool(api.messages_to(OPERATOR)), within=10)
            assert len(api.messages_to(USER)) == sent_before + 1
            listing = api.messages_to(OPERATOR)[-1].plain_text
            assert "stxCharge1" in listing and "250 XTR" in listing

            api.push_message(USER, USER, "/refund stxCharge1")
            api.push_message(OPERATOR, OPERATOR, "/refund stxCharge1")
            await api.wait_for(lambda: len(api.messages_to(OPERATOR)) == 2, within=10)
            assert api.refunds == [(USER, "stxCharge1")]
            assert "Refunded 250" in api.messages_to(OPERATOR)[-1].plain_text
            # The donor hears of it in the language they donated in (Russian, plural form).
            told = [m.plain_text for m in api.messages_to(USER) if "вернули" in m.plain_text]
            assert told == [
                "Мы вернули вам 250 звёзд, пожертвованных Caucasus Wire. "
                "Они снова на вашем балансе в Telegram."
            ]
            assert any(
                "only for the outlet's operators" in m.plain_text for m in api.messages_to(USER)
            )

            api.push_message(OPERATOR, OPERATOR, "/refund stxCharge1")
            api.push_message(OPERATOR, OPERATOR, "/refund nope")
            await api.wait_for(lambda: len(api.messages_to(OPERATOR)) == 4, within=10)
            assert "already refunded" in api.messages_to(OPERATOR)[-2].plain_text
            assert "No donation" in api.messages_to(OPERATOR)[-1].plain_text
            assert len(api.refunds) == 1

        rows = await donations(database_url)
        assert [(r.charge_id, r.amount, r.user_id, r.language) for r in rows] == [
            ("stxCharge1", 250, USER, "ru")
        ]
        assert rows[0].refunded_at is not None


async def test_donate_without_stars_has_no_amount_buttons(database_url: str) -> None:
    async with FakeBotAPI() as api:
        catalog = make_catalog([])  # links only
        async with running(settings_for(api, database_url), catalog):
            api.push_message(USER, USER, "/donate")
            await api.wait_for(lambda: bool(api.messages_to(USER)), within=10)
            assert stars_buttons(api, USER) == {}
            markup = api.messages_to(USER)[-1].reply_markup
            assert markup is not None
            assert (
                markup["inline_keyboard"][0][0]["url"] == "https://caucasus-wire.example/support/"
            )
