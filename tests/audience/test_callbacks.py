"""Callback data: signed, bound to user and chat, short, expiring; and the rate limit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.callbacks import MAX_CALLBACK_BYTES, Action, CallbackSigner, RateLimiter
from tests.fakes.clock import FakeClock

KEY = b"test-key"


def test_round_trip_for_the_same_user_and_chat() -> None:
    signer = CallbackSigner(KEY)
    data = signer.sign(42, 42, "R", "start", 3)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert signer.verify(data, 42, 42) == Action("R", ("start", "3"))
    assert signer.verify(data, 42, 42).int_arg(1) == 3  # type: ignore[union-attr]


def test_foreign_user_or_chat_is_refused() -> None:
    signer = CallbackSigner(KEY)
    data = signer.sign(42, -100, "P", 7)
    assert signer.verify(data, 43, -100) is None
    assert signer.verify(data, 42, -101) is None
    assert signer.verify(data, 42, -100) is not None


def test_altered_data_and_other_keys_are_refused() -> None:
    signer = CallbackSigner(KEY)
    data = signer.sign(42, 42, "P", 7)
    altered = data.replace("P.7", "P.8")
    assert altered != data and signer.verify(altered, 42, 42) is None
    assert CallbackSigner(b"other-key").verify(data, 42, 42) is None
    flipped = data[:-1] + ("A" if data[-1] != "A" else "B")
    assert signer.verify(flipped, 42, 42) is None


def test_stale_buttons_expire() -> None:
    clock = FakeClock()
    signer = CallbackSigner(KEY, max_age=3600, clock=clock)
    data = signer.sign(1, 1, "done")
    clock.advance(3000)
    assert signer.verify(data, 1, 1) is not None
    clock.advance(1000)
    assert signer.verify(data, 1, 1) is None


def test_tokens_are_checked_when_signing() -> None:
    signer = CallbackSigner(KEY)
    for bad in ("a~b", "", "x" * 25, "é"):
        try:
            signer.sign(1, 1, bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
    try:
        signer.sign(1, 1, *(["abcdefghij"] * 5))
    except ValueError:
        pass
    else:
        raise AssertionError("an over-long action was accepted")


@given(st.text(max_size=80), st.integers(), st.integers())
def test_arbitrary_data_never_verifies_or_raises(data: str, user: int, chat: int) -> None:
    assert CallbackSigner(KEY).verify(data, user, chat) is None


@given(
    st.integers(min_value=1, max_value=2**53),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.lists(st.integers(min_value=0, max_value=10**9), max_size=3),
)
def test_signed_data_fits_telegram_limit(user: int, chat: int, args: list[int]) -> None:
    signer = CallbackSigner(KEY)
    data = signer.sign(user, chat, "abcdef", *args)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert signer.verify(data, user, chat) == Action("abcdef", tuple(str(a) for a in args))


def test_rate_limiter_refills_and_stays_small() -> None:
    clock = FakeClock()
    limiter = RateLimiter(burst=3, per_second=1.0, max_users=100, clock=clock)
    assert [limiter.allow(1) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow(2)  # another user has their own bucket
    clock.advance(1.0)
    assert limiter.allow(1)
    assert not limiter.allow(1)
    for user in range(1000):
        limiter.allow(user)
    assert len(limiter) == 100
