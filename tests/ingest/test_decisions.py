"""Each ingestion rule as data in, data out: no database, no network, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.catalog import Feed
from bot.domain import FeedEntry
from bot.storage.articles import NewArticle
from scheduler.corrections import Removed, Stored
from scheduler.identity import canonical_url, fallback_key
from scheduler.ingest import articles, entries, polling
from scheduler.ingest.articles import Edition
from scheduler.ingest.gapfill import GAP_ALERT_EVERY, alert_due
from scheduler.ingest.polling import Answer, FeedState, Found
from scheduler.ingest.removals import removal_notice

NOW = datetime(2026, 11, 27, 8, 0, 0)
URL = "https://caucasus-wire.example/feed/"
FEED = Feed(url=URL, language="en", interval=100, backlog=2, horizon=24)
EDITION = Edition("en", (), 600, ("Caucasus Wire",))


def state(**changes: object) -> FeedState:
    values: dict[str, object] = {
        "id": 7,
        "url": URL,
        "etag": None,
        "last_modified": None,
        "initialized": True,
        "disabled": False,
        "failures": 0,
        "next_poll_at": None,
        "hold_until": None,
        "ttl_seconds": None,
        "last_success_at": None,
        "idle_polls": 0,
        "moved_to": None,
        "moved_count": 0,
        "alerted": False,
    }
    values.update(changes)
    return FeedState(**values)  # type: ignore[arg-type]


def entry(n: int, **changes: object) -> FeedEntry:
    values: dict[str, object] = {
        "guid": f"g{n}",
        "url": f"https://caucasus-wire.example/{n}/",
        "title": f"Story {n}",
        "summary_html": f"<p>Story {n} happened in Tbilisi today. It was long enough.</p>",
    }
    values.update(changes)
    return FeedEntry(**values)  # type: ignore[arg-type]


def half() -> float:
    """The middle of the jitter range: no jitter at all."""
    return 0.5


# --- the feed's schedule ----------------------------------------------------------------------


def test_a_disabled_held_or_early_feed_is_skipped_and_a_forced_one_waits_only_for_a_hold() -> None:
    assert polling.skip_reason(state(disabled=True), NOW, force=True) == polling.Skip("disabled")
    held = state(hold_until=NOW + timedelta(seconds=5))
    assert polling.skip_reason(held, NOW, force=True) == polling.Skip(
        "skipped", "server asked to wait", NOW + timedelta(seconds=5)
    )
    early = state(next_poll_at=NOW + timedelta(seconds=5))
    assert polling.skip_reason(early, NOW, force=False) is not None
    assert polling.skip_reason(early, NOW, force=True) is None
    assert polling.skip_reason(state(next_poll_at=NOW), NOW, force=False) is None


def test_a_good_poll_clears_failures_keeps_validators_and_counts_idle_polls() -> None:
    answer = Answer('"v2"', "Fri, 27 Nov 2026 08:00:00 GMT")
    idle = polling.after_success(
        FEED, state(idle_polls=3, failures=2), answer, Found(False, None), NOW, rng=half
    )
    assert idle.values["etag"] == '"v2"' and idle.values["consecutive_failures"] == 0
    assert idle.values["idle_polls"] == 4 and idle.alert is None
    assert idle.next_poll_at == NOW + timedelta(seconds=200)  # stretched once, no jitter
    news = polling.after_success(
        FEED, state(idle_polls=9), answer, Found(True, None), NOW, rng=half
    )
    assert news.values["idle_polls"] == 0
    assert news.next_poll_at == NOW + timedelta(seconds=100)


def test_max_age_and_ttl_are_a_floor_on_the_next_poll() -> None:
    answer = Answer(None, None, max_age=900)
    change = polling.after_success(FEED, state(), answer, Found(False, 1200), NOW, rng=half)
    assert change.next_poll_at == NOW + timedelta(seconds=1200)
    assert change.values["ttl_seconds"] == 1200
    assert polling.poll_floor(10**9, None) == polling.MAX_FLOOR


def test_recovery_after_an_alert_is_announced_once() -> None:
    change = polling.after_success(
        FEED, state(alerted=True), Answer(None, None), Found(True, None), NOW
    )
    assert str(change.alert) == f"Feed is back: {URL}" and change.values["alerted"] is False


def test_a_found_rest_api_is_stored_with_how_it_was_found() -> None:
    found = Found(True, None, "https://caucasus-wire.example/wp-json/wp/v2/", "link header")
    change = polling.after_success(FEED, state(), Answer(None, None), found, NOW)
    assert change.values["wordpress_api"] == found.wordpress_api
    assert change.values["wordpress_found"] == "link header"
    plain = polling.after_success(FEED, state(), Answer(None, None), Found(True, None), NOW)
    assert "wordpress_api" not in plain.values


def test_failures_back_off_and_alert_once_at_the_third() -> None:
    second = polling.after_failure(FEED, state(failures=1), "HTTP 500", NOW, rng=half)
    assert second.next_poll_at == NOW + timedelta(seconds=200) and second.alert is None
    assert second.values["hold_until"] is None
    third = polling.after_failure(FEED, state(failures=2), "HTTP 500", NOW, rng=half)
    assert str(third.alert) == f"Feed failing 3 times in a row: {URL} (HTTP 500)"
    assert third.values["alerted"] is True
    fourth = polling.after_failure(FEED, state(failures=3, alerted=True), "HTTP 500", NOW)
    assert fourth.alert is None and fourth.values["alerted"] is True


def test_retry_after_sets_a_hold_that_even_forced_polls_respect() -> None:
    change = polling.after_failure(FEED, state(), "HTTP 429", NOW, 120.0)
    assert change.next_poll_at == change.values["hold_until"] == NOW + timedelta(seconds=120)


def test_410_disables_the_feed_and_tells_the_editors() -> None:
    change = polling.after_gone(FEED)
    assert change.values == {"disabled": True, "last_error": "HTTP 410 Gone"}
    assert change.alert and URL in str(change.alert)


def test_a_permanent_redirect_is_adopted_on_its_third_sighting() -> None:
    target = "https://caucasus-wire.example/new-feed/"
    seen: FeedState = state()
    for count in (1, 2):
        change = polling.after_success(
            FEED, seen, Answer(None, None, None, target), Found(False, None), NOW
        )
        assert change.values["moved_count"] == count and change.moved_to is None
        seen = state(moved_to=target, moved_count=count)
    adopted = polling.after_success(
        FEED, seen, Answer(None, None, None, target), Found(False, None), NOW
    )
    assert adopted.values["current_url"] == target and adopted.moved_to == target
    assert polling.redirect_values(state(moved_to=target, moved_count=2), None)["moved_count"] == 0


# --- what is new and what is pushed ----------------------------------------------------------


def test_a_reused_guid_is_rekeyed_and_a_known_one_dropped() -> None:
    keyed = [("guid:g1", entry(1)), ("guid:g2", entry(2))]
    stored = {
        "guid:g1": ("https://caucasus-wire.example/1/", "Story 1"),  # the same article
        "guid:g2": ("https://caucasus-wire.example/old/", "Another story"),  # reused
    }
    found = entries.candidates(keyed, stored)
    assert [key for key, _ in found] == [fallback_key(entry(2))]


def test_first_poll_pushes_the_backlog_later_polls_all_but_old_items() -> None:
    old = NOW - timedelta(hours=30)
    fresh = [(f"k{n}", entry(n, published=NOW.replace(tzinfo=UTC))) for n in range(4)]
    fresh.append(("k9", entry(9, published=old.replace(tzinfo=UTC))))
    assert entries.announced(FEED, False, fresh, NOW) == {0, 1}
    assert entries.announced(FEED, True, fresh, NOW) == {0, 1, 2, 3}


def test_a_gap_is_a_known_rss_feed_with_nothing_known() -> None:
    keyed = [("a", entry(1)), ("b", entry(2))]
    assert entries.has_gap(FEED, True, keyed, keyed)
    assert not entries.has_gap(FEED, False, keyed, keyed)  # first poll
    assert not entries.has_gap(FEED, True, keyed, keyed[:1])  # one was known
    assert not entries.has_gap(FEED, True, [], [])


def test_newest_first_puts_undated_entries_last() -> None:
    dated = entry(1, published=datetime(2026, 1, 2, tzinfo=UTC))
    naive = entry(2, published=datetime(2026, 1, 3))
    undated = entry(3)
    ordered = entries.newest_first([("u", undated), ("d", dated), ("n", naive)])
    assert [key for key, _ in ordered] == ["n", "d", "u"]


# --- editions, inserts and corrections -------------------------------------------------------


def article(key: str, url: str) -> NewArticle:
    return NewArticle(key, url, url, key, "", "en", (), 7, None, True)


def test_inserts_go_oldest_first_skipping_known_keys_urls_and_repeats() -> None:
    prepared = [article("c", "u3"), article("b", "u1"), article("a", "u1"), article("z", "u0")]
    chosen = articles.to_insert(prepared, taken_keys={"z"}, taken_urls={"u3"})
    assert [a.key for a in chosen] == ["a"]  # b repeats a's URL; c's URL and z's key are known


def test_a_correction_uses_the_same_title_and_summary_as_the_stored_edition() -> None:
    news = entry(1)
    title, summary = articles.edition_text(news, EDITION, None)
    same = Stored(1, title, summary)
    assert articles.corrections(EDITION, [(same, news)]) == []
    fixed = entry(1, title="Story 1, corrected")
    [fix] = articles.corrections(EDITION, [(same, fixed)])
    assert (fix.title, fix.summary, fix.edit) == ("Story 1, corrected", summary, True)


def test_text_first_read_from_the_rest_api_is_rebased_without_an_edit() -> None:
    news = entry(1, title="From the feed")
    [fix] = articles.corrections(EDITION, [(Stored(1, "From REST", "x", "", "rest"), news)])
    assert fix.edit is False and fix.title == "From the feed"


def test_breaking_by_category_or_by_a_push_of_its_post_id_or_url() -> None:
    by_term = Edition("en", (), 600, (), breaking_terms=frozenset({"breaking"}))
    assert articles.is_breaking(entry(1, categories=("Breaking",)), by_term)
    pushed = Edition("en", (), 600, (), breaking_pushes=((42, None),))
    assert articles.is_breaking(entry(1, wp_post_id=42), pushed)
    by_url = Edition(
        "en",
        (),
        600,
        (),
        breaking_pushes=((None, canonical_url("https://caucasus-wire.example/1/")),),
    )
    assert articles.is_breaking(entry(1), by_url)
    assert not articles.is_breaking(entry(2), by_url)


def test_extra_columns_carry_language_links_and_the_rest_source() -> None:
    assert articles.extra_columns("k", {"k": "[]x"}, {"k"}) == {
        "alternates": "[]x",
        "text_source": "rest",
    }
    assert articles.extra_columns("k", {"k": ""}, set()) == {}


# --- gaps and removals -------------------------------------------------------------------------


def test_gap_alerts_are_spaced_out() -> None:
    assert alert_due(None, NOW)
    assert not alert_due(NOW - GAP_ALERT_EVERY + timedelta(seconds=1), NOW)
    assert alert_due(NOW - GAP_ALERT_EVERY, NOW)


def test_the_removal_notice_says_whether_messages_go() -> None:
    gone = Removed(1, "https://caucasus-wire.example/1/", "Story 1")
    assert "3 sent messages queued for deletion" in str(removal_notice(gone, 3, True))
    assert "delete_removed is off" in str(removal_notice(gone, 0, False))
