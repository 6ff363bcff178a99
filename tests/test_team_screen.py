"""The stats screen's team view: totals over every repository and a table by repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

from textual.app import App
from textual.widgets import DataTable, Digits, Label

from reviewq.tui.screens.stats import StatsScreen
from reviewq.workflow.stats import TeamInputs, combine_inputs
from tests.test_metrics_screen import NOW, inputs, settle
from tests.test_team_report import team  # noqa: F401 - the fixture: the demo twice and a mirror


class Host(App):
    def __init__(self, source) -> None:
        super().__init__()
        self.source = source

    def on_mount(self) -> None:
        self.push_screen(StatsScreen(self.source, now=NOW, period="all"))


def _team() -> TeamInputs:
    parts = [inputs(), inputs()]
    parts[1].repository = "billing"
    labels = ["orders", "billing"]
    return TeamInputs(labels, parts, combine_inputs(parts, labels, None))


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_team_view_shows_totals_and_each_repository():
    app = Host(_team())
    async with app.run_test(size=(130, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        one = inputs().stats(NOW)
        assert screen.stats.totals.verdicts == 2 * one.totals.verdicts
        assert screen.query_one("#h-verdicts Digits", Digits).value == str(2 * one.totals.verdicts)
        table = screen.query_one("#by-repository", DataTable)
        assert table.display and screen.query_one("#by-repository-title", Label).display
        rows = _rows(table)
        assert [r[0] for r in rows] == ["orders", "billing", "All"]
        assert rows[0][3] == str(one.totals.verdicts)
        assert rows[2][3] == str(2 * one.totals.verdicts)
        assert "2 repositories" in str(screen.query_one("#title").render())


async def test_single_repository_has_no_repository_table():
    app = Host(inputs())
    async with app.run_test(size=(130, 60)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one("#by-repository", DataTable).display


async def test_team_listed_in_the_settings_opens_the_team_view(team, tmp_path):  # noqa: F811
    """The app pushes the screen with its Context; `[team] repos` there makes it a team."""
    from reviewq.context import Context
    from reviewq.tui.services import Services

    hub = tmp_path / "hub"
    subprocess.run(["git", "init", "-q", str(hub)], check=True)
    (hub / ".reviewq.toml").write_text(
        '[team]\nrepos = ["../a/orders", "../orders-mirror.git"]\n', encoding="utf-8"
    )
    ctx = Context.open(hub)
    try:
        app = Host(Services(ctx).gather_stats)
        async with app.run_test(size=(130, 60)) as pilot:
            await settle(pilot)
            await settle(pilot)
            rows = _rows(app.screen.query_one("#by-repository", DataTable))
            assert [r[0] for r in rows] == ["orders", "orders-mirror.git", "All"]
            assert rows[2][3] == "11"  # verdicts: a's 11, the mirror's none
    finally:
        ctx.close()
    assert Path(team["a"]).is_dir()
