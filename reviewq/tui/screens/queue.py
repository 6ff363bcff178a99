"""The queue screen: pending AI-authored work, unmerged units first, then AI commits on main
(each group by the sort key, riskiest first by default); Enter opens the review."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, LoadingIndicator, Static

from reviewq.core.alloc import keep_as_long_lived
from reviewq.core.families import model_label
from reviewq.core.model import short_id
from reviewq.core.queue import SORT_KEYS, QueueItem, human_age, is_unmerged, queue_order
from reviewq.core.text import one_line
from reviewq.errors import error_text
from reviewq.tui import keymap
from reviewq.tui.live import LiveRefresh
from reviewq.tui.safe import safe_line
from reviewq.tui.services import LARGE_LOG_BYTES, QueueRefresh
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
#: The subject column takes what the others leave, between these widths.
SUBJECT_WIDTH = (30, 72)
#: Columns cut to this many characters when longer (whole in the panel under the table).
CAPS = {COLUMNS.index("Model"): 26, COLUMNS.index("Where"): 28, COLUMNS.index("Agent"): 18}
#: New items named in the "new in the queue" notice before it says "and N more".
NOTICE_ITEMS = 3


def _cut(row: list[Content], widths: list[int]) -> list[Content]:
    """Cells longer than their column end in an ellipsis (never silently cropped)."""
    return [
        cell if cell.cell_length <= width else cell.truncate(width, ellipsis=True)
        for cell, width in zip(row, widths)
    ]


def item_matches(item: QueueItem, terms: list[str]) -> bool:
    """Every term appears in one of the fields a reviewer filters by (case-insensitive)."""
    change = item.change
    auth = change.authorship
    haystack = " ".join(
        [
            change.id,
            auth.agent,
            auth.model or "",
            auth.family,
            item.domain,
            item.risk.level,
            change.commit.subject,
            change.commit.author.name,
            " ".join(change.paths),
            " ".join(change.refs) or change.location or "",
        ]
    ).lower()
    return all(term in haystack for term in terms)


#: From this many items a load leaves a heap whose full collections the reviewer would feel.
LONG_LIVED_QUEUE = 1_000


class QueueScreen(Screen, inherit_bindings=False):
    BINDINGS = keymap.screen_bindings("queue")
    AUTO_FOCUS = "QueueTable"

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
        self.sort_key = "risk"
        self.filter_text = ""
        self.reviewed_today = 0
        #: change id -> this reviewer's latest verdict on it
        self.mine: dict[str, str] = {}
        self.loaded = False
        #: (change id, my verdict) -> the row's cells; a refill reuses them (10,000 rows).
        self._rows: dict[tuple[str, str | None], list[Content]] = {}
        self._filter_timer: Timer | None = None
        self.filter_pause_items = FILTER_PAUSE_ITEMS
        self.filter_pause = FILTER_PAUSE
        self.live: LiveRefresh | None = None
        self.cut_columns = False

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
        self.refresh_queue()

    # -- loading ------------------------------------------------------------------------------

    def refresh_queue(self) -> None:
        self.query_one(LoadingIndicator).display = not self.loaded
        self._load()

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def _load(self) -> None:
        services = self.app.services
        # The first open over a large log reads all of it once into the column cache: say so.
        services.report_column_builds(
            lambda done, total: self.app.call_from_thread(self._building, done, total)
        )
        try:
            items = services.load_queue()
            reviewed, mine = services.my_progress()
        except Exception as exc:  # one line for the reviewer, never a traceback
            self.app.call_from_thread(self._failed, exc)
            return
        finally:
            services.report_column_builds(None)
        self.app.call_from_thread(self._loaded, items, reviewed, mine)

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

    def _failed(self, exc: Exception) -> None:
        self.query_one(LoadingIndicator).display = False
        self.query_one("#queue-building", Static).display = False
        message = error_text(exc)
        self.app.notify(one_line(message, 200), title="Cannot load the queue", severity="error")
        empty = self.query_one("#queue-empty", Static)
        empty.update(Content(f"The queue could not be loaded: {one_line(message, 200)}"))
        empty.display = True

    def _loaded(self, items: list[QueueItem], reviewed: int, mine: dict[str, str]) -> None:
        self.loaded = True
        self.items = items
        self._rows.clear()
        self.reviewed_today = reviewed
        self.mine = mine
        self.query_one(LoadingIndicator).display = False
        self.query_one("#queue-building", Static).display = False
        self.app.queue_loaded(items)
        self._fill()
        if len(items) >= LONG_LIVED_QUEUE:
            keep_as_long_lived()
        self._start_live()

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
        self.items = update.items
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

    def _fill(self) -> None:
        table = self.table
        keep = self.current_item()
        terms = self.filter_text.lower().split()
        # Unmerged work first, then AI commits on main, each by the sort key (as `reviewq queue`).
        ordered = queue_order(self.items, self.sort_key)
        # What this reviewer already decided waits for others: last, whatever the sort.
        ordered.sort(key=lambda i: i.change.id in self.mine)
        self.shown = [i for i in ordered if item_matches(i, terms)]
        table.clear(columns=True)
        rows = [self._row(item) for item in self.shown]
        widths = self._widths(rows)
        for name, width in zip(COLUMNS, widths):
            table.add_column(name, key=name.lower(), width=width)
        for item, row in zip(self.shown, rows):
            table.add_row(*_cut(row, widths), key=item.change.id)
        empty = self.query_one("#queue-empty", Static)
        has_rows = bool(self.shown)
        table.display = has_rows
        empty.display = not has_rows
        if not has_rows:
            if self.items:
                empty.update(Content(f"Nothing matches the filter {self.filter_text!r}."))
            else:
                empty.update(Content("Nothing pending: every AI-authored change has a verdict."))
        elif keep is not None:
            for index, item in enumerate(self.shown):
                if item.change.id == keep.change.id:
                    table.move_cursor(row=index)
                    break
        self._update_top()
        self._show_reasons()

    def _widths(self, rows: list[list[Content]]) -> list[int]:
        """Column widths from the cells themselves (DataTable does not measure Content); the
        subject takes the room the others leave in the terminal's width."""
        widths = [
            min(
                max([len(name), *(row[index].cell_length for row in rows)]),
                max(CAPS.get(index, 10_000), len(name)),
            )
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
            whole = max([len(COLUMNS[last]), *(row[last].cell_length for row in rows)])
            widths[last] = min(whole, widths[last] + spare)
        #: Columns past the right edge: the top line says how to reach them.
        self.cut_columns = sum(widths) > room
        return widths

    def on_resize(self) -> None:
        if self.loaded:
            self._fill()

    def _row(self, item: QueueItem) -> list[Content]:
        key = (item.change.id, self.mine.get(item.change.id))
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = self._cells(item, key[1])
        return row

    @staticmethod
    def _cells(item: QueueItem, mine: str | None = None) -> list[Content]:
        change = item.change
        auth = change.authorship
        stats = item.stats
        size = stats.brief() if stats else "?"
        short = short_id(change.id, narrow=True)
        unit = item.unit
        subject = change.commit.subject
        where = change.location or ""
        if unit is not None and unit.kind != "commit":
            # The kind shows where unmerged work ends and main's commits begin.
            where = f"{unit.kind} {unit.name}"
            counts = [f"{len(unit.commits)} commits"] if len(unit.commits) > 1 else []
            if unit.new_since_verdict:
                counts.append(f"{len(unit.new_since_verdict)} new since your verdict")
            if counts:
                subject = f"[{', '.join(counts)}] {subject}"
        return [
            Content.styled(f"{item.risk.level} {item.risk.score}", RISK_STYLE[item.risk.level]),
            Content(short),
            safe_line(auth.agent),
            safe_line(one_line(subject, SUBJECT_WIDTH[1] + 1)),
            safe_line(model_label(auth.family, auth.model)),
            Content(size),
            Content(human_age(item.age_seconds)),
            safe_line(item.domain),
            Content.styled(mine or "", "$text-muted"),
            safe_line(one_line(where, 200)),
        ]

    def _groups(self) -> str:
        """Where unmerged work ends: "3 unmerged, then 2 on main" (each group sorted)."""
        unmerged = sum(1 for i in self.shown if is_unmerged(i))
        if not unmerged:
            return ""
        return f"   {unmerged} unmerged, then {len(self.shown) - unmerged} on main"

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
        pending = sum(1 for i in self.items if i.change.id not in self.mine)
        # The counts add up to the rows: the reviewer's own decided items stay listed (last)
        # while the policy wants another reviewer, and they are not "pending" for them.
        waiting = len(self.items) - pending
        parts: list[str | tuple[str, str]] = [
            ("Reviewed today ", "$text-muted"),
            (str(self.reviewed_today), "bold $text-success"),
            ("   Pending ", "$text-muted"),
            (str(pending) if self.loaded else "…", "bold"),
        ]
        if waiting:
            parts += [("   Yours, waiting for others ", "$text-muted"), (str(waiting), "bold")]
        if self.loaded and self.shown and self.cut_columns:
            left, right = (
                keymap.first_key(self.app, "nav.left"),
                keymap.first_key(self.app, "nav.right"),
            )
            parts += [(f"   {left}/{right}: more columns", "$text-muted")]
        hidden = self.app.services.hidden_audit() if self.loaded else 0
        audit_key = keymap.first_key(self.app, "queue.audit")
        if hidden:
            parts += [(f"   {hidden} older on main hidden ({audit_key}: audit)", "$text-muted")]
        elif self.loaded and self.app.services.queue_view == "all":
            parts += [(f"   with the audit view ({audit_key}: daily)", "$text-muted")]
        if self.loaded and len(self.shown) != len(self.items):
            parts += [(f"   shown {len(self.shown)} of {len(self.items)}", "$text-warning")]
        self.query_one("#queue-progress", Static).update(Content.assemble(*parts))

    def current_item(self) -> QueueItem | None:
        table = self.table
        if not self.shown or table.cursor_row is None:
            return None
        if 0 <= table.cursor_row < len(self.shown):
            return self.shown[table.cursor_row]
        return None

    @on(QueueTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_reasons()

    def _show_reasons(self) -> None:
        item = self.current_item()
        reasons = self.query_one("#queue-reasons", Static)
        if item is None:
            reasons.update("")
            return
        lines = [f"• {one_line(r)}" for r in item.risk.reasons] or ["• no risk signals"]
        change = item.change
        auth = change.authorship
        lines.append(
            f"agent: {one_line(auth.agent)}, model: {one_line(auth.model or 'not recorded')}"
            f" (family {one_line(auth.family)}), domain: {one_line(item.domain)}"
        )
        if change.location:
            others = [r for r in change.refs if r != change.location]
            where = change.location + (f" (also {', '.join(others)})" if others else "")
            if change.merged and change.merged_from:
                where += f", merged from {change.merged_from}"
            elif change.merged is False and change.source == "git":
                where += ", not merged"
            lines.append(f"where: {one_line(where, 200)}")
        if item.needs:
            lines.append(f"needs: {one_line('; '.join(item.needs), 200)}")
        if item.change.id in self.mine:
            lines.append(
                f"you: {self.mine[item.change.id]}; it waits for what the policy still needs"
            )
        prompt = item.change.prompt
        lines.append(f"prompt: {one_line(prompt.text, 140)}" if prompt else "prompt: none recorded")
        reasons.update(Content("\n".join(lines)))

    # -- actions ------------------------------------------------------------------------------

    def action_open_item(self) -> None:
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
