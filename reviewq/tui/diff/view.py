"""The diff, virtualised: Textual's Line API over a flat row model, highlighted lazily off-thread.

Only the rows on screen are ever drawn. `render_line(y)` turns one `Row` into a `Strip` and keeps
it in an LRU cache keyed by everything that changes its look (row, width, layout, theme, scroll
column, search, findings, viewed marks, whether its highlighting has arrived, cursor). Syntax
highlighting is computed in 64-line chunks of one side of one hunk by a thread worker, for the
rows on screen first and one page around them next; until a chunk arrives its rows are drawn
plain. Nothing here reads git or the disk: the screen hands in a `DiffModel`.

Every colour is a theme variable (`reviewq.tui.themes.DIFF_VARIABLES`), and every piece of diff
text is literal `Content` with hidden characters replaced and marked (`reviewq.tui.safe`).
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from array import array
from collections import OrderedDict
from typing import TypeVar

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from textual import work
from textual.content import Content, Span
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style
from textual.worker import get_current_worker

from reviewq.core.alloc import keep_out_of_sight
from reviewq.core.model import DiffLine
from reviewq.tui import keymap
from reviewq.tui.diff.model import (
    CTX,
    FILE,
    GAP,
    HUNK,
    LINE,
    NOTE,
    DiffModel,
    Layout,
    Row,
    compile_search,
    word_spans,
)
from reviewq.tui.safe import HIDDEN_STYLE, placeholders

#: Lines per highlighting chunk (one side of one hunk).
CHUNK = 64
#: Lines longer than this are drawn plain (a minified file would stall the lexer).
MAX_HIGHLIGHT_LINE = 2000
#: Side by side when the diff is at least this wide and the reviewer has not chosen.
SPLIT_MIN_WIDTH = 150
#: Highlighting waits until no frame has been drawn for this long.
UI_BUSY_SECONDS = 0.06
#: Highlighted chunks are handed to the view at least this often (in between, batched).
CHUNK_BATCH_SECONDS = 0.15
#: The next page's rows are drawn ahead this long after the last frame or key...
PREFETCH_DELAY = 0.03
#: ...this many at a time (0: not at all; tests compare the two).
PREFETCH_ROWS = 12
STATUS_LETTER = {"added": "A", "deleted": "D", "modified": "M", "renamed": "R", "copied": "C"}

_LINE_BG = {
    "+": "on $diff-added-bg",
    "-": "on $diff-removed-bg",
}
_WORD = {"+": "on $diff-added-word-bg", "-": "on $diff-removed-word-bg"}
_SIGN = {"+": "bold $diff-added-sign", "-": "bold $diff-removed-sign"}
_LINENO = "$diff-lineno-fg"
_SEARCH = "on $diff-search-bg"
_SEARCH_CURRENT = "bold on $diff-search-current-bg"
_CURSOR = "on $diff-cursor-bg"
#: The marks of a line cut at the pane's edge: text past it (an instruction planted far to the
#: right, say) must never be invisible. `›` says there is more to the right, `‹` to the left.
_CUT = "bold reverse $text-warning"
CUT_RIGHT = "›"
CUT_LEFT = "‹"
_FINDING = "bold $diff-finding-fg"
_UNSET = object()
_DIFF_VAR = re.compile(r"\$(diff-[a-z-]+)")


K = TypeVar("K")
V = TypeVar("V")


class Lru(OrderedDict[K, V]):
    """A least-recently-used cache without reference cycles.

    Textual's `LRUCache` links its entries in a ring of Python lists: each entry is in a
    reference cycle, and clearing the cache (the view drops its drawn rows whenever a hunk
    becomes seen, the width or the theme changes) left the whole ring, with every row strip and
    its segments, for a full collection to free: the largest part of what paging made
    (`gc.DEBUG_SAVEALL`), and those collections ran inside page downs. An `OrderedDict` keeps
    its order in C: what is evicted or cleared is freed at once."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        try:
            self.move_to_end(key)
        except KeyError:
            return default
        return self[key]

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.maxsize:
            self.popitem(last=False)


#: Textual's own `Strip` methods, before `_no_self_in_strip_caches` (tests compare the two).
TEXTUAL_STRIP: dict[str, object] = {}


def _no_self_in_strip_caches() -> None:
    """Textual's `Strip` remembers the answer of `adjust_cell_length`, `crop_extend` and
    `divide` in caches of its own, even when the answer is the strip itself (a line already as
    wide as asked, a cut at its full width): each such strip is then a reference cycle, which
    only a full collection frees. Every frame makes them (the styles pass restyles each line of
    the diff into a new strip, the compositor then cuts it at its full width), so paging a large
    diff left thousands of strips, their caches and segments per few dozen page downs for
    full collections to find (seen with `gc.DEBUG_SAVEALL`), and those collections ran inside
    page downs. Here those calls answer `self` without remembering it; every other answer, and
    its caching, is Textual's own (`tests/tui/test_diff_strips.py`). Applied once, at import."""
    if getattr(Strip, "_reviewq_no_self_cache", False):
        return
    adjust, crop_extend, divide = Strip.adjust_cell_length, Strip.crop_extend, Strip.divide
    TEXTUAL_STRIP.update(adjust_cell_length=adjust, crop_extend=crop_extend, divide=divide)

    def adjust_cell_length(self, cell_length, style=None):
        if cell_length == self.cell_length:
            return self
        return adjust(self, cell_length, style)

    def crop_extend_(self, start, end, style):
        if start == 0 and end == self.cell_length:
            return self
        return crop_extend(self, start, end, style)

    def divide_(self, cuts):
        cuts = [cut for cut in cuts if cut <= self.cell_length]
        if cuts == [self.cell_length]:
            return [self]
        return divide(self, cuts)

    for name, fn, original in (
        ("adjust_cell_length", adjust_cell_length, adjust),
        ("crop_extend", crop_extend_, crop_extend),
        ("divide", divide_, divide),
    ):
        fn.__name__, fn.__qualname__, fn.__doc__ = name, f"Strip.{name}", original.__doc__
        setattr(Strip, name, fn)
    Strip._reviewq_no_self_cache = True


_no_self_in_strip_caches()


