"""The queue screen: pending AI-authored work, unmerged units first, then AI commits on main
(each group by the sort key, riskiest first by default); Enter opens the review."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, LoadingIndicator, Static

from reviewq.core.alloc import gc_paused, keep_as_long_lived, needs_collection, resume_collection
from reviewq.core.model import short_id
from reviewq.core.queue import (
    SORT_KEYS,
    QueueItem,
    QueueRow,
    age_from,
    haystack_of,
    human_age,
    is_unmerged,
    parse_time,
    queue_order,
    row_of,
)
from reviewq.core.text import one_line
from reviewq.errors import error_text
from reviewq.tui import keymap
from reviewq.tui.live import LiveRefresh
from reviewq.tui.safe import safe_line
from reviewq.tui.services import LARGE_LOG_BYTES, QueueRefresh
from reviewq.tui.typeahead import typeahead_release
from reviewq.tui.widgets.lists import QueueTable

RISK_STYLE = {"high": "bold $text-error", "medium": "$text-warning", "low": "$text-success"}
#: Above this many items a filter waits for a pause in the typing: refilling the table with
#: 10,000 rows takes about a second (benchmarks/bench_tui_load.py). Below, every key filters.
FILTER_PAUSE_ITEMS = 2_000
FILTER_PAUSE = 0.25
#: Most telling first: what the change is (subject) and who made it (agent, model) before
#: where it lives; a column that does not fit is reached with h/l (the panel under the
#: table repeats the cut ones whole for the highlighted row).
COLUMNS = (
    "Risk",
    "Change",
    "Agent",
    "Subject",
    "Model",
    "Size",
    "Age",
    "Domain",
    "You",
    "Where",
)
SUBJECT = COLUMNS.index("Subject")
#: The order a queue screen opens in.
DEFAULT_SORT = "risk"
#: The subject column takes what the others leave, between these widths.
SUBJECT_WIDTH = (30, 72)
#: Columns cut to this many characters when longer (whole in the panel under the table).
CAPS = {COLUMNS.index("Model"): 26, COLUMNS.index("Where"): 28, COLUMNS.index("Agent"): 18}
#: Seconds left to the terminal's writer after it took the first frame (`_wait_for_output`).
OUTPUT_GRACE = 0.03
#: A stored answer's first fill adds this many screens of rows; the rest after the first frame.
STORED_PAGE_SCREENS = 3
#: Seconds the queue's worker waits for a stored answer's rows to be drawn before it computes.
FIRST_DRAW_WAIT = 1.0
#: The cursor rests this long on a row before its diff is prepared for the review screen
#: (`screens.review.prepare_diff`): moving through the queue prepares nothing.
PREPARE_PAUSE = 0.3
#: New items named in the "new in the queue" notice before it says "and N more".
NOTICE_ITEMS = 3


def _text(text: str) -> Content:
    """`safe_line(text)`, without its scan for hidden characters when there can be none
    (printable ASCII: most cells of a large queue; the same Content either way)."""
    if text.isascii() and text.isprintable():
        return Content(text)
    return safe_line(text)


def _cut_one(cell: Content, width: int) -> Content:
    """A cell longer than its column ends in an ellipsis (never silently cropped)."""
    return cell if cell.cell_length <= width else cell.truncate(width, ellipsis=True)


def _length(text: str) -> int:
    """The cell length `_text(text)` has, without making it when it is plain ASCII."""
    if text.isascii() and text.isprintable():
        return len(text)
    return _text(text).cell_length


def row_texts(row: QueueRow, mine: str | None) -> tuple[str, ...]:
    """What each of a row's cells says (`COLUMNS`), before safety and cutting."""
    level, score = row.risk
    return (
        f"{level} {score}",
        short_id(row.id, narrow=True),
        row.agent,
        row.subject,
        row.model,
        row.size_text,
        human_age(row.age_seconds),
        row.domain,
        mine or "",
        row.where,
    )


def display_order(
    rows: Sequence[QueueRow], sort_key: str, mine: Mapping[str, str]
) -> list[QueueRow]:
    """The table's order: unmerged work first, then AI commits on main, each by the sort key
    (as `reviewq queue`); what this reviewer already decided waits for others, last."""
    ordered = queue_order(list(rows), sort_key)
    ordered.sort(key=lambda r: r.id in mine)
    return ordered


def column_maxes(rows: Iterable[_RowCells]) -> list[int]:
    """Each column's longest text (0 without rows)."""
    maxes = [0] * len(COLUMNS)
    for row in rows:
        maxes = [max(a, b) for a, b in zip(maxes, row.lengths)]
    return maxes


#: The shape of `stored_display`'s summary: bump when it changes.
DISPLAY_VERSION = 1
AGE = COLUMNS.index("Age")


