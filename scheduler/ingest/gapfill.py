"""A gap: a known feed shows none of the entries it showed before.

Articles published in between may be missing from the feed. The WordPress REST API
(the catalog's, or one found from the feed's answers) supplies what followed the newest
article stored; without one, or when it fails, the editors are told, at most once per
feed every :data:`GAP_ALERT_EVERY` (a feed that only ever shows its newest item would
otherwise raise one on every new article).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.alerts import Alerts, Notice, notice
from bot.catalog import Feed
from bot.clock import Clock
from scheduler.fetch import Fetcher
from scheduler.identity import entry_key
from scheduler.ingest.entries import Keyed, newest_first
from scheduler.wordpress import posts_since

log = logging.getLogger(__name__)

#: Gap alerts for one feed are sent at most this often (each gap is still logged).
GAP_ALERT_EVERY = timedelta(hours=6)

Fresh = Callable[[Sequence[Keyed]], Awaitable[list[Keyed]]]


def alert_due(last: datetime | None, now: datetime) -> bool:
    """Whether a gap alert may go out now, the last one having gone at ``last``."""
    return last is None or now - last >= GAP_ALERT_EVERY


class GapFill:
    """Fills gaps from the REST API and remembers when each feed's last alert went."""

    def __init__(self, fetcher: Fetcher, clock: Clock, alerts: Alerts, fresh: Fresh) -> None:
        self._fetcher = fetcher
        self._clock = clock
        self._alerts = alerts
        self._fresh = fresh
        self._alerted: dict[str, datetime] = {}

    async def fill(
        self,
        feed: Feed,
        fresh: list[Keyed],
        rest: str | None,
        since: Callable[[], Awaitable[datetime]],
    ) -> list[Keyed]:
        """``fresh`` and the unknown posts the REST API lists after ``since()``, newest first."""
        if not rest:
            log.warning(
                "gap in %s: none of its %d entries was seen before; articles published "
                "in between may be missing (no WordPress REST API configured)",
                feed.url,
                len(fresh),
            )
            await self._alert(feed, notice("gap", url=feed.url, count=len(fresh)))
            return fresh
        filled = await posts_since(self._fetcher, rest, await since(), feed.language)
        if filled.error:
            log.warning("gap fill for %s incomplete: %s", feed.url, filled.error)
            await self._alert(feed, notice("gap_incomplete", url=feed.url, error=filled.error))
        have = {key for key, _ in fresh}
        extra = [(entry_key(e), e) for e in filled.entries]
        extra = [(k, e) for k, e in await self._fresh(extra) if k not in have]
        log.info("gap in %s: the REST API supplied %d more posts", feed.url, len(extra))
        return newest_first([*fresh, *extra])

    async def _alert(self, feed: Feed, text: Notice) -> None:
        now = self._clock.now()
        if not alert_due(self._alerted.get(feed.url), now):
            return
        self._alerted[feed.url] = now
        await self._alerts.alert(text)
