"""Dialogs: the verdict note (with the pace warnings), applying an inbox patch, confirmations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from reviewq.core.model import Change, short_id
from reviewq.core.text import one_line
from reviewq.core.times import duration
from reviewq.tui import keymap
from reviewq.tui.safe import safe_line
from reviewq.tui.typeahead import typeahead_ready
from reviewq.tui.widgets.timer import PaceWarning

#: What a dialog's facts and policy preview are recomputed from while it is open.
SummarySource = Callable[[], "VerdictSummary"]

VERDICT_TITLES = {
    "approve": "Approve",
    "reject": "Reject",
    "changes": "Request changes",
    "escalate": "Escalate",
}
#: Verdicts that mean nothing without a reason for the author or the next reviewer.
NOTE_REQUIRED = {"changes", "escalate"}


@dataclass(frozen=True, slots=True)
class VerdictSummary:
    """What the dialog tells the reviewer about the review they are closing."""

    active_seconds: float
    hunks_viewed: int
    hunks_total: int
    files_viewed: int
    files_total: int
    critique_opened: bool
    critique_available: bool


@dataclass(frozen=True, slots=True)
class VerdictChoice:
    """What the dialog returns: the note and the checklist items ticked."""

    note: str
    checklist: tuple[str, ...] = ()


class ChecklistItem(Checkbox):
    """A checklist line: space ticks it, enter records (as the button says), and the focused
    line keeps its box and label visible (a one-row checkbox has no room for a border)."""

    BINDINGS = [
        Binding("space", "toggle_button", "Tick", show=False),
        Binding("enter", "screen.submit", "Record", show=False),
    ]

    DEFAULT_CSS = """
    ChecklistItem, ChecklistItem:focus, ChecklistItem.-textual-compact:focus {
        border: none; padding: 0; height: 1; background: $surface;
    }
    ChecklistItem:focus { background-tint: $foreground 5%; }
    ChecklistItem:focus > .toggle--label { text-style: bold reverse; }
    """


class VerdictDialog(ModalScreen[VerdictChoice | None], inherit_bindings=False):
    """Asks for the note (and the policy checklist); returns the choice, or None (cancelled).

    For an approval it also says, live as items are ticked, whether the policy would count it
    (`problems_for` asks the policy module); that is a warning, never a block.
    """

    BINDINGS = keymap.screen_bindings("dialog")

    DEFAULT_CSS = """
    VerdictDialog { align: center middle; }
    VerdictDialog > Vertical {
        width: 84; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    VerdictDialog #verdict-title { text-style: bold; margin-bottom: 1; }
    VerdictDialog #verdict-facts { color: $text-muted; margin-bottom: 1; }
    VerdictDialog #verdict-context { margin-bottom: 1; }
    VerdictDialog .warning { color: $text-warning; }
    VerdictDialog .warning-strong { color: $text-error; text-style: bold; }
    VerdictDialog #verdict-error { color: $text-error; height: auto; }
    VerdictDialog #checklist-title { margin-top: 1; text-style: bold; }
    VerdictDialog #policy-problems { color: $text-warning; height: auto; margin-top: 1; }
    VerdictDialog Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    VerdictDialog Button { margin-left: 2; }
    """

    def __init__(
        self,
        verdict: str,
        change: Change,
        summary: VerdictSummary,
        warnings: list[PaceWarning],
        note: str = "",
        *,
        checklist: tuple[str, ...] = (),
        domain: str = "default",
        problems_for: Callable[[tuple[str, ...]], list[str]] | None = None,
        ticked: tuple[str, ...] = (),
        context: Content | None = None,
        live: SummarySource | None = None,
        warnings_for: Callable[[VerdictSummary], list[PaceWarning]] | None = None,
        unit: Any = None,
    ) -> None:
        super().__init__()
        self.verdict = verdict
        self.change = change
        #: The unit of review the verdict is on (`core.units.Unit`); None: the commit alone.
        self.unit = unit
        self.summary = summary
        self.warnings = warnings
        self.note = note
        self.checklist = checklist
        self.domain = domain
        self.problems_for = problems_for
        #: Items already ticked (a pair session ticks them as it walks through).
        self.preticked = ticked
        #: A line about who decides (a pair session's driver and co-reviewers).
        self.context = context
        #: While the dialog is open the review's clock keeps running: `live` gives the facts
        #: now, `warnings_for` the pace warnings for them (None: the facts given at opening).
        self.live = live
        self.warnings_for = warnings_for

    def compose(self) -> ComposeResult:
        s = self.summary
        title = VERDICT_TITLES[self.verdict]
        with Vertical():
            yield Static(self._title(title), id="verdict-title")
            yield Static(self._facts(s), id="verdict-facts")
            if self.context is not None:
                yield Static(self.context, id="verdict-context")
            yield Static(self._warning_text(), id="verdict-warnings")
            required = self.verdict in NOTE_REQUIRED
            placeholder = (
                "note (required): what should change, or why escalate"
                if required
                else "note (optional)"
            )
            yield Input(value=self.note, placeholder=placeholder, id="note")
            yield Static("", id="verdict-error")
            if self.checklist:
                yield Static(
                    Content(f"Checklist of {self.domain} (space ticks, tab moves)"),
                    id="checklist-title",
                )
                for index, item in enumerate(self.checklist):
                    yield ChecklistItem(
                        safe_line(item), item in self.preticked, id=f"check-{index}"
                    )
            yield Static("", id="policy-problems")
            submit = keymap.first_key(self.app, "dialog.submit")
            cancel = keymap.first_key(self.app, "dialog.cancel")
            with Horizontal():
                yield Button(f"Cancel ({cancel})", id="cancel")
                yield Button(
                    f"{title} (enter, {submit})",
                    id="record",
                    variant="error" if self.verdict in ("reject",) else "primary",
                )

    def _title(self, title: str) -> Content:
        """`Approve 1a2b3c4d5e  subject`, or for a unit of several commits what the verdict is
        on: `Approve pull pull/7/head · 4 commits (1 human)` and the tip's subject."""
        unit = self.unit
        if unit is not None and unit.kind != "commit" and len(unit.commits) > 1:
            human = len(unit.human)
            return Content.assemble(
                (f"{title} ", "bold"),
                safe_line(f"{unit.kind} {one_line(unit.name or unit.ref, 50)}", "$text-primary"),
                f" · {len(unit.commits)} commits",
                f" ({human} human)" if human else "",
                "\n",
                ("tip: ", "$text-muted"),
                safe_line(one_line(self.change.commit.subject, 70)),
            )
        return Content.assemble(
            (f"{title} ", "bold"),
            (short_id(self.change.id), "$text-primary"),
            "  ",
            safe_line(one_line(self.change.commit.subject, 60)),
        )

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()
        self._show_problems()
        if self.live is not None:
            self.set_interval(1.0, self.refresh_live)
        typeahead_ready(self)

    @staticmethod
    def _facts(s: VerdictSummary) -> Content:
        critique = (
            ("opened", "$text-success")
            if s.critique_opened
            else ("not opened", "$text-warning")
            if s.critique_available
            else ("not available", "$text-muted")
        )
        # the policy's lines below say it the same way (core.times.duration)
        shown = duration(s.active_seconds)
        return Content.assemble(
            f"active {shown} · "
            f"hunks seen {s.hunks_viewed}/{s.hunks_total} · "
            f"files viewed {s.files_viewed}/{s.files_total} · critique ",
            critique,
        )

    def _warning_text(self) -> Content:
        lines = []
        for warning in self.warnings:
            style = "bold $text-error" if warning.level == "strong" else "$text-warning"
            lines.append(Content.styled(f"⚠ {warning.message}", style))
        return Content("\n").join(lines)

    def refresh_live(self) -> None:
        """The review's active time goes on while the dialog is open: the facts, the pace
        warnings and the policy preview follow it (a too-fast approval can be fixed here)."""
        if self.live is None:
            return
        self.summary = self.live()
        if self.warnings_for is not None:
            self.warnings = self.warnings_for(self.summary)
        self.query_one("#verdict-facts", Static).update(self._facts(self.summary))
        self.query_one("#verdict-warnings", Static).update(self._warning_text())
        self._show_problems()

    def ticked(self) -> tuple[str, ...]:
        return tuple(
            item
            for index, item in enumerate(self.checklist)
            if self.query_one(f"#check-{index}", Checkbox).value
        )

    @on(Checkbox.Changed)
    def _show_problems(self) -> None:
        if self.problems_for is None:
            return
        try:
            problems = self.problems_for(self.ticked())
        except Exception as exc:  # the preview must never stop a verdict
            problems = [f"the policy could not be checked: {exc}"]
        text = "\n".join(f"⚠ policy: {p}" for p in problems) if problems else ""
        self.query_one("#policy-problems", Static).update(Content(text))

    def action_submit(self) -> None:
        note = self.query_one("#note", Input).value.strip()
        if self.verdict in NOTE_REQUIRED and not note:
            self.query_one("#verdict-error", Static).update(
                Content(f"{VERDICT_TITLES[self.verdict]} needs a note saying why.")
            )
            self.query_one("#note", Input).focus()
            return
        self.dismiss(VerdictChoice(note, self.ticked()))

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#note")
    def _submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#record")
    def _record(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class ApplyDialog(ModalScreen[str | None], inherit_bindings=False):
    """Which branch an inbox patch goes to (`git am`); returns the branch name, or None.

    Applying is always this explicit step, never a side effect of a verdict. A branch that does
    not exist yet starts from main; the user's checkout is not moved (`reviewq.workflow.apply_patch`).
    """

    BINDINGS = keymap.screen_bindings("dialog")

    DEFAULT_CSS = """
    ApplyDialog { align: center middle; }
    ApplyDialog > Vertical {
        width: 84; height: auto; border: thick $primary; background: $surface; padding: 1 2;
    }
    ApplyDialog #apply-title { text-style: bold; margin-bottom: 1; }
    ApplyDialog #apply-facts { color: $text-muted; margin-bottom: 1; }
    ApplyDialog #apply-error { color: $text-error; height: auto; }
    ApplyDialog Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    ApplyDialog Button { margin-left: 2; }
    """

    def __init__(self, change: Change, branch: str, verdict: str | None) -> None:
        super().__init__()
        self.change = change
        self.branch = branch
        self.verdict = verdict

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content.assemble(
                    ("Apply ", "bold"),
                    (short_id(self.change.id), "$text-primary"),
                    "  ",
                    safe_line(one_line(self.change.commit.subject, 50)),
                ),
                id="apply-title",
            )
            said = (
                f"your verdict: {self.verdict}"
                if self.verdict
                else "no verdict yet: the new commit will wait in the queue"
            )
            yield Static(
                Content(f"git am onto the branch below (a new one starts from main); {said}"),
                id="apply-facts",
            )
            yield Input(value=self.branch, placeholder="branch", id="branch")
            yield Static("", id="apply-error")
            submit = keymap.first_key(self.app, "dialog.submit")
            cancel = keymap.first_key(self.app, "dialog.cancel")
            with Horizontal():
                yield Button(f"Cancel ({cancel})", id="cancel")
                yield Button(f"Apply (enter, {submit})", id="apply", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#branch", Input).focus()
        typeahead_ready(self)

    def action_submit(self) -> None:
        branch = self.query_one("#branch", Input).value.strip()
        if not branch:
            self.query_one("#apply-error", Static).update(Content("Name a branch."))
            return
        self.dismiss(branch)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#branch")
    def _submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