def stored_display(rows: Sequence[QueueRow], mine: Mapping[str, str], now: datetime) -> dict:
    """What the next open's first screen needs beyond the rows it draws, computed now over all
    of them, so that it reads only the rows on screen (`services.keep_queue_answer` keeps it
    in the stored answer): the table's order for the default sort as indexes into `rows`, each
    column's longest text, the oldest commit time (the age column's width at any later
    moment: `age_width`) and how many rows are unmerged work.

    The order is kept only when it is the same at every later moment: ages then grow alike
    (every commit time readable is before `now`; an unreadable one is age 0 for good). A
    commit dated after `now` would overtake others as its age starts counting: no order then,
    and the screen sorts as usual."""
    at_now = [replace(r, age_seconds=age_from(r.committed_at, now)) for r in rows]
    stamp = now.timestamp()
    steady = True
    oldest: str | None = None
    oldest_age = -1.0
    for row in at_now:
        when = parse_time(row.committed_at)
        if when is None or when.tzinfo is None:
            continue
        if not when.timestamp() < stamp:
            steady = False
        if row.age_seconds > oldest_age:
            oldest, oldest_age = row.committed_at, row.age_seconds
    index = {r.id: n for n, r in enumerate(rows)}
    order = [index[r.id] for r in display_order(at_now, DEFAULT_SORT, mine)] if steady else None
    maxes = column_maxes(_RowCells(r, mine.get(r.id)) for r in at_now)
    return {
        "v": DISPLAY_VERSION,
        "sort": DEFAULT_SORT,
        "order": order,
        "maxes": maxes,
        "oldest": oldest,
        "unmerged": sum(1 for r in rows if is_unmerged(r)),
    }


def age_width(oldest: str | None, now: datetime) -> int:
    """The age column's longest text at `now`: the oldest row's. An age under 60 days says at
    most three characters ("59m", "23h", "59d"), and months only get longer with age, so the
    longest text is the oldest row's whenever any is longer than three."""
    return len(human_age(age_from(oldest, now))) if oldest is not None else 0


class _StoredView:
    """A stored answer's rows in the table's order (`stored_display`), read as drawn."""

    __slots__ = ("ids", "maxes", "order", "rows", "unmerged")

    def __init__(self, rows: Any, order: list[int], maxes: list[int], unmerged: int) -> None:
        self.rows = rows
        self.order = order
        self.ids = [rows.ids[i] for i in order]
        self.maxes = maxes
        self.unmerged = unmerged

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, index: int) -> QueueRow:
        return self.rows[self.order[index]]

    def __iter__(self) -> Iterator[QueueRow]:
        rows = self.rows
        for i in self.order:
            yield rows[i]

    def __bool__(self) -> bool:
        return bool(self.order)


def _stored_view(stored: Any) -> _StoredView | None:
    """The stored answer's precomputed table, when it has a usable one (else None: the
    screen orders and measures the rows itself, as for a load)."""
    display = stored.display
    rows = stored.rows
    if not isinstance(display, dict) or display.get("v") != DISPLAY_VERSION:
        return None
    order, maxes, unmerged = display.get("order"), display.get("maxes"), display.get("unmerged")
    oldest = display.get("oldest")
    if (
        display.get("sort") != DEFAULT_SORT
        or type(order) is not list
        or type(maxes) is not list
        or len(maxes) != len(COLUMNS)
        or not all(type(m) is int and m >= 0 for m in maxes)
        or type(unmerged) is not int
        or (oldest is not None and type(oldest) is not str)
        or sorted(order) != list(range(len(rows)))
    ):
        return None
    maxes = list(maxes)
    maxes[AGE] = age_width(oldest, rows.now)
    return _StoredView(rows, order, maxes, unmerged)


class _RowCells:
    """One row's cells for the table: their texts' lengths at once (the columns' widths need
    every row's), the cells themselves (`Content`, each made safe) only once the row is drawn.
    A 10,000-row queue then makes the cells of the few rows on screen, not 100,000."""

    __slots__ = ("_cells", "lengths", "mine", "row", "texts")

    def __init__(self, row: QueueRow, mine: str | None) -> None:
        self.row = row
        self.mine = mine
        #: What each cell says (before safety and cutting): a refill that says the same keeps
        #: the table as it is.
        self.texts = row_texts(row, mine)
        joined = "".join(self.texts)
        if joined.isascii() and joined.isprintable():
            self.lengths = [len(t) for t in self.texts]
        else:
            self.lengths = [_length(t) for t in self.texts]
        self._cells: list[Content] | None = None

    def cells(self) -> list[Content]:
        if self._cells is None:
            self._cells = QueueScreen._cells(self.row, self.mine)
        return self._cells

    def cut(self, widths: list[int]) -> Callable[[int], Content]:
        """Column index -> its cell, cut to `widths` (what the table reads when drawing)."""
        return lambda index: _cut_one(self.cells()[index], widths[index])


