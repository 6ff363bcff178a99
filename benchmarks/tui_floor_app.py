"""The floor for bench_tui_open_tmux.py: a bare Textual app that shows one queue-like row in a
DataTable, launched the same way (same interpreter, environment, terminal). Nothing of reviewq
is imported; what the real open costs above this is reviewq's."""

from textual.app import App, ComposeResult
from textual.widgets import DataTable


class Floor(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Risk", "Change", "Agent", "Subject")
        table.add_row("high 9", "0123456789", "claude-code", "the floor: one row")


if __name__ == "__main__":
    Floor().run()
