"""The extraction pool: pages read in worker processes, and everything that can go
wrong with workers bounded (a crash, a slow page, a stuck page, a burst, the exit)."""

from __future__ import annotations

import asyncio
import itertools
import os

import pytest

from scheduler import extract_pool
from scheduler.extract import extract_page
from scheduler.extract_pool import ExtractionPool, PageRead, extraction_pool, read_article
from tests.fakes import workers
from tests.ingest.support import article_page

PAGE = article_page(
    "Georgia: new tram line",
    "The city council approved a new tram line on Monday.",
    ["Work begins next year. It will take three years."],
)


async def test_pages_are_read_in_the_pool_as_in_a_thread() -> None:
    body, headers = PAGE.encode(), {"Content-Type": "text/html; charset=utf-8"}
    in_thread = await read_article(body, headers, "https://site.example/a/1/")
    async with extraction_pool(1, warm=True) as pool:
        in_pool = await read_article(body, headers, "https://site.example/a/1/")
        worker = await pool.run(workers.pid, default=0)
    assert in_pool == in_thread
    assert "approved a new tram line" in in_pool.text
    assert worker not in (0, os.getpid())
    assert extract_pool._installed is None


async def test_a_crashed_worker_is_replaced() -> None:
    pool = ExtractionPool(1)
    try:
        assert await pool.run(workers.crash, default=-1) == -1  # died twice: given up
        assert pool.restarts == 2
        assert await pool.run(workers.pid, default=0) > 0
    finally:
        await pool.close()


async def test_slow_and_stuck_pages_are_bounded() -> None:
    pool = ExtractionPool(1, soft_timeout=0.5, hard_timeout=5)
    try:
        first = await pool.run(workers.pid, default=0)
        assert await pool.run(workers.spin, default=-1) == -1  # stopped inside the worker
        assert pool.restarts == 0 and await pool.run(workers.pid, default=0) == first
        assert await pool.run(workers.stuck, default=-1) == -1  # killed from outside
        assert pool.restarts == 1
        assert await pool.run(workers.pid, default=0) not in (0, first)
    finally:
        await pool.close()


async def test_a_burst_waits_for_free_slots() -> None:
    pool = ExtractionPool(2, queue=1)
    try:
        runs = await asyncio.gather(
            *(pool.run(workers.nap, 0.3, default=(0.0, 0.0)) for _ in range(3))
        )
    finally:
        await pool.close()
    runs.sort()
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(runs))


async def test_closing_stops_the_workers() -> None:
    pool = ExtractionPool(2)
    await pool.start()
    pids = {await pool.run(workers.pid, default=0) for _ in range(4)}
    await pool.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError):
        await pool.run(workers.pid, default=0)


def test_metadata_is_searched_only_when_wanted_and_missing_from_the_head() -> None:
    page = (
        "<html><head><title>Tram line approved | Wire</title></head><body><article>"
        "<h1>Tram line approved</h1><p>The city council approved a new tram line on Monday "
        "after a long debate about its cost and route.</p></article></body></html>"
    )
    assert extract_page(page, "https://site.example/a/2/").title  # found by trafilatura
    unsearched = extract_page(page, "https://site.example/a/2/", metadata=False)
    assert unsearched.title == "" and "approved a new tram line" in unsearched.text
    assert extract_page(PAGE, "https://site.example/a/1/", metadata=False).title  # head's


def test_an_empty_read_is_the_default() -> None:
    assert PageRead() == PageRead("", (), "")


def test_a_long_article_is_read_without_its_comments_menus_and_widgets() -> None:
    """The fast path (enough text on the first reading) still leaves the furniture out."""
    paragraphs = "".join(
        f"<p>Paragraph {n} of the report says the council met on Monday and voted.</p>"
        for n in range(40)
    )
    page = (
        '<html><head><link rel="alternate" hreflang="ru" href="/ru/a/3/"></head><body>'
        '<nav><ul><li><a href="/georgia/">Georgia</a></li></ul></nav>'
        f"<article><h1>Council votes</h1>{paragraphs}</article>"
        '<div id="comments" class="comments-area"><ol class="comment-list"><li><p>First '
        "comment, readers disagree.</p></li></ol></div>"
        '<aside class="widget-area"><h2>Recent posts</h2><p>Another story.</p></aside>'
        "</body></html>"
    )
    read = extract_pool.read_page(page, "https://site.example/a/3/")
    assert read.text.count("Paragraph") == 40
    assert "comment" not in read.text and "Recent posts" not in read.text
    assert read.alternates == (("ru", "https://site.example/ru/a/3/"),)
