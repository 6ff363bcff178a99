"""The stats screen in a tiny host app: Pilot for behaviour, a snapshot for looks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual.app import App
from textual.widgets import DataTable, Digits, Sparkline, Tabs

from reviewq.core.metrics import AuthoredChange, CommitSize, Thresholds, VerdictTable
from reviewq.tui.screens.stats import StatsScreen
from reviewq.workflow.stats import MetricInputs
from tests.metrics_support import ANN, BOB, RULES_OPENED, RULES_UNOPENED, record

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CET)


def inputs() -> MetricInputs:
    """Six weeks of reviews by two people of three agents' changes."""
    changes, commits, records = [], [], []
    agents = [("claude-code", "anthropic"), ("codex", "openai"), ("jules", "google")]
    for i in range(30):
        when = NOW - timedelta(days=41 - i * 1.4, hours=3)
        agent, family = agents[i % 3]
        cid = f"{i:040x}"
        changes.append(AuthoredChange(cid, when.isoformat(timespec="seconds"), family, agent))
        commits.append(CommitSize(cid, when.isoformat(timespec="seconds"), 20 + i))
        commits.append(CommitSize(f"{i + 100:040x}", when.isoformat(timespec="seconds"), 15))
        if i >= 27:
            continue  # the newest three wait
        verdict = "reject" if i % 7 == 3 else "changes" if i % 9 == 4 else "approve"
        quick = i % 5 == 0
        records.append(
            record(
                i,
                verdict,
                (when + timedelta(hours=2 + i % 4)).isoformat(timespec="seconds"),
                change=cid,
                active=12 if quick else 120 + 10 * i,
                lines=20 + i,
                critique=RULES_UNOPENED if quick else None if i % 6 == 1 else RULES_OPENED,
                family=family,
                agent=agent,
                reviewer=BOB if i % 2 else ANN,
            )
        )
    return MetricInputs(
        table=VerdictTable.from_records(records),
        changes=changes,
        commits=commits,
        severity={},
        violations=None,
        thresholds=Thresholds(),
        tz=None,
        repository="orders",
        models={},
    )


class Host(App):
    """What the main app does: push the screen with what it has."""

    def __init__(self, period: str = "all") -> None:
        super().__init__()
        self.period = period

    def on_mount(self) -> None:
        self.push_screen(StatsScreen(inputs(), now=NOW, period=self.period))


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_shows_figures_and_switches_period():
    app = Host(period="all")
    async with app.run_test(size=(130, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        assert screen.stats is not None and screen.stats.totals.verdicts == 27
        verdicts = screen.query_one("#h-verdicts Digits", Digits)
        assert verdicts.value == "27"
        assert screen.query_one("#h-queue Digits", Digits).value == "3"
        reviewers = screen.query_one("#by-reviewer", DataTable)
        assert reviewers.row_count == 2
        families = screen.query_one("#by-family", DataTable)
        assert families.row_count == 3
        weekly = screen.query_one("#t-verdicts Sparkline", Sparkline)
        assert len(weekly.data) == len(screen.stats.by_week) >= 6

        await pilot.press("1")  # 7 days
        await settle(pilot)
        assert screen.period == "7d"
        assert app.screen.query_one(Tabs).active == "period-7d"
        week = screen.stats
        assert week is not None and 0 < week.totals.verdicts < 27
        assert screen.query_one("#h-verdicts Digits", Digits).value == str(week.totals.verdicts)
        # short periods trend by day
        assert len(screen.query_one("#t-verdicts Sparkline", Sparkline).data) == len(week.by_day)

        await pilot.press("p")  # next period: 30 days
        await settle(pilot)
        assert screen.period == "30d"

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, StatsScreen)


async def test_no_verdicts_shows_dashes():
    empty = MetricInputs(
        table=VerdictTable.from_records([]),
        changes=[],
        commits=None,
        severity={},
        violations=None,
        thresholds=Thresholds(),
        tz=None,
        repository="empty",
        models={},
    )

    class EmptyHost(App):
        def on_mount(self) -> None:
            self.push_screen(StatsScreen(empty, now=NOW, period="all"))

    app = EmptyHost()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#h-accepted Digits", Digits).value == "-"
        assert app.screen.query_one("#h-automation Digits", Digits).value == "-"


def test_snapshot(snap_compare):
    assert snap_compare(Host(period="all"), terminal_size=(130, 50), run_before=settle)


async def test_the_screen_and_the_report_show_a_duration_the_same_way():
    """One formatter (core.times.duration): the report's `2m 10s` is the screen's `2m 10s`,
    never `2:10` beside it (the big Digits alone keep the clock style: they draw no letters)."""
    from textual.widgets import Label

    from reviewq.core.report import disclosure, render_markdown
    from reviewq.core.times import duration

    app = Host(period="all")
    async with app.run_test(size=(130, 50)) as pilot:
        await settle(pilot)
        screen = app.screen
        stats = screen.stats
        assert stats is not None
        report = render_markdown(disclosure(stats, repository="orders"))
        median = duration(stats.totals.active_median_seconds)
        p90 = duration(stats.totals.active_p90_seconds)
        assert "m " in median  # a figure over a minute, where the two styles differ
        detail = str(screen.query_one("#h-median .detail", Label).render())
        assert f"median {median}" in detail and f"p90 {p90}" in detail
        assert median in report and f"p90 {p90}" in report
        digits = screen.query_one("#h-median Digits", Digits).value
        assert digits == duration(stats.totals.active_median_seconds, "clock")
        # the per-reviewer table: the same words, and the escalate column the CLI has
        table = screen.query_one("#by-reviewer", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert "Escalate" in labels
        row = stats.by_reviewer[0]
        cells = [str(c) for c in table.get_row(row.key)]
        assert duration(row.active_median_seconds) in cells
