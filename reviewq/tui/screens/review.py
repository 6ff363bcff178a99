"""The review screen: one change's diff, files, prompt, critique and rationale, and the verdict.

Everything slow (git, parsing, critics, the cache, the log) runs in thread workers; the screen
shows what it has and fills in the rest as it arrives. The active-time timer runs from the moment
the screen opens (reading the prompt is review) and pauses on idle and when the terminal loses
focus; a review left without a verdict keeps its time and note as a draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Footer, Input, Static

from reviewq.core.model import Diff, Finding, short_id
from reviewq.core.queue import QueueItem
from reviewq.core.text import one_line
from reviewq.core.times import duration
from reviewq.core.units import seen_in_combined
from reviewq.errors import error_text
from reviewq.tui import keymap
from reviewq.tui.diff.model import CONTEXT_STEP, DiffModel, Layout
from reviewq.tui.diff.view import DiffView
from reviewq.tui.safe import safe_line
from reviewq.tui.screens.change_screen import (
    SIDE_PANES,
    ChangeScreen,
    finding_lines,
)
from reviewq.tui.screens.dialogs import (
    VERDICT_TITLES,
    ApplyDialog,
    VerdictSummary,
)
from reviewq.tui.services import RANGE_DIFF_NOTE, Draft, VerdictInput
from reviewq.tui.widgets.panes import CritiquePane, PromptPane, RationalePane
from reviewq.tui.widgets.sidebar import FileSidebar
from reviewq.tui.widgets.splitter import PaneSplitter

if TYPE_CHECKING:
    from reviewq.core.policy_rules import Requirements

#: Below these widths the file list and the prompt pane start hidden.
NARROW_FILES = 120
NARROW_PANES = 110


#: How long a screen's diff worker waits for the queue's prepare of its diff (seconds).
PREPARE_WAIT = 10.0

#: Lines of a range-diff the unit panel shows (the rest: `reviewq show REF`).
RANGE_DIFF_LINES = 40
_PAIR = re.compile(r"^\s*(?:\d+|-):\s+\S+\s+([=!<>])\s+(?:\d+|-):")
#: A commit pair's mark: `=` the same, `!` changed, `<` dropped, `>` added.
PAIR_STYLE = {
    "=": "$text-muted",
    "!": "bold $text-warning",
    "<": "$text-error",
    ">": "$text-success",
}


def whole_unit(item: QueueItem) -> Any:
    """The unit the review screen shows whole for `item` (its combined diff, its commits a key
    away), or None: the item's own diff."""
    unit = item.unit
    if (
        unit is not None
        and unit.kind != "commit"
        and (len(unit.commits) > 1 or unit.new_since_verdict)
    ):
        return unit
    return None


@dataclass(frozen=True, slots=True)
class PreparedDiff:
    """What the review screen's diff worker would compute for a change, computed while the
    reviewer's cursor rests on its queue row: the screen opened on it draws the diff in its
    first frame instead of a frame without it, a worker's trip and a second frame (issue 18).

    Used once (the model keeps the screen's seen hunks and folds): `Services.take_prepared`
    hands it out and forgets it."""

    change_id: str
    sha: str
    diff: Diff
    model: DiffModel
    #: The unified rows (a fresh view's layout until it knows its width).
    layout: Layout
    viewed_paths: frozenset[str]


def prepare_diff(services: Any, item: QueueItem) -> PreparedDiff | None:
    """The review screen's `_read_diff` for `item`, ahead of its open, kept in `services`
    (None: the item is not opened on its own diff, or its diff is not a commit's, which alone
    is read once and for all)."""
    change = item.change
    if whole_unit(item) is not None or change.source == "inbox":
        return None
    done = services.preparing(change.id)
    try:
        generation = services.viewed_generation()
        diff = services.load_diff(change)
        model = DiffModel(diff)
        prepared = PreparedDiff(
            change.id,
            change.commit.sha,
            diff,
            model,
            model.layout(False),
            frozenset(services.viewed_paths(change, diff)),
        )
        return prepared if services.keep_prepared(prepared, generation) else None
    finally:
        done.set()


