"""Lists with remappable keys: Textual's OptionList and DataTable declare no binding ids."""

from __future__ import annotations

from collections.abc import Iterable

from textual.geometry import Size
from textual.widgets import DataTable, OptionList
from textual.widgets.data_table import RowKey

from reviewq.tui import keymap


class KeyedOptionList(OptionList, inherit_bindings=False):
    """An OptionList whose keys come from the keymap (`scope` picks the binding ids)."""

    def action_scroll_top(self) -> None:
        self.action_first()

    def action_scroll_bottom(self) -> None:
        self.action_last()


class FileOptionList(KeyedOptionList, inherit_bindings=False):
    BINDINGS = keymap.bindings("files")


class FindingOptionList(KeyedOptionList, inherit_bindings=False):
    BINDINGS = keymap.bindings("findings")


class QueueTable(DataTable, inherit_bindings=False):
    """The queue; Enter belongs to the screen (`queue.open`), so it is remappable."""

    BINDINGS = keymap.bindings("queue-table")

    def action_scroll_columns(self, columns: int) -> None:
        """h/l: to the columns past the terminal's edge (and back)."""
        self.scroll_to(x=max(0, self.scroll_x + columns), animate=False)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable measures every cell of every new row to size its columns, even columns
        given a fixed width, where the measure is unused: 90,000 measures (3.5 s) for a queue
        of 10,000. The queue screen sizes every column itself and rows are one line high, so
        then only the scrollable size needs computing (benchmarks/bench_tui_load.py)."""
        if any(column.auto_width for column in self.columns.values()) or any(
            row.auto_height or row.label is not None for row in self.rows.values()
        ):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header
        )
