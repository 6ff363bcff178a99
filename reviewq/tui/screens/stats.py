"""The stats screen: does review keep up with AI-authored change, and is it real review?

Headline figures in `Digits`, weekly (or daily) trends in `Sparkline`s, tables by reviewer and by
author family, and a period switch (7 / 30 / 90 days / all time). The screen is handed either a
`Context` (it gathers the inputs in a worker: scanning and reading a large log must not block
the UI) or ready `MetricInputs` (tests, and apps that already hold them). Switching the period
recomputes from the same inputs in a worker; nothing is read again.

The team view: a `Context` whose settings list `[team] repos`, or `TeamInputs`. The headline,
trends and tables are then the total over every repository (computed from all their rows), and
a table by repository shows each one's own figures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from textual import work
from textual.app import ComposeResult, RenderResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.renderables.sparkline import Sparkline as SparklineRenderable
from textual.screen import Screen
from textual.widgets import DataTable, Digits, Footer, Label, Sparkline, Static, Tab, Tabs

from reviewq.clock import local_now
from reviewq.core.metrics import Period, Stats
from reviewq.core.report import fmt_int, fmt_pct, zone_words
from reviewq.core.stats_rows import BREAKDOWN_COLUMNS, breakdown_cells
from reviewq.core.text import one_line
from reviewq.core.times import duration
from reviewq.errors import ReviewqError
from reviewq.tui import keymap

#: (id, tab label, days back; None = everything)
PERIODS: tuple[tuple[str, str, int | None], ...] = (
    ("7d", "7 days", 7),
    ("30d", "30 days", 30),
    ("90d", "90 days", 90),
    ("all", "All time", None),
)


def digits_pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.0f}"


def digits_duration(seconds: float | None) -> str:
    """The clock style of `core.times.duration` (Digits draws only digits and a few signs);
    the caption beside it gives the same figure in words, as the report prints it."""
    return "-" if seconds is None else duration(seconds, "clock")


class Headline(Vertical):
    """One big number with what it is and what it is made of."""

    DEFAULT_CSS = """
    Headline { height: auto; padding: 0 1; border: round $panel; }
    Headline > .caption { color: $text-muted; }
    Headline > .detail { color: $text-muted; width: 1fr; height: auto; }
    Headline > Digits { width: auto; }
    """

    def __init__(self, caption: str, *, id: str) -> None:
        super().__init__(id=id)
        self.caption = caption

    def compose(self) -> ComposeResult:
        yield Label(self.caption, classes="caption")
        yield Digits("-")
        yield Label("", classes="detail")

    def show(self, value: str, detail: str) -> None:
        self.query_one(Digits).update(value)
        self.query_one(".detail", Label).update(one_line(detail))


class _FromZero(SparklineRenderable):
    """Bars measured from zero (and up to a ceiling, for shares), not from the smallest value to
    the largest: coverage going from 95 % to 100 % must not look like a fall to nothing, and a
    steady 50 % must not look like 100 % or like nothing.

    The data carries two leading values, 0 and the ceiling, that set the scale; `_buckets`
    leaves them out of the bars.
    """

    @classmethod
    def _buckets(cls, data: list[Any], num_buckets: int):  # type: ignore[override]
        return super()._buckets(data[2:], num_buckets)


class LevelSparkline(Sparkline):
    """A Sparkline whose bars start at zero and reach `ceiling` (None: the largest value)."""

    ceiling: float | None = None

    def render(self) -> RenderResult:
        data = list(self.data or [])
        top = self.ceiling if self.ceiling is not None else max(data, default=0.0)
        _, base = self.background_colors
        min_color = base + self.get_component_styles("sparkline--min-color").color
        max_color = base + self.get_component_styles("sparkline--max-color").color
        return _FromZero(
            [0.0, top, *data] if data else [],
            width=self.size.width,
            height=self.size.height,
            min_color=min_color.rich_color,
            max_color=max_color.rich_color,
            summary_function=self.summary_function,
        )


class Trend(Vertical):
    """A labelled sparkline over periods, with its latest value."""

    DEFAULT_CSS = """
    Trend { height: 3; }
    Trend > Horizontal { height: 1; }
    Trend .name { width: 1fr; color: $text-muted; }
    Trend .last { width: auto; }
    Trend > LevelSparkline { height: 2; }
    """

    def __init__(self, name: str, *, id: str) -> None:
        super().__init__(id=id)
        self.trend_name = name

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(self.trend_name, classes="name")
            yield Label("", classes="last")
        yield LevelSparkline([])

    def show(self, values: list[float], last: str, *, ceiling: float | None = None) -> None:
        """`ceiling`: 1.0 for shares (bars in proportion to 100 %), None for counts and times."""
        spark = self.query_one(LevelSparkline)
        spark.ceiling = ceiling
        spark.data = values
        self.query_one(".last", Label).update(last)


class StatsScreen(Screen):
    """Throughput for leads. Push it with a `Context` or with `MetricInputs`."""

    DEFAULT_CSS = """
    StatsScreen { layout: vertical; }
    StatsScreen #title { height: 1; padding: 0 1; text-style: bold; }
    StatsScreen #status { height: 1; padding: 0 1; color: $text-muted; }
    StatsScreen #headlines { grid-size: 4; grid-gutter: 0 1; height: auto; padding: 0 1; }
    StatsScreen #trends { grid-size: 2; grid-gutter: 0 2; height: auto; padding: 1 1 0 1; }
    StatsScreen .section { padding: 1 1 0 1; text-style: bold; }
    StatsScreen DataTable { height: auto; max-height: 14; margin: 0 1; }
    """

    # Keys come from the one registry (reviewq.tui.keymap), so a user keymap can change them
    # and the help screen lists them.
    BINDINGS = keymap.screen_bindings("stats")

    def __init__(
        self,
        source: Any,
        *,
        now: datetime | Callable[[], datetime] | None = None,
        period: str = "30d",
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        """`source`: the figures' inputs (`MetricInputs`, or `TeamInputs` for a team), or a
        function that gathers them (`Services.gather_stats`, called in a worker: the screen
        reaches the log only through it). `now`: a fixed time or a clock (tests pass a fixed
        one; default: the local clock)."""
        super().__init__(name=name, id=id)
        if period not in {p for p, _, _ in PERIODS}:
            raise ValueError(f"unknown period {period!r}")
        self._source = source
        self._inputs: Any = None
        self._now = now
        self.period = period
        self.stats: Stats | None = None

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Review throughput", id="title")
        yield Tabs(
            *(Tab(label, id=f"period-{pid}") for pid, label, _ in PERIODS),
            active=f"period-{self.period}",
        )
        yield Static("Loading…", id="status")
        with VerticalScroll():
            with Grid(id="headlines"):
                yield Headline("verdicts", id="h-verdicts")
                yield Headline("accepted, %", id="h-accepted")
                yield Headline("median review, m:ss", id="h-median")
                yield Headline("possible rubber stamps, %", id="h-stamps")
                yield Headline("waiting for a decision", id="h-queue")
                yield Headline("review coverage, %", id="h-coverage")
                yield Headline("second-family critique, %", id="h-critique")
                yield Headline("AI-authored commits, %", id="h-automation")
            with Grid(id="trends"):
                yield Trend("verdicts", id="t-verdicts")
                yield Trend("possible rubber stamps, share of approvals", id="t-stamps")
                yield Trend("median active time", id="t-median")
                yield Trend("waiting for a decision at period end", id="t-queue")
                yield Trend("AI-authored share of commits", id="t-automation")
                yield Trend("review coverage", id="t-coverage")
            yield Label("By repository", classes="section", id="by-repository-title")
            yield DataTable(id="by-repository", cursor_type="row", zebra_stripes=True)
            yield Label("By reviewer", classes="section")
            yield DataTable(id="by-reviewer", cursor_type="row", zebra_stripes=True)
            yield Label("By author family", classes="section")
            yield DataTable(id="by-family", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        reviewer = self.query_one("#by-reviewer", DataTable)
        reviewer.add_columns("Reviewer", *(screen for screen, _ in BREAKDOWN_COLUMNS))
        family = self.query_one("#by-family", DataTable)
        family.add_columns(
            "Family",
            "AI changes",
            "Coverage",
            "Verdicts",
            "Accepted",
            "Rejected",
            "Median",
            "Stamps",
            "2nd family",
        )
        repository = self.query_one("#by-repository", DataTable)
        repository.add_columns(
            "Repository",
            "AI commits",
            "Coverage",
            "Verdicts",
            "Rejected",
            "Median",
            "Stamps",
            "2nd family",
            "Waiting",
        )
        self._show_team(None)
        if callable(self._source):
            self._gather()
        else:
            self._inputs = self._source
            self._recompute()

    # -- actions -----------------------------------------------------------------------------------

    def action_period(self, period: str) -> None:
        self.query_one(Tabs).active = f"period-{period}"

    def action_next_period(self) -> None:
        ids = [p for p, _, _ in PERIODS]
        self.action_period(ids[(ids.index(self.period) + 1) % len(ids)])

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is None or event.tab.id is None:
            return
        period = event.tab.id.removeprefix("period-")
        if period != self.period or self.stats is None:
            self.period = period
            if self._inputs is not None:
                self._recompute()

    # -- work --------------------------------------------------------------------------------------

    def _clock(self) -> datetime:
        if isinstance(self._now, datetime):
            return self._now
        if callable(self._now):
            return self._now()
        return local_now()

    @work(thread=True, exclusive=True, group="stats-gather")
    def _gather(self) -> None:
        try:
            inputs = self._source()
        except ReviewqError as exc:
            self.app.call_from_thread(self._set_status, f"Cannot compute stats: {exc.message}")
            return
        self.app.call_from_thread(self._got_inputs, inputs)

    def _got_inputs(self, inputs: Any) -> None:
        self._inputs = inputs
        self._recompute()

    def _recompute(self) -> None:
        self._set_status("Computing…")
        self._compute(self.period)

    @work(thread=True, exclusive=True, group="stats-compute")
    def _compute(self, period: str) -> None:
        now = self._clock()
        days = dict((p, d) for p, _, d in PERIODS)[period]
        since = now - timedelta(days=days) if days is not None else None
        inputs = self._inputs
        combined = getattr(inputs, "combined", None)  # a team: totals, then each repository
        if combined is not None:
            stats = combined.stats(now, since)
            parts = [(p.repository, p.stats(now, since)) for p in inputs.parts]
        else:
            stats, parts = inputs.stats(now, since), None
        self.app.call_from_thread(self._show, period, stats, parts)

    def _set_status(self, text: str) -> None:
        self.query_one("#status", Static).update(one_line(text))

    # -- showing -----------------------------------------------------------------------------------

    def _show(
        self, period: str, stats: Stats, parts: list[tuple[str, Stats]] | None = None
    ) -> None:
        if period != self.period:
            return  # a newer period was asked for while this one computed
        self.stats = stats
        t, f, q = stats.totals, stats.flow, stats.queue
        label = dict((p, lab) for p, lab, _ in PERIODS)[period]
        whole = getattr(self._inputs, "combined", self._inputs)
        repo = one_line(getattr(whole, "repository", ""))
        self._show_team(parts, stats)
        self.query_one("#title", Static).update(f"Review throughput: {repo}, {label.lower()}")
        status = f"{stats.records:,} verdicts; days end in {zone_words(stats.tz)}"
        if stats.invalid_records:
            status += f"; {stats.invalid_records:,} unreadable records left out"
        self._set_status(status)

        def headline(hid: str, value: str, detail: str) -> None:
            self.query_one(f"#{hid}", Headline).show(value, detail)

        headline(
            "h-verdicts",
            f"{t.verdicts:,}".replace(",", " "),
            f"{t.approve} approve, {t.reject} reject, {t.changes} changes, {t.escalate} escalate",
        )
        headline(
            "h-accepted", digits_pct(t.acceptance_rate), f"rejected {fmt_pct(t.rejection_rate)}"
        )
        headline(
            "h-median",
            digits_duration(t.active_median_seconds),
            f"median {duration(t.active_median_seconds)}, p90 {duration(t.active_p90_seconds)}, "
            f"{fmt_int(t.lines_per_hour)} lines/h",
        )
        headline(
            "h-stamps",
            digits_pct(t.rubber_stamp_rate),
            f"{t.rubber_stamps} of {t.approve} approvals",
        )
        headline(
            "h-queue",
            str(q.depth),
            f"oldest {duration(q.oldest_pending_seconds)}, pickup {duration(q.pickup_median_seconds)}"
            if q.depth
            else f"pickup median {duration(q.pickup_median_seconds)}",
        )
        headline(
            "h-coverage",
            digits_pct(f.coverage),
            f"{f.reviewed_changes} of {f.ai_changes} AI-authored changes",
        )
        headline(
            "h-critique",
            digits_pct(t.second_family_rate),
            f"{t.second_family} of {t.verdicts} verdicts; same-family {t.same_family}",
        )
        headline(
            "h-automation",
            digits_pct(f.commit_share) if stats.automation_known else "-",
            f"lines {fmt_pct(f.line_share)}; {f.ai_commits} of {f.commits} commits"
            if stats.automation_known
            else "history not read",
        )
        self._show_trends(stats, daily=period in ("7d", "30d"))
        self._show_tables(stats)

    def _show_trends(self, stats: Stats, *, daily: bool) -> None:
        periods: list[Period] = stats.by_day if daily else stats.by_week
        unit = "day" if daily else "week"

        def series(get: Callable[[Period], float | None]) -> list[float]:
            return [float(v) if (v := get(p)) is not None else 0.0 for p in periods]

        def last(text: str) -> str:
            return f"{text} (last {unit})" if periods else "no data"

        trend = self.query_one
        latest = periods[-1] if periods else None
        trend("#t-verdicts", Trend).show(
            series(lambda p: p.verdicts.verdicts),
            last(str(latest.verdicts.verdicts) if latest else ""),
        )
        trend("#t-stamps", Trend).show(
            series(lambda p: p.verdicts.rubber_stamp_rate),
            last(fmt_pct(latest.verdicts.rubber_stamp_rate) if latest else ""),
            ceiling=1.0,
        )
        trend("#t-median", Trend).show(
            series(lambda p: p.verdicts.active_median_seconds),
            last(duration(latest.verdicts.active_median_seconds) if latest else ""),
        )
        trend("#t-queue", Trend).show(
            series(lambda p: p.flow.queue_depth_at_end),
            last(str(latest.flow.queue_depth_at_end) if latest else ""),
        )
        trend("#t-automation", Trend).show(
            series(lambda p: p.flow.commit_share),
            last(fmt_pct(latest.flow.commit_share) if latest else ""),
            ceiling=1.0,
        )
        trend("#t-coverage", Trend).show(
            series(lambda p: p.flow.coverage),
            last(fmt_pct(latest.flow.coverage) if latest else ""),
            ceiling=1.0,
        )

    def _show_team(self, parts: list[tuple[str, Stats]] | None, total: Stats | None = None) -> None:
        """The by-repository table: shown in the team view only; the last row is the total."""
        table = self.query_one("#by-repository", DataTable)
        title = self.query_one("#by-repository-title", Label)
        table.display = title.display = parts is not None
        table.clear()
        if parts is None or total is None:
            return
        for key, (name, st) in [*enumerate(parts), ("all", ("All", total))]:
            t, f = st.totals, st.flow
            table.add_row(
                one_line(name, 28),
                f"{f.ai_commits}/{f.commits}" if st.automation_known else "–",
                fmt_pct(f.coverage, 0),
                t.verdicts,
                fmt_pct(t.rejection_rate, 0),
                duration(t.active_median_seconds),
                fmt_pct(t.rubber_stamp_rate, 0),
                fmt_pct(t.second_family_rate, 0),
                st.queue.depth,
                key=str(key),
            )

    def _show_tables(self, stats: Stats) -> None:
        reviewer = self.query_one("#by-reviewer", DataTable)
        reviewer.clear()
        for r in stats.by_reviewer:
            reviewer.add_row(one_line(r.label, 28), *breakdown_cells(r), key=r.key)
        family = self.query_one("#by-family", DataTable)
        family.clear()
        verdicts = {r.key: r for r in stats.by_family}
        keys = sorted(
            set(verdicts) | set(stats.coverage_by_family),
            key=lambda k: (-stats.coverage_by_family.get(k, (0, 0))[0], k),
        )
        for key in keys:
            total, reviewed = stats.coverage_by_family.get(key, (0, 0))
            r = verdicts.get(key)
            family.add_row(
                one_line(key, 20),
                total,
                fmt_pct(reviewed / total if total else None, 0),
                r.verdicts if r else 0,
                fmt_pct(r.acceptance_rate, 0) if r else "–",
                fmt_pct(r.rejection_rate, 0) if r else "–",
                duration(r.active_median_seconds) if r else "–",
                fmt_pct(r.rubber_stamp_rate, 0) if r else "–",
                fmt_pct(r.second_family_rate, 0) if r else "–",
                key=key,
            )