def _wait_for_output(app: Any, limit: float) -> None:
    """Until the app's output thread has taken what was drawn (Textual writes the terminal in
    a thread of its own, which needs the interpreter too), at most `limit` seconds; a short
    pause where that cannot be seen (another driver)."""
    queue = getattr(getattr(getattr(app, "_driver", None), "_writer_thread", None), "_queue", None)
    end = time.monotonic() + limit
    if queue is None or not hasattr(queue, "qsize"):
        time.sleep(min(0.05, limit))
        return
    while queue.qsize() and time.monotonic() < end:
        time.sleep(0.005)
    # The last piece taken is being written: in 8 KiB pieces, each taking the interpreter
    # back after its system call, which a busy thread here would make wait.
    time.sleep(OUTPUT_GRACE)


def item_matches(item: QueueItem, terms: list[str]) -> bool:
    """Every term appears in one of the fields a reviewer filters by (case-insensitive)."""
    haystack = haystack_of(item)
    return all(term in haystack for term in terms)


#: From this many items a load leaves a heap whose full collections the reviewer would feel.
LONG_LIVED_QUEUE = 1_000


class QueueScreen(Screen, inherit_bindings=False):
    BINDINGS = keymap.screen_bindings("queue")
    AUTO_FOCUS = "QueueTable"
    #: The keymap scope of the table: what a key typed ahead will do (typeahead.py).
    TYPEAHEAD_SCOPE = "queue-table"

    DEFAULT_CSS = """
    QueueScreen { layout: vertical; }
    QueueScreen > #queue-top { height: 1; background: $panel; padding: 0 1; }
    QueueScreen > #queue-top > #queue-title { width: 1fr; text-wrap: nowrap;
                                              text-overflow: ellipsis; }
    QueueScreen > #queue-top > #queue-progress { width: auto; margin-left: 3; }
    QueueScreen > QueueTable { height: 1fr; }
    QueueScreen > #queue-empty { height: 1fr; content-align: center middle; color: $text-muted; }
    QueueScreen > #queue-reasons { height: auto; max-height: 6; padding: 0 1;
                                   border-top: solid $panel; color: $text-muted; }
    QueueScreen > Input { dock: bottom; display: none; }
    QueueScreen > Input.-shown { display: block; }
    QueueScreen > LoadingIndicator { height: 1fr; }
    QueueScreen > #queue-building { height: 2; content-align: center top; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.items: list[QueueItem] = []
        self.shown: list[QueueItem] = []
        #: What the table shows, one row per item (`core.queue.QueueRow`): the loaded items'
        #: rows, or before they are in, a stored answer's (`provisional`).
        self.rows: list[QueueRow] = []
        self.shown_rows: list[QueueRow] = []
        #: The rows come from the last open's stored answer (reviewq/workflow/queue_answer.py)
        #: while the real queue is computed: shown, never opened.
        self.provisional = False
        #: A change the reviewer asked to open before the real queue was in.
        self.open_when_loaded: str | None = None
        self._hidden_audit = 0
        self.sort_key = DEFAULT_SORT
        #: The stored answer's rows in the table's order, while they are shown as it kept them.
        self._stored: _StoredView | None = None
        self.filter_text = ""
        self.reviewed_today = 0
        #: change id -> this reviewer's latest verdict on it
        self.mine: dict[str, str] = {}
        self.loaded = False
        #: The queue could not be loaded: keys typed ahead are not held for it any longer.
        self.load_failed = False
        #: (change id, my verdict) -> the row's cells; a refill reuses them (10,000 rows).
        self._rows: dict[tuple[str, str | None], _RowCells] = {}
        self._filter_timer: Timer | None = None
        self._prepare_timer: Timer | None = None
        #: The review screen's CSS is parsed (`screens.review.warm_css`).
        self._css_warm = False
        self.filter_pause_items = FILTER_PAUSE_ITEMS
        self.filter_pause = FILTER_PAUSE
        self.live: LiveRefresh | None = None
        #: `gc.get_freeze_count()` after the last full collection (`core.alloc`).
        self.frozen_after_collection = 0
        self.cut_columns = False
        #: (key, stored answer) when the app's start had them at mount (`_load` takes it).
        self._first: tuple[str | None, Any] | None = None
        #: Set once the first frame is drawn.
        self._first_drawn = threading.Event()
        #: The stored table's rows still to add after the first frame (`_add_rest`).
        self._rest: tuple[_StoredView, list[int], int] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="queue-top"):
            yield Static(id="queue-title")
            yield Static(id="queue-progress")
        yield LoadingIndicator()
        building = Static(id="queue-building")
        building.display = False
        yield building
        table = QueueTable(cursor_type="row", zebra_stripes=True)
        table.display = False
        yield table
        empty = Static(id="queue-empty")
        empty.display = False
        yield empty
        yield Static(id="queue-reasons")
        yield Input(placeholder="filter: agent, family, domain, path, subject words", id="filter")
        yield Footer()

    @property
    def table(self) -> QueueTable:
        return self.query_one(QueueTable)

    def on_mount(self) -> None:
        self._update_top()
        # The last open's answer, when the thread the TUI started with has it already: in the
        # first frame, rather than a frame of the loading indicator and a trip to the worker.
        self._first = self.app.services.stored_queue_ready()
        if self._first is not None and self._first[1] is not None:
            self._show_stored(self._first[1])
        self.refresh_queue()
        self.call_after_refresh(resume_collection)  # the first frame is up (`core.alloc`)
        self.call_after_refresh(self._first_drawn.set)

    # -- keys typed ahead (typeahead.py) ------------------------------------------------------

    def typeahead_waits(self) -> bool:
        """Keys typed before the rows are in wait for them (a Down, an Enter at start-up), and
        so do keys typed after an Enter on a stored row: they are for the review it opens."""
        if self.open_when_loaded is not None:
            return True
        return not (self.loaded or self.provisional or self.load_failed)

    def _keys_go_on(self) -> None:
        """The rows are in: the table takes the keys typed while they loaded, in order."""
        table = self.table
        if self.app.screen is self and self.focused is None and table.display:
            table.focus()
        typeahead_release(self)

    # -- loading ------------------------------------------------------------------------------

    def refresh_queue(self) -> None:
        self.query_one(LoadingIndicator).display = not self.loaded and not self.provisional
        self._load()

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _load(self) -> None:
        services = self.app.services
        key = None
        first, self._first = self._first, None
        if first is not None or (not self.loaded and not self.rows):
            # The first open: the last open's answer, if nothing it depends on moved, is on
            # screen at once; the real queue replaces it when computed.
            key, stored = first if first is not None else services.stored_queue()
            if stored is not None:
                drawn = self._first_drawn
                if first is None:  # not shown by `on_mount`: show it now

                    def show() -> None:
                        drawn.clear()
                        self._show_stored(stored)
                        self.call_after_refresh(drawn.set)

                    self.app.call_from_thread(show)
                # The computing below holds the interpreter most of the time: let the rows
                # reach the terminal first.
                drawn.wait(FIRST_DRAW_WAIT)
                # ...all the way: the terminal's writer is a thread too, and this one and the
                # rest of the table (below) would hold the interpreter while it waits.
                _wait_for_output(self.app, FIRST_DRAW_WAIT)
                self.app.call_from_thread(self._add_rest)
                # The first screen read only the rows it drew: read the rest here (sort, filter
                # and the real queue's comparison read them all), not on the screen's thread.
                if not stored.rows.parse_all():
                    self.app.call_from_thread(self._drop_stored)
        # The first open over a large log reads all of it once into the column cache: say so.
        services.report_column_builds(
            lambda done, total: self.app.call_from_thread(self._building, done, total)
        )
        try:
            items, rows, reviewed, mine = services.load_queue_rows(key, keep=False)
        except Exception as exc:  # one line for the reviewer, never a traceback
            self.app.call_from_thread(self._failed, exc)
            return
        finally:
            services.report_column_builds(None)
        self.app.call_from_thread(self._loaded, items, reviewed, mine, rows)
        services.keep_queue_answer(key)  # for the next open, once these rows are on screen
        # The app imports the screens past the queue when first opened (start-up); load them
        # here, while the reviewer reads the queue, so the first Enter does not wait for them.
        import reviewq.tui.pair.screen
        import reviewq.tui.screens.review  # noqa: F401

    def _show_stored(self, stored) -> None:
        """The last open's rows (`services.stored_queue`), until the real queue is in."""
        if self.loaded:
            return
        with gc_paused():  # 10,000 rows' objects, none of them in a cycle
            self._show_rows(stored)

    def _show_rows(self, stored) -> None:
        self.provisional = True
        self._stored = _stored_view(stored)
        self.rows = stored.rows
        self.mine = dict(stored.mine)
        self.reviewed_today = stored.reviewed_today(self.app.services.now())
        self._hidden_audit = stored.hidden_audit
        self.query_one(LoadingIndicator).display = False
        self._fill()
        self.call_after_refresh(self._keys_go_on)

    def _building(self, done: int, total: int) -> None:
        if total < LARGE_LOG_BYTES or self.loaded:
            return  # a small log is read in a blink; a refresh keeps the table on screen
        mib = 1024 * 1024
        note = self.query_one("#queue-building", Static)
        note.update(
            Content(
                f"Reading the provenance log into its column cache: {done // mib:,} of "
                f"{total // mib:,} MiB. Only this first time; later opens read the cache."
            )
        )
        note.display = True

    def _drop_stored(self) -> None:
        """Take the stored rows away (they are not the queue): the screen waits as without."""
        if not self.provisional:
            return
        self.provisional = False
        self._stored = None
        self.rows, self.shown_rows, self.mine = [], [], {}
        if self.open_when_loaded is not None:
            self.open_when_loaded = None  # the Enter on a stored row is void: so are its keys
            self.app.drop_typeahead(self)
        self.table.clear(columns=True)
        self.table.display = False
        self.query_one(LoadingIndicator).display = not self.loaded
        self._update_top()
        self._show_reasons()

    def _failed(self, exc: Exception) -> None:
        self.load_failed = True
        self.query_one(LoadingIndicator).display = False
        self.query_one("#queue-building", Static).display = False
        if self.provisional:  # the stored rows are not the queue: take them away
            self._drop_stored()
            self.query_one(LoadingIndicator).display = False
        message = error_text(exc)
        self.app.notify(one_line(message, 200), title="Cannot load the queue", severity="error")
        empty = self.query_one("#queue-empty", Static)
        empty.update(Content(f"The queue could not be loaded: {one_line(message, 200)}"))
        empty.display = True
        typeahead_release(self)

    def _loaded(
        self,
        items: list[QueueItem],
        reviewed: int,
        mine: dict[str, str],
        rows: list[QueueRow] | None = None,
    ) -> None:
        self.loaded = True
        before = [self._row(r).texts for r in self.shown_rows] if self.provisional else None
        self.provisional = False
        self._stored = None
        self.items = items
        self.rows = rows if rows is not None else [row_of(i) for i in items]
        self._rows.clear()
        self.reviewed_today = reviewed
        self.mine = mine
        self.query_one(LoadingIndicator).display = False
        self.query_one("#queue-building", Static).display = False
        self.app.queue_loaded(items)
        with gc_paused():
            self._fill(same_as=before)
        if len(items) >= LONG_LIVED_QUEUE:
            # After the table is drawn: a full collection over the load takes a while.
            self.call_after_refresh(self._collect_and_freeze)
        self._start_live()
        self._prepare_soon()
        wanted, self.open_when_loaded = self.open_when_loaded, None
        if wanted is not None:
            self.call_after_refresh(self._open_requested, wanted)
        else:
            self.call_after_refresh(self._keys_go_on)

    def _open_requested(self, change_id: str) -> None:
        """Enter pressed on a stored row: open the real item of that id, if it is queued."""
        for index, item in enumerate(self.shown):
            if item.change.id == change_id:
                self.table.move_cursor(row=index)
                self.app.open_review(item, self.shown)
                typeahead_release(self)  # the keys typed after Enter: to the review
                return
        dropped = self.app.drop_typeahead(self)
        after = f"; the {dropped} key(s) typed after Enter were dropped" if dropped else ""
        self.app.notify(
            f"{short_id(change_id, narrow=True)} is no longer in the queue{after}", timeout=4
        )

    def _collect_and_freeze(self) -> None:
        self.frozen_after_collection = keep_as_long_lived()

    def on_screen_resume(self) -> None:
        self._prepare_soon()  # the row's diff again: the one prepared went to the review
        # Back from a review: its screen and diff were frozen (`keep_out_of_sight`) and, being
        # cycles, are freed only by a collection; one pause here, after the queue is drawn,
        # instead of a slow leak. Small diffs stay below the slack and cost nothing.
        if needs_collection(self.frozen_after_collection):
            self.call_after_refresh(self._collect_and_freeze)

    # -- live refresh -------------------------------------------------------------------------

    def _start_live(self) -> None:
        """After the first load: poll for new agent work, merges and verdicts made elsewhere."""
        interval = getattr(self.app, "live_interval", None)
        if self.live is not None or not interval:
            return
        self.live = LiveRefresh(
            self,
            self.app.services.poll_queue,
            self._live_update,
            interval=interval,
            on_error=self._live_failed,
        )
        self.live.start(now=False)

    def _live_update(self, refresh: QueueRefresh) -> None:
        update = refresh.update
        self._stored = None
        self.items = update.items
        self.rows = refresh.rows or [row_of(i) for i in update.items]
        self._rows.clear()  # places, ages and risks may have moved with the refresh
        self.reviewed_today = refresh.reviewed_today
        self.mine = refresh.mine
        self.app.queue_loaded(update.items)
        self._fill()
        if update.added:
            named = [
                f"{one_line(i.change.commit.subject, 50)} ({i.change.location or short_id(i.change.id, narrow=True)})"
                for i in update.added[:NOTICE_ITEMS]
            ]
            more = len(update.added) - len(named)
            self.app.notify(
                "; ".join(named) + (f"; and {more} more" if more > 0 else ""),
                title=f"{len(update.added)} new in the queue",
                timeout=6,
            )
        gone = [i for i in update.removed if i.change.id not in self.mine]
        if gone:
            self.app.notify(
                f"{len(gone)} left the queue: settled elsewhere, merged or no longer pushed",
                timeout=4,
            )

    def _live_failed(self, exc: Exception) -> None:
        message = error_text(exc)
        self.app.notify(one_line(message, 200), title="Cannot refresh the queue", severity="error")

    def verdict_recorded(self, change_id: str, verdict: str) -> None:
        """Today's count goes up and the item shows the reviewer's verdict; it stays listed only
        while the policy still wants another reviewer for it (a refresh asks the policy)."""
        self.reviewed_today += 1
        self.mine[change_id] = verdict
        self._fill()

    # -- table --------------------------------------------------------------------------------

    def _fill(self, same_as: list[tuple[str, ...]] | None = None) -> None:
        """Order, filter and draw `rows`. `same_as`: what the table says now, row by row;
        when the new rows say exactly that, the table is left as it is (a stored answer that
        held: the real queue arrives without a redraw)."""
        table = self.table
        keep = self.current_row()
        terms = self.filter_text.lower().split()
        stored = self._stored
        if stored is not None and (terms or self.sort_key != DEFAULT_SORT or self.loaded):
            stored = self._stored = None  # another order: the rows are sorted as for a load
        unchanged = False
        if stored is not None:
            # The stored answer's first screen: its order and widths as kept, the cells of
            # the rows on screen made when drawn (`stored_display`).
            self.shown_rows = stored
            self.shown = []
            table.clear(columns=True)
            widths = self._widths_from(stored.maxes)
            for name, width in zip(COLUMNS, widths):
                table.add_column(name, key=name.lower(), width=width)
            # The rows of the first screens now, the rest once it is drawn (adding a row to a
            # DataTable costs ~10 µs: 10,000 of them are a tenth of a second).
            page = STORED_PAGE_SCREENS * max(self.app.size.height, 25)
            self._add_stored_rows(stored, widths, 0, page)
            self._rest = (stored, widths, page)
        else:
            ordered = display_order(self.rows, self.sort_key, self.mine)
            self.shown_rows = [r for r in ordered if r.matches(terms)] if terms else ordered
            if self.loaded:
                by_id = {i.change.id: i for i in self.items}
                self.shown = [by_id[r.id] for r in self.shown_rows]
            else:
                self.shown = []
            rows = [self._row(r) for r in self.shown_rows]
            unchanged = (
                same_as is not None
                and table.row_count == len(rows)
                and same_as == [r.texts for r in rows]
            )
            if not unchanged:
                table.clear(columns=True)
                widths = self._widths(rows)
                for name, width in zip(COLUMNS, widths):
                    table.add_column(name, key=name.lower(), width=width)
                table.add_keyed_rows([(cells.row.id, cells.cut(widths)) for cells in rows])
        empty = self.query_one("#queue-empty", Static)
        has_rows = bool(self.shown_rows)
        table.display = has_rows
        empty.display = not has_rows
        if not has_rows:
            if self.rows:
                empty.update(Content(f"Nothing matches the filter {self.filter_text!r}."))
            else:
                empty.update(Content("Nothing pending: every AI-authored change has a verdict."))
        elif keep is not None and not unchanged:
            for index, row in enumerate(self.shown_rows):
                if row.id == keep.id:
                    table.move_cursor(row=index)
                    break
        self._update_top()
        self._show_reasons()

    def _add_rest(self) -> None:
        """The stored table's rows past its first screens (the worker asks, once the first
        frame is out)."""
        rest, self._rest = self._rest, None
        if rest is not None:
            stored, widths, start = rest
            self._add_stored_rows(stored, widths, start, len(stored))

    def _add_stored_rows(
        self, stored: _StoredView, widths: list[int], start: int, end: int
    ) -> None:
        """Rows `start` to `end` of the stored table, while it is the one shown."""
        if self._stored is not stored or self.table.row_count != start:
            return  # a refill since (another order, the real queue): it has its own rows
        ids = stored.ids
        self.table.add_keyed_rows(
            [
                (ids[n], self._stored_cell(stored, n, widths))
                for n in range(start, min(end, len(ids)))
            ]
        )

    def _stored_cell(
        self, stored: _StoredView, n: int, widths: list[int]
    ) -> Callable[[int], Content]:
        """Row `n` of the stored table's cells, read from the answer when first drawn."""
        return lambda index: self._row(stored[n]).cut(widths)(index)

    def _widths(self, rows: list[_RowCells]) -> list[int]:
        return self._widths_from(column_maxes(rows))

    def _widths_from(self, maxes: list[int]) -> list[int]:
        """Column widths from the cells' texts' longest (`column_maxes`: DataTable does not
        measure Content); the subject takes the room the others leave in the terminal's
        width."""
        widths = [
            min(max(len(name), maxes[index]), max(CAPS.get(index, 10_000), len(name)))
            for index, name in enumerate(COLUMNS)
        ]
        padding = 2 * self.table.cell_padding * len(COLUMNS)
        room = (self.table.size.width or self.app.size.width) - padding - 1
        others = sum(w for i, w in enumerate(widths) if i != SUBJECT)
        low, high = SUBJECT_WIDTH
        widths[SUBJECT] = min(widths[SUBJECT], max(low, min(high, room - others)))
        # The last column (Where) is capped to leave room for the others; what the screen has
        # left over goes to it, so a long unit name is cut only when the room is really gone.
        spare = room - sum(widths)
        if spare > 0:
            last = len(COLUMNS) - 1
            whole = max(len(COLUMNS[last]), maxes[last])
            widths[last] = min(whole, widths[last] + spare)
        #: Columns past the right edge: the top line says how to reach them.
        self.cut_columns = sum(widths) > room
        return widths

    def on_resize(self) -> None:
        if self.loaded:
            self._fill()

    def _row(self, row: QueueRow) -> _RowCells:
        key = (row.id, self.mine.get(row.id))
        cells = self._rows.get(key)
        if cells is None or cells.row is not row:
            cells = self._rows[key] = _RowCells(row, key[1])
        return cells

    @staticmethod
    def _cells(row: QueueRow | QueueItem, mine: str | None = None) -> list[Content]:
        if isinstance(row, QueueItem):
            row = row_of(row)
        level, score = row.risk
        # Every text through `_text` (a stored answer's rows are read from a file).
        return [
            Content.styled(f"{level} {score}", RISK_STYLE[level]),
            _text(short_id(row.id, narrow=True)),
            _text(row.agent),
            _text(row.subject),
            _text(row.model),
            _text(row.size_text),
            Content(human_age(row.age_seconds)),
            _text(row.domain),
            Content.styled(mine or "", "$text-muted"),
            _text(row.where),
        ]

    def _groups(self) -> str:
        """Where unmerged work ends: "3 unmerged, then 2 on main" (each group sorted)."""
        shown = self.shown_rows
        if isinstance(shown, _StoredView):
            unmerged = shown.unmerged
        else:
            unmerged = sum(1 for r in shown if is_unmerged(r))
        if not unmerged:
            return ""
        return f"   {unmerged} unmerged, then {len(self.shown_rows) - unmerged} on main"

    def _update_top(self) -> None:
        title = Content.assemble(
            ("reviewq", "bold"),
            "  ",
            safe_line(str(self.app.repo_label)),
            (f"   sort: {self.sort_key}", "$text-muted"),
            (self._groups(), "$text-muted"),
            (f"   filter: {self.filter_text}" if self.filter_text else "", "$text-warning"),
        )
        self.query_one("#queue-title", Static).update(title)
        ids = getattr(self.rows, "ids", None)  # a stored answer's: its rows are not read here
        mine = self.mine
        pending = sum(
            1 for cid in (ids if ids is not None else (r.id for r in self.rows)) if cid not in mine
        )
        # The counts add up to the rows: the reviewer's own decided items stay listed (last)
        # while the policy wants another reviewer, and they are not "pending" for them.
        waiting = len(self.rows) - pending
        shown = self.loaded or self.provisional
        parts: list[str | tuple[str, str]] = [
            ("Reviewed today ", "$text-muted"),
            (str(self.reviewed_today), "bold $text-success"),
            ("   Pending ", "$text-muted"),
            (str(pending) if shown else "…", "bold"),
        ]
        if waiting:
            parts += [("   Yours, waiting for others ", "$text-muted"), (str(waiting), "bold")]
        if shown and self.shown_rows and self.cut_columns:
            left, right = (
                keymap.first_key(self.app, "nav.left"),
                keymap.first_key(self.app, "nav.right"),
            )
            parts += [(f"   {left}/{right}: more columns", "$text-muted")]
        if self.loaded:
            hidden = self.app.services.hidden_audit()
        else:
            hidden = self._hidden_audit if self.provisional else 0
        audit_key = keymap.first_key(self.app, "queue.audit")
        if hidden:
            parts += [(f"   {hidden} older on main hidden ({audit_key}: audit)", "$text-muted")]
        elif shown and self.app.services.queue_view == "all":
            parts += [(f"   with the audit view ({audit_key}: daily)", "$text-muted")]
        if shown and len(self.shown_rows) != len(self.rows):
            parts += [(f"   shown {len(self.shown_rows)} of {len(self.rows)}", "$text-warning")]
        self.query_one("#queue-progress", Static).update(Content.assemble(*parts))

    def current_item(self) -> QueueItem | None:
        """The highlighted item (None before the real queue is in: a stored row is no item)."""
        table = self.table
        if not self.shown or table.cursor_row is None:
            return None
        if 0 <= table.cursor_row < len(self.shown):
            return self.shown[table.cursor_row]
        return None

    def current_row(self) -> QueueRow | None:
        table = self.table
        if not self.shown_rows or table.cursor_row is None:
            return None
        if 0 <= table.cursor_row < len(self.shown_rows):
            return self.shown_rows[table.cursor_row]
        return None

    @on(QueueTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_reasons()
        self._prepare_soon()

    # -- the highlighted row's diff, ready for Enter ------------------------------------------

    def _prepare_soon(self) -> None:
        """Prepare the highlighted item's diff once the cursor has rested on it."""
        if self._prepare_timer is not None:
            self._prepare_timer.stop()
        self._prepare_timer = self.set_timer(PREPARE_PAUSE, self._prepare_now)

    def _prepare_now(self) -> None:
        self._prepare_timer = None
        item = self.current_item()
        if item is None or self.app.screen is not self:
            return
        self._prepare_worker(item)
        if not self._css_warm:
            from reviewq.tui.screens.review import warm_css

            self._css_warm = True
            warm_css(self.app)

    @work(
        thread=True,
        exclusive=True,
        group="prepare",
        exit_on_error=False,
        description="the highlighted item's diff",
    )
    def _prepare_worker(self, item: QueueItem) -> None:
        from reviewq.tui.screens.review import prepare_diff

        self.app.background_pause()  # keys first: it starts once the reviewer's keys pause
        if self.app.screen is not self:
            return  # a screen opened meanwhile (it read its own diff)
        try:
            prepare_diff(self.app.services, item)
        except Exception:
            pass  # nothing kept: the review screen reads the diff and says what is wrong

    def _show_reasons(self) -> None:
        row = self.current_row()
        reasons = self.query_one("#queue-reasons", Static)
        if row is None:
            reasons.update("")
            return
        # `one_line` leaves a loaded item's lines as they are; a stored row's come from a file.
        lines = [one_line(line) for line in row.reasons]
        if row.id in self.mine:
            lines.append(f"you: {self.mine[row.id]}; it waits for what the policy still needs")
        lines.append(one_line(row.prompt_line))
        reasons.update(Content("\n".join(lines)))

    # -- actions ------------------------------------------------------------------------------

    def action_open_item(self) -> None:
        if self.provisional and not self.loaded:
            # A stored row is shown, not reviewed: its real item opens once the queue is in.
            row = self.current_row()
            if row is not None:
                self.open_when_loaded = row.id
                self.app.notify("Opening it as soon as the queue has loaded…", timeout=3)
            return
        item = self.current_item()
        if item is not None:
            self.app.open_review(item, self.shown)

    @on(QueueTable.RowSelected)
    def _selected(self, event: QueueTable.RowSelected) -> None:
        event.stop()
        self.action_open_item()

    def action_cycle_sort(self) -> None:
        index = SORT_KEYS.index(self.sort_key)
        self.sort_key = SORT_KEYS[(index + 1) % len(SORT_KEYS)]
        self._fill()
        self.app.notify(f"Sorted by {self.sort_key}", timeout=2)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = self.filter_text
        box.add_class("-shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("-shown"):
            box.remove_class("-shown")
        if self.filter_text:
            self.filter_text = ""
            self._fill()
        self.table.focus()

    def action_refresh(self) -> None:
        self.refresh_queue()

    def action_toggle_audit(self) -> None:
        """Daily queue <-> with the audit view (older unreviewed AI commits on main)."""
        services = self.app.services
        view = "daily" if services.queue_view == "all" else "all"
        services.set_queue_view(view)
        self.app.notify(
            "Showing the audit view too" if view == "all" else "Showing the daily queue",
            timeout=2,
        )
        self.refresh_queue()

    def action_start_pair(self) -> None:
        """A pair session on the highlighted item, then the rest riskiest first."""
        if not self.loaded:
            self.app.notify("The queue is still loading.", timeout=2)
            return
        self.app.start_pair(self.current_item(), self.items)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if len(self.items) > self.filter_pause_items:
            self._filter_timer = self.set_timer(self.filter_pause, self._filter_now)
        else:
            self._fill()

    def _filter_now(self) -> None:
        self._filter_timer = None
        self._fill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_now()
        self.query_one("#filter", Input).remove_class("-shown")
        self.table.focus()
