"""Donations in Telegram Stars: amount button -> invoice -> pre-checkout -> payment -> thanks.

- An amount button (``/donate``) carries signed callback data (``bot.callbacks``) naming
  the index of a configured amount; a valid tap sends an invoice in XTR with an empty
  provider token, whose payload is signed too and names the amount and the payer.
- The pre-checkout query is answered at once (Telegram allows 10 s) after checking the
  payload's signature, payer, currency and amount; anything else gets ``ok=False``.
- ``successful_payment`` is recorded once per ``telegram_payment_charge_id`` (a unique
  key): a redelivered update is logged and ignored, never thanked twice.
- Operators (NEWSBOT_ADMIN_IDS): ``/refund <charge id>`` calls ``refundStarPayment`` and
  marks the donation refunded, and tells the donor in their language; ``/donations``
  lists the recent ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from telegram import LabeledPrice, SuccessfulPayment, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PreCheckoutQueryHandler,
    filters,
)

from bot.alerts import notice
from bot.callbacks import CallbackSigner, RateLimiter
from bot.i18n import Translator
from bot.storage.models import DonationRow
from bot.storage.payments import (
    donation_by_charge,
    mark_refunded,
    recent_donations,
    record_donation,
)
from handlers.actions import STARS_ACTION
from handlers.services import Services

log = logging.getLogger(__name__)

CURRENCY = "XTR"
_PAYLOAD = re.compile(r"don1\.(\d{1,6})\.(\d{1,20})\.([A-Za-z0-9_-]{16})\Z")


# --------------------------------------------------------------------------- payloads


def _payload_mac(key: bytes, amount: int, user_id: int) -> str:
    digest = hmac.new(key, f"stars\n{amount}\n{user_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def make_payload(key: bytes, amount: int, user_id: int) -> str:
    """Invoice payload naming the amount and the payer, signed (at most 128 bytes)."""
    return f"don1.{amount}.{user_id}.{_payload_mac(key, amount, user_id)}"


@dataclass(frozen=True, slots=True)
class Payload:
    amount: int
    user_id: int


def read_payload(key: bytes, payload: str) -> Payload | None:
    """The signed amount and payer, or None for anything not made by ``make_payload``."""
    match = _PAYLOAD.match(payload or "")
    if match is None:
        return None
    amount, user_id = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3), _payload_mac(key, amount, user_id)):
        return None
    return Payload(amount, user_id)


def precheckout_problem(
    key: bytes,
    amounts: list[int],
    *,
    payload: str,
    currency: str,
    total: int,
    user_id: int,
) -> str | None:
    """Why a pre-checkout query must be refused (a log reason), or None when it is fine."""
    signed = read_payload(key, payload)
    if signed is None:
        return "payload is not ours"
    if currency != CURRENCY:
        return f"currency {currency!r} is not {CURRENCY}"
    if signed.user_id != user_id:
        return "invoice was made for another user"
    if signed.amount != total:
        return f"amount {total} does not match the invoice's {signed.amount}"
    if signed.amount not in amounts:
        return f"amount {signed.amount} is no longer offered"
    return None


def format_donations(rows: list[DonationRow], tr: Translator, lang: str) -> str:
    """The ``/donations`` answer as plain text in the operator's language (pure)."""
    if not rows:
        return tr.plain(lang, "donations.none")
    lines = [tr.plain(lang, "donations.heading", len(rows), count=len(rows))]
    for row in rows:
        line = tr.plain(
            lang,
            "donations.line",
            when=f"{row.created_at:%Y-%m-%d %H:%M}",
            amount=row.amount,
            currency=row.currency,
            user=str(row.user_id),
            charge=row.charge_id,
        )
        if row.refunded_at:
            line += " · " + tr.plain(lang, "donations.refunded")
        if row.suspicious:
            line += " · " + tr.plain(lang, "donations.suspicious")
        lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- handlers


