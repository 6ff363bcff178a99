"""Widgets of the pair session: the step banner, the walkthrough outline, the session pane
(who is there, the checklist, the notes on this hunk), the big step keys of the presenter layout,
and the diff with the walkthrough's keys.

Paths, hunk headers, names and notes are untrusted text: they go through `reviewq.tui.safe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Checkbox, Digits, OptionList, Static
from textual.widgets.option_list import Option

from reviewq.core.model import Identity
from reviewq.core.pair import HunkNote
from reviewq.core.text import one_line
from reviewq.tui import keymap
from reviewq.tui.diff.view import DiffView
from reviewq.tui.safe import safe, safe_line

KIND_STYLE = {
    "test": "bold $text-success",
    "interface": "bold $text-accent",
    "implementation": "bold $text-primary",
    "other": "$text-muted",
    "generated": "$text-muted",
}


KIND_SHORT = {
    "test": "test",
    "interface": "iface",
    "implementation": "impl",
    "other": "other",
    "generated": "gen",
}


@dataclass(frozen=True, slots=True)
class StepView:
    """What the outline and the banner show of one walkthrough step."""

    number: int  # 1-based
    path: str
    kind: str
    why: str
    header: str  # the hunk header ("" for a file without hunks)
    seen: bool
    noted: bool
    #: First new-side line of the hunk (0 for a deleted file's; None for a file without hunks).
    line: int | None = None


class PairDiffView(DiffView, inherit_bindings=False):
    """The diff of one step; space and the arrows step through the walkthrough instead of
    paging and scrolling sideways (`pair.page_down`, `pair.left`, ... do that here)."""

    BINDINGS = keymap.bindings("pair-diff")


class PairBanner(Horizontal):
    """ "Hunk 3 of 12 · tests/test_auth.py": one line, or three (big numbers) for presenting."""

    DEFAULT_CSS = """
    PairBanner { height: 1; background: $primary-muted; padding: 0 1; }
    PairBanner > Digits { display: none; width: auto; margin-right: 2; color: $text-primary; }
    PairBanner > #banner-text { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    PairBanner.-presenter { height: 3; }
    PairBanner.-presenter > Digits { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield Digits("", id="banner-number")
        yield Static(id="banner-text")

    def show(self, step: StepView | None, total: int, presenter: bool, driver: str = "") -> None:
        self.set_class(presenter, "-presenter")
        text = self.query_one("#banner-text", Static)
        if step is None:
            self.query_one(Digits).update("")
            text.update(Content.styled("Loading the walkthrough…", "$text-muted"))
            return
        what = "Hunk" if step.header else "File"
        kind = Content.assemble((step.kind, KIND_STYLE.get(step.kind, "")), f": {step.why}")
        marks = Content.assemble(
            ("  ✓ seen" if step.seen else "", "$text-success"),
            ("  ✎ noted" if step.noted else "", "$text-warning"),
        )
        if presenter:
            self.query_one(Digits).update(str(step.number))
            text.update(
                Content.assemble(
                    (f"{what} {step.number} of {total}", "bold"),
                    "   ",
                    kind,
                    marks,
                    ("   ▶ " if driver else "", "bold $text-accent"),
                    safe_line(driver, "bold"),
                    (" drives" if driver else "", "$text-muted"),
                    "\n",
                    safe_line(step.path, "bold"),
                    "\n",
                    safe_line(one_line(step.header, 160), "$text-muted"),
                )
            )
            return
        text.update(
            Content.assemble(
                (f"{what} {step.number} of {total}", "bold"),
                "  ",
                safe_line(step.path, "bold"),
                "  · ",
                kind,
                marks,
                "   ",
                safe_line(one_line(step.header, 100), "$text-muted"),
            )
        )


class StepList(Vertical):
    """The walkthrough's outline; clicking a step goes there (keys: the step keys, the palette)."""

    DEFAULT_CSS = """
    StepList { width: 36; min-width: 24; border-right: solid $panel; }
    StepList > #steps-title { height: 1; padding: 0 1; background: $panel; color: $text; }
    StepList > OptionList { height: 1fr; border: none; padding: 0; background: $surface; }
    """

    class StepChosen(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def compose(self) -> ComposeResult:
        yield Static(id="steps-title")
        steps = OptionList(id="step-list")
        steps.can_focus = False
        yield steps

    def load(self, steps: Sequence[StepView], current: int) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(self._prompt(s), id=str(i)) for i, s in enumerate(steps))
        self.update(steps, current)

    def update(self, steps: Sequence[StepView], current: int) -> None:
        options = self.query_one(OptionList)
        for i, step in enumerate(steps):
            options.replace_option_prompt_at_index(i, self._prompt(step))
        if 0 <= current < len(steps):
            options.highlighted = current
        seen = sum(1 for s in steps if s.seen)
        self.query_one("#steps-title", Static).update(
            Content.assemble("Walkthrough", (f"  {seen}/{len(steps)} seen", "$text-muted"))
        )

    def _prompt(self, step: StepView) -> Content:
        """One line: number, seen and note marks, kind, then the path (its end, when long)
        and the hunk's first line."""
        where = f"{step.path}:{step.line}" if step.line else step.path
        room = max(8, (self.size.width or 36) - 13)
        if len(where) > room:
            where = "…" + where[len(where) - room + 1 :]
        return Content.assemble(
            (f"{step.number:>2} ", "$text-muted"),
            ("✓" if step.seen else " ", "$text-success"),
            ("✎" if step.noted else " ", "$text-warning"),
            " ",
            (f"{KIND_SHORT.get(step.kind, step.kind):<5}", KIND_STYLE.get(step.kind, "")),
            " ",
            safe_line(where),
        )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.StepChosen(int(event.option.id)))


