"""Article pages read in worker processes, off the event loop that sends.

Extracting a real article page (trafilatura over 60–100 KB of WordPress markup) is
10–15 ms of pure Python. In threads of the bot's process a burst of new articles held
the interpreter lock, and the sender's event loop, which must answer Telegram on time,
stalled behind it. Here the pages go to a process pool sized to the cores, and only
what the summary needs is extracted (the text, the page's language links and lead
image; no metadata, which the feed already gave).

The pool's lifecycle is the bot's (:func:`extraction_pool`, entered by the composition
root): workers start with it and stop when it closes. What can go wrong is bounded:

- **slow pages**: a worker stops a page after ``soft_timeout`` seconds (an alarm inside
  the worker, which interrupts trafilatura's Python loops); a page that still holds the
  worker after ``hard_timeout`` (stuck in C) gets the worker killed and the pool
  restarted. Either way the article is posted from its feed's text.
- **a crashed worker** breaks the pool: it is restarted, and each page that was in it is
  tried once more.
- **a burst**: at most ``queue`` pages are in the pool at once; callers wait for a slot,
  so a burst never piles pages up in memory.

Without an installed pool (tests, one-off commands) pages are read in a thread as before.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any, TypeVar

from scheduler.extract import ExtractedPage, decode_page, extract_page

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a worker spends on one page before it gives up on it.
SOFT_TIMEOUT = 5.0
#: Pages in the pool per worker; more wait for a slot.
QUEUE_PER_WORKER = 4
#: Seconds after which a page still not read gets its worker killed: longer than a page
#: can wait behind the others in its worker's queue, each stopped at the soft timeout.
HARD_TIMEOUT = SOFT_TIMEOUT * (QUEUE_PER_WORKER + 1) + 5.0
_REPEAT = 0.5


@dataclass(frozen=True, slots=True)
class PageRead:
    """What an article page gave: its text, its ``hreflang`` language links and its lead
    image."""

    text: str = ""
    alternates: tuple[tuple[str, str], ...] = ()
    image: str = ""


def read_page(html: str, url: str) -> PageRead:
    """Text, language links and lead image of a decoded article page (runs in a worker)."""
    page = extract_page(html, url, metadata=False)
    return PageRead(page.text, page.alternates, page.image)


def cores() -> int:
    """CPUs this process may run on (the container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _Overtime(BaseException):
    """Raised inside a worker, again every ``_REPEAT`` seconds, when a page takes longer
    than the soft timeout (a BaseException: no ``except Exception`` in a library keeps
    the worker on the page)."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Overtime


def _start_worker(level: int) -> None:
    """Worker set-up: the alarm that bounds a page and the parent's log level; Ctrl-C
    is the parent's to handle (it closes the pool)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s (worker): %(message)s")


def _bounded(soft_timeout: float, job: Callable[..., T], *args: Any) -> T:
    """Run ``job`` in the worker with the soft timeout armed."""
    signal.setitimer(signal.ITIMER_REAL, soft_timeout, _REPEAT)
    try:
        return job(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


class ExtractionPool:
    """A process pool for CPU-heavy page reading, safe to share by every poll."""

    def __init__(
        self,
        workers: int | None = None,
        *,
        soft_timeout: float = SOFT_TIMEOUT,
        hard_timeout: float = HARD_TIMEOUT,
        queue: int | None = None,
    ) -> None:
        self.workers = workers or cores()
        self.restarts = 0
        self._soft = soft_timeout
        self._hard = hard_timeout
        self._slots = asyncio.Semaphore(queue or self.workers * QUEUE_PER_WORKER)
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    async def run(self, job: Callable[..., T], *args: Any, default: T) -> T:
        """``job(*args)`` in a worker; ``default`` when it fails, times out or crashes
        twice. ``job`` and its arguments must be picklable (a module-level function)."""
        if self._closed:
            raise RuntimeError("extraction pool is closed")
        async with self._slots:
            for _ in range(2):
                executor = self._running()
                try:
                    future: Future[T] = executor.submit(_bounded, self._soft, job, *args)
                    return await asyncio.wait_for(asyncio.wrap_future(future), self._hard)
                except BrokenProcessPool:
                    log.warning("an extraction worker died; pool restarted")
                    self._restart(executor)
                except TimeoutError:
                    log.warning("extraction stuck over %.0f s; worker killed", self._hard)
                    self._restart(executor, kill=True)
                    return default
                except _Overtime:
                    log.warning("a page took over %.0f s to read; left unread", self._soft)
                    return default
                except Exception as exc:  # the job's own failure
                    log.warning("extraction failed: %s: %s", type(exc).__name__, exc)
                    return default
            return default

    def _running(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=_context(),
                initializer=_start_worker,
                initargs=(logging.getLogger().getEffectiveLevel(),),
            )
        return self._executor

    def _restart(self, executor: ProcessPoolExecutor, *, kill: bool = False) -> None:
        """Replace ``executor`` (once, however many callers saw it break)."""
        if self._executor is not executor:
            return
        self._executor = None
        self.restarts += 1
        if kill:
            _kill_workers(executor)
        executor.shutdown(wait=False, cancel_futures=True)

    async def start(self) -> None:
        """Start every worker now (each imports trafilatura), not on the first burst."""
        executor = self._running()
        await asyncio.gather(
            *(asyncio.wrap_future(executor.submit(os.getpid)) for _ in range(self.workers))
        )

    async def close(self) -> None:
        """Stop the workers: pages in flight finish (bounded by the soft timeout), then
        anything still running is killed."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(executor.shutdown, True), self._hard)
        except TimeoutError:
            _kill_workers(executor)
            executor.shutdown(wait=False, cancel_futures=True)


def _context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fresh single-threaded server that has this module (and so
    trafilatura) imported: never a fork of the bot's threaded process, and a restarted
    worker is ready in milliseconds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    processes: dict[int, Any] = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        process.kill()


_installed: ExtractionPool | None = None


@asynccontextmanager
async def extraction_pool(
    workers: int | None = None, *, warm: bool = False
) -> AsyncIterator[ExtractionPool]:
    """Install a pool for :func:`read_article` and :func:`read_listed` until the block
    ends, then close it. Workers start with the first page (a bot whose feeds carry
    full text never starts them), or at once with ``warm``."""
    global _installed  # one pool per process, as there is one set of cores
    pool = ExtractionPool(workers)
    if warm:
        await pool.start()
    previous, _installed = _installed, pool
    try:
        yield pool
    finally:
        _installed = previous
        await pool.close()


async def read_article(body: bytes, headers: Mapping[str, str], url: str) -> PageRead:
    """An article page's text, language links and lead image, read off the event loop
    (in the installed pool, else in a thread); an empty read when unreadable."""
    html = decode_page(body, headers, url)
    if not html:
        return PageRead()
    if _installed is None:
        return await asyncio.to_thread(read_page, html, url)
    return await _installed.run(read_page, html, url, default=PageRead())


async def read_listed(body: bytes, headers: Mapping[str, str], url: str) -> ExtractedPage:
    """A page found on a section page (no feed describes it): its text and, from its
    head or else trafilatura's metadata search, title, time and sections."""
    html = decode_page(body, headers, url)
    if not html:
        return ExtractedPage(url=url)
    if _installed is None:
        return await asyncio.to_thread(extract_page, html, url)
    return await _installed.run(extract_page, html, url, default=ExtractedPage(url=url))
