"""What every screen reviewing one change shares: the review screen and the pair walkthrough.

Both show one change with its prompt, critique and rationale panes, run the same active-time
timer, take critiques from the app as they arrive and record a verdict through the same worker.
Those facts live here once; each screen keeps what is its own (how the diff is laid out, what a
draft holds, what follows a verdict) and fills the few hooks below.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from reviewq.core.alloc import keep_out_of_sight, pause_collection, resume_collection
from reviewq.core.model import Critique, Diff, Finding, short_id
from reviewq.core.queue import QueueItem
from reviewq.core.text import one_line
from reviewq.core.times import duration
from reviewq.core.verdict import CritiqueState
from reviewq.errors import error_text
from reviewq.tui import keymap
from reviewq.tui.diff.view import DiffView
from reviewq.tui.safe import safe_line
from reviewq.tui.screens.dialogs import (
    VERDICT_TITLES,
    VerdictChoice,
    VerdictDialog,
    VerdictSummary,
)
from reviewq.tui.services import VerdictInput
from reviewq.tui.typeahead import key_clock, typeahead_release
from reviewq.tui.widgets.panes import CritiquePane, PromptPane, RationalePane
from reviewq.tui.widgets.timer import (
    ActiveTimer,
    PaceWarning,
    pace_warnings,
    size_warnings,
)

if TYPE_CHECKING:
    from reviewq.core.policy_rules import Requirements

#: The side panes both screens have, in the order they stand.
SIDE_PANES = ("prompt", "critique", "rationale")

#: What `Content.assemble` takes: plain text, (text, style), or Content.
HeaderPart = Content | str | tuple[str, str]

#: Background work waits at most this long for a diff being opened to show.
OPENING_SECONDS = 5.0

#: A finding marks at most this many lines past its first (a model may claim a whole file).
FINDING_SPAN = 50


def finding_lines(finding: Finding) -> range:
    """The new-file lines a finding marks in the diff (empty when it names no line)."""
    start = finding.start_line
    if start is None:
        return range(0)
    end = finding.end_line or start
    return range(start, min(end, start + FINDING_SPAN) + 1)


class ChangeScreen(Screen, inherit_bindings=False):
    """The base of the screens that review one change (not a screen on its own).

    Hooks each screen fills (they raise NotImplementedError here): `view` (the diff widget),
    `_load_diff` and `_load_draft` (workers), `_apply_panes` (its layout), `_mark_findings`
    and `jump_to_finding` (findings on its diff), `_render_header` (from the parts below),
    `summary` (what the verdict dialog shows), `_requirements`, `_announce_verdict` and
    `_verdict_done`; the ones with a default (`_flip_pane`, `_preticked`, `_verdict_context`,
    `_verdict_chosen`, `verdict_input`) are overridden where a screen differs. `HEADER_ID` and
    `STATUS_ID` name the two lines around the diff.
    """

    #: The id of the two-line header (the change; then time, progress, critique).
    HEADER_ID: ClassVar[str] = ""
    #: The id of the one-line status under the diff (where a diff that cannot be read says so).
    STATUS_ID: ClassVar[str] = ""
    #: The keymap scope of the diff widget: what a key typed ahead will do (typeahead.py).
    TYPEAHEAD_SCOPE: ClassVar[str] = "diff"

    def __init__(self, item: QueueItem, queue: list[QueueItem]) -> None:
        super().__init__()
        self.item = item
        self.change = item.change
        self.queue = queue
        self.diff: Diff | None = None
        self.critique: Critique | None = None
        self.critique_error: str | None = None
        self.critique_opened = False
        #: Which panes show; each screen adds its own (the file list, the walkthrough outline).
        self.visible_panes: dict[str, bool] = {
            "prompt": True,
            "critique": False,
            "rationale": False,
        }
        self.timer: ActiveTimer | None = None
        self.rationale_text: str | None = None
        self.note_draft = ""
        self.busy = False
        self.warned: set[str] = set()
        #: Unmounted: background work for this screen stops (its worker process is ended).
        self._gone = False
        self._header_plain = ""
        #: When the diff was first on screen (or said it cannot be read), on the clock keys are
        #: stamped with (`typeahead.key_clock`); None: not yet. Keys typed before it were typed
        #: blind: navigation is held and replayed, a key that records is refused.
        self.shown_at: float | None = None
        # No collections from here until the diff is drawn (`_diff_shown`) or the screen goes
        # (`on_unmount`): composing and mounting the screen made 10-15 ms of them (issue 18).
        pause_collection()

    # -- hooks --------------------------------------------------------------------------------

    @property
    def view(self) -> DiffView:
        raise NotImplementedError

    def _mark_findings(self) -> None:
        """Show the critique's findings on the diff (a no-op until both are here)."""
        raise NotImplementedError

    def _render_header(self) -> None:
        raise NotImplementedError

    # -- opening ------------------------------------------------------------------------------

    def _start_timer_and_panes(self) -> None:
        """The timer runs from the moment the change opens (reading the prompt is review)."""
        self.timer = ActiveTimer(self.app.clock)
        self.timer.start()
        if not self.app.app_focus:
            self.timer.blur()
        self.query_one(PromptPane).show_change(self.change)
        self.query_one(CritiquePane).show_message("Preparing the critique…")
        self.query_one(RationalePane).show_text("Preparing the rationale…")

    def _start_loading(self) -> None:
        """Everything slow, in workers; the screen fills in as each part arrives.

        The diff comes first: the rationale (which reads and parses every changed file), the
        critique pane and the next items' critiques start once the diff is on screen
        (`_diff_shown`), so their work does not hold the interpreter while the reviewer waits
        for the first lines.
        """
        self._side_started = False
        # background work (a critique prepared from the queue) yields until the diff is shown
        self.app.opening_until = time.monotonic() + OPENING_SECONDS
        pause_collection()  # until the diff is drawn (`_diff_shown`; `core.alloc`)
        self._load_diff()
        self._load_draft()
        self.set_interval(1.0, self._tick)

    def _diff_shown(self) -> None:
        """The diff is on screen (or could not be read): start the rest (once)."""
        if getattr(self, "_side_started", True):
            return
        self._side_started = True
        self.shown_at = key_clock()
        typeahead_release(self)  # the keys typed while it loaded go on, in order
        self.app.opening_until = 0.0
        # Start-up's objects and this diff's stay for the screen's life: out of the collector's
        # sight, full collections no longer stall page downs (the queue collects on return).
        self.call_after_refresh(resume_collection)
        self._load_rationale(self.diff)
        self._start_critique()
        self.app.prefetch_after(self.change.id, self.queue)

    def on_unmount(self) -> None:
        self._gone = True  # a rationale still being built is ended (`_load_rationale`)
        typeahead_release(self)  # gone: the keys held for it are dropped
        resume_collection()  # closed before its diff was drawn: the collector comes back on

    def _warn_about_size(self) -> None:
        for warning in size_warnings(self.item.size):
            self._warn_once(warning.key, warning.message)

    def _load_diff(self) -> None:
        raise NotImplementedError

    # -- keys typed ahead (typeahead.py) ------------------------------------------------------

    def typeahead_waits(self) -> bool:
        """Keys typed now wait for the diff: the app holds them and replays them in order."""
        return self.shown_at is None

    def typed_blind(self, what: str) -> bool:
        """True, with a notice, when the key running this action was typed before the diff was
        on screen: it would record something about a change the reviewer has not seen (a
        verdict on it is the rubber stamp reviewq exists to stop). The keys typed with it that
        are still to come are dropped too: they were meant for the dialog it would open."""
        app = self.app
        if not app.typed_before(self.shown_at):
            return False
        app.refuse_typeahead(self.shown_at)
        app.notify(
            f"{what} not taken: typed before the diff was on screen (keys after it dropped).",
            title="Typed ahead",
            severity="warning",
            timeout=8,
        )
        return True

    def _load_draft(self) -> None:
        raise NotImplementedError

    def _diff_failed(self, exc: Exception) -> None:
        message = one_line(error_text(exc), 200)
        self.app.notify(message, title="Cannot read the diff", severity="error")
        self.status_line.update(Content(f"The diff could not be read: {message}"))
        self._diff_shown()

    # -- header and status --------------------------------------------------------------------

    @property
    def status_line(self) -> Static:
        return self.query_one(f"#{self.STATUS_ID}", Static)

    def _header_title(self, subject_width: int, *lead: HeaderPart) -> Content:
        """The header's first line: which change, by which agent, how risky, how big."""
        change = self.change
        auth = change.authorship
        stats = self.item.stats  # a unit's size, as the queue shows it
        short = short_id(change.id, narrow=True)
        model = f" {auth.model}" if auth.model else ""
        level = self.item.risk.level
        risk_style = {"high": "bold $text-error", "medium": "$text-warning"}.get(level, "")
        return Content.assemble(
            *lead,
            (short, "bold $text-primary"),
            "  ",
            safe_line(one_line(change.commit.subject, subject_width), "bold"),
            "   ",
            safe_line(f"{auth.agent}{model} ({auth.family})", "$text-muted"),
            "  ",
            (f"risk {level} {self.item.risk.score}", risk_style),
            (_size_text(stats), "$text-muted"),
        )

    def _time_parts(self) -> list[HeaderPart]:
        timer = self.timer
        active = timer.active_seconds() if timer else 0.0
        paused = timer is not None and timer.started and not timer.running
        return [
            (f"{duration(active, 'clock')} active", "bold"),
            (" (paused)" if paused else "", "$text-warning"),
        ]

    def _critique_part(self, *, detail: bool) -> HeaderPart:
        """Where the critique stands; `detail` adds the finding count and says it is coming."""
        critique = self.critique
        if critique is not None:
            hint = keymap.first_key(self.app, "pane.critique")
            state = "opened" if self.critique_opened else f"ready ({hint} to open)"
            count = f", {len(critique.findings)} finding(s)" if detail else ""
            return (f"   critique {state}{count}", "$text-muted")
        if self.critique_error:
            return ("   critique not available", "$text-muted")
        return ("   critique: preparing…" if detail else "", "$text-muted")

    def _show_header(self, title: Content, parts: list[HeaderPart]) -> None:
        content = Content.assemble(title, "\n", *parts)
        if content.plain != self._header_plain:
            # Fixed height: no relayout of the screen for a new second on the clock.
            self._header_plain = content.plain
            self.query_one(f"#{self.HEADER_ID}", Static).update(content, layout=False)

    def _risk_status(self) -> Content:
        """The status line unless a screen has more pressing news: the size warning, else
        why the change is risky."""
        warnings = size_warnings(self.item.size)
        if warnings:
            return Content.styled(f"⚠ {warnings[0].message}", "$text-warning")
        risk = self.item.risk.reasons
        return Content.styled(
            "risk: " + "; ".join(one_line(r) for r in risk) if risk else "", "$text-muted"
        )

    # -- panes ------------------------------------------------------------------------------

    def _apply_panes(self) -> None:
        """Show the panes `visible_panes` asks for (each screen has its own layout)."""
        raise NotImplementedError

    def _show_side_panes(self) -> None:
        for name in SIDE_PANES:
            self.query_one(f"#{name}").display = self.visible_panes[name]

    def _flip_pane(self, pane: str) -> None:
        self.visible_panes[pane] = not self.visible_panes[pane]

    def action_toggle_pane(self, pane: str) -> None:
        self._flip_pane(pane)
        shown = self.visible_panes[pane]
        if pane == "critique" and shown:
            # What the record's opened_before_verdict says: the critique was there to read.
            self.critique_opened = self.critique_opened or self.critique is not None
        self._apply_panes()
        if pane == "critique" and shown and self.critique is not None:
            self.query_one(CritiquePane).finding_list.focus()
        elif not shown and self.focused is None:
            self.view.focus()
        self._render_header()

    def action_toggle_layout(self) -> None:
        split = self.view.toggle_layout()
        self.app.notify("Side by side" if split else "Unified", timeout=2)
        self._render_header()

    # -- rationale and critique ---------------------------------------------------------------

    # `description`: Textual's default is the repr of every argument, on the UI thread; a
    # 56,000-line diff's repr is ~140 ms (issue 18).
    @work(
        thread=True,
        exclusive=True,
        group="rationale",
        exit_on_error=False,
        description="the rationale",
    )
    def _load_rationale(self, diff: Diff | None = None) -> None:
        # A large change's rationale is built in a worker process (`Services.offload`); the
        # screen closing ends it (`CANCELLED`), so no process works on for a screen now gone.
        from reviewq.tui.worker_process import CANCELLED

        token = CANCELLED.set(lambda: self._gone)
        try:
            with self.app.background():
                text = self.app.services.rationale(self.change, diff).to_text()
        except Exception as exc:
            if self._gone:
                return
            self.app.call_from_thread(self._rationale_failed, one_line(error_text(exc), 200))
            return
        finally:
            CANCELLED.reset(token)
        if not self._gone:
            self.app.call_from_thread(self._rationale_loaded, text)

    def _rationale_loaded(self, text: str) -> None:
        self.rationale_text = text
        self.query_one(RationalePane).show_rationale(text)
        self.call_after_refresh(keep_out_of_sight)  # the pane's text lives on: out of sight too

    def _rationale_failed(self, message: str) -> None:
        """Without the rationale summary, the critic's own rationale is better than nothing."""
        self.rationale_text = None
        fallback = self.critique.rationale if self.critique is not None else ""
        if fallback:
            self.query_one(RationalePane).show_text(fallback)
        else:
            self.query_one(RationalePane).show_text(
                f"No rationale: {message}", title="Rationale: not available"
            )

    def _start_critique(self) -> None:
        known = self.app.critiques.get(self.change.id)
        if isinstance(known, Critique):
            self._critique_loaded(known)
        elif isinstance(known, str):
            self._critique_failed(known)
        else:
            self.app.request_critique(self.change)

    def critique_arrived(self, change_id: str, result: Critique | str) -> None:
        """Called by the app when a critique worker finishes (for any change)."""
        if change_id != self.change.id or not getattr(self, "_side_started", True):
            return  # before the diff is shown, `_diff_shown` picks it up from the app
        if isinstance(result, Critique):
            self._critique_loaded(result)
        else:
            self._critique_failed(result)

    def _critique_loaded(self, critique: Critique) -> None:
        self.critique = critique
        self.critique_error = None
        if self.visible_panes["critique"]:
            self.critique_opened = True
        self.query_one(CritiquePane).show_critique(critique)
        if self.rationale_text is None and critique.rationale:
            self.query_one(RationalePane).show_text(critique.rationale)
        self._mark_findings()
        self._render_header()
        self.call_after_refresh(keep_out_of_sight)  # the findings live on: out of sight too

    def _critique_failed(self, message: str) -> None:
        self.critique = None
        self.critique_error = message
        self.query_one(CritiquePane).show_message(message, title="Critique: not available")
        self._render_header()

    def critique_state(self) -> CritiqueState | None:
        """What the verdict record says about the critique (None: there was none to open)."""
        critique = self.critique
        if critique is None:
            return None
        return CritiqueState(
            critic=critique.critic,
            family=critique.family,
            model=critique.model,
            opened_before_verdict=self.critique_opened,
            same_family_allowed=critique.same_family_allowed,
        )

    def on_critique_pane_finding_chosen(self, event: CritiquePane.FindingChosen) -> None:
        self.jump_to_finding(event.finding, focus=event.focus)

    def jump_to_finding(self, finding: Finding, focus: bool = True) -> bool:
        raise NotImplementedError

    # -- verdicts -----------------------------------------------------------------------------

    def summary(self) -> VerdictSummary:
        raise NotImplementedError

    def verdict_input(
        self, verdict: str, note: str, checklist: tuple[str, ...] = ()
    ) -> VerdictInput:
        """What the record says about this review (and what the policy preview judges)."""
        summary = self.summary()
        return VerdictInput(
            change=self.change,
            verdict=verdict,
            note=note,
            active_seconds=summary.active_seconds,
            wall_seconds=self.timer.wall_seconds() if self.timer else 0.0,
            hunks_total=summary.hunks_total,
            hunks_viewed=summary.hunks_viewed,
            critique=self.critique_state(),
            domain=self.item.domain,
            checklist=checklist,
            unit=self.item.unit,
        )

    def review_lines(self) -> int:
        """The changed lines this review covers (the review rate's numerator)."""
        return self.item.size

    def _requirements(self) -> Requirements | None:
        """The policy's requirements for this change (None: no policy could be read)."""
        raise NotImplementedError

    def _preticked(self) -> tuple[str, ...]:
        """Checklist items the dialog opens ticked (a pair session ticks them as it goes)."""
        return ()

    def _verdict_context(self) -> Content | None:
        """A line over the dialog's summary (a pair session says who records what)."""
        return None

    def _verdict_chosen(self, verdict: str, choice: VerdictChoice) -> None:
        """The dialog was confirmed; called before the verdict is recorded."""

    def _announce_verdict(self, data: VerdictInput) -> None:
        raise NotImplementedError

    def _verdict_done(self, data: VerdictInput, record: dict[str, Any]) -> None:
        """The verdict is in the log: move on."""
        raise NotImplementedError

    def action_verdict(self, verdict: str) -> None:
        """The verdict dialog (pace warnings; on approval the checklist and the policy's
        preview of what is still missing), then the record in a worker."""
        if self.busy or self.typed_blind(VERDICT_TITLES[verdict]):
            return
        summary = self.summary()
        services = self.app.services
        requirements = self._requirements()
        approving = verdict == "approve"

        def warnings_for(now: VerdictSummary) -> list[PaceWarning]:
            # the review rate matters for an approval only: a reject or a request for changes
            # is not made unsafe by being quick
            return pace_warnings(
                self.review_lines(),
                now.active_seconds,
                self.app.session.seconds(),
                rate=approving,
            )

        warnings = warnings_for(summary)
        checklist = requirements.checklist if approving and requirements is not None else ()

        def problems_for(ticked: tuple[str, ...]) -> list[str]:
            return services.approval_problems(self.verdict_input("approve", "", ticked))

        dialog = VerdictDialog(
            verdict,
            self.change,
            summary,
            warnings,
            self.note_draft,
            checklist=checklist,
            domain=self.item.domain,
            problems_for=problems_for if approving and requirements else None,
            ticked=self._preticked(),
            context=self._verdict_context(),
            live=self.summary,
            warnings_for=warnings_for,
            unit=self.item.unit,
        )

        def decided(choice: VerdictChoice | None) -> None:
            if choice is None:
                return
            self.note_draft = choice.note
            self._verdict_chosen(verdict, choice)
            self.busy = True
            self._record_worker(self.verdict_input(verdict, choice.note, choice.checklist))

        self.app.push_screen(dialog, decided)

    @work(
        thread=True,
        exclusive=True,
        group="verdict",
        exit_on_error=False,
        description="the verdict's record",
    )
    def _record_worker(self, data: VerdictInput) -> None:
        try:
            record, warnings = self.app.services.record_verdict(data)
        except Exception as exc:
            self.app.call_from_thread(self._record_failed, exc)
            return
        self.app.call_from_thread(self._recorded, data, record, warnings)

    def _record_failed(self, exc: Exception) -> None:
        self.busy = False
        self.app.notify(
            f"Nothing was recorded: {one_line(error_text(exc), 200)}",
            title="Verdict not recorded",
            severity="error",
            timeout=10,
        )

    def _recorded(self, data: VerdictInput, record: dict[str, Any], warnings: list[str]) -> None:
        self.busy = False
        self._announce_verdict(data)
        for warning in warnings:
            self.app.notify(one_line(warning, 300), severity="warning", timeout=10)
        self._verdict_done(data, record)

    # -- timer and warnings -------------------------------------------------------------------

    def _tick(self) -> None:
        self._render_header()
        for warning in pace_warnings(0, 0, self.app.session.seconds()):
            self._warn_once(
                f"session-{warning.level}",
                warning.message,
                severity="error" if warning.level == "strong" else "warning",
            )

    def _warn_once(self, key: str, message: str, severity: str = "warning") -> None:
        if key in self.warned:
            return
        self.warned.add(key)
        self.app.notify(message, severity=severity, timeout=8)

    # -- activity (called by the app) ---------------------------------------------------------

    def activity(self) -> None:
        if self.timer is not None:
            self.timer.touch()

    def blurred(self) -> None:
        if self.timer is not None:
            self.timer.blur()
        self._render_header()

    def focused_again(self) -> None:
        if self.timer is not None:
            self.timer.focus()
        self._render_header()


def _size_text(stats) -> str:
    """`  +12 -3`, or what is known when objects are missing (`size unknown`)."""
    if stats is None:
        return ""
    if stats.size_known:
        return f"  +{stats.additions} -{stats.deletions}"
    return f"  {stats.brief()}"
