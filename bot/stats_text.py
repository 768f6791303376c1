"""The ``/stats`` text, in the operator's language, for a phone screen.

Every line is "label: figure", so no language has to inflect a noun after a number
(``stats.window`` names 7 and 30 days only, which every language here writes alike).
Plain text (the message goes out without parse mode): the translator's ``plain``.
"""

from __future__ import annotations

from collections import Counter

from bot.i18n import Translator
from bot.stats import ALL, Stats, region_totals


def format_stats(stats: Stats, region_names: dict[str, str], tr: Translator, lang: str) -> str:
    """A short plain-text summary of ``stats`` in ``lang``."""

    def name(code: str) -> str:
        if code in (ALL, "all"):
            return tr.plain(lang, "stats.all_regions")
        return region_names.get(code, code)

    def pairs(counter: Counter[str]) -> str:
        found = ", ".join(f"{name(k)} {v}" for k, v in counter.most_common())
        return found or tr.plain(lang, "stats.none")

    when = f"{tr.format_date(lang, stats.now, 'medium')} {stats.now:%H:%M}"
    lines = [tr.plain(lang, "stats.title", when=when)]
    subscriptions = sum(stats.subscribers.values())
    lines.append(tr.plain(lang, "stats.readers", people=stats.people, subscriptions=subscriptions))
    lines.append(tr.plain(lang, "stats.channels", channels=stats.channels))
    by_region = region_totals(stats)
    if by_region:
        lines.append("  " + tr.plain(lang, "stats.by_region", pairs=pairs(by_region)))
    languages: Counter[str] = Counter()
    for (_region, code), n in stats.subscribers.items():
        languages[code] += n
    if languages:
        listed = ", ".join(f"{k} {v}" for k, v in languages.most_common())
        lines.append("  " + tr.plain(lang, "stats.by_language", pairs=listed))
    for w in stats.windows:
        lines += ["", tr.plain(lang, "stats.window", days=w.days)]
        lines.append("  " + tr.plain(lang, "stats.posts", posts=w.posts, deliveries=w.deliveries))
        taps = sum(w.read_more.values())
        lines.append("  " + tr.plain(lang, "stats.read_more", taps=taps, pairs=pairs(w.read_more)))
        taps = sum(w.donate.values())
        lines.append("  " + tr.plain(lang, "stats.donate", taps=taps, pairs=pairs(w.donate)))
        lines.append("  " + tr.plain(lang, "stats.stars", stars=w.stars, donations=w.donations))
    if stats.trend is not None:
        t = stats.trend
        trend = tr.plain(
            lang, "stats.trend", days=len(t.days), new=t.total("new"), lost=t.total("lost")
        )
        lines += ["", trend]
    return "\n".join(lines)