class Payments:
    def __init__(self, services: Services, signer: CallbackSigner | None = None) -> None:
        self.s = services
        self.key = services.settings.signing_key()
        self.signer = signer or CallbackSigner(self.key)
        self.limiter = RateLimiter(burst=5, per_second=0.2)

    @property
    def amounts(self) -> list[int]:
        donate = self.s.catalog.donate
        return list(donate.stars.amounts) if donate and donate.stars else []

    async def on_amount(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """An amount button: send the invoice for that amount to this chat."""
        query, user, chat = update.callback_query, update.effective_user, update.effective_chat
        if query is None or user is None or chat is None:
            return
        lang = await self.s.language_for(update)
        action = self.signer.verify(query.data, user.id, chat.id)
        index = action.int_arg(0) if action and action.name == STARS_ACTION else None
        if index is None or index >= len(self.amounts):
            log.info("stars: refused a stale or forged amount button from %s", user.id)
            await query.answer(self.s.translator.plain(lang, "errors.stale_button"), True)
            return
        if not self.limiter.allow(user.id):
            await query.answer(self.s.translator.plain(lang, "errors.rate_limited"))
            return
        await query.answer()
        amount = self.amounts[index]
        outlet = self.s.catalog.outlet.name
        title = self.s.translator.plain(lang, "donate.invoice_title", outlet=outlet)
        await chat.send_invoice(
            title=title[:32],
            description=self.s.translator.plain(lang, "donate.invoice_description", outlet=outlet)[
                :255
            ],
            payload=make_payload(self.key, amount, user.id),
            provider_token="",
            currency=CURRENCY,
            prices=[LabeledPrice(title[:32], amount)],
        )

    async def on_precheckout(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer at once: Telegram cancels the payment after 10 s without an answer."""
        query = update.pre_checkout_query
        if query is None:
            return
        problem = precheckout_problem(
            self.key,
            self.amounts,
            payload=query.invoice_payload,
            currency=query.currency,
            total=query.total_amount,
            user_id=query.from_user.id,
        )
        if problem is None:
            await query.answer(ok=True)
            return
        log.warning("stars: pre-checkout %s refused: %s", query.id, problem)
        lang = self.s.translator.pick_language(query.from_user.language_code)
        await query.answer(
            ok=False, error_message=self.s.translator.plain(lang, "errors.stale_button")
        )

    async def on_payment(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Record the payment once by its charge id; thank only the first time.

        A payment whose payload the bot did not sign, or that names another payer or
        currency, cannot come from one of our invoices: it is kept (so a refund can find
        it), marked suspicious and reported to the editors, and its sender is not thanked.
        """
        message, user = update.effective_message, update.effective_user
        payment = message.successful_payment if message else None
        if message is None or payment is None or user is None:
            return
        suspicious = self._suspicious(payment, user.id)
        lang = await self.s.language_for(update)
        async with self.s.sessions.begin() as session:
            new = await record_donation(
                session,
                charge_id=payment.telegram_payment_charge_id,
                user_id=user.id,
                amount=payment.total_amount,
                currency=payment.currency,
                payload=payment.invoice_payload,
                language=lang,
                now=self.s.clock.now(),
                suspicious=suspicious,
            )
        if not new:
            log.info("stars: payment %s already recorded", payment.telegram_payment_charge_id)
            return
        if suspicious:
            await self._report_suspicious(payment, user.id)
            return
        await message.reply_text(
            self.s.translator.ngettext(
                lang,
                "donate.thanks",
                payment.total_amount,
                amount=payment.total_amount,
                outlet=self.s.catalog.outlet.name,
            ),
            parse_mode=ParseMode.HTML,
        )

    def _suspicious(self, payment: SuccessfulPayment, user_id: int) -> bool:
        """True unless the payload is ours and names this payer, amount and currency."""
        signed = read_payload(self.key, payment.invoice_payload)
        return (
            signed is None
            or signed.user_id != user_id
            or signed.amount != payment.total_amount
            or payment.currency != CURRENCY
        )

    async def _report_suspicious(self, payment: SuccessfulPayment, user_id: int) -> None:
        """Tell the editors about a payment that no invoice of ours can explain."""
        log.warning("stars: payment %s does not match an invoice of ours", payment.currency)
        await self.s.alerts.alert(
            notice(
                "suspicious_payment",
                amount=payment.total_amount,
                currency=payment.currency,
                user=str(user_id),
                charge=payment.telegram_payment_charge_id,
            )
        )

    async def refund(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        if not await self.s.refuse_unless_operator(update):
            return
        lang = await self.s.language_for(update)
        if not context.args or len(context.args) != 1:
            usage = self.s.translator.plain(lang, "refund.usage")
            await message.reply_text(usage, parse_mode=None)
            return
        answer = await self._refund(context, context.args[0], lang)
        await message.reply_text(answer, parse_mode=None)

    async def _refund(self, context: ContextTypes.DEFAULT_TYPE, charge_id: str, lang: str) -> str:
        """Refund one donation; the answer for the operator, in their language."""
        tr = self.s.translator
        async with self.s.sessions() as session:
            row = await donation_by_charge(session, charge_id)
        if row is None:
            return tr.plain(lang, "refund.unknown", charge=charge_id)
        if row.refunded_at is not None:
            when = f"{row.refunded_at:%Y-%m-%d}"
            return tr.plain(lang, "refund.already", charge=charge_id, date=when)
        try:
            await context.bot.refund_star_payment(row.user_id, charge_id)
        except TelegramError as exc:
            log.warning("stars: refund of %s failed: %s", charge_id, exc)
            return tr.plain(lang, "refund.refused", charge=charge_id, reason=exc.message)
        async with self.s.sessions.begin() as session:
            await mark_refunded(session, row.id, self.s.clock.now())
        log.info("stars: refunded %s (%d %s)", charge_id, row.amount, row.currency)
        await self._tell_refunded(context, row)
        return tr.plain(
            lang,
            "refund.done",
            amount=row.amount,
            currency=row.currency,
            user=str(row.user_id),
            charge=charge_id,
        )

    async def _tell_refunded(self, context: ContextTypes.DEFAULT_TYPE, row: DonationRow) -> None:
        """Tell the donor, in the language they donated in, that their Stars came back.

        The refund stands whether or not this arrives (the donor may have blocked the bot).
        """
        text = self.s.translator.ngettext(
            row.language,
            "donate.refunded",
            row.amount,
            amount=row.amount,
            outlet=self.s.catalog.outlet.name,
        )
        try:
            await context.bot.send_message(row.user_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.info("stars: could not tell user %s about the refund: %s", row.user_id, exc)

    async def donations(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        if not await self.s.refuse_unless_operator(update):
            return
        async with self.s.sessions() as session:
            rows = await recent_donations(session)
        lang = await self.s.language_for(update)
        text = format_donations(rows, self.s.translator, lang)
        await message.reply_text(text, parse_mode=None)

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [
            CallbackQueryHandler(self.on_amount, pattern=rf"^{STARS_ACTION}[.~]"),
            PreCheckoutQueryHandler(self.on_precheckout),
            MessageHandler(filters.SUCCESSFUL_PAYMENT, self.on_payment),
            CommandHandler("refund", self.refund),
            CommandHandler("donations", self.donations),
        ]
