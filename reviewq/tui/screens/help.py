"""The keys screen (`?`): generated from the binding registry and the keymap in effect."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from reviewq.tui import keymap
from reviewq.tui.typeahead import typeahead_ready

SCOPE_TITLES = {
    "app": "Everywhere",
    "screen": "Every screen and dialog",
    "queue": "Queue",
    "queue-table": "Queue list",
    "review": "Review",
    "diff": "Diff",
    "files": "File list",
    "findings": "Critique findings",
    "pair": "Pair session",
    "pair-diff": "Pair session: the diff",
    "stats": "Stats",
    "dialog": "Verdict dialog",
    "help": "This screen",
}


class HelpScroll(VerticalScroll, inherit_bindings=False):
    BINDINGS = keymap.bindings("help")

    def action_cursor_down(self) -> None:
        self.scroll_down(animate=False)

    def action_cursor_up(self) -> None:
        self.scroll_up(animate=False)

    def action_close(self) -> None:
        self.screen.dismiss()


def help_text(info: keymap.Keymap) -> Content:
    """Every binding id with its keys as they are now, scope by scope, and what went wrong."""
    parts: list[Content | str | tuple[str, str]] = [
        (f"Keymap: {info.preset}", "bold"),
        (f"   user file: {keymap.display_path(info.user_file)}", "$text-muted"),
        "\n",
    ]
    for problem in info.problems:
        parts += [("⚠ ", "$text-warning"), Content(problem), "\n"]
    for clash in info.clashes:
        parts += [("⚠ clash: ", "$text-error"), Content(clash.describe()), "\n"]
    scopes = keymap.commands_by_scope()
    # columns as wide as their longest entry, with two spaces between: they never run together
    key_width = max(len(info.display(c.id)) for cs in scopes.values() for c in cs) + 2
    text_width = max(len(c.description) for cs in scopes.values() for c in cs) + 2
    for scope, commands in scopes.items():
        title = SCOPE_TITLES.get(scope) or scope.replace("-", " ").capitalize()
        parts += ["\n", (title, "bold $text-primary"), "\n"]
        for command in commands:
            keys = info.display(command.id)
            parts += [
                (f"  {keys:<{key_width}}", "bold $text-accent"),
                f"{command.description:<{text_width}}",
                (command.id, "$text-muted"),
                "\n",
            ]
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None], inherit_bindings=False):
    BINDINGS = keymap.bindings("screen")

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; height: 90%; border: thick $primary;
                            background: $surface; }
    HelpScreen #help-title { height: 1; padding: 0 1; background: $panel; }
    HelpScreen HelpScroll { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        info = self.app.keymap_info
        close = info.display("help.close")
        with Vertical():
            yield Static(
                Content.assemble(
                    ("Keys in effect", "bold"),
                    (
                        f"   {close} closes · remap any id in "
                        f"{keymap.display_path(keymap.user_keymap_path())}",
                        "$text-muted",
                    ),
                ),
                id="help-title",
            )
            with HelpScroll():
                yield Static(help_text(info), id="help-body")

    def on_mount(self) -> None:
        self.query_one(HelpScroll).focus()
        typeahead_ready(self)
