"""The edge between the diff and the side panes, as a handle the mouse drags.

It sits inside the panes' column, docked left, where their border was: one column drawn as a
line. Pressing the mouse on it captures the mouse; every move then asks the screen to put the
split there (`Dragged`, with the pointer's column on the screen); releasing ends the drag. The
keys that do the same are `pane.wider` and `pane.narrower`.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget


class PaneSplitter(Widget):
    """A one-column drag handle: drag it left or right to move the split."""

    DEFAULT_CSS = """
    PaneSplitter { dock: left; width: 1; height: 1fr; color: $panel; }
    PaneSplitter:hover, PaneSplitter.-dragging { color: $accent; }
    """

    class Dragged(Message):
        """The handle was dragged to screen column `x`."""

        def __init__(self, x: int) -> None:
            super().__init__()
            self.x = x

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.dragging = False
        self._line: Strip | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        # One style a frame: `rich_style` walks the ancestors' styles, and was asked for again
        # on each of the column's rows (a fifth of a millisecond each; issue 18).
        self._line = Strip([Segment("│", self.rich_style)], 1)
        try:
            return super().render_lines(crop)
        finally:
            self._line = None

    def render_line(self, y: int) -> Strip:
        line = self._line
        return line if line is not None else Strip([Segment("│", self.rich_style)], 1)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1:
            return
        event.stop()
        self.dragging = True
        self.add_class("-dragging")
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self.dragging:
            return
        event.stop()
        self.post_message(self.Dragged(event.screen_x))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if not self.dragging:
            return
        event.stop()
        self._end()

    def on_mouse_release(self, event: events.MouseRelease) -> None:
        self._end()  # the capture lost some other way (a screen pushed on top, say)

    def _end(self) -> None:
        if not self.dragging:
            return
        self.dragging = False
        self.remove_class("-dragging")
        self.release_mouse()