class TickBox(Checkbox, can_focus=False):
    """A checklist item: ticked with its number key or a click; focus stays on the diff.

    Drawn [✓] or [ ]: Textual's box shows an X either way (only its colour changes), which a
    shared screen, a projector or a monochrome terminal does not tell apart.
    """

    DEFAULT_CSS = """
    TickBox { border: none; padding: 0; height: auto; background: $surface; width: 1fr; }
    TickBox:hover { background: $boost; }
    """

    @property
    def _button(self) -> Content:
        mark = ("✓", "bold $text-success") if self.value else (" ", "")
        return Content.assemble("[", mark, "]")


class SessionPane(Vertical):
    """Who is there (the driver first), the domain's checklist, and the notes on this hunk."""

    DEFAULT_CSS = """
    SessionPane { height: auto; }
    SessionPane > .pane-title { height: 1; padding: 0 1; background: $panel; color: $text; }
    SessionPane > #people { height: auto; padding: 0 1; }
    SessionPane > #checklist { height: auto; padding: 0 1; }
    SessionPane > #notes { height: auto; max-height: 12; padding: 0 1; }
    """

    class Ticked(Message):
        def __init__(self, ticked: tuple[str, ...]) -> None:
            super().__init__()
            self.ticked = ticked

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: tuple[str, ...] = ()
        self._silent = False

    def compose(self) -> ComposeResult:
        yield Static(Content("Pair session"), classes="pane-title", id="session-title")
        yield Static(id="people")
        yield Static(Content("Checklist"), classes="pane-title", id="checklist-title")
        yield Vertical(id="checklist")
        yield Static(Content("Notes on this hunk"), classes="pane-title", id="notes-title")
        with VerticalScroll(id="notes"):
            yield Static(id="notes-text")

    def show_people(self, driver: Identity, co_reviewers: Sequence[Identity]) -> None:
        key = keymap.first_key(self.app, "pair.driver")
        self.query_one("#session-title", Static).update(
            Content.assemble("Pair session", (f"  {key} hands the keyboard over", "$text-muted"))
        )
        parts: list[Content | str | tuple[str, str]] = [
            ("▶ ", "bold $text-accent"),
            safe_line(driver.name, "bold"),
            (" drives (the reviewer)", "$text-muted"),
        ]
        for person in co_reviewers:
            parts += ["\n  ", safe_line(person.name), (" co-reviews", "$text-muted")]
        self.query_one("#people", Static).update(Content.assemble(*parts))

    async def show_checklist(
        self, domain: str, items: Sequence[str], ticked: Sequence[str]
    ) -> None:
        self.items = tuple(items)
        box = self.query_one("#checklist", Vertical)
        await box.remove_children()
        title = self.query_one("#checklist-title", Static)
        if not items:
            title.update(Content.assemble("Checklist", (f"  none for {domain}", "$text-muted")))
            return
        title.update(
            Content.assemble("Checklist", (f"  {domain}: number keys tick", "$text-muted"))
        )
        self._silent = True
        await box.mount_all(
            TickBox(safe_line(f"{i} {item}"), item in ticked, id=f"tick-{i}")
            for i, item in enumerate(items, 1)
        )
        self._silent = False

    def set_ticked(self, ticked: Sequence[str]) -> None:
        self._silent = True
        try:
            for i, item in enumerate(self.items, 1):
                self.query_one(f"#tick-{i}", TickBox).value = item in ticked
        finally:
            self._silent = False

    def ticked(self) -> tuple[str, ...]:
        return tuple(
            item
            for i, item in enumerate(self.items, 1)
            if self.query_one(f"#tick-{i}", TickBox).value
        )

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if not self._silent:
            self.post_message(self.Ticked(self.ticked()))

    def show_notes(self, notes: Sequence[HunkNote]) -> None:
        key = keymap.first_key(self.app, "pair.note")
        body = self.query_one("#notes-text", Static)
        if not notes:
            body.update(Content.styled(f"none yet ({key} to write one)", "$text-muted"))
            return
        parts: list[Content | str] = []
        for note in notes:
            if parts:
                parts.append("\n")
            parts += [safe_line(note.by.name, "bold $text-accent"), ": ", safe(note.note)]
        body.update(Content.assemble(*parts))