def warm_css(app: Any) -> None:
    """Add the review screen's widgets' CSS to the app's stylesheet and parse it now (the queue
    calls this once, while the reviewer reads it): the first open parsed it between Enter and
    the first frame (~15 ms), and rebuilt the stylesheet's rule map with each new class. Only
    the classes' own rules are added; nothing on screen is restyled."""
    from textual.containers import VerticalScroll
    from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

    from reviewq.tui.widgets.lists import FileOptionList, FindingOptionList

    classes = (
        ReviewScreen,
        Static,
        Horizontal,
        Vertical,
        VerticalScroll,
        FileSidebar,
        FileOptionList,
        DiffView,
        PaneSplitter,
        PromptPane,
        CritiquePane,
        RationalePane,
        FindingOptionList,
        Input,
        KeysFooter,
        KeyGroup,
        FooterKey,
        FooterLabel,
    )
    stylesheet = app.stylesheet
    for cls in classes:
        bare = cls.__new__(cls)  # `_get_default_css` reads the class only
        for read_from, css, tie_breaker, scope in bare._get_default_css():
            stylesheet.add_source(
                css,
                read_from=read_from,
                is_default_css=True,
                tie_breaker=tie_breaker,
                scope=scope,
            )
    stylesheet.rules_map  # noqa: B018 - parsed and mapped here, not at Enter


def range_diff_lines(text: str, limit: int = RANGE_DIFF_LINES) -> list[Content]:
    """`git range-diff` output, readable: each commit pair coloured by its mark, the inner
    diff of a changed pair (indented) coloured by its outer +/- column."""
    out: list[Content] = [Content.styled("range-diff since your verdict:", "bold")]
    rows = [x for x in text.splitlines() if x.strip()]
    for raw in rows[:limit]:
        line = one_line(raw.expandtabs(4), 200)
        pair = _PAIR.match(line)
        if pair:
            out.append(safe_line(line, PAIR_STYLE[pair.group(1)]))
            continue
        body = line[4:] if line.startswith("    ") else line.lstrip()
        mark = body[:1]
        style = {"+": "$text-success", "-": "$text-error", "@": "$text-accent"}.get(mark, "")
        out.append(safe_line(line, style))
    if len(rows) > limit:
        out.append(
            Content.styled(
                f"… {len(rows) - limit} more line(s): `reviewq show REF` prints all", "$text-muted"
            )
        )
    return out


class KeysFooter(Footer):
    """Textual's footer, rebuilt once for a burst of binding refreshes and only when the keys
    it shows have changed.

    Textual's `Footer` rebuilds every key (one widget each, each styled) after every focus
    change: three times while the review screen opens, each ~50 ms of the interpreter on a
    quiet machine, the first of them between the diff's rows and the screen (issue 18).
    """

    _pending = False
    _shown: tuple | None = None

    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        app = self.app
        shown = (
            self.show_command_palette,
            self.compact,
            app.ENABLE_COMMAND_PALETTE,
            tuple(
                (key, binding.key, binding.action, app.get_key_display(binding),
                 binding.description, binding.tooltip, binding.group, binding.show, enabled,
                 tooltip)
                for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            ),
        )  # fmt: skip
        if shown != self._shown:
            self._shown = shown
            await self.recompose()


