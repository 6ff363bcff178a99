"""Lists with remappable keys: Textual's OptionList and DataTable declare no binding ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual.geometry import Size
from textual.widgets import DataTable, OptionList
from textual.widgets.data_table import DuplicateKey, Row, RowKey

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

    def add_keyed_rows(self, rows: Sequence[tuple[str, Callable[[int], Any]]]) -> None:
        """Rows at the bottom, one line high and with no label, as `add_row(*cells, key=key)`
        adds them, for each (key, `cell(column index)`); a cell is made when the table first
        reads it (drawing the row), so a 10,000-row queue makes the cells of the rows on
        screen. The cursor is re-checked and the table told once, not once per row (`add_row`
        does both each time: most of the cost of filling 10,000 rows)."""
        columns = {column.key: index for index, column in enumerate(self.ordered_columns)}
        locations, data, meta, new = self._row_locations, self._data, self.rows, self._new_rows
        was_empty = self.row_count == 0
        for index, (key, cell) in enumerate(rows, self.row_count):
            row_key = RowKey(key)
            if row_key in locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            locations[row_key] = index
            data[row_key] = _LazyRow(cell, columns)
            meta[row_key] = Row(row_key, 1, None, False)
            new.add(row_key)
        if not rows:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += len(rows)
        self.check_idle()


class _LazyRow(dict):
    """A DataTable row's cells by column key, each made by `cell(column index)` when first
    read (DataTable reads a row's cells only as `row[column_key]`)."""

    __slots__ = ("_cell", "_columns")

    def __init__(self, cell: Callable[[int], Any], columns: dict[Any, int]) -> None:
        # Starts empty (dict's own __init__ would only take items: none here).
        self._cell = cell
        self._columns = columns

    def __missing__(self, key: Any) -> Any:
        index = self._columns.get(key)
        if index is None:
            raise KeyError(key)
        value = self[key] = self._cell(index)
        return value