class StepKeys(Horizontal):
    """The presenter layout's big step keys (they work with a click too, in a browser)."""

    DEFAULT_CSS = """
    StepKeys { height: 3; display: none; background: $panel; padding: 0 1; }
    StepKeys.-shown { display: block; }
    StepKeys > Button { width: 1fr; margin: 0 1; text-style: bold; }
    StepKeys > #keys-hint { width: 2fr; height: 3; content-align: center middle; }
    """

    def compose(self) -> ComposeResult:
        back = Button("", id="step-back")
        nxt = Button("", id="step-next", variant="primary")
        back.can_focus = False
        nxt.can_focus = False
        yield back
        yield Static(id="keys-hint")
        yield nxt

    def refresh_keys(self) -> None:
        nxt, back = _two_keys(self.app, "pair.next"), _two_keys(self.app, "pair.prev")
        self.query_one("#step-back", Button).label = Content(f"◀ Back   {back}")
        self.query_one("#step-next", Button).label = Content(f"Next ▶   {nxt}")
        first = keymap.first_key
        self.query_one("#keys-hint", Static).update(
            Content.styled(
                f"{first(self.app, 'pair.note')} note · {first(self.app, 'pair.driver')} hand over"
                f" · {first(self.app, 'verdict.approve')} approve · "
                f"{first(self.app, 'pair.presenter')} leave presenter",
                "$text-muted",
            )
        )


def _two_keys(app: object, binding_id: str) -> str:
    """The first two keys of an id as the reviewer has them ("space / enter")."""
    info = getattr(app, "keymap_info", None)
    keys = info.keys.get(binding_id, "") if isinstance(info, keymap.Keymap) else ""
    if not keys:
        return keymap.first_key(app, binding_id)
    return " / ".join(keymap.key_display(k) for k in keys.split(",")[:2])