class DiffView(ScrollView, can_focus=True, inherit_bindings=False):
    """A scrolling diff with a cursor row, hunk/file navigation, folding and search."""

    BINDINGS = keymap.bindings("diff")

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    """

    class CursorFileChanged(Message):
        """The cursor moved into another file (the sidebar follows it)."""

        def __init__(self, file: int) -> None:
            super().__init__()
            self.file = file

    class SeenChanged(Message):
        """Another hunk has now been on screen in full (the header counts them)."""

    class ChunkReady(Message):
        """Highlighted chunks, several at once: one repaint for what a page asked for."""

        def __init__(
            self, generation: int, chunks: list[tuple[tuple, list[Content | None]]]
        ) -> None:
            super().__init__()
            self.generation = generation
            self.chunks = chunks

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.model: DiffModel | None = None
        self.layout_rows: Layout | None = None
        self.cursor = 0
        #: The reviewer's explicit layout choice; None follows the width.
        self.split_choice: bool | None = None
        #: Long lines wrap onto more rows (nothing cut at the edge); off: cut with a mark.
        self.wrap_lines = False
        self.viewed_files: set[int] = set()
        self.findings: dict[int, dict[int, str]] = {}
        self._generation = 0
        self._strips: Lru[tuple, Strip] = Lru(2048)
        self._highlights: Lru[tuple, list[Content | None]] = Lru(4096)
        self._sides: dict[tuple[int, int], tuple[array, array, list[int], list[int]]] = {}
        self._languages: dict[int, str | None] = {}
        self._pending: OrderedDict[tuple, None] = OrderedDict()
        self._lock = threading.Lock()
        self._worker_running = False
        self._ui_busy_until = 0.0
        self._search: re.Pattern[str] | None = None
        self._search_text = ""
        self._hits: list[tuple[int, int, int]] = []
        self._marks_gen = 0
        self._last_file = -1
        self._line_styles: dict[str, Style] = {}
        self._parse_cache: dict[str, Style] = {}
        self._line_styles_theme = ""
        #: (content width, line styles) while a frame is drawn.
        self._frame: tuple[int, dict[str, Style]] | None = None
        #: (file, hunk, removed line) -> word spans of that pair (both lines of it use them).
        self._words: dict[tuple[int, int, int], tuple | None] = {}
        self._prefetch_scheduled = False

    # -- loading ------------------------------------------------------------------------------

    def load(
        self, model: DiffModel, viewed: set[int] | None = None, layout: Layout | None = None
    ) -> None:
        """Show `model` (a new change): resets cursor, caches, search and highlighting.

        `layout`, built off the UI thread by whoever parsed the diff, is used when it is the
        layout this width wants (the rows of a 50,000-line diff are ~0.1 s to build)."""
        self._generation += 1
        self.workers.cancel_group(self, "highlight")
        with self._lock:
            self._pending.clear()
            self._worker_running = False
        self.model = model
        self.viewed_files = set(viewed or ())
        self.findings = {}
        self._strips.clear()
        self._highlights.clear()
        # Fresh objects, not cleared ones: a cancelled worker may still hold the old ones.
        self._sides = {}
        self._languages = {}
        self._words = {}
        self._hits = []
        self._search = None
        self._search_text = ""
        self.cursor = 0
        self._last_file = -1
        self._relayout(anchor=None, layout=layout)
        self.scroll_to(0, 0, animate=False)

    def clear(self) -> None:
        self.model = None
        self.layout_rows = None
        self._strips.clear()
        self.virtual_size = Size(0, 0)
        self.refresh()

    @property
    def is_split(self) -> bool:
        return bool(self.layout_rows and self.layout_rows.split)

    @property
    def wants_split(self) -> bool:
        """The layout a diff loaded now would get (side by side or unified)."""
        return self._want_split()

    def _want_split(self) -> bool:
        if self.split_choice is not None:
            return self.split_choice
        return self.content_width >= SPLIT_MIN_WIDTH

    @property
    def content_width(self) -> int:
        return self.scrollable_content_region.width or self.size.width

    @property
    def page_height(self) -> int:
        return max(1, self.scrollable_content_region.height or self.size.height)

    def _gutter_width(self) -> int:
        nw = self.model.number_width if self.model else 2
        return 1 + nw + 1 + nw + 1 + 2 if not self.is_split else 1 + nw + 1 + 2

    def _relayout(self, anchor: object = _UNSET, layout: Layout | None = None) -> None:
        """Rebuild rows (layout change, fold, load), keeping the cursor on the same line."""
        model = self.model
        if model is None:
            return
        if anchor is _UNSET:
            anchor = self._anchor()
        split = self._want_split()
        wrap = self._wrapper(split) if self.wrap_lines else None
        usable = layout is not None and layout.split == split and wrap is None
        self.layout_rows = layout if usable else None
        if self.layout_rows is None:
            self.layout_rows = model.layout(split, wrap)
        self._strips.clear()
        self._update_virtual_size()
        if anchor is not None:
            row = self._row_for_anchor(anchor)
            if row is not None:
                self.cursor = row
                self._scroll_cursor_into_view(center=True)
        self.cursor = min(self.cursor, max(0, len(self.layout_rows) - 1))
        self.refresh()

    def _text_room(self, split: bool) -> int:
        """Cells for a line's text (one side's, side by side) after the gutter."""
        nw = self.model.number_width if self.model else 2
        width = self.content_width
        if split:
            return max(1, (width - 1) // 2 - (1 + nw + 1 + 2))
        return max(1, width - (1 + nw + 1 + nw + 1 + 2))

    def _wrapper(self, split: bool):
        """How many rows a line takes when wrapped at this width (for `DiffModel.layout`)."""
        room = self._text_room(split)

        def parts(line: DiffLine) -> int:
            text = line.text
            if line.kind == "\\":
                return 1
            if text.isascii() and text.isprintable():  # one cell a character
                return max(1, -(-len(text) // room))
            return len(self._pieces(placeholders(text, keep_newlines=False)[0], room))

        return parts

    @staticmethod
    def _pieces(plain: str, room: int) -> list[tuple[int, int]]:
        """(start, end) character ranges of `plain` that each fit in `room` cells."""
        if plain.isascii() and plain.isprintable():  # one cell a character
            return [(i, min(i + room, len(plain))) for i in range(0, max(1, len(plain)), room)]
        pieces: list[tuple[int, int]] = []
        start = used = 0
        for i, ch in enumerate(plain):
            size = get_character_cell_size(ch)
            if used + size > room and i > start:
                pieces.append((start, i))
                start, used = i, 0
            used += size
        pieces.append((start, len(plain)))
        return pieces

    def toggle_wrap(self) -> bool:
        """Wrap long lines (nothing hidden) or cut them at the edge with a mark; True: wrapped."""
        self.wrap_lines = not self.wrap_lines
        self.scroll_to(x=0, animate=False)
        self._relayout()
        return self.wrap_lines

    def action_toggle_wrap(self) -> None:
        wrapped = self.toggle_wrap()
        self.notify("Long lines wrap" if wrapped else "Long lines cut at the edge", timeout=2)

    def _update_virtual_size(self) -> None:
        model, layout = self.model, self.layout_rows
        if model is None or layout is None:
            return
        if layout.wrapped:
            self.virtual_size = Size(self.content_width, len(layout))
            return
        nw = model.number_width
        if layout.split:
            width = 2 * (1 + nw + 1 + 2 + model.max_text_width) + 1
        else:
            width = 1 + nw + 1 + nw + 1 + 2 + model.max_text_width
        self.virtual_size = Size(width, len(layout))

    def _anchor(self) -> tuple | None:
        layout = self.layout_rows
        if not layout or not layout.rows:
            return None
        row = layout.rows[min(self.cursor, len(layout.rows) - 1)]
        if row.kind == LINE:
            return ("line", row.file, row.hunk, row.b if row.b >= 0 else row.a)
        if row.kind == HUNK:
            return ("hunk", row.file, row.hunk)
        if row.kind == CTX and self.model is not None:
            line = self.model.context_line(row.file, row.hunk, row.b, row.a)
            return ("ctx", row.file, row.hunk, line.new_no)
        return ("file", row.file)

    def _row_for_anchor(self, anchor: tuple) -> int | None:
        layout = self.layout_rows
        if layout is None:
            return None
        kind, file = anchor[0], anchor[1]
        if kind == "ctx" and self.model is not None and 0 <= file < len(layout.file_rows):
            for y in range(layout.file_rows[file], len(layout.rows)):
                r = layout.rows[y]
                if r.file != file:
                    break
                if (
                    r.kind == CTX
                    and r.hunk == anchor[2]
                    and not r.part
                    and self.model.context_line(file, r.hunk, r.b, r.a).new_no == anchor[3]
                ):
                    return y
        if kind == "line":
            row = layout.row_of_line(file, anchor[2], anchor[3])
            if row is not None:
                return row
        if kind in ("line", "hunk", "ctx"):
            hunk = anchor[2]
            for y in layout.hunk_rows:
                r = layout.rows[y]
                if r.file == file and r.hunk == hunk:
                    return y
        if 0 <= file < len(layout.file_rows):
            return layout.file_rows[file]
        return None

    def on_resize(self) -> None:
        if self.model is not None and (
            self.wrap_lines or (self.split_choice is None and self._want_split() != self.is_split)
        ):
            self._relayout()  # wrapped lines wrap again at the new width
        self._strips.clear()

    # -- state changes from the screen --------------------------------------------------------

    def set_viewed(self, files: set[int]) -> None:
        self.viewed_files = set(files)
        self._marks_gen += 1
        self.refresh()

    def refresh_marks(self) -> None:
        """Redraw after marks outside the view changed (hunks restored from a draft)."""
        self._marks_gen += 1
        self._strips.clear()
        self.refresh()

    def set_findings(self, findings: dict[int, dict[int, str]]) -> None:
        self.findings = findings
        self._marks_gen += 1
        self.refresh()

    def toggle_layout(self) -> bool:
        self.split_choice = not self.is_split
        self._relayout()
        return self.is_split

    def toggle_fold(self, file: int | None = None) -> bool | None:
        """Collapse or expand a file (the cursor's by default); returns True when collapsed."""
        model = self.model
        if model is None or not model.files:
            return None
        file = self.cursor_file if file is None else file
        if file < 0 or not model.files[file].hunks:
            return None
        if file in model.collapsed:
            model.collapsed.discard(file)
            collapsed = False
        else:
            model.collapsed.add(file)
            collapsed = True
        self._relayout(anchor=("file", file))
        return collapsed

    def cursor_hunk(self) -> tuple[int, int] | None:
        """(file, hunk) of the hunk the cursor is in (its header, a line, or context shown
        around it); None on a file header, note or gap."""
        layout = self.layout_rows
        if not layout or not layout.rows:
            return None
        row = layout.rows[min(self.cursor, len(layout.rows) - 1)]
        if row.kind in (LINE, HUNK, CTX):
            return row.file, row.hunk
        return None

    def expand_context(self, file: int, hunk: int, step: int) -> tuple[int, int]:
        """Show up to `step` more lines of the file above and below a hunk (its new side must
        be in `model.file_lines`); (lines added above, below). The cursor keeps its line."""
        model = self.model
        if model is None:
            return 0, 0
        added = model.expand_context(file, hunk, step)
        if any(added):
            self._relayout()
        return added

    def unfold_all(self) -> int:
        model = self.model
        if model is None or not model.collapsed:
            return 0
        count = len(model.collapsed)
        model.collapsed.clear()
        self._relayout()
        return count

    # -- cursor and navigation ----------------------------------------------------------------

    @property
    def cursor_file(self) -> int:
        return self.layout_rows.file_at(self.cursor) if self.layout_rows else -1

    def cursor_line(self) -> DiffLine | None:
        layout, model = self.layout_rows, self.model
        if not layout or not model or not layout.rows:
            return None
        row = layout.rows[self.cursor]
        if row.kind == CTX:
            return model.context_line(row.file, row.hunk, row.b, row.a)
        if row.kind != LINE:
            return None
        index = row.b if row.b >= 0 else row.a
        return model.files[row.file].hunks[row.hunk].lines[index]

    def move_cursor(self, row: int, *, where: str = "visible") -> None:
        layout = self.layout_rows
        if not layout or not layout.rows:
            return
        old = self.cursor
        self.cursor = max(0, min(row, len(layout.rows) - 1))
        if where == "top":
            self.scroll_to(y=max(0, self.cursor - 2), animate=False)
        elif where == "center":
            self._scroll_cursor_into_view(center=True)
        else:
            self._scroll_cursor_into_view(center=False)
        if old != self.cursor:
            self.refresh_line(old)
            self.refresh_line(self.cursor)
        file = layout.file_at(self.cursor)
        if file != self._last_file:
            self._last_file = file
            self.post_message(self.CursorFileChanged(file))

    def refresh_line(self, y: int) -> None:
        """Redraw row `y` if it is on screen, and only the view's own cells.

        Textual's marks the row as wide as the diff's widest line, past the view's right
        edge: the old cursor's row of a page down made every frame compose the panes to the
        right of the diff too (their lines, cut and joined), about as much work as the diff's
        own rows (issue 18). A row off screen is drawn when a scroll brings it back."""
        top = round(self.scroll_y)
        if top <= y < top + self.size.height:
            self.refresh(Region(0, y - top, self.size.width, 1))

    def _scroll_cursor_into_view(self, center: bool) -> None:
        height = self.page_height
        top = round(self.scroll_y)
        if center:
            self.scroll_to(y=max(0, self.cursor - height // 2), animate=False)
            return
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def _cursor_on_screen(self) -> None:
        """After wheel scrolling the cursor may be off screen: bring it to the nearest edge."""
        top = round(self.scroll_y)
        height = self.page_height
        if self.cursor < top:
            self.cursor = top
        elif self.cursor >= top + height:
            self.cursor = top + height - 1

    def action_cursor_down(self) -> None:
        self._cursor_on_screen()
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._cursor_on_screen()
        self.move_cursor(self.cursor - 1)

    def _page(self, rows: int) -> None:
        """Scroll by `rows` and move the cursor with the page (to the last row at the end)."""
        layout = self.layout_rows
        if not layout:
            return
        self._cursor_on_screen()
        last_top = max(0, len(layout.rows) - self.page_height)
        top = max(0, min(round(self.scroll_y) + rows, last_top))
        self.scroll_to(y=top, animate=False)
        self.move_cursor(self.cursor + rows)

    def action_page_down(self) -> None:
        self._page(self.page_height)

    def action_page_up(self) -> None:
        self._page(-self.page_height)

    def action_half_page(self, direction: int) -> None:
        self._page(direction * max(1, self.page_height // 2))

    def action_scroll_top(self) -> None:
        self.move_cursor(0, where="top")

    def action_scroll_bottom(self) -> None:
        if self.layout_rows:
            self.move_cursor(len(self.layout_rows) - 1)

    def action_scroll_columns(self, columns: int) -> None:
        self.scroll_to(x=max(0, self.scroll_x + columns), animate=False)

    def next_hunk(self, direction: int) -> bool:
        layout = self.layout_rows
        if not layout or not layout.hunk_rows:
            return False
        return self._jump_in(layout.hunk_rows, direction)

    def next_file(self, direction: int) -> bool:
        layout = self.layout_rows
        if not layout or not layout.file_rows:
            return False
        return self._jump_in(layout.file_rows, direction)

    def _jump_in(self, targets: list[int], direction: int) -> bool:
        if direction > 0:
            i = bisect.bisect_right(targets, self.cursor)
            if i >= len(targets):
                return False
            self.move_cursor(targets[i], where="top")
        else:
            i = bisect.bisect_left(targets, self.cursor) - 1
            if i < 0:
                return False
            self.move_cursor(targets[i], where="top")
        return True

    def jump_to_file(self, file: int) -> None:
        if self.layout_rows and 0 <= file < len(self.layout_rows.file_rows):
            self.move_cursor(self.layout_rows.file_rows[file], where="top")

    def jump_to_line(self, file: int, new_line: int | None) -> bool:
        """Put the cursor on new-side line `new_line` of `file` (expanding it if folded)."""
        model = self.model
        if model is None or not 0 <= file < len(model.files):
            return False
        if file in model.collapsed:
            model.collapsed.discard(file)
            self._relayout(anchor=("file", file))
        if new_line is None:
            self.jump_to_file(file)
            return True
        best: tuple[int, int, int] | None = None
        for h, hunk in enumerate(model.files[file].hunks):
            for i, line in enumerate(hunk.lines):
                if line.new_no is None:
                    continue
                distance = abs(line.new_no - new_line)
                if best is None or distance < best[0]:
                    best = (distance, h, i)
                if distance == 0:
                    break
        if best is None or self.layout_rows is None:
            self.jump_to_file(file)
            return False
        row = self.layout_rows.row_of_line(file, best[1], best[2])
        if row is None:
            self.jump_to_file(file)
            return False
        self.move_cursor(row, where="center")
        return best[0] == 0

    # -- search -------------------------------------------------------------------------------

    def search(self, text: str) -> int:
        """Highlight every match of `text` (literal, smart case); returns the number of lines."""
        model = self.model
        self._search_text = text
        self._search = compile_search(text)
        self._marks_gen += 1
        self._hits = []
        if model is not None and self._search is not None:
            pattern = self._search

            def display(raw: str) -> str:
                return placeholders(raw, keep_newlines=False)[0]

            self._hits = model.search(pattern, display)
        self.refresh()
        return len(self._hits)

    @property
    def search_hits(self) -> int:
        return len(self._hits)

    def search_next(self, direction: int) -> tuple[int, int] | None:
        """Move to the next (1) or previous (-1) matching line; (index, total) or None."""
        model, layout = self.model, self.layout_rows
        if not self._hits or model is None or layout is None:
            return None
        anchor = self._anchor_key()
        order = range(len(self._hits)) if direction > 0 else range(len(self._hits) - 1, -1, -1)
        chosen = None
        for i in order:
            key = self._hits[i]
            if (direction > 0 and key > anchor) or (direction < 0 and key < anchor):
                chosen = i
                break
        if chosen is None:  # wrap around
            chosen = 0 if direction > 0 else len(self._hits) - 1
        f, h, i = self._hits[chosen]
        if f in model.collapsed:
            model.collapsed.discard(f)
            self._relayout(anchor=("line", f, h, i))
        row = self.layout_rows.row_of_line(f, h, i) if self.layout_rows else None
        if row is not None:
            self.move_cursor(row, where="center")
        return chosen + 1, len(self._hits)

    def _anchor_key(self) -> tuple[int, int, int]:
        layout = self.layout_rows
        if not layout or not layout.rows:
            return (-1, -1, -1)
        row = layout.rows[self.cursor]
        if row.kind == LINE:
            return (row.file, row.hunk, max(row.a, row.b))
        if row.kind == HUNK:
            return (row.file, row.hunk, -1)
        if row.kind == CTX:
            return (row.file, row.hunk, -1 if row.b == 0 else 1 << 30)
        return (row.file, -1, -1)

    # -- rendering ----------------------------------------------------------------------------

    def _parse(self, spec: str | Style) -> Style:
        """A span style with the diff variables substituted first.

        Textual drops the alpha of a variable such as "#3FB950 15%" when it substitutes it into
        an inline style ("on $diff-added-bg"), so the diff variables are put in here, as text.
        """
        if isinstance(spec, Style):
            return spec
        found = self._parse_cache.get(spec)
        if found is None:
            variables = self.app.theme_variables
            text = _DIFF_VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), spec)
            found = self._parse_cache[spec] = self.app.stylesheet.parse_style(text)
        return found

    def _styles(self) -> dict[str, Style]:
        theme = self.app.theme
        if self._line_styles_theme != theme or not self._line_styles:
            self._parse_cache = {}
            parse = self._parse
            base = self.visual_style
            self._line_styles = {
                " ": base,
                "+": base + parse(_LINE_BG["+"]),
                "-": base + parse(_LINE_BG["-"]),
                "hunk": base + parse("$diff-hunk-fg on $diff-hunk-bg"),
                "file": base + parse("bold $diff-file-fg on $diff-file-bg"),
                "note": base + parse("italic $diff-note-fg"),
                "empty": base + parse("on $diff-file-bg 40%"),
            }
            self._line_styles_theme = theme
        return self._line_styles

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_styles = {}
        self._parse_cache = {}
        self._strips.clear()

    def render_lines(self, crop):
        # The highlighter thread holds back while the reviewer is moving (see _highlight_worker).
        self._ui_busy_until = time.monotonic() + UI_BUSY_SECONDS
        # Width and styles once a frame, not once a row (the theme lookup walks every theme).
        self._frame = (self.content_width, self._styles())
        try:
            return self._render_frame(crop)
        finally:
            self._frame = None

    def _render_frame(self, crop):
        layout = self.layout_rows
        if layout is not None and self.model is not None:
            top = round(self.scroll_y)
            height = self.page_height
            before = self.model.hunks_viewed
            self.model.mark_seen(layout, top, top + height)
            if self.model.hunks_viewed != before:
                # File headers show "n/m hunks seen": their rows' keys carry the count, so
                # no other drawn row (nor the next page's, drawn ahead) is thrown away.
                self.post_message(self.SeenChanged())
            self._request_highlights(top, height)
        self._schedule_prefetch()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        frame = self._frame
        width, styles = frame if frame is not None else (self.content_width, self._styles())
        layout = self.layout_rows
        index = round(self.scroll_y) + y
        if layout is None or self.model is None or index >= len(layout.rows) or width <= 0:
            return Strip.blank(width, styles[" "].rich_style)
        row = layout.rows[index]
        key = self._row_key(row, index, width, index == self.cursor)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(row, index, width, styles)
            self._strips[key] = strip
        return strip

    def _row_key(self, row: Row, index: int, width: int, cursor: bool) -> tuple:
        """Everything a drawn row's look depends on (the `_strips` cache's key)."""
        layout, model = self.layout_rows, self.model
        assert layout is not None and model is not None
        return (
            index,
            width,
            layout.split,
            self._line_styles_theme,
            round(self.scroll_x),
            self._marks_gen,
            self._row_ready(row) if row.kind == LINE else True,
            cursor,
            model.file_hunks_viewed(row.file) if row.kind == FILE else 0,
        )

    # -- the next page, drawn ahead -----------------------------------------------------------

    def _schedule_prefetch(self) -> None:
        if PREFETCH_ROWS and not self._prefetch_scheduled:
            self._prefetch_scheduled = True
            self.set_timer(PREFETCH_DELAY, self._prefetch)

    def _prefetch(self) -> None:
        """Draw the rows a page down would show, as it would show them, while the reviewer
        reads: the press then finds them in `_strips` (the same function and key as
        `render_line`, with the cursor where the page down puts it). Only rows whose
        highlighting is in (or never comes): a plain row drawn ahead would be drawn again
        when its chunk arrives. A few rows at a time, and not while keys or frames come."""
        self._prefetch_scheduled = False
        layout, model = self.layout_rows, self.model
        if layout is None or model is None or not layout.rows or not self.is_attached:
            return
        if time.monotonic() < self._busy_until() - UI_BUSY_SECONDS + PREFETCH_DELAY:
            self._schedule_prefetch()  # a key or a frame since: wait for the next still moment
            return
        width, styles = self.content_width, self._styles()
        if width <= 0:
            return
        height = self.page_height
        rows = layout.rows
        top = round(self.scroll_y)
        next_top = max(0, min(top + height, len(rows) - height))
        if next_top == top:
            return
        # Where `_page` puts the cursor (it is on screen when a frame was drawn).
        cursor = max(top, min(self.cursor, top + height - 1))
        cursor = max(0, min(cursor + height, len(rows) - 1))
        done = 0
        shown = self.cursor
        try:
            self.cursor = cursor  # the rows as the page down will draw them
            for index in range(next_top, min(next_top + height, len(rows))):
                row = rows[index]
                if row.kind == LINE and not self._row_ready(row):
                    continue
                key = self._row_key(row, index, width, index == cursor)
                if key in self._strips:
                    continue
                self._strips[key] = self._render_row(row, index, width, styles)
                done += 1
                if done >= PREFETCH_ROWS:
                    break
        finally:
            self.cursor = shown
        if done >= PREFETCH_ROWS:
            self._schedule_prefetch()  # more of the page: after whatever is waiting

    def _render_row(self, row: Row, index: int, width: int, styles: dict[str, Style]) -> Strip:
        kind = row.kind
        if kind == GAP:
            return Strip.blank(width, styles[" "].rich_style)
        if kind == FILE:
            return self._file_row(row, index, width, styles)
        if kind == NOTE:
            return self._note_row(row, index, width, styles)
        if kind == HUNK:
            return self._hunk_row(row, index, width, styles)
        if kind == CTX:
            return self._context_row(row, index, width, styles)
        if self.layout_rows and self.layout_rows.split:
            return self._split_row(row, index, width, styles)
        return self._unified_row(row, index, width, styles)

    def _strip(self, content: Content, base: Style, width: int) -> Strip:
        parse = self._parse
        segments = [
            Segment(text, style.rich_style)
            for text, style in content.render(base, end="", parse_style=parse)
        ]
        return Strip(segments).adjust_cell_length(width, base.rich_style)

    def _marker(self, index: int, file: int, new_no: int | None) -> Content:
        severity = None
        if new_no is not None:
            severity = self.findings.get(file, {}).get(new_no)
        glyph = "●" if severity else " "
        if index == self.cursor:
            return Content.styled("▶" if severity is None else "◆", f"bold {_CURSOR}")
        return Content.styled(glyph, _FINDING) if severity else Content(" ")

    def _file_row(self, row: Row, index: int, width: int, styles: dict[str, Style]) -> Strip:
        model = self.model
        assert model is not None
        fd = model.files[row.file]
        folded = row.file in model.collapsed
        expander = "▸" if folded else "▾"
        letter = STATUS_LETTER.get(fd.status, "M")
        path_text, marks = placeholders(fd.path, keep_newlines=False)
        left = Content.assemble(
            (" ▶ " if index == self.cursor else " "),
            f"{expander} {letter}  ",
        )
        path = Content(path_text, spans=[Span(s, e, HIDDEN_STYLE) for s, e in marks])
        if fd.old_path and fd.status in ("renamed", "copied"):
            old_text, _ = placeholders(fd.old_path, keep_newlines=False)
            path = Content.assemble(Content(old_text), " → ", path)
        counts = Content.assemble(
            (f"+{fd.additions}", _SIGN["+"]), " ", (f"-{fd.deletions}", _SIGN["-"])
        )
        info: list[Content | tuple[str, str] | str] = [counts]
        total = len(fd.hunks)
        if total:
            seen = model.file_hunks_viewed(row.file)
            info.append(f"   {seen}/{total} hunks seen")
        if row.file in self.viewed_files:
            info.append(("   ✓ viewed", "bold $diff-viewed-fg"))
        right = Content.assemble(*info, " ")
        room = width - left.cell_length - right.cell_length - 2
        if path.cell_length > room > 1:
            path = Content("…") + path[path.cell_length - room + 1 :]
        pad = max(1, width - left.cell_length - path.cell_length - right.cell_length)
        content = Content.assemble(left, path, " " * pad, right)
        if index == self.cursor:
            content = content.stylize(_CURSOR, 0, 3)
        return self._strip(content, styles["file"], width)

    def _note_row(self, row: Row, index: int, width: int, styles: dict[str, Style]) -> Strip:
        model = self.model
        assert model is not None
        fd = model.files[row.file]
        info = model.infos[row.file]
        if row.hunk >= 0:
            text = info.notes[row.hunk]
        else:
            reason = info.collapse_reason or "folded"
            keys = keymap.first_key(self.app, "diff.fold")
            label = {
                "lockfile": "lockfile",
                "generated": "generated file",
                "large": "large file",
                "folded": "folded",
            }[reason]
            hunks = len(fd.hunks)
            text = (
                f"{label}: {fd.additions + fd.deletions:,} changed lines hidden "
                f"({hunks} hunk{'s' if hunks != 1 else ''}). Press {keys} to show."
            )
        plain, marks = placeholders(text, keep_newlines=False)
        content = Content.assemble(
            self._marker(index, row.file, None),
            "     ",
            Content(plain, spans=[Span(s, e, HIDDEN_STYLE) for s, e in marks]),
        )
        return self._strip(content, styles["note"], width)

    def _hunk_row(self, row: Row, index: int, width: int, styles: dict[str, Style]) -> Strip:
        model = self.model
        assert model is not None
        hunk = model.files[row.file].hunks[row.hunk]
        head = f"@@ -{hunk.old_start},{hunk.old_count} +{hunk.new_start},{hunk.new_count} @@"
        section, marks = placeholders(hunk.section or "", keep_newlines=False)
        marker = self._marker(index, row.file, None)
        gutter = " " * (self._gutter_width() - 1)
        start = 1 + len(gutter) + len(head) + 1
        content = Content.assemble(marker, gutter, head, " ", section).add_spans(
            [Span(s + start, e + start, HIDDEN_STYLE) for s, e in marks]
        )
        return self._strip(content, styles["hunk"], width)

    def _number(self, value: int | None) -> str:
        nw = self.model.number_width if self.model else 2
        return str(value).rjust(nw) if value is not None else " " * nw

    def _unified_row(self, row: Row, index: int, width: int, styles: dict[str, Style]) -> Strip:
        model = self.model
        assert model is not None
        line = model.files[row.file].hunks[row.hunk].lines[row.a]
        kind = line.kind
        if kind == "\\":
            base = styles["note"]
            gutter = " " * self._gutter_width()
            return self._strip(Content(gutter + line.text.strip()), base, width)
        base = styles.get(kind, styles[" "])
        if row.part:  # a wrapped line's continuation: no numbers, no sign
            marker = self._marker(index, row.file, None)
            numbers = Content(" " * (self._gutter_width() - 3))
            sign = Content(" ")
        else:
            marker = self._marker(index, row.file, line.new_no)
            numbers = Content.styled(
                f"{self._number(line.old_no)} {self._number(line.new_no)} ", _LINENO
            )
            sign = Content.styled(kind if kind in "+-" else " ", _SIGN.get(kind, ""))
        if index == self.cursor:
            numbers = numbers.stylize(_CURSOR)
        text = self._text(row.file, row.hunk, row.a, index)
        text = self._fit(text, width - self._gutter_width(), row.part)
        content = Content.assemble(marker, numbers, sign, " ", text)
        return self._strip(content, base, width)

    def _context_row(self, row: Row, index: int, width: int, styles: dict[str, Style]) -> Strip:
        """An unchanged line shown around a hunk on request: a context line (plain text), on
        both sides when side by side."""
        model = self.model
        assert model is not None
        line = model.context_line(row.file, row.hunk, row.b, row.a)
        plain, marks = placeholders(line.text, keep_newlines=False)
        spans = [Span(s, e, HIDDEN_STYLE) for s, e in marks]
        if self._search is not None:
            style = _SEARCH_CURRENT if index == self.cursor else _SEARCH
            spans.extend(Span(m.start(), m.end(), style) for m in self._search.finditer(plain))
        text = Content(plain, spans=spans)
        if not (self.layout_rows and self.layout_rows.split):
            if row.part:
                numbers = Content(" " * (self._gutter_width() - 3))
            else:
                numbers = Content.styled(
                    f"{self._number(line.old_no)} {self._number(line.new_no)} ", _LINENO
                )
            if index == self.cursor:
                numbers = numbers.stylize(_CURSOR)
            marker = self._marker(index, row.file, None if row.part else line.new_no)
            body = self._fit(text, width - self._gutter_width(), row.part)
            return self._strip(Content.assemble(marker, numbers, "  ", body), styles[" "], width)
        half = (width - 1) // 2
        sides = []
        right = width - half - 1
        for first, number, room in ((True, line.old_no, half), (False, line.new_no, right)):
            if row.part:
                numbers = Content(" " * (self._gutter_width() - 3))
            else:
                numbers = Content.styled(f"{self._number(number)} ", _LINENO)
            if index == self.cursor:
                numbers = numbers.stylize(_CURSOR)
            if first:
                marker = self._marker(index, row.file, None)
            elif index == self.cursor:
                marker = Content(" ")
            else:
                marker = self._marker(index, row.file, None if row.part else line.new_no)
            body = self._fit(text, room - self._gutter_width(), row.part)
            sides.append(
                self._strip(Content.assemble(marker, numbers, "  ", body), styles[" "], room)
            )
        divider = Strip([Segment("│", styles["note"].rich_style)], 1)
        return Strip.join([sides[0], divider, sides[1]])

    def _fit(self, text: Content, room: int, part: int) -> Content:
        """Wrapped: the `part`-th piece of the line; else the visible part, cut with marks."""
        layout = self.layout_rows
        if layout is None or not layout.wrapped:
            return self._cut(text, room)
        pieces = self._pieces(text.plain, max(1, room))
        if part >= len(pieces):
            return Content("")
        start, end = pieces[part]
        return text[start:end]

    def _cut(self, text: Content, room: int) -> Content:
        """The part of a line's text the pane shows (after the sideways scroll), with a mark
        at each edge past which the line goes on."""
        scroll = round(self.scroll_x)
        left = scroll > 0 and text.cell_length > 0
        text = text[scroll:] if scroll else text
        if room <= 1:
            return text
        if text.cell_length > room:
            text = text.truncate(room - 1) + Content.styled(CUT_RIGHT, _CUT)
        if left:
            text = Content.styled(CUT_LEFT, _CUT) + text[1:]
        return text

    def _split_row(self, row: Row, index: int, width: int, styles: dict[str, Style]) -> Strip:
        half = (width - 1) // 2
        right_width = width - half - 1
        left = self._side(row, row.a, index, half, styles, first=True)
        right = self._side(row, row.b, index, right_width, styles, first=False)
        divider = Strip([Segment("│", styles["note"].rich_style)], 1)
        return Strip.join([left, divider, right])

    def _side(
        self, row: Row, line_index: int, index: int, width: int, styles, *, first: bool
    ) -> Strip:
        model = self.model
        assert model is not None
        if line_index < 0:
            return Strip.blank(width, styles["empty"].rich_style)
        line = model.files[row.file].hunks[row.hunk].lines[line_index]
        kind = line.kind
        if kind == "\\":
            pad = " " * (self._gutter_width())
            return self._strip(Content(pad + line.text.strip()), styles["note"], width)
        base = styles.get(kind, styles[" "])
        number = line.old_no if first else line.new_no
        marker = self._marker(index, row.file, None if first or row.part else line.new_no)
        if not first and index == self.cursor:
            marker = Content(" ")
        if row.part:
            numbers = Content(" " * (self._gutter_width() - 3))
            sign = Content(" ")
        else:
            numbers = Content.styled(f"{self._number(number)} ", _LINENO)
            sign = Content.styled(kind if kind in "+-" else " ", _SIGN.get(kind, ""))
        if index == self.cursor:
            numbers = numbers.stylize(_CURSOR)
        text = self._text(row.file, row.hunk, line_index, index)
        text = self._fit(text, width - self._gutter_width(), row.part)
        return self._strip(Content.assemble(marker, numbers, sign, " ", text), base, width)

    def _text(self, file: int, hunk: int, line_index: int, row_index: int) -> Content:
        """A line's text: highlighted when ready, with word, hidden and search spans."""
        model = self.model
        assert model is not None
        lines = model.files[file].hunks[hunk].lines
        line = lines[line_index]
        plain, marks = placeholders(line.text, keep_newlines=False)
        if len(plain) > model.max_text_width:
            width = cell_len(plain)
            if width > model.max_text_width:
                model.max_text_width = width
                self.call_later(self._update_virtual_size)
        content = self._highlighted(file, hunk, line_index, line)
        if content is None or content.plain != plain:
            content = Content(plain)
        spans: list[Span] = []
        if line.kind in "+-":
            partner = model.partner(file, hunk, line_index)
            if partner is not None:
                pair = (file, hunk, line_index if line.kind == "-" else partner)
                words = self._words.get(pair, _UNSET)
                if words is _UNSET:
                    other = placeholders(lines[partner].text, keep_newlines=False)[0]
                    old, new = (plain, other) if line.kind == "-" else (other, plain)
                    words = self._words[pair] = word_spans(old, new)
                if words is not None:
                    mine = words[0] if line.kind == "-" else words[1]
                    spans.extend(Span(s, e, _WORD[line.kind]) for s, e in mine)
        spans.extend(Span(s, e, HIDDEN_STYLE) for s, e in marks)
        if self._search is not None:
            style = _SEARCH_CURRENT if row_index == self.cursor else _SEARCH
            spans.extend(Span(m.start(), m.end(), style) for m in self._search.finditer(plain))
        return content.add_spans(spans) if spans else content

    # -- lazy highlighting --------------------------------------------------------------------

    def _side_index(self, file: int, hunk: int) -> SideIndex:
        assert self.model is not None
        return side_index(self.model, self._sides, file, hunk)

    def _chunk_of(self, file: int, hunk: int, line_index: int, kind: str) -> tuple | None:
        if kind == "\\":
            return None
        old_pos, new_pos, _, _ = self._side_index(file, hunk)
        if kind == "-":
            return (file, hunk, "old", old_pos[line_index] // CHUNK)
        return (file, hunk, "new", new_pos[line_index] // CHUNK)

    def _highlighted(self, file: int, hunk: int, line_index: int, line: DiffLine) -> Content | None:
        if self._languages.get(file, _UNSET) is None:
            return None
        key = self._chunk_of(file, hunk, line_index, line.kind)
        if key is None:
            return None
        chunk = self._highlights.get(key)
        if chunk is None:
            return None
        old_pos, new_pos, _, _ = self._side_index(file, hunk)
        pos = old_pos[line_index] if line.kind == "-" else new_pos[line_index]
        offset = pos - key[3] * CHUNK
        return chunk[offset] if 0 <= offset < len(chunk) else None

    def _row_ready(self, row: Row) -> bool:
        if self._languages.get(row.file, _UNSET) is None:
            return True
        model = self.model
        assert model is not None
        lines = model.files[row.file].hunks[row.hunk].lines
        for index in (row.a, row.b):
            if index < 0:
                continue
            key = self._chunk_of(row.file, row.hunk, index, lines[index].kind)
            if key is not None and key not in self._highlights:
                return False
        return True

    def _request_highlights(self, top: int, height: int) -> None:
        layout, model = self.layout_rows, self.model
        if layout is None or model is None:
            return
        rows = layout.rows
        wanted: list[tuple] = []
        seen: set[tuple] = set()
        # On screen first, then a page below, then a page above.
        spans = (
            (top, top + height),
            (top + height, top + 2 * height),
            (max(0, top - height), top),
        )
        for start, end in spans:
            for y in range(max(0, start), min(end, len(rows))):
                row = rows[y]
                if row.kind != LINE or self._languages.get(row.file, _UNSET) is None:
                    continue
                lines = model.files[row.file].hunks[row.hunk].lines
                for index in (row.a, row.b):
                    if index < 0:
                        continue
                    key = self._chunk_of(row.file, row.hunk, index, lines[index].kind)
                    if key is not None and key not in seen and key not in self._highlights:
                        seen.add(key)
                        wanted.append(key)
        if not wanted:
            with self._lock:
                self._pending.clear()
            return
        with self._lock:
            # Only what is on screen now and a page around it: chunks asked for by pages the
            # reviewer has already left are dropped, not worked through.
            self._pending = OrderedDict.fromkeys(wanted)
            start_worker = not self._worker_running
            self._worker_running = True
        if start_worker:
            self._highlight_worker(self._generation)

    @work(thread=True, group="highlight", exit_on_error=False)
    def _highlight_worker(self, generation: int) -> None:
        # The model and its caches are captured now: load() replaces them, never mutates them.
        model, sides, languages = self.model, self._sides, self._languages
        if model is None:
            return
        worker = get_current_worker()
        # Chunks go to the view in batches (one repaint for a page's chunks, not one each:
        # every repaint is main-thread time a key pressed meanwhile waits for).
        batch: list[tuple[tuple, list[Content | None]]] = []
        since = time.monotonic()

        def flush() -> None:
            nonlocal since
            if batch and generation == self._generation:
                self.post_message(self.ChunkReady(generation, list(batch)))
            batch.clear()
            since = time.monotonic()

        while not worker.is_cancelled:
            with self._lock:
                if generation != self._generation:
                    return
                if not self._pending:
                    self._worker_running = False
                    flush()
                    return
                key, _ = self._pending.popitem(last=False)

            # Lexing holds the GIL; while frames are being drawn it would slow every page jump,
            # so it waits until the view has been still for a moment (plain rows first), and
            # looks again every few dozen tokens: a key pressed mid-chunk has the interpreter
            # back within a millisecond or so, not after the whole chunk. "Still" also counts
            # from the last key the app received (`input_at`), not only from the last frame:
            # between a key and its frame the UI thread hands the interpreter over at each
            # turn of its event loop, and a lexing thread kept it a switch interval each time.
            def still() -> None:
                while not worker.is_cancelled and time.monotonic() < self._busy_until():
                    time.sleep(0.01)

            still()
            batch.append((key, highlight_chunk(model, sides, languages, key, still)))
            if time.monotonic() - since > CHUNK_BATCH_SECONDS:
                flush()

    def _busy_until(self) -> float:
        """Until when the highlighter holds back: a moment after the last frame drawn and
        after the last key the app received (read from the highlighter's thread)."""
        try:
            input_at = getattr(self.app, "input_at", 0.0)
        except Exception:  # no app any more: the worker is being cancelled
            input_at = 0.0
        return max(self._ui_busy_until, input_at + UI_BUSY_SECONDS)

    def on_diff_view_chunk_ready(self, message: ChunkReady) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        for key, lines in message.chunks:
            self._highlights[key] = lines
        self.refresh()
        self._schedule_prefetch()  # the next page's rows, now with their highlighting
        # What paging keeps (highlighted chunks, the rows drawn with them) lives on: out of the
        # collector's sight once drawn, so a full collection while the reviewer pages walks
        # only what is new since (`core.alloc`; paging makes next to no cyclic garbage to
        # leave frozen, see `Lru` and `_no_self_in_strip_caches`).
        self.call_after_refresh(keep_out_of_sight)

    def on_click(self, event) -> None:
        if self.layout_rows is None:
            return
        row = round(self.scroll_y) + event.y
        if 0 <= row < len(self.layout_rows):
            self.move_cursor(row)


SideIndex = tuple[array, array, list[int], list[int]]


def side_index(model: DiffModel, sides: dict, file: int, hunk: int) -> SideIndex:
    """Position of each line within its side of a hunk (old: ' ' and '-'; new: ' ' and '+')
    and the line indexes making up each side; cached in `sides`."""
    key = (file, hunk)
    found = sides.get(key)
    if found is None:
        lines = model.files[file].hunks[hunk].lines
        n = len(lines)
        old_pos = array("i", [-1]) * n
        new_pos = array("i", [-1]) * n
        old_lines: list[int] = []
        new_lines: list[int] = []
        for i, line in enumerate(lines):
            kind = line.kind
            if kind != "+" and kind != "\\":
                old_pos[i] = len(old_lines)
                old_lines.append(i)
            if kind != "-" and kind != "\\":
                new_pos[i] = len(new_lines)
                new_lines.append(i)
        found = sides[key] = (old_pos, new_pos, old_lines, new_lines)
    return found


def language_for(model: DiffModel, languages: dict, file: int) -> str | None:
    """Pygments language of a file by its name (None: draw it plain); cached in `languages`."""
    if file in languages:
        return languages[file]
    # start-up: Pygments loads with the first highlighted file, not with the app
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(model.files[file].path)
        language = lexer.aliases[0] if lexer.aliases else None
    except ClassNotFound:
        language = None
    if language in ("text", "output"):
        language = None
    languages[file] = language
    return language


def highlight_chunk(model: DiffModel, sides: dict, languages: dict, key: tuple, pause=None) -> list:
    """Highlighted `Content` for the lines of one chunk (None where a line stays plain);
    `pause()`, when given, is called every few dozen tokens (the worker yields there)."""
    file, hunk, side, number = key
    language = language_for(model, languages, file)
    _, _, old_lines, new_lines = side_index(model, sides, file, hunk)
    indexes = (old_lines if side == "old" else new_lines)[number * CHUNK : (number + 1) * CHUNK]
    lines = model.files[file].hunks[hunk].lines
    texts = [placeholders(lines[i].text, keep_newlines=False)[0] for i in indexes]
    out: list[Content | None] = [None] * len(texts)
    if language is None:
        return out
    # Long lines stay plain; the rest are lexed together so multi-line tokens hold.
    short = [t if len(t) <= MAX_HIGHLIGHT_LINE else "" for t in texts]
    try:
        highlighted = highlight_text("\n".join(short), language, pause)
    except Exception:  # a lexer bug must not take the diff down
        return out
    parts = highlighted.split("\n", allow_blank=True)
    for i, text in enumerate(texts):
        if i < len(parts) and len(text) <= MAX_HIGHLIGHT_LINE and parts[i].plain == text:
            out[i] = parts[i]
    return out


#: Tokens lexed between two calls of a highlighting `pause`.
PAUSE_TOKENS = 48
_LEXERS: dict[str, object] = {}


def highlight_text(code: str, language: str, pause=None) -> Content:
    """`textual.highlight.highlight(code, language=language)`, token by token, calling
    `pause()` every `PAUSE_TOKENS` tokens (the same spans, the same `Content`)."""
    # start-up: Pygments loads with the first highlighted chunk, not with the app
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound
    from textual.highlight import HighlightTheme

    code = "\n".join(code.splitlines())
    lexer = _LEXERS.get(language)
    if lexer is None:
        try:
            lexer = get_lexer_by_name(language, stripnl=False, ensurenl=True, tabsize=8)
        except ClassNotFound:
            lexer = get_lexer_by_name("text", stripnl=False, ensurenl=True, tabsize=8)
        _LEXERS[language] = lexer
    styles = HighlightTheme.STYLES
    spans: list[Span] = []
    start = 0
    for count, (token_type, token) in enumerate(lexer.get_tokens(code)):
        end = start + len(token)
        while True:
            if style := styles.get(token_type):
                spans.append(Span(start, end, style))
                break
            if (token_type := token_type.parent) is None:
                break
        start = end
        if pause is not None and count % PAUSE_TOKENS == PAUSE_TOKENS - 1:
            pause()
    return Content(code, spans=spans).stylize_before("$text")
