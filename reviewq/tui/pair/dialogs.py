"""The pair session's start dialog: who takes part (the driver first, one or two co-reviewers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Static

from reviewq.core.model import Identity
from reviewq.core.pair import (
    MAX_CO_REVIEWERS,
    PERSON_EXAMPLE,
    PersonError,
    check_participants,
    parse_person,
)
from reviewq.tui import keymap
from reviewq.tui.safe import safe_line

_DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 1 2; overflow-y: auto;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .muted {{ color: $text-muted; }}
{name} .label {{ margin-top: 1; }}
{name} #error {{ color: $text-error; height: auto; margin-top: 1; }}
{name} Horizontal {{ height: auto; margin-top: 1; align-horizontal: right; }}
{name} Button {{ margin-left: 2; }}
"""


@dataclass(frozen=True, slots=True)
class PairStart:
    driver: Identity
    co_reviewers: tuple[Identity, ...]


class PairStartDialog(ModalScreen[PairStart | None], inherit_bindings=False):
    """Names the driver and one or two co-reviewers; remembers nothing itself (the caller
    stores the names for next time)."""

    BINDINGS = keymap.screen_bindings("dialog")
    DEFAULT_CSS = _DIALOG_CSS.format(name="PairStartDialog")

    def __init__(
        self,
        what: Content,
        *,
        driver: str = "",
        co_reviewers: Sequence[str] = (),
        recent: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.what = what
        self.driver = driver
        self.co = list(co_reviewers)[:MAX_CO_REVIEWERS]
        self.recent = list(recent)

    def compose(self) -> ComposeResult:
        suggester = SuggestFromList(self.recent, case_sensitive=False) if self.recent else None
        submit = keymap.first_key(self.app, "dialog.submit")
        cancel = keymap.first_key(self.app, "dialog.cancel")
        with Vertical():
            yield Static(Content("Start a pair session"), classes="title")
            yield Static(self.what)
            yield Static(
                Content(
                    "The driver is at the keyboard and is recorded as the reviewer; the others "
                    "are recorded as co-reviewers. Hand the driver role over any time."
                ),
                classes="muted label",
            )
            yield Static(Content("Driver"), classes="label")
            yield Input(self.driver, placeholder=PERSON_EXAMPLE, id="driver", suggester=suggester)
            yield Static(Content("Co-reviewer"), classes="label")
            yield Input(
                self.co[0] if self.co else "",
                placeholder="Name <email>",
                id="co-1",
                suggester=suggester,
            )
            yield Static(Content("Second co-reviewer (optional)"), classes="label")
            yield Input(
                self.co[1] if len(self.co) > 1 else "",
                placeholder="Name <email>, or leave empty",
                id="co-2",
                suggester=suggester,
            )
            if self.recent:
                yield Static(
                    Content.assemble(
                        ("Recent (→ completes): ", "bold"),
                        safe_line(", ".join(self.recent[:6])),
                    ),
                    classes="muted label",
                )
            yield Static("", id="error")
            with Horizontal():
                yield Button(f"Cancel ({cancel})", id="cancel")
                yield Button(f"Start (enter, {submit})", id="start", variant="primary")

    def on_mount(self) -> None:
        first_empty = next(
            (box for box in self.query(Input) if not box.value and box.id != "co-2"), None
        )
        (first_empty or self.query_one("#co-1", Input)).focus()

    def _values(self) -> PairStart | list[str]:
        errors: list[str] = []
        people: dict[str, Identity] = {}
        # Either co-reviewer box may hold the one co-reviewer (a Tab too many is no error).
        co_given = any(self.query_one(f"#{f}", Input).value.strip() for f in ("co-1", "co-2"))
        for field, label in (("driver", "driver"), ("co-1", "co-reviewer"), ("co-2", "second")):
            text = self.query_one(f"#{field}", Input).value
            if field != "driver" and not text.strip() and (co_given or field == "co-2"):
                continue
            try:
                people[field] = parse_person(text)
            except PersonError as exc:
                errors.append(f"{label}: {exc}")
        if errors:
            return errors
        driver = people["driver"]
        co = tuple(people[f] for f in ("co-1", "co-2") if f in people)
        problems = check_participants(driver, co)
        return problems if problems else PairStart(driver, co)

    def action_submit(self) -> None:
        result = self._values()
        if isinstance(result, list):
            self.query_one("#error", Static).update(Content("\n".join(result)))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "driver":
            self.query_one("#co-1", Input).focus()
            return
        self.action_submit()

    @on(Button.Pressed, "#start")
    def _start(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
