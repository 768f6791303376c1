"""The two ``/stats`` charts, drawn for a phone: where the readers are, and how the last
30 days went.

Both stay readable with no data at all: every axis starts at zero and reaches at least 1
with whole-number ticks (matplotlib would otherwise centre an empty axis on zero, from
−0.04 to 0.04). CPU-bound: the caller runs them in a thread; the Agg backend needs no
display.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from bot.stats import ALL, Stats, ordered_codes, region_totals
from bot.stats_trend import Trend

BLUE, ORANGE, TEAL, GREEN, RED, GOLD = (
    "#2a6f97",
    "#f4a261",
    "#2a9d8f",
    "#2a9d4f",
    "#d62828",
    "#e9c46a",
)


def _figure(size: tuple[float, float]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=150, layout="constrained")


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _from_zero(axes: Any, values: Sequence[int], *, horizontal: bool, room: float = 1.1) -> None:
    """Counts start at 0, reach at least 1, and tick on whole numbers only; a panel with
    nothing to show says so (``room``: headroom above the highest value, for a legend)."""
    if not any(values):
        axes.text(0.5, 0.5, "none yet", transform=axes.transAxes, ha="center", color="#888888")
    top = max([1, *values]) * room
    axis = axes.xaxis if horizontal else axes.yaxis
    (axes.set_xlim if horizontal else axes.set_ylim)(0, top)
    axis.get_major_locator().set_params(integer=True)
    axes.grid(axis="x" if horizontal else "y", alpha=0.3)


def render_chart(stats: Stats, region_names: dict[str, str]) -> bytes:
    """Subscriptions per region, then Read-more taps per region (7 against 30 days)."""
    return _png(chart_figure(stats, region_names))


def render_trend(trend: Trend) -> bytes:
    """The last 30 days (``trend_figure``) as a PNG."""
    return _png(trend_figure(trend))


def chart_figure(stats: Stats, region_names: dict[str, str]) -> Any:
    """The first chart's matplotlib figure."""
    subscribers = region_totals(stats)
    week, month = stats.window(7), stats.window(30)
    codes = ordered_codes([subscribers, month.read_more, week.read_more])
    labels = ["All" if c in (ALL, "all") else region_names.get(c, c) for c in codes] or ["(none)"]
    positions = list(range(len(labels)))
    figure = _figure((6, 8))
    top, bottom = figure.subplots(2, 1)
    counts = [subscribers.get(c, 0) for c in codes] or [0]
    top.barh(positions, counts, color=BLUE)
    top.set_title("Subscriptions per region", fontsize=15)
    weekly = [week.read_more.get(c, 0) for c in codes] or [0]
    monthly = [month.read_more.get(c, 0) for c in codes] or [0]
    bottom.barh([p + 0.2 for p in positions], weekly, height=0.4, label="7 days", color=ORANGE)
    bottom.barh([p - 0.2 for p in positions], monthly, height=0.4, label="30 days", color=TEAL)
    bottom.set_title("Read more taps per region", fontsize=15)
    bottom.legend(fontsize=12)
    for axes, values in ((top, counts), (bottom, [*weekly, *monthly])):
        axes.set_yticks(positions, labels, fontsize=13)
        axes.invert_yaxis()
        axes.tick_params(axis="x", labelsize=11)
        _from_zero(axes, values, horizontal=True)
    figure.suptitle(f"{stats.now:%Y-%m-%d}", fontsize=11, color="#555555")
    return figure


def trend_figure(trend: Trend) -> Any:
    """Four panels over the same days: readers in and out, messages delivered, taps, Stars."""
    figure = _figure((6, 9))
    panels = figure.subplots(4, 1, sharex=True)
    days = list(range(len(trend.days)))
    s = trend.series
    readers, sent, taps, stars = panels
    readers.bar([d - 0.2 for d in days], s["new"], width=0.4, color=GREEN, label="new")
    readers.bar([d + 0.2 for d in days], s["lost"], width=0.4, color=RED, label="left")
    readers.set_title("Readers: new and left", fontsize=13)
    readers.legend(fontsize=10, loc="upper left", ncols=2)
    sent.bar(days, s["deliveries"], color=BLUE)
    sent.set_title("Messages delivered", fontsize=13)
    taps.plot(days, s["read_more"], color=TEAL, marker=".", label="Read more")
    taps.plot(days, s["donate"], color=ORANGE, marker=".", label="Donate")
    taps.set_title("Taps", fontsize=13)
    taps.legend(fontsize=10, loc="upper left", ncols=2)
    stars.bar(days, s["stars"], color=GOLD)
    stars.set_title("Stars received", fontsize=13)
    values = {
        readers: [*s["new"], *s["lost"]],
        sent: s["deliveries"],
        taps: [*s["read_more"], *s["donate"]],
        stars: s["stars"],
    }
    for axes, series in values.items():
        room = 1.35 if axes in (readers, taps) else 1.1  # the legend sits above the bars
        _from_zero(axes, list(series), horizontal=False, room=room)
        axes.tick_params(labelsize=10)
    ticks = days[::7] if days else []
    stars.set_xticks(ticks, [f"{trend.days[d]:%d %b}" for d in ticks])
    if days:
        stars.set_xlim(-0.6, len(days) - 0.4)
    first, last = (trend.days[0], trend.days[-1]) if trend.days else ("", "")
    figure.suptitle(f"Last {len(days)} days: {first} to {last}", fontsize=11, color="#555555")
    return figure
