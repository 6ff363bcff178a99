"""Lists with remappable keys: Textual's OptionList and DataTable declare no binding ids."""

from __future__ import annotations

from textual.widgets import DataTable, OptionList

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