class ReviewScreen(ChangeScreen, inherit_bindings=False):
    BINDINGS = keymap.screen_bindings("review")
    AUTO_FOCUS = "DiffView"
    HEADER_ID = "review-header"
    STATUS_ID = "review-status"

    DEFAULT_CSS = """
    ReviewScreen { layout: vertical; }
    ReviewScreen > #review-header {
        height: 2; background: $panel; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    ReviewScreen > #review-body { height: 1fr; }
    ReviewScreen #review-body > DiffView { width: 1fr; }
    ReviewScreen #panes { width: 38%; max-width: 96; min-width: 30; }
    ReviewScreen #panes.-empty { display: none; }
    ReviewScreen #review-status { height: 1; padding: 0 1; background: $boost; }
    ReviewScreen #unit-commits { height: auto; max-height: 12; padding: 0 1;
                                 border-bottom: solid $panel; display: none; }
    ReviewScreen #unit-commits.-unit { display: block; }
    ReviewScreen #unit-commits.-range-diff { max-height: 60%; }
    ReviewScreen > Input { dock: bottom; display: none; }
    ReviewScreen > Input.-shown { display: block; }
    """

    def __init__(self, item: QueueItem, queue: list[QueueItem]) -> None:
        super().__init__(item, queue)
        self.model: DiffModel | None = None
        self.visible_panes["files"] = True
        self.draft: Draft | None = None
        self.search_text = ""
        self.search_status = ""
        self._status_done = False
        #: A unit of several commits (or one with commits since your verdict) is reviewed
        #: whole: the combined diff, with its commits a key away (docs/tui.md).
        self.unit = whole_unit(item)
        #: `unit` (merge base -> tip), `commit` (number `unit_step`), `since` (your verdict).
        self.unit_mode = "unit"
        self.unit_step = 0
        self.unit_note = ""
        self.unit_rows: list[dict[str, Any]] = []
        #: "More context" presses waiting for their file to be read, by (file, hunk).
        self._context_pending: dict[tuple[int, int], int] = {}
        #: The combined diff's changed lines (the unit's size), once loaded.
        self.unit_lines: int | None = None
        #: The combined diff's model: what a unit verdict counts hunks against, whichever
        #: commit is on screen; kept while stepping through commits.
        self.unit_model: DiffModel | None = None
        #: Hunks seen in a commit of the unit or the interdiff (mapped onto the combined diff).
        self.unit_seen: dict[tuple[int, int], tuple[Any, Any]] = {}
        self._unit_files_viewed = 0
        self._folded: tuple[int, int] | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="review-header")
        yield Static(id="unit-commits", classes="-unit" if self.unit is not None else "")
        with Horizontal(id="review-body"):
            yield FileSidebar(id="sidebar")
            yield DiffView(id="diff")
            with Vertical(id="panes"):
                yield PaneSplitter(id="splitter")
                yield PromptPane("Prompt", id="prompt")
                yield CritiquePane("Critique", id="critique")
                yield RationalePane("Rationale", id="rationale")
        yield Static(id="review-status")
        yield Input(placeholder="search the diff (enter to search, escape to close)", id="search")
        yield KeysFooter()

    @property
    def view(self) -> DiffView:
        return self.query_one(DiffView)

    @property
    def sidebar(self) -> FileSidebar:
        return self.query_one(FileSidebar)

    def on_mount(self) -> None:
        # A narrow terminal starts with the diff alone; every pane is a key away.
        width = self.app.size.width
        self.visible_panes["files"] = width >= NARROW_FILES
        self.visible_panes["prompt"] = width >= NARROW_PANES
        self._start_timer_and_panes()
        self._apply_panes()
        self._start_loading()
        self._render_header()
        # The size warning (a toast) waits for the diff's rows: mounting it cost the first
        # frame time the rows were waiting for (issue 18). `_diff_shown` gives it.

    # -- loading ------------------------------------------------------------------------------

    def _diff_shown(self) -> None:
        super()._diff_shown()
        self._warn_about_size()  # once (`_warn_once`), after the rows are on screen

    def _load_diff(self) -> None:
        """The diff on screen: at once when it was prepared while the queue showed its row
        (`prepare_diff`; the first frame then has it), else read in a worker."""
        prepared = None
        if self.unit is None and self.model is None:
            prepared = self.app.services.take_prepared(self.change)
        if prepared is None:
            self._read_diff()
            return
        viewed = set(prepared.viewed_paths)
        self._diff_loaded(prepared.diff, prepared.model, viewed, prepared.layout)
        self._check_viewed(prepared.diff, viewed)

    @work(thread=True, group="viewed", exit_on_error=False, description="the viewed marks")
    def _check_viewed(self, diff: Diff, shown: set[str]) -> None:
        """The viewed marks again (another reviewq of this user may have set some since the
        diff was prepared): any difference is put on screen."""
        try:
            now = self.app.services.viewed_paths(self.change, diff)
        except Exception:
            return  # the marks shown stand; marking a file says what is wrong
        if now != shown:
            self.app.call_from_thread(self._viewed_read, diff, now)

    def _viewed_read(self, diff: Diff, paths: set[str]) -> None:
        if self.diff is not diff or not self.is_mounted:
            return
        viewed = {i for i, fd in enumerate(diff.files) if fd.path in paths}
        self.view.set_viewed(viewed)
        self._sidebar_viewed(viewed)
        self._render_header()

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _read_diff(self) -> None:
        services = self.app.services
        layout: Layout | None = None
        try:
            if self.unit is not None:
                if not self.unit_rows:
                    self.unit_rows = services.unit_commit_rows(self.unit)
                if self.unit_model is None or self.unit_mode != "unit":
                    diff, self.unit_note = services.load_unit_diff(
                        self.unit, self.unit_mode, self.unit_step
                    )
                    if self.unit.kind == "inbox" and self.unit_mode != "commit":
                        diff = services.load_diff(self.change)
                    model = DiffModel(diff)
                else:  # back to the whole unit: its model keeps the hunks seen in it
                    model, self.unit_note = self.unit_model, ""
                    diff = model.diff
                if self.unit_mode == "unit":
                    if self.unit.kind != "inbox":
                        self.unit_lines = diff.stats.additions + diff.stats.deletions
                    if self.unit_model is None:
                        self.unit_model = model
                elif self.unit_model is None:
                    # Stepped away before the combined diff was read: a unit verdict still
                    # counts against it.
                    combined, _ = services.load_unit_diff(self.unit, "unit", 0)
                    if self.unit.kind == "inbox":
                        combined = services.load_diff(self.change)
                    else:
                        self.unit_lines = combined.stats.additions + combined.stats.deletions
                    self.unit_model = DiffModel(combined)
            else:
                # Enter came while the queue was preparing this diff: that work, not twice
                prepared = services.wait_prepared(self.change, PREPARE_WAIT)
                if prepared is not None:
                    diff, model, layout = prepared.diff, prepared.model, prepared.layout
                else:
                    diff = services.load_diff(self.change)
                    model = DiffModel(diff)
            if layout is None:
                # The rows too, here rather than on the UI thread (the view checks the layout).
                layout = model.layout(self.view.wants_split)
            viewed_paths = services.viewed_paths(self.change, diff)
        except Exception as exc:
            self.app.call_from_thread(self._diff_failed, exc)
            return
        self.app.call_from_thread(self._diff_loaded, diff, model, viewed_paths, layout)

    def _diff_loaded(
        self, diff: Diff, model: DiffModel, viewed_paths: set[str], layout: Layout | None = None
    ) -> None:
        self._fold_unit_seen()  # what was seen in the diff leaving the screen
        if self.model is self.unit_model and self.unit_model is not None:
            self._unit_files_viewed = len(self.view.viewed_files)
        self.diff = diff
        self.model = model
        self._context_pending = {}
        viewed = {i for i, fd in enumerate(diff.files) if fd.path in viewed_paths}
        self.view.load(model, viewed, layout)
        if getattr(self, "_side_started", True):
            self.sidebar.load(diff.files, viewed, model.collapsed)
        else:
            # The screen's first diff: its lines in the first frame, the file list in the next
            # (drawing its options was a fifth of that frame; issue 18).
            self.call_after_refresh(self._load_sidebar, diff)
        self._restore_seen()
        if self.critique is not None:
            self._mark_findings()
        self._render_header()
        self._render_unit()
        self.call_after_refresh(self._diff_shown)

    def _load_sidebar(self, diff: Diff) -> None:
        """The file list of `diff`, with the marks the diff shows now (a key may have set one
        since it was loaded)."""
        if self.diff is not diff or self.model is None or not self.is_mounted:
            return  # another diff came meanwhile: it loads its own list
        self.sidebar.load(diff.files, set(self.view.viewed_files), self.model.collapsed)

    def _sidebar_viewed(self, viewed: set[int]) -> None:
        """The viewed marks on the file list, once it lists this diff (`_load_sidebar` reads
        them from the diff view when it does)."""
        if self.diff is not None and self.sidebar.files is self.diff.files:
            self.sidebar.set_viewed(viewed)

    # -- a unit: the combined diff, its commits, what is new since your verdict ---------------

    def _render_unit(self) -> None:
        unit = self.unit
        if unit is None or not self.is_mounted:
            return
        new = len(unit.new_since_verdict)
        shown = {
            "unit": "the whole unit (merge base → tip)",
            "commit": f"commit {self.unit_step + 1} of {len(unit.commits)}",
            "since": "what is new since your verdict",
        }[self.unit_mode]
        keys = "   ".join(
            f"{keymap.first_key(self.app, cid)}: {label}"
            for cid, label in (
                ("unit.next_commit", "next commit"),
                ("unit.prev_commit", "previous"),
                ("unit.whole", "whole unit"),
                ("unit.since", "new since verdict"),
            )
        )
        parts: list[Any] = [
            (f"{unit.kind} {unit.name}", "bold"),
            f" · {len(unit.commits)} commits",
            f" ({len(unit.human)} human)" if unit.human else "",
        ]
        if new:
            parts.append((f" · {new} new since your verdict", "bold $text-warning"))
        parts += [f" · showing {shown}", ("   " + keys, "$text-muted")]
        lines = [Content.assemble(*parts)]
        fresh = set(unit.new_since_verdict)
        for index, row in enumerate(self.unit_rows):
            here = self.unit_mode == "commit" and index == self.unit_step
            who = row["agent"] if row["mark"] == "ai" else "human"
            prompt = f"  prompt: {one_line(row['prompt'], 60)}" if row.get("prompt") else ""
            flag = "  NEW" if row["sha"] in fresh else ""
            text = (
                f"{'▶' if here else ' '} {row['sha'][:10]} {one_line(who, 14):<14} "
                f"{one_line(row['subject'], 60)}{flag}{prompt}"
            )
            lines.append(safe_line(text, "bold" if here else ""))
        panel = self.query_one("#unit-commits", Static)
        ranged = self.unit_note.startswith(RANGE_DIFF_NOTE)
        panel.set_class(ranged, "-range-diff")
        if ranged:
            lines += range_diff_lines(self.unit_note.removeprefix(RANGE_DIFF_NOTE))
        elif self.unit_note:
            lines += [safe_line(one_line(x, 200)) for x in self.unit_note.splitlines()[:8]]
        panel.update(Content("\n").join(lines))

    def _unit_show(self, mode: str, step: int = 0) -> None:
        if self.unit is None:
            self.app.notify("This change is a single commit.", timeout=3)
            return
        self.unit_mode, self.unit_step = mode, step
        self._render_unit()
        self._load_diff()

    def _fold_unit_seen(self) -> None:
        """Hunks seen in a commit of the unit (or the interdiff) count on the combined diff
        where they cover its hunks (`core.units.seen_in_combined`)."""
        model, combined = self.model, self.unit_model
        if self.unit is None or model is None or combined is None or model is combined:
            return
        state = (id(model), model.hunks_viewed)
        if state == self._folded:
            return
        self._folded = state
        for f, h in model.viewed_hunks():
            fd = model.files[f]
            self.unit_seen[(id(fd), h)] = (fd, fd.hunks[h])
        combined.restore_viewed(seen_in_combined(combined.diff, self.unit_seen.values()))

    def _seen_model(self) -> DiffModel | None:
        """The model whose seen hunks a verdict and a draft count: a unit's combined diff."""
        if self.unit is not None and self.unit_model is not None:
            return self.unit_model
        return self.model

    def review_lines(self) -> int:
        """A unit's review covers its combined diff, not its tip commit alone."""
        if self.unit is not None and self.unit_lines is not None:
            return self.unit_lines
        return super().review_lines()

    def action_unit_step(self, direction: int) -> None:
        if self.unit is None:
            self._unit_show("commit")
            return
        last = len(self.unit.commits) - 1
        step = 0 if self.unit_mode != "commit" else self.unit_step + direction
        self._unit_show("commit", max(0, min(last, step)))

    def action_unit_whole(self) -> None:
        self._unit_show("unit")

    def action_unit_since(self) -> None:
        if self.unit is not None and not self.unit.new_since_verdict:
            self.app.notify("Nothing new since your verdict on this unit.", timeout=3)
            return
        self._unit_show("since")

    @work(thread=True, group="draft", exit_on_error=False)
    def _load_draft(self) -> None:
        self.app.services.reviewer()  # git config, read now rather than in the verdict dialog
        draft = self.app.services.draft(self.change)
        self.app.call_from_thread(self._draft_loaded, draft)

    def _draft_loaded(self, draft: Draft) -> None:
        if self.timer is not None and (draft.active_seconds or draft.wall_seconds):
            self.timer.carry(draft.active_seconds, draft.wall_seconds)
        self.note_draft = draft.note
        self.draft = draft
        self._restore_seen()
        self._render_header()

    def _restore_seen(self) -> None:
        """Hunks seen on an earlier visit count again, if the diff is still the same."""
        draft, model = self.draft, self._seen_model()
        if draft is None or model is None or not draft.hunks_seen:
            return
        if draft.diff_hash == self.app.services.diff_hash(model.diff):
            model.restore_viewed(draft.hunks_seen)
            if model is self.model:
                self.view.refresh_marks()

    def _mark_findings(self) -> None:
        if self.critique is None or self.diff is None:
            return
        marks: dict[int, dict[int, str]] = {}
        for finding in self.critique.findings:
            file = self._file_index(finding.file)
            if file is None:
                continue
            for line in finding_lines(finding):
                marks.setdefault(file, {})[line] = finding.severity
        self.view.set_findings(marks)

    def _file_index(self, path: str | None) -> int | None:
        if self.diff is None:
            return None
        return next((i for i, fd in enumerate(self.diff.files) if fd.is_named(path)), None)

    # -- header and timer ---------------------------------------------------------------------

    def _render_header(self) -> None:
        if not self.is_mounted:
            return
        parts = self._time_parts()
        if self.model is not None:
            model = self.model
            parts.append(f"   hunks seen {model.hunks_viewed}/{model.hunks_total}")
            parts.append(f"   files viewed {len(self.view.viewed_files)}/{len(model.files)}")
            combined = self.unit_model
            if self.unit is not None and combined is not None and combined is not model:
                self._fold_unit_seen()
                parts.append(
                    (
                        f"   whole unit: hunks seen {combined.hunks_viewed}/{combined.hunks_total}",
                        "$text-muted",
                    )
                )
            parts.append(("   split" if self.view.is_split else "   unified", "$text-muted"))
        else:
            parts.append(("   loading the diff…", "$text-muted"))
        parts.append(self._critique_part(detail=True))
        if self.search_status:
            parts.append((f"   {self.search_status}", "$text-accent"))
        self._show_header(self._header_title(90), parts)
        self._render_status()

    def _render_status(self) -> None:
        if self._status_done:
            return
        self._status_done = True
        self.status_line.update(self._risk_status())

    def on_diff_view_cursor_file_changed(self, event: DiffView.CursorFileChanged) -> None:
        self.sidebar.follow(event.file)

    def on_diff_view_seen_changed(self) -> None:
        self._render_header()

    # -- panes --------------------------------------------------------------------------------

    def _apply_panes(self) -> None:
        self._show_side_panes()
        any_pane = any(self.visible_panes[n] for n in SIDE_PANES)
        self.query_one("#panes").set_class(not any_pane, "-empty")
        self.sidebar.display = self.visible_panes["files"]
        focused = self.focused
        if focused is not None and not focused.display:
            self.view.focus()

    # -- reading room: zoom, split, editor -----------------------------------------------------

    def action_zoom(self) -> None:
        """The focused pane alone on the screen (diff, files, prompt, critique, rationale);
        the same key, or escape, brings the others back."""
        if self.maximized is not None:
            self.minimize()
            return
        node = self.focused
        while node is not None and not isinstance(
            node, DiffView | FileSidebar | PromptPane | CritiquePane | RationalePane
        ):
            node = node.parent if not isinstance(node.parent, type(self)) else None
        target = node if node is not None else self.view
        if not target.display:
            target = self.view
        self.maximize(target, container=False)

    def action_resize_panes(self, columns: int) -> None:
        """Move the split between the diff and the side panes (the critique is the most
        valuable text and was the most cramped)."""
        panes = self.query_one("#panes")
        total = self.query_one("#review-body").size.width or self.app.size.width
        now = panes.outer_size.width or int(total * 0.38)
        self._set_panes_width(now + columns)

    def _set_panes_width(self, width: int) -> None:
        total = self.query_one("#review-body").size.width or self.app.size.width
        panes = self.query_one("#panes")
        panes.styles.width = max(24, min(total - 30, width))
        panes.styles.max_width = None

    def on_pane_splitter_dragged(self, event: PaneSplitter.Dragged) -> None:
        """The split dragged to column `event.x`: the panes take what is right of it."""
        event.stop()
        body = self.query_one("#review-body").region
        self._set_panes_width(body.right - event.x)

    def action_edit_file(self) -> None:
        """Open the file under the cursor at its line in $EDITOR (the work tree's copy)."""
        model = self.model
        file = self.view.cursor_file
        if model is None or file < 0:
            return
        work_tree = self.app.services.ctx.git.paths().work_tree
        if work_tree is None:
            self.app.notify("A bare repository has no files to open.", severity="warning")
            return
        path = work_tree / model.files[file].path
        line = self.view.cursor_line()
        number = (line.new_no or line.old_no) if line is not None else None
        try:
            with self.app.suspend():
                self.app.services.open_in_editor(path, number, self.app.env)
        except Exception as exc:  # no terminal to hand over, or no such editor
            self.app.notify(
                f"Could not run the editor: {one_line(error_text(exc), 200)}",
                title="Editor",
                severity="error",
            )
        self.activity()

    # -- more context around a hunk -------------------------------------------------------------

    def _new_side_rev(self) -> str | None:
        """The commit whose files are the new side of the diff shown (None: an inbox patch,
        which has no commit yet)."""
        unit = self.unit
        if unit is not None:
            if unit.kind == "inbox":
                return None
            return unit.commits[self.unit_step] if self.unit_mode == "commit" else unit.tip
        return self.change.id if self.change.source == "git" else None

    def action_more_context(self) -> None:
        """Show more of the file (its new side) above and below the hunk under the cursor."""
        model = self.model
        where = self.view.cursor_hunk()
        if model is None or where is None:
            self.app.notify("Put the cursor in a hunk to see more of the file around it.")
            return
        file, hunk = where
        fd = model.files[file]
        problem = None
        if fd.status == "deleted":
            problem = f"{fd.path} is deleted by this change: there is no new file to show."
        elif fd.is_binary:
            problem = f"{fd.path} is binary: there are no lines to show."
        elif fd.truncated:
            problem = f"{fd.path} is too large to show here; read it with git."
        if problem is not None:
            self.app.notify(one_line(problem, 300), timeout=4, markup=False)
            return
        if file in model.file_lines:
            self._show_more_context(file, hunk, 1)
            return
        pending = self._context_pending
        first = not any(f == file for f, _ in pending)
        pending[(file, hunk)] = pending.get((file, hunk), 0) + 1
        if first:
            self._read_context(model, file, self._new_side_rev())

    @work(thread=True, group="context", exit_on_error=False)
    def _read_context(self, model: DiffModel, file: int, rev: str | None) -> None:
        fd = model.files[file]
        lines: list[str] | None = None
        problem = None
        if rev is None:
            problem = "An inbox patch has no commit to read the rest of the file from."
        else:
            try:
                lines = self.app.services.file_lines(rev, fd.path, fd.encoding)
            except Exception as exc:
                problem = f"Could not read {fd.path}: {one_line(error_text(exc), 200)}"
            else:
                if lines is None:
                    problem = f"{fd.path} is binary at {short_id(rev)}: no lines to show."
                elif not model.matches_new_side(file, lines):
                    problem = (
                        f"{fd.path} at {short_id(rev)} does not match the diff shown; "
                        "no context added."
                    )
        self.app.call_from_thread(self._context_read, model, file, lines, problem)

    def _context_read(
        self, model: DiffModel, file: int, lines: list[str] | None, problem: str | None
    ) -> None:
        if model is not self.model:
            return  # another diff is shown now (a unit's commit, say): its presses are its own
        presses = {k: n for k, n in self._context_pending.items() if k[0] == file}
        for key in presses:
            del self._context_pending[key]
        if problem is not None or lines is None:
            self.app.notify(
                one_line(problem or "No lines to show.", 300), severity="warning", markup=False
            )
            return
        model.file_lines[file] = lines
        for (f, hunk), count in presses.items():
            self._show_more_context(f, hunk, count)

    def _show_more_context(self, file: int, hunk: int, presses: int) -> None:
        above, below = self.view.expand_context(file, hunk, CONTEXT_STEP * presses)
        if not above and not below:
            self.app.notify("No more lines around this hunk.", timeout=2)

    # -- navigation ---------------------------------------------------------------------------

    def action_hunk(self, direction: int) -> None:
        if not self.view.next_hunk(direction):
            self.app.notify("No more hunks" if direction > 0 else "First hunk", timeout=2)

    def action_file(self, direction: int) -> None:
        if not self.view.next_file(direction):
            self.app.notify("No more files" if direction > 0 else "First file", timeout=2)

    def jump_to_file(self, file: int) -> None:
        self.view.jump_to_file(file)
        self.view.focus()

    def on_file_sidebar_file_chosen(self, event: FileSidebar.FileChosen) -> None:
        self.jump_to_file(event.file)

    def jump_to_finding(self, finding: Finding, focus: bool = True) -> bool:
        file = self._file_index(finding.file)
        if file is None:
            if focus:
                what = finding.file or "the change as a whole"
                self.app.notify(f"This finding is about {what}; it has no line in the diff.")
            return False
        exact = self.view.jump_to_line(file, finding.start_line)
        self.sidebar.set_collapsed(self.model.collapsed if self.model else set())
        if focus:
            if not exact and finding.start_line is not None:
                self.app.notify(
                    f"Line {finding.start_line} is not in the diff; showing the nearest line.",
                    timeout=4,
                )
            self.view.focus()
        return True

    def action_fold(self) -> None:
        result = self.view.toggle_fold(self._target_file())
        if result is None:
            self.app.notify("Nothing to fold here", timeout=2)
        if self.model is not None:
            self.sidebar.set_collapsed(self.model.collapsed)

    def action_unfold_all(self) -> None:
        count = self.view.unfold_all()
        if self.model is not None:
            self.sidebar.set_collapsed(self.model.collapsed)
        self.app.notify(f"Expanded {count} file(s)" if count else "Nothing is folded", timeout=2)

    def _target_file(self) -> int:
        """The sidebar's file when it has focus, else the file under the diff cursor."""
        options = self.sidebar.option_list
        if options.has_focus and options.highlighted is not None:
            return options.highlighted
        return self.view.cursor_file

    def action_toggle_viewed(self) -> None:
        if self.typed_blind("Mark viewed"):
            return
        if self.diff is None or not self.diff.files:
            return
        file = self._target_file()
        if file < 0:
            return
        viewed = set(self.view.viewed_files)
        now_viewed = file not in viewed
        if now_viewed:
            viewed.add(file)
        else:
            viewed.discard(file)
        self.view.set_viewed(viewed)
        self._sidebar_viewed(viewed)
        self._save_viewed(file, now_viewed)
        self._render_header()

    @work(thread=True, group="viewed", exit_on_error=False)
    def _save_viewed(self, file: int, viewed: bool) -> None:
        if self.diff is None:
            return
        try:
            self.app.services.set_viewed(self.change, self.diff.files[file], viewed)
        except Exception as exc:
            self.app.call_from_thread(
                self.app.notify, f"Could not save the viewed mark: {exc}", severity="error"
            )

    # -- search -------------------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.value = self.search_text
        box.add_class("-shown")
        box.focus()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one("#search", Input)
        box.remove_class("-shown")
        self.search_text = event.value
        count = self.view.search(event.value)
        self.view.focus()
        if not event.value:
            self.search_status = ""
        elif count == 0:
            self.search_status = f"no match for {one_line(event.value, 30)!r}"
        else:
            found = self.view.search_next(1)
            self._search_report(found)
        self._render_header()

    def _search_report(self, found: tuple[int, int] | None) -> None:
        if found is None:
            return
        index, total = found
        next_key = keymap.first_key(self.app, "search.next")
        self.search_status = (
            f"{one_line(self.search_text, 30)!r} {index}/{total} lines ({next_key} for next)"
        )

    def action_search_next(self, direction: int) -> None:
        if not self.view.search_hits:
            self.app.notify("No search; press / to search the diff", timeout=2)
            return
        self._search_report(self.view.search_next(direction))
        self._render_header()

    # -- verdicts -----------------------------------------------------------------------------

    def summary(self) -> VerdictSummary:
        # A unit verdict counts against the combined diff, whichever commit is on screen.
        self._fold_unit_seen()
        model = self._seen_model()
        files_viewed = len(self.view.viewed_files)
        if model is not None and model is not self.model:
            files_viewed = self._unit_files_viewed
        return VerdictSummary(
            active_seconds=self.timer.active_seconds() if self.timer else 0.0,
            hunks_viewed=model.hunks_viewed if model else 0,
            hunks_total=model.hunks_total if model else 0,
            files_viewed=files_viewed,
            files_total=len(model.files) if model else 0,
            critique_opened=self.critique_opened,
            critique_available=self.critique is not None,
        )

    def _requirements(self) -> Requirements | None:
        try:
            return self.app.services.requirements(self.change)
        except Exception:  # a policy that cannot be read is the gate's to report
            return None

    def _announce_verdict(self, data: VerdictInput) -> None:
        title = VERDICT_TITLES[data.verdict]
        self.app.notify(
            f"{title}: {short_id(self.change.id, narrow=True)} after {duration(data.active_seconds)} active",
            timeout=4,
        )

    def _verdict_done(self, data: VerdictInput, record: dict[str, Any]) -> None:
        self.app.verdict_recorded(self, data, record)

    def action_apply_patch(self) -> None:
        """Inbox patches only: ask for a branch, then `git am` it there in a worker."""
        change = self.change
        if self.typed_blind("Apply"):
            return
        if change.source != "inbox":
            self.app.notify("Only inbox patches are applied; this change is a commit already.")
            return
        slug = "-".join(one_line(change.commit.subject, 40).lower().split())
        slug = "".join(ch for ch in slug if ch.isalnum() or ch == "-").strip("-") or "patch"
        branch = f"{change.authorship.agent}/{slug}"

        def chosen(name: str | None) -> None:
            if name:
                self._apply(name)

        self.app.push_screen(
            ApplyDialog(change, branch, self.app.services.inbox_verdict(change)), chosen
        )

    @work(thread=True, group="apply", exit_on_error=False)
    def _apply(self, branch: str) -> None:
        try:
            applied = self.app.services.apply_patch(self.change, branch)
        except Exception as exc:  # a patch that does not apply: one line, nothing changed
            self.app.call_from_thread(
                self.app.notify,
                one_line(error_text(exc), 300),
                title="Not applied",
                severity="error",
            )
            return
        shas = ", ".join(c[:10] for c in applied.commits)
        self.app.call_from_thread(
            self.app.notify,
            f"on {applied.branch} as {shas}; the patch moved to the inbox's applied/ folder",
            title="Applied",
        )

    def action_skip(self) -> None:
        self.save_draft()
        self.app.next_item(self, skipped=True)

    def action_start_pair(self) -> None:
        """Walk through this change with others (the solo draft stays for a solo review)."""
        self.app.start_pair(self.item, self.queue)

    def action_back(self) -> None:
        box = self.query_one("#search", Input)
        if box.has_class("-shown"):
            box.remove_class("-shown")
            self.view.focus()
            return
        self.save_draft()
        self.app.pop_screen()

    def save_draft(self, wait: bool = True) -> None:
        """Keep time, note and seen hunks for the next visit: in a worker, or (`wait=False`,
        when the app is quitting) right here, giving up rather than hang on a busy cache."""
        timer = self.timer
        if timer is None or self.busy or self.draft is None:
            return  # the earlier draft is not loaded yet: an empty one must not replace it
        self._fold_unit_seen()
        model = self._seen_model()
        diff = model.diff if model is not None else self.diff
        draft = Draft(
            self.note_draft,
            timer.active_seconds(),
            timer.wall_seconds(),
            tuple(model.viewed_hunks()) if model else (),
            self.app.services.diff_hash(diff) if diff is not None else "",
        )
        if wait:
            self._save_draft_worker(draft)
        else:
            self.app.services.save_draft(self.change, draft, timeout=1.0)

    @work(thread=True, group="draft-save", exit_on_error=False, description="the draft's save")
    def _save_draft_worker(self, draft: Draft) -> None:
        try:
            self.app.services.save_draft(self.change, draft)
        except Exception:  # a lost draft costs a little time, never a verdict
            pass
