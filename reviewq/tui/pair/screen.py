"""Pair sessions: two or three people walk through a risky change together, hunk by hunk.

The walkthrough shows one hunk at a time in the order of `core.walkthrough` (tests, interfaces,
implementation, generated), with a banner saying where it is. The session pane names the driver
(recorded as the reviewer) and the co-reviewers, shows the domain's checklist (number keys tick
it) and the notes on the current hunk (each person's own, `n` to write). `d` hands the driver
role round the table; `P` switches to the presenter layout (the diff alone, full width, big step
keys). The verdict dialog is the review screen's, pre-ticked, with the policy preview judging the
approval as the driver's with the others as co-reviewers (so a prompter taking part shows).

Everything slow runs in thread workers as in the review screen; the active-time timer is the
same (it pauses on idle and when the terminal loses focus), and leaving without a verdict keeps
the notes, ticks, time and seen hunks as a pair draft for the next session on the change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Footer, Input, Static

from reviewq.core.identity import prompters_of, same_person
from reviewq.core.model import Diff, Finding, Identity, short_id
from reviewq.core.pair import (
    Handover,
    HunkNote,
    PairSession,
    format_person,
    notes_on,
    set_note,
)
from reviewq.core.queue import QueueItem, sort_queue
from reviewq.core.text import one_line
from reviewq.core.times import duration
from reviewq.core.walkthrough import Step, walkthrough
from reviewq.tui import keymap
from reviewq.tui.diff.model import DiffModel
from reviewq.tui.diff.view import DiffView
from reviewq.tui.pair.dialogs import PairStart, PairStartDialog
from reviewq.tui.pair.panes import (
    PairBanner,
    PairDiffView,
    SessionPane,
    StepKeys,
    StepList,
    StepView,
)
from reviewq.tui.safe import safe_line
from reviewq.tui.screens.change_screen import ChangeScreen, HeaderPart, finding_lines
from reviewq.tui.screens.dialogs import (
    VERDICT_TITLES,
    VerdictChoice,
    VerdictSummary,
)
from reviewq.tui.services import VerdictInput
from reviewq.tui.widgets.panes import CritiquePane, PromptPane, RationalePane

if TYPE_CHECKING:
    from reviewq.core.policy_rules import Requirements

#: Below these widths the outline and the prompt start hidden.
NARROW_STEPS = 120
NARROW_PROMPT = 140

StepKey = tuple[int, int | None]


@dataclass(frozen=True, slots=True)
class PairLaunch:
    """How `reviewq pair` opens the app: one change (or the queue), names to pre-fill."""

    item: QueueItem | None = None
    driver: str = ""
    co_reviewers: tuple[str, ...] = ()
    presenter: bool = False


# -- starting, moving on ----------------------------------------------------------------------


def session_items(
    first: QueueItem | None, queue: list[QueueItem], done: set[str]
) -> list[QueueItem]:
    """The session's items: `first` (decided or not), then everything else this reviewer has
    not decided, riskiest first."""
    pending = [i for i in sort_queue(list(queue), "risk") if i.change.id not in done]
    if first is None:
        return pending
    return [first, *(i for i in pending if i.change.id != first.change.id)]


def start_pair(
    app: Any, first: QueueItem | None, queue: list[QueueItem], launch: PairLaunch
) -> None:
    """Ask who takes part, then open the walkthrough of the first item."""
    items = session_items(first, queue, app.done())
    if not items:
        app.notify("Nothing pending to walk through.", timeout=4)
        return

    def ask(defaults: tuple[str, list[str]]) -> None:
        driver, recent = defaults
        head = items[0]
        change = head.change
        short = short_id(change.id, narrow=True)
        more = len(items) - 1
        what = Content.assemble(
            "Walk through ",
            (short, "bold $text-primary"),
            " ",
            safe_line(one_line(change.commit.subject, 60), "bold"),
            (f"  risk {head.risk.level} {head.risk.score}", "$text-muted"),
            (f"\nthen {more} more pending, riskiest first" if more else "", "$text-muted"),
        )
        dialog = PairStartDialog(
            what,
            driver=launch.driver or driver,
            co_reviewers=launch.co_reviewers,
            recent=[p for p in recent if p != (launch.driver or driver)],
        )
        app.push_screen(dialog, lambda start: _started(app, start, items, launch))

    @work(thread=True, group="pair-start", exit_on_error=False)
    def defaults(self) -> None:
        services = app.services
        try:
            me = services.reviewer()
            driver = format_person(me) if me.name and me.email else ""
            recent = services.recent_people()
        except Exception:  # names are a convenience: start with empty fields
            driver, recent = "", []
        app.call_from_thread(ask, (driver, recent))

    defaults(app)


def _started(app: Any, start: PairStart | None, items: list[QueueItem], launch: PairLaunch) -> None:
    if start is None:
        return
    services = app.services
    session = PairSession.start(
        start.driver, start.co_reviewers, services.now().isoformat(timespec="seconds")
    )
    _remember(app, [format_person(p) for p in session.participants])
    app.open_change_screen(PairScreen(items[0], items, session, presenter=launch.presenter))


@work(thread=True, group="pair-remember", exit_on_error=False)
def _remember(app: Any, people: list[str]) -> None:
    try:
        app.services.remember_people(people)
    except Exception:  # remembering names is a convenience, never an error
        pass


def pair_next(app: Any, current: PairScreen, skipped: bool = False) -> None:
    """The next item of the session, or back to where the session started when done."""
    done = app.done()
    queue = [i for i in current.queue if i.change.id not in done]
    ids = [i.change.id for i in queue]
    if current.change.id in ids:
        index = ids.index(current.change.id)
        rest = queue[index + 1 :] + (queue[:index] if skipped else [])
    else:
        rest = queue
    rest = [i for i in rest if i.change.id != current.change.id]
    if not rest:
        app.pop_screen()
        who = ", ".join(p.name for p in current.session.participants)
        app.notify(
            f"Pair session finished: {current.recorded} verdict(s) recorded ({who}).", timeout=6
        )
        return
    app.switch_screen(
        PairScreen(
            rest[0],
            current.queue,
            current.session,
            presenter=current.presenter,
            recorded=current.recorded,
        )
    )


# -- the screen -------------------------------------------------------------------------------


class PairScreen(ChangeScreen, inherit_bindings=False):
    BINDINGS = keymap.screen_bindings("pair")
    AUTO_FOCUS = "PairDiffView"
    TYPEAHEAD_SCOPE = "pair-diff"
    HEADER_ID = "pair-header"
    STATUS_ID = "pair-status"

    DEFAULT_CSS = """
    PairScreen { layout: vertical; }
    PairScreen > #pair-header {
        height: 2; background: $panel; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    PairScreen > #pair-body { height: 1fr; }
    PairScreen #pair-body > PairDiffView { width: 1fr; }
    PairScreen #pair-side {
        width: 30%; max-width: 60; min-width: 32; border-left: solid $panel; overflow-y: auto;
    }
    PairScreen #pair-status { height: 1; padding: 0 1; background: $boost; }
    PairScreen > #note-input { dock: bottom; display: none; border-title-color: $text-accent; }
    PairScreen > #note-input.-shown { display: block; }
    """

    def __init__(
        self,
        item: QueueItem,
        queue: list[QueueItem],
        session: PairSession,
        *,
        presenter: bool = False,
        recorded: int = 0,
    ) -> None:
        super().__init__(item, queue)
        self.session = session
        self.presenter = presenter
        #: Verdicts this session recorded before this item (for the closing message).
        self.recorded = recorded
        self.steps: list[Step] = []
        self.index = 0
        self.models: dict[int, DiffModel] = {}
        self.seen: set[StepKey] = set()
        self.notes: list[HunkNote] = []
        self.ticked: tuple[str, ...] = ()
        self.requirements: Requirements | None = None
        self.visible_panes["steps"] = True
        #: Handovers of the session made while this change is open start at this index.
        self.handovers_from = len(session.handovers)
        #: Handovers from an earlier visit (a pair draft), recorded with this change's verdict.
        self.earlier_handovers: list[Handover] = []
        self.draft: dict[str, Any] | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="pair-header")
        yield PairBanner(id="pair-banner")
        with Horizontal(id="pair-body"):
            yield StepList(id="steps")
            yield PairDiffView(id="diff")
            with Vertical(id="pair-side"):
                yield SessionPane(id="session")
                yield PromptPane("Prompt", id="prompt")
                yield CritiquePane("Critique", id="critique")
                yield RationalePane("Rationale", id="rationale")
        yield StepKeys(id="step-keys")
        yield Static(id="pair-status")
        yield Input(id="note-input", placeholder="what you noticed here (empty removes your note)")
        yield Footer()

    @property
    def view(self) -> PairDiffView:
        return self.query_one(PairDiffView)

    @property
    def pane(self) -> SessionPane:
        return self.query_one(SessionPane)

    async def on_mount(self) -> None:
        width = self.app.size.width
        self.visible_panes["steps"] = width >= NARROW_STEPS
        self.visible_panes["prompt"] = width >= NARROW_PROMPT
        self._start_timer_and_panes()
        self.pane.show_people(self.session.driver, self.session.co_reviewers)
        self.pane.show_notes([])
        try:
            self.requirements = self.app.services.requirements(self.change)
        except Exception:  # a policy that cannot be read is the gate's to report
            self.requirements = None
        await self.pane.show_checklist(self.item.domain, self.checklist, self.ticked)
        self._apply_panes()
        self._start_loading()
        self._render_header()
        self._render_banner()
        self._render_status()
        self._warn_about_size()

    @property
    def checklist(self) -> tuple[str, ...]:
        return self.requirements.checklist if self.requirements is not None else ()

    def _apply_panes(self) -> None:
        """Presenter: the diff alone at full width, the big banner and step keys; otherwise
        the panes the reviewers chose."""
        presenting = self.presenter
        self.set_class(presenting, "-presenter")
        self._show_side_panes()
        self.query_one(StepList).display = self.visible_panes["steps"] and not presenting
        self.query_one("#pair-side").display = not presenting
        keys = self.query_one(StepKeys)
        keys.set_class(self.presenter, "-shown")
        if self.presenter:
            keys.refresh_keys()
        focused = self.focused
        if focused is None or not focused.display or not focused.is_on_screen:
            self.view.focus()

    # -- loading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _load_diff(self) -> None:
        try:
            diff = self.app.services.load_diff(self.change)
            steps = walkthrough(diff)
        except Exception as exc:
            self.app.call_from_thread(self._diff_failed, exc)
            return
        self.app.call_from_thread(self._diff_loaded, diff, steps)

    def _diff_loaded(self, diff: Diff, steps: list[Step]) -> None:
        self.diff = diff
        self.steps = steps
        self._restore_draft()
        self.query_one(StepList).load(self.step_views(), self.index)
        self.go(self.index)
        self.call_after_refresh(self._diff_shown)

    @work(thread=True, group="draft", exit_on_error=False)
    def _load_draft(self) -> None:
        services = self.app.services
        services.reviewer()  # git config, read now rather than in the verdict dialog
        try:
            draft = services.pair_draft(self.change)
        except Exception:
            draft = {}
        self.app.call_from_thread(self._draft_loaded, draft)

    def _draft_loaded(self, draft: dict[str, Any]) -> None:
        self.draft = draft
        self._restore_draft()

    def _restore_draft(self) -> None:
        """A pair draft counts once both it and the diff are here (seen hunks need the diff)."""
        draft, diff = self.draft, self.diff
        if draft is None or diff is None or not draft:
            return
        self.draft = {}
        self.notes = [HunkNote.from_json(n) for n in draft.get("notes", []) if isinstance(n, dict)]
        wanted = {t for t in draft.get("ticked", []) if isinstance(t, str)}
        self.ticked = tuple(i for i in self.checklist if i in wanted)
        self.pane.set_ticked(self.ticked)
        self.earlier_handovers = [
            Handover.from_json(h) for h in draft.get("handovers", []) if isinstance(h, dict)
        ]
        if self.timer is not None:
            self.timer.carry(
                float(draft.get("active_seconds", 0.0)), float(draft.get("wall_seconds", 0.0))
            )
        if draft.get("diff_hash") == self.app.services.diff_hash(diff):
            self.seen = {
                (int(p[0]), p[1] if isinstance(p[1], int) else None)
                for p in draft.get("seen", [])
                if isinstance(p, list) and len(p) == 2 and isinstance(p[0], int)
            }
            index = draft.get("index")
            if isinstance(index, int) and 0 <= index < len(self.steps):
                self.index = index
        active = duration(float(draft.get("active_seconds", 0.0)))
        self.app.notify(
            f"Resumed this change's pair draft: {len(self.notes)} note(s), "
            f"{len(self.ticked)} item(s) ticked, {active} active.",
            timeout=6,
        )
        if self.steps:
            self.query_one(StepList).load(self.step_views(), self.index)
            self.go(self.index)
        self._render_header()

    # -- the walkthrough ----------------------------------------------------------------------

    def step_key(self, index: int) -> StepKey:
        step = self.steps[index]
        return (step.file, step.hunk)

    def where(self, index: int) -> tuple[str, str | None, int | None]:
        """A step as the record names it: (path, hunk header, new start line)."""
        assert self.diff is not None
        step = self.steps[index]
        fd = self.diff.files[step.file]
        if step.hunk is None:
            return (fd.path, None, None)
        hunk = fd.hunks[step.hunk]
        return (fd.path, hunk.header, hunk.new_start)

    def step_views(self) -> list[StepView]:
        assert self.diff is not None
        noted = {n.key() for n in self.notes}
        return [
            StepView(
                number=i + 1,
                path=self.diff.files[step.file].path,
                kind=step.kind,
                why=step.why,
                header=self.where(i)[1] or "",
                seen=self.step_key(i) in self.seen,
                noted=self.where(i) in noted,
                line=self.where(i)[2],
            )
            for i, step in enumerate(self.steps)
        ]

    def _model(self, index: int) -> DiffModel:
        model = self.models.get(index)
        if model is None:
            assert self.diff is not None
            step = self.steps[index]
            fd = self.diff.files[step.file]
            hunks = [fd.hunks[step.hunk]] if step.hunk is not None else []
            model = DiffModel(Diff([replace(fd, hunks=hunks)]))
            if step.hunk is not None and self.step_key(index) in self.seen:
                model.restore_viewed([(0, 0)])
            self.models[index] = model
        return model

    def go(self, index: int) -> None:
        """Show step `index` (its hunk alone), and everything that follows the current step."""
        if not self.steps:
            return
        self.index = max(0, min(index, len(self.steps) - 1))
        model = self._model(self.index)
        self.view.load(model)
        if self.steps[self.index].hunk is None:
            self.seen.add(self.step_key(self.index))  # nothing to scroll through
        self._mark_findings()
        self._step_changed()

    def _step_changed(self) -> None:
        if self.steps:
            self.query_one(StepList).update(self.step_views(), self.index)
            self.pane.show_notes(notes_on(self.notes, self.where(self.index)))
        self._render_banner()
        self._render_header()

    def on_diff_view_seen_changed(self, event: DiffView.SeenChanged) -> None:
        event.stop()
        model = self.models.get(self.index)
        if model is not None and model.hunks_viewed and self.steps:
            key = self.step_key(self.index)
            if key not in self.seen:
                self.seen.add(key)
                self._step_changed()

    def action_step(self, direction: int) -> None:
        if not self.steps:
            return
        target = self.index + direction
        if target >= len(self.steps):
            approve = keymap.first_key(self.app, "verdict.approve")
            self.app.notify(
                f"That was the last of {len(self.steps)}: decide ({approve} approves), "
                "or go back over it.",
                timeout=4,
            )
            return
        if target < 0:
            self.app.notify("This is the first hunk of the walkthrough.", timeout=2)
            return
        self.go(target)

    def on_step_list_step_chosen(self, event: StepList.StepChosen) -> None:
        self.go(event.index)
        self.view.focus()

    @on(Button.Pressed, "#step-next")
    def _next_pressed(self) -> None:
        self.action_step(1)

    @on(Button.Pressed, "#step-back")
    def _back_pressed(self) -> None:
        self.action_step(-1)

    def jump_to_step(self, index: int) -> None:
        self.go(index)
        self.view.focus()

    def _mark_findings(self) -> None:
        if self.critique is None or self.diff is None or not self.steps:
            return
        shown = self.diff.files[self.steps[self.index].file]
        marks: dict[int, str] = {}
        for finding in self.critique.findings:
            if shown.is_named(finding.file):
                marks.update(dict.fromkeys(finding_lines(finding), finding.severity))
        self.view.set_findings({0: marks} if marks else {})

    def jump_to_finding(self, finding: Finding, focus: bool = True) -> bool:
        """Go to the step whose hunk holds the finding's line (the nearest one in its file)."""
        if self.diff is None or finding.file is None:
            if focus:
                self.app.notify("This finding is about the change as a whole.", timeout=3)
            return False
        candidates = [
            i
            for i, step in enumerate(self.steps)
            if self.diff.files[step.file].is_named(finding.file)
        ]
        if not candidates:
            return False
        line = finding.start_line

        def distance(i: int) -> int:
            step = self.steps[i]
            if step.hunk is None or line is None:
                return 0 if line is None else 10**9
            hunk = self.diff.files[step.file].hunks[step.hunk]
            first, last = hunk.new_range()
            return 0 if first <= line <= last else min(abs(line - first), abs(line - last))

        target = min(candidates, key=distance)
        self.go(target)
        self.view.jump_to_line(0, line)
        if focus:
            self.view.focus()
        return True

    # -- the session --------------------------------------------------------------------------

    @property
    def note_box(self) -> Input:
        return self.query_one("#note-input", Input)

    def action_note(self) -> None:
        """The driver's note on this hunk, in a line under the diff (the hunk stays in view;
        the others' notes are in the session pane)."""
        if self.typed_blind("A note"):
            return
        if not self.steps:
            return
        driver = self.session.driver
        where = self.where(self.index)
        box = self.note_box
        box.value = next((n.note for n in notes_on(self.notes, where) if n.by == driver), "")
        box.border_title = (
            f"{one_line(driver.name, 40)}'s note on hunk {self.index + 1} of {len(self.steps)} "
            f"({one_line(where[0], 60)}): enter keeps it, escape cancels"
        )
        box.add_class("-shown")
        box.focus()

    @on(Input.Submitted, "#note-input")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.steps:
            where = self.where(self.index)
            self.notes = set_note(self.notes, where, self.session.driver, event.value)
            self._step_changed()
            self.save_draft()
        self._close_note()

    def _close_note(self) -> None:
        self.note_box.remove_class("-shown")
        self.view.focus()

    def action_hand_over(self) -> None:
        if self.typed_blind("Hand over"):
            return
        at = self.app.services.now().isoformat(timespec="seconds")
        handover = self.session.hand_over(at, self.index + 1 if self.steps else None)
        self.pane.show_people(self.session.driver, self.session.co_reviewers)
        self._render_header()
        self._render_banner()
        self.app.notify(
            f"{handover.driver.name} drives now (from {handover.previous.name}).", timeout=4
        )

    def action_tick(self, number: int) -> None:
        if self.typed_blind("A checklist tick"):
            return
        items = self.checklist
        if not items:
            self.app.notify(f"{self.item.domain} has no checklist.", timeout=3)
            return
        if not 1 <= number <= len(items):
            self.app.notify(f"The checklist has {len(items)} item(s).", timeout=3)
            return
        item = items[number - 1]
        ticked = set(self.ticked) ^ {item}
        self.ticked = tuple(i for i in items if i in ticked)
        self.pane.set_ticked(self.ticked)
        self._render_header()
        mark = "✓ ticked" if item in ticked else "untick"
        self.app.notify(f"{mark}: {item} ({len(self.ticked)}/{len(items)})", timeout=3)

    def on_session_pane_ticked(self, event: SessionPane.Ticked) -> None:
        self.ticked = event.ticked
        self._render_header()

    def action_presenter(self) -> None:
        self.presenter = not self.presenter
        self._apply_panes()
        self._render_banner()
        self.app.notify("Presenter layout" if self.presenter else "Normal layout", timeout=2)

    def _flip_pane(self, pane: str) -> None:
        if self.presenter:  # a pane asked for ends presenting; it opens rather than toggles
            self.presenter = False
            self._render_banner()
            self.visible_panes[pane] = True
        else:
            super()._flip_pane(pane)

    def action_fold(self) -> None:
        if self.view.toggle_fold(0) is None:
            self.app.notify("Nothing to fold here", timeout=2)

    # -- header, banner, status ---------------------------------------------------------------

    def hunks_viewed(self) -> int:
        return sum(1 for _, hunk in self.seen if hunk is not None)

    def _render_header(self) -> None:
        if not self.is_mounted:
            return
        driver = self.session.driver
        others = ", ".join(p.name for p in self.session.co_reviewers)
        parts: list[HeaderPart] = [
            safe_line(driver.name, "bold $text-accent"),
            " drives · with ",
            safe_line(others),
            "   ",
            *self._time_parts(),
        ]
        if self.diff is not None:
            parts.append(f"   hunks seen {self.hunks_viewed()}/{self.diff.hunk_count}")
        else:
            parts.append(("   loading the diff…", "$text-muted"))
        if self.checklist:
            parts.append(f"   checklist {len(self.ticked)}/{len(self.checklist)}")
        parts.append(f"   notes {len(self.notes)}")
        # The pair header is fuller: no finding count, nothing while the critique is coming.
        parts.append(self._critique_part(detail=False))
        title = self._header_title(80, ("PAIR ", "bold reverse $text-accent"), " ")
        self._show_header(title, parts)

    def _render_banner(self) -> None:
        if not self.is_mounted:
            return
        banner = self.query_one(PairBanner)
        if not self.steps:
            banner.show(None, 0, self.presenter)
            return
        banner.show(
            self.step_views()[self.index],
            len(self.steps),
            self.presenter,
            driver=self.session.driver.name,
        )

    def prompters_here(self) -> list[Identity]:
        return [p for p in prompters_of(self.change) if self.session.includes(p)]

    def _render_status(self) -> None:
        status = self.status_line
        prompters = self.prompters_here()
        if prompters:
            names = ", ".join(p.name or p.email for p in prompters)
            status.update(
                Content.styled(
                    f"⚠ {names} prompted this change: the policy does not count an approval "
                    "they take part in, even as a co-reviewer",
                    "$text-warning",
                )
            )
            return
        status.update(self._risk_status())

    # -- verdicts -----------------------------------------------------------------------------

    def summary(self) -> VerdictSummary:
        diff = self.diff
        files_done = 0
        if diff is not None:
            for f, fd in enumerate(diff.files):
                keys = [(f, h) for h in range(len(fd.hunks))] or [(f, None)]
                files_done += all(k in self.seen for k in keys)
        return VerdictSummary(
            active_seconds=self.timer.active_seconds() if self.timer else 0.0,
            hunks_viewed=self.hunks_viewed(),
            hunks_total=diff.hunk_count if diff else 0,
            files_viewed=files_done,
            files_total=len(diff.files) if diff else 0,
            critique_opened=self.critique_opened,
            critique_available=self.critique is not None,
        )

    def ordered_notes(self) -> list[HunkNote]:
        """The notes in walkthrough order (then any whose hunk is not in this diff)."""
        order = {self.where(i): i for i in range(len(self.steps))} if self.diff else {}
        return sorted(self.notes, key=lambda n: order.get(n.key(), len(order)))

    def verdict_input(
        self, verdict: str, note: str, checklist: tuple[str, ...] = ()
    ) -> VerdictInput:
        """The driver is recorded as the reviewer, the others as co-reviewers; the session's
        notes and handovers (this visit's and a draft's) go in the record's extra fields."""
        host = self.app.services.reviewer()
        fields = self.session.record_fields(
            host=host, since=self.handovers_from, notes=self.ordered_notes()
        )
        earlier = [h.to_json() for h in self.earlier_handovers]
        fields["session"]["driver_changes"] = earlier + fields["session"]["driver_changes"]
        return replace(
            super().verdict_input(verdict, note, checklist),
            reviewer=self.session.driver,
            co_reviewers=self.session.co_reviewers,
            extra=fields,
        )

    def _verdict_context(self) -> Content:
        """Who the record names (driver as reviewer, the others as co-reviewers), the steps
        not walked through, and a driver who cannot sign here."""
        driver = self.session.driver
        others = self.session.co_reviewers
        parts: list[Content | str | tuple[str, str]] = [
            ("Pair: ", "bold"),
            safe_line(driver.name, "bold $text-accent"),
            " records it as the reviewer, with ",
            safe_line(", ".join(p.name for p in others)),
            (f" as co-reviewer{'s' if len(others) > 1 else ''}", ""),
            (f" · {len(self.notes)} hunk note(s)", "$text-muted"),
        ]
        unseen = [i + 1 for i in range(len(self.steps)) if self.step_key(i) not in self.seen]
        if unseen:
            listed = ", ".join(map(str, unseen[:8])) + (", …" if len(unseen) > 8 else "")
            parts.append(
                (
                    f"\n⚠ not walked through yet: step{'s' if len(unseen) > 1 else ''} {listed} "
                    f"of {len(self.steps)}",
                    "$text-warning",
                )
            )
        host = self.app.services.reviewer()

        if host.email and not same_person(driver, host):
            signed = self.requirements is not None and self.requirements.signed_approvals
            parts.append(
                (
                    f"\n⚠ {driver.name} is not this machine's git user ({host.name}): the record "
                    "is left unsigned"
                    + (
                        f", and {self.item.domain} counts only signed approvals; "
                        f"hand over ({keymap.first_key(self.app, 'pair.driver')}) to "
                        f"{host.name} to sign it"
                        if signed
                        else ""
                    ),
                    "$text-warning",
                )
            )
        return Content.assemble(*parts)

    def _requirements(self) -> Requirements | None:
        return self.requirements  # read on mount: the session pane shows the checklist

    def _preticked(self) -> tuple[str, ...]:
        return self.ticked

    def _verdict_chosen(self, verdict: str, choice: VerdictChoice) -> None:
        if verdict == "approve":
            self.ticked = choice.checklist
            self.pane.set_ticked(self.ticked)

    def _announce_verdict(self, data: VerdictInput) -> None:
        title = VERDICT_TITLES[data.verdict]
        who = data.reviewer.name if data.reviewer else ""
        self.app.notify(
            f"{title} by {who} with {', '.join(p.name for p in data.co_reviewers)}: "
            f"{short_id(self.change.id, narrow=True)} after {duration(data.active_seconds)} active",
            timeout=5,
        )

    def _verdict_done(self, data: VerdictInput, record: dict[str, Any]) -> None:
        self.recorded += 1
        self.app.note_decided(data.change.id, data.verdict)
        pair_next(self.app, self)

    def action_skip(self) -> None:
        self.save_draft()
        pair_next(self.app, self, skipped=True)

    def action_back(self) -> None:
        if self.note_box.has_class("-shown"):
            self._close_note()  # escape in the note line cancels the note, not the session
            return
        self.save_draft()
        self.app.pop_screen()
        self.app.notify("Left the pair session; its notes, ticks and time are kept.", timeout=4)

    def action_start_pair(self) -> None:
        """Already in one (the palette offers this on other screens)."""

    # -- drafts and activity ------------------------------------------------------------------

    def draft_data(self) -> dict[str, Any]:
        timer = self.timer
        diff = self.diff
        since = self.session.handovers[self.handovers_from :]
        return {
            "notes": [n.to_json() for n in self.notes],
            "ticked": list(self.ticked),
            "active_seconds": round(timer.active_seconds(), 3) if timer else 0.0,
            "wall_seconds": round(timer.wall_seconds(), 3) if timer else 0.0,
            "seen": [[f, h] for f, h in sorted(self.seen, key=str)],
            "index": self.index,
            "diff_hash": self.app.services.diff_hash(diff) if diff is not None else "",
            "handovers": [h.to_json() for h in [*self.earlier_handovers, *since]],
            "participants": [p.to_json() for p in self.session.participants],
        }

    def save_draft(self, wait: bool = True) -> None:
        """Keep notes, ticks, time and seen hunks for the next session on this change."""
        if self.timer is None or self.busy or self.draft is None:
            return  # nothing loaded yet: an empty draft must not replace a real one
        data = self.draft_data()
        if wait:
            self._save_draft_worker(data)
        else:
            self.app.services.save_pair_draft(self.change, data, timeout=1.0)

    @work(thread=True, group="draft-save", exit_on_error=False)
    def _save_draft_worker(self, data: dict[str, Any]) -> None:
        try:
            self.app.services.save_pair_draft(self.change, data)
        except Exception:  # a lost draft costs a little time, never a verdict
            pass
