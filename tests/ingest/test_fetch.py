"""The fetcher against a real local server: statuses, validators, limits, hostile servers."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from scheduler.fetch import (
    Fetcher,
    FetchError,
    FetchLimits,
    parse_max_age,
    parse_retry_after,
)
from tests.fakes.feedserver import FeedServer, http_date, rss_feed

# Short enough for the hang tests, long enough for a loaded machine to answer a good request.
FAST = FetchLimits(
    connect_timeout=2.0, total_timeout=2.0, max_bytes=1024 * 1024, retry_after_cap=600
)
BODY = rss_feed([{"title": "One", "link": "https://news.example/1", "guid": "1"}])


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def fetcher(session: aiohttp.ClientSession) -> Fetcher:
    return Fetcher(session, limits=FAST)


async def test_ok_returns_body_validators_and_identifies_the_bot(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_feed(
        "/feed",
        BODY,
        etag='"v1"',
        last_modified="Mon, 06 Jan 2025 10:00:00 GMT",
        headers={"Cache-Control": "public, max-age=300"},
    )

    result = await fetcher.fetch(server.url("/feed"))

    assert (result.status, result.body, result.not_modified) == (200, BODY, False)
    assert result.url == server.url("/feed")
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 06 Jan 2025 10:00:00 GMT"
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert result.max_age == 300
    assert result.permanent_redirect is None and result.retry_after is None
    sent = server.requests[-1].headers
    assert sent["User-Agent"].startswith("newsbot/")
    assert "application/rss+xml" in sent["Accept"]
    assert "gzip" in sent["Accept-Encoding"]


async def test_conditional_get_round_trip_with_etag(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/feed", BODY, etag='"v1"')
    first = await fetcher.fetch(server.url("/feed"))

    second = await fetcher.fetch(server.url("/feed"), etag=first.etag)

    assert (second.status, second.not_modified, second.body) == (304, True, b"")
    assert second.etag == '"v1"'
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert server.hits["/feed"] == 2


async def test_conditional_get_round_trip_with_last_modified(
    server: FeedServer, fetcher: Fetcher
) -> None:
    stamp = http_date(datetime(2025, 1, 6, 10, tzinfo=UTC))
    server.set_feed("/feed", BODY, last_modified=stamp)
    first = await fetcher.fetch(server.url("/feed"))

    second = await fetcher.fetch(server.url("/feed"), last_modified=first.last_modified)
    server.set_feed("/feed", BODY, last_modified=http_date(datetime(2025, 1, 7, tzinfo=UTC)))
    third = await fetcher.fetch(server.url("/feed"), last_modified=first.last_modified)

    assert first.last_modified == stamp
    assert second.not_modified and second.last_modified == stamp
    assert not third.not_modified and third.body == BODY


async def test_bare_304_keeps_the_validators_that_were_sent(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_feed("/feed", BODY, etag='"v2"', validators_on_304=False)

    result = await fetcher.fetch(
        server.url("/feed"), etag='"v2"', last_modified="Mon, 06 Jan 2025 10:00:00 GMT"
    )

    assert result.not_modified
    assert result.etag == '"v2"'
    assert result.last_modified == "Mon, 06 Jan 2025 10:00:00 GMT"


async def test_unsafe_stored_validator_is_not_sent(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/feed", BODY, etag='"v1"')

    result = await fetcher.fetch(server.url("/feed"), etag='"v1"\r\nX-Injected: 1')

    assert result.status == 200
    assert "If-None-Match" not in server.requests[-1].headers
    assert "X-Injected" not in server.requests[-1].headers


async def test_chain_of_permanent_redirects_reports_the_new_url(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_redirect("/old", "/older", 301)
    server.set_redirect("/older", server.url("/feed"), 308)
    server.set_feed("/feed", BODY)

    result = await fetcher.fetch(server.url("/old"))

    assert result.status == 200 and result.body == BODY
    assert result.url == server.url("/feed")
    assert result.permanent_redirect == server.url("/feed")


@pytest.mark.parametrize("temporary", [302, 303, 307])
async def test_one_temporary_hop_makes_the_chain_temporary(
    server: FeedServer, fetcher: Fetcher, temporary: int
) -> None:
    server.set_redirect("/old", "/moving", 301)
    server.set_redirect("/moving", "/feed", temporary)
    server.set_feed("/feed", BODY)

    result = await fetcher.fetch(server.url("/old"))

    assert result.url == server.url("/feed") and result.status == 200
    assert result.permanent_redirect is None


async def test_permanent_redirect_to_a_dead_page_is_not_reported(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_redirect("/old", "/missing", 301)

    result = await fetcher.fetch(server.url("/old"))

    assert result.status == 404
    assert result.permanent_redirect is None


async def test_redirect_without_location_is_returned_as_is(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_feed("/odd", b"", status=302)

    result = await fetcher.fetch(server.url("/odd"))

    assert result.status == 302 and result.url == server.url("/odd")


async def test_redirect_loop_is_an_error(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_redirect("/a", "/b", 302)
    server.set_redirect("/b", "/a", 302)

    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.fetch(server.url("/a"))
    assert server.hits["/a"] == 1 and server.hits["/b"] == 1


@pytest.mark.parametrize(("hops", "ok"), [(5, True), (6, False)])
async def test_at_most_five_redirects(
    server: FeedServer, fetcher: Fetcher, hops: int, ok: bool
) -> None:
    for hop in range(hops):
        server.set_redirect(f"/r{hop}", f"/r{hop + 1}", 301)
    server.set_feed(f"/r{hops}", BODY)

    if ok:
        assert (await fetcher.fetch(server.url("/r0"))).body == BODY
    else:
        with pytest.raises(FetchError, match="too many redirects"):
            await fetcher.fetch(server.url("/r0"))
        assert server.hits[f"/r{hops}"] == 0


async def test_redirect_to_a_local_file_is_refused(
    server: FeedServer, fetcher: Fetcher, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_bytes(BODY)
    server.set_redirect("/feed", secret.as_uri(), 302)

    with pytest.raises(FetchError, match="unsupported URL"):
        await fetcher.fetch(server.url("/feed"))


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_error_statuses_are_results_not_exceptions(
    server: FeedServer, fetcher: Fetcher, status: int
) -> None:
    server.set_feed("/feed", b"gone", status=status, etag='"x"')

    result = await fetcher.fetch(server.url("/feed"), etag='"x"')

    assert result.status == status and not result.not_modified
    assert result.body == b"gone"
    assert result.retry_after is None


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        (429, "120", 120.0),
        (503, "0", 0.0),
        (429, "99999999", 600.0),  # capped by FetchLimits.retry_after_cap
        (503, "soon", None),
    ],
)
async def test_retry_after_seconds(
    server: FeedServer, fetcher: Fetcher, status: int, header: str, expected: float | None
) -> None:
    server.set_feed("/feed", b"busy", status=status, headers={"Retry-After": header})

    result = await fetcher.fetch(server.url("/feed"))

    assert result.status == status
    assert result.retry_after == expected


async def test_retry_after_http_date(server: FeedServer, fetcher: Fetcher) -> None:
    later = datetime.now(UTC) + timedelta(seconds=300)
    server.set_feed("/feed", b"busy", status=503, headers={"Retry-After": http_date(later)})

    result = await fetcher.fetch(server.url("/feed"))

    assert result.retry_after is not None
    assert 295 <= result.retry_after <= 300


def test_parse_retry_after_table() -> None:
    now = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now, cap=3600) == 30.0
    assert parse_retry_after(" 7 ", now=now, cap=3600) == 7.0
    assert parse_retry_after("Mon, 06 Jan 2025 10:02:00 GMT", now=now, cap=3600) == 120.0
    assert parse_retry_after("Mon, 06 Jan 2025 09:00:00 GMT", now=now, cap=3600) == 0.0
    assert parse_retry_after("Tue, 07 Jan 2025 10:00:00 GMT", now=now, cap=3600) == 3600.0
    assert parse_retry_after("-5", now=now, cap=3600) is None
    assert parse_retry_after("", now=now, cap=3600) is None
    assert parse_retry_after(None, now=now, cap=3600) is None


def test_parse_max_age_table() -> None:
    assert parse_max_age("max-age=60") == 60
    assert parse_max_age("public, s-maxage=120") == 120
    assert parse_max_age('s-maxage=120, max-age="30"') == 30
    assert parse_max_age("no-cache") is None
    assert parse_max_age("max-age=soon") is None
    assert parse_max_age(None) is None


async def test_chunked_body_over_the_cap_is_an_error(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_huge("/huge", 3 * FAST.max_bytes)

    with pytest.raises(FetchError, match="body larger than 1 MiB"):
        await fetcher.fetch(server.url("/huge"))


async def test_body_at_the_cap_is_accepted(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_huge("/big", FAST.max_bytes)

    result = await fetcher.fetch(server.url("/big"))

    assert len(result.body) == FAST.max_bytes


async def test_announced_length_over_the_cap_is_refused_before_reading(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_huge("/liar", 1000, announce=FAST.max_bytes * 10)

    with pytest.raises(FetchError, match="announced"):
        await fetcher.fetch(server.url("/liar"))


async def test_body_shorter_than_announced_is_an_error(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_huge("/short", 10, announce=1000)

    with pytest.raises(FetchError, match="truncated"):
        await fetcher.fetch(server.url("/short"))


async def test_a_server_that_never_answers_is_bounded(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_hang("/hang")
    started = time.monotonic()

    with pytest.raises(FetchError, match=r"timed out|no data"):
        await fetcher.fetch(server.url("/hang"))

    assert time.monotonic() - started < FAST.total_timeout + 0.5


async def test_a_server_trickling_bytes_is_bounded_by_the_total_timeout(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_slowloris("/slow", interval=0.02)
    started = time.monotonic()

    with pytest.raises(FetchError, match=rf"timed out after {FAST.total_timeout:g} s"):
        await fetcher.fetch(server.url("/slow"))

    assert time.monotonic() - started < FAST.total_timeout + 0.5


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
async def test_compressed_bodies_are_decoded(
    server: FeedServer, fetcher: Fetcher, encoding: str, compress: object
) -> None:
    assert callable(compress)
    server.set_feed("/feed", compress(BODY), headers={"Content-Encoding": encoding})

    result = await fetcher.fetch(server.url("/feed"))

    assert result.body == BODY


async def test_decompressed_size_is_capped(server: FeedServer, fetcher: Fetcher) -> None:
    bomb = gzip.compress(b" " * (FAST.max_bytes * 4))  # a few kB on the wire
    server.set_feed("/bomb", bomb, headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="body larger than"):
        await fetcher.fetch(server.url("/bomb"))


async def test_broken_gzip_is_an_error_not_a_crash(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/feed", BODY, headers={"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="broken response body"):
        await fetcher.fetch(server.url("/feed"))


async def test_local_file(fetcher: Fetcher, tmp_path: Path) -> None:
    sample = tmp_path / "sample feed.xml"
    sample.write_bytes(BODY)

    first = await fetcher.fetch(sample.as_uri())
    second = await fetcher.fetch(sample.as_uri(), last_modified=first.last_modified)

    assert (first.status, first.body, first.url) == (200, BODY, sample.as_uri())
    assert first.headers["Content-Type"] == "application/xml"
    assert first.last_modified
    assert second.not_modified and second.body == b""


async def test_missing_local_file_is_an_error(fetcher: Fetcher, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="file not found"):
        await fetcher.fetch((tmp_path / "nope.xml").as_uri())


async def test_local_file_over_the_cap_is_an_error(fetcher: Fetcher, tmp_path: Path) -> None:
    sample = tmp_path / "big.xml"
    sample.write_bytes(b" " * (FAST.max_bytes + 1))

    with pytest.raises(FetchError, match="body larger than"):
        await fetcher.fetch(sample.as_uri())


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_refused(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="connection refused") as caught:
        await fetcher.fetch(f"http://127.0.0.1:{_unused_port()}/feed")
    assert caught.value.reason == "connection refused"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/feed", "unsupported URL scheme"),
        ("news.example/feed", "unsupported URL scheme"),
        ("http:///feed", "invalid URL"),
        ("http://[::1/feed", "invalid URL"),
    ],
)
async def test_bad_urls_are_errors(fetcher: Fetcher, url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason):
        await fetcher.fetch(url)


async def test_concurrency_is_limited_per_host(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    fetcher = Fetcher(session, limits=FetchLimits(per_host=3, total_timeout=5))
    server.set_feed("/feed", BODY, delay=0.05)

    results = await asyncio.gather(*(fetcher.fetch(server.url("/feed")) for _ in range(10)))

    assert all(result.status == 200 for result in results)
    assert server.max_active == 3


async def test_the_limit_is_per_host_not_global(
    server: FeedServer, session: aiohttp.ClientSession
) -> None:
    fetcher = Fetcher(session, limits=FetchLimits(per_host=2, total_timeout=5))
    server.set_feed("/feed", BODY, delay=0.1)
    urls = [server.url("/feed")] * 4 + [server.url("/feed", host="localhost")] * 4

    await asyncio.gather(*(fetcher.fetch(url) for url in urls))

    assert server.max_active == 4
