"""Signed link tokens: what verifies, what does not (pure functions)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from bot.links import sign, tracked_links, verify
from bot.outbox.compose import direct_link

KEY = b"k" * 32
URL = "https://caucasus-wire.example/103/?utm=tg&x=%C3%A4"


def test_round_trip_names_kind_url_and_edition() -> None:
    token = sign(KEY, "article", URL, "georgia+armenia-en")
    target = verify(KEY, token)
    assert target is not None
    assert (target.kind, target.url, target.edition) == ("article", URL, "georgia+armenia-en")
    assert target.regions == ("georgia", "armenia")
    assert target.language == "en"
    assert verify(KEY, sign(KEY, "donate", URL, "all-ru")).regions == ()  # type: ignore[union-attr]


def test_token_is_url_safe() -> None:
    token = sign(KEY, "article", URL, "georgia-en")
    assert all(c.isalnum() or c in "-_." for c in token)


def test_other_key_is_refused() -> None:
    assert verify(b"other", sign(KEY, "article", URL, "georgia-en")) is None


@pytest.mark.parametrize("position", [0, 5, 20, -3, -1])
def test_altered_token_is_refused(position: int) -> None:
    token = sign(KEY, "article", URL, "georgia-en")
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    assert verify(KEY, "".join(chars)) is None


def test_swapped_payload_is_refused() -> None:
    genuine = sign(KEY, "article", URL, "georgia-en")
    evil = sign(b"attacker", "article", "https://evil.example/", "georgia-en")
    forged = evil.split(".")[0] + "." + genuine.split(".")[1]
    assert verify(KEY, forged) is None


@pytest.mark.parametrize("token", ["", ".", "abc", "a.b.c", "!!!.???", "x" * 5000 + ".y"])
def test_garbage_is_refused(token: str) -> None:
    assert verify(KEY, token) is None


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://x.example/", "/relative", "https://"]
)
def test_only_web_urls_can_be_signed(url: str) -> None:
    with pytest.raises(ValueError):
        sign(KEY, "article", url, "georgia-en")


def test_builder_without_public_url_links_directly() -> None:
    assert tracked_links(KEY, None) is direct_link
    assert tracked_links(KEY, None)("article", URL, "georgia-en") == URL


def test_builder_with_public_url_points_at_the_redirect() -> None:
    build = tracked_links(KEY, "https://bot.example/")
    link = build("article", URL, "georgia-en")
    assert link.startswith("https://bot.example/r/")
    target = verify(KEY, link.removeprefix("https://bot.example/r/"))
    assert target is not None and target.url == URL
    # Unknown kinds and unsignable URLs fall back to the direct link rather than break a post.
    assert build("other", URL, "georgia-en") == URL
    assert build("article", "mailto:x@example.org", "georgia-en") == "mailto:x@example.org"


def test_non_ascii_slugs_are_packed_and_come_back_as_an_ascii_uri() -> None:
    slug = "თბილისში-ახალი-მეტროს-ხაზი-იხსნება-" * 3
    encoded = "https://caucasus-wire.example/ka/" + quote(slug) + "/?q=a%20b&x=%2F"
    token = sign(KEY, "article", encoded, "georgia-ka")
    target = verify(KEY, token)
    assert target is not None and target.url == encoded
    assert len(token) < len(encoded)  # packed: about 4 characters per Georgian letter, not 9
    # A raw IRI comes back percent-encoded (what a browser would request anyway).
    raw = "https://caucasus-wire.example/ru/новости/"
    back = verify(KEY, sign(KEY, "article", raw, "all-ru"))
    assert (
        back is not None
        and back.url == "https://caucasus-wire.example/ru/" + quote("новости") + "/"
    )
    assert back.url.isascii()
    # Lower-case escapes and invalid UTF-8 escapes survive (case-insensitively equal).
    odd = "https://x.example/%d0%b0/%FF%FE/"
    again = verify(KEY, sign(KEY, "article", odd, "all-ru"))
    assert again is not None and again.url.lower() == odd.lower()
