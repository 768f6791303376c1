"""Ingestion: one poll of one feed, as decisions, then effects.

- :mod:`.ingestor` sequences a poll: fetch, parse, read what is stored, decide, apply;
- pure decisions, data in and data out: :mod:`.polling` (when next, backoff, alerts,
  410, redirects), :mod:`.entries` (what is new, what is pushed, gaps), :mod:`.articles`
  (editions, corrections, what a transaction inserts);
- :mod:`.apply` writes a poll's decisions in ONE transaction; :mod:`.stored` reads;
- :mod:`.enrich` (article pages, language links, REST discovery), :mod:`.gapfill`,
  :mod:`.removals` and :mod:`.cmspush` are the network extras, each in its own module.
"""

from scheduler.ingest.enrich import HTML_ACCEPT
from scheduler.ingest.ingestor import Ingestor
from scheduler.ingest.polling import (
    IDLE_POLLS_PER_STEP,
    MAX_FLOOR,
    MAX_STRETCH,
    MAX_STRETCHED_INTERVAL,
    backoff,
    next_interval,
    stretched_interval,
)
from scheduler.ingest.report import PollReport

__all__ = [
    "HTML_ACCEPT",
    "IDLE_POLLS_PER_STEP",
    "MAX_FLOOR",
    "MAX_STRETCH",
    "MAX_STRETCHED_INTERVAL",
    "Ingestor",
    "PollReport",
    "backoff",
    "next_interval",
    "stretched_interval",
]
