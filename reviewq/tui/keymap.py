"""Keymaps: every binding has an id, presets ship as TOML, a user file overrides them.

The registry below is the one list of what a key can do (id, where it works, action, label).
Widgets and screens build their `BINDINGS` from it with the keys of `keymaps/default.toml`;
`resolve()` turns a preset (default, vim, emacs) plus the user's `keymap.toml` into the keymap
handed to `App.set_keymap`, with every problem and clash described in words. The help screen
reads the same data, so it always shows the keys in effect.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from textual.binding import Binding
from textual.keys import _character_to_key, format_key

from reviewq.tui.presets import KEYMAP_PRESETS
from reviewq.xdg import config_home

PRESETS = KEYMAP_PRESETS
#: Key string Textual never produces: how an id is unbound (an empty string in the user file).
UNBOUND_PREFIX = "unbound_"


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    scope: str
    action: str
    description: str
    show: bool = False
    priority: bool = False


#: Where a binding works; each scope lists the scopes whose keys are live at the same time.
SCOPE_CHAINS: dict[str, tuple[str, ...]] = {
    "app": ("app",),
    "screen": ("screen", "app"),
    "queue": ("queue", "screen", "app"),
    "queue-table": ("queue-table", "queue", "screen", "app"),
    "review": ("review", "screen", "app"),
    "diff": ("diff", "review", "screen", "app"),
    "files": ("files", "review", "screen", "app"),
    "findings": ("findings", "review", "screen", "app"),
    # Dialogs are modal: the screens below them are not in the chain.
    "pair": ("pair", "screen", "app"),
    "pair-diff": ("pair-diff", "pair", "screen", "app"),
    "stats": ("stats", "screen", "app"),
    "dialog": ("dialog", "screen", "app"),
    "help": ("help", "screen", "app"),
}

_NAV = [
    ("nav.down", "cursor_down", "Down"),
    ("nav.up", "cursor_up", "Up"),
    ("nav.page_down", "page_down", "Page down"),
    ("nav.page_up", "page_up", "Page up"),
    ("nav.top", "scroll_top", "Top"),
    ("nav.bottom", "scroll_bottom", "Bottom"),
]

#: Checklist items a pair session ticks with a number key.
_TICKS = range(1, 10)
_PAGING = ("nav.page_down", "nav.page_up")

COMMANDS: tuple[Command, ...] = (
    Command("app.help", "app", "help", "Keys", show=True),
    Command("app.palette", "app", "command_palette", "Commands", priority=True),
    Command("app.quit", "app", "quit", "Quit", priority=True),
    # every screen, dialogs included (Textual's own Screen keys have no ids)
    Command("focus.next", "screen", "app.focus_next", "Next pane or field"),
    Command("focus.prev", "screen", "app.focus_previous", "Previous pane or field"),
    Command("text.copy", "screen", "screen.copy_text", "Copy selected text"),
    # queue screen
    Command("queue.open", "queue", "open_item", "Review", show=True),
    Command("queue.sort", "queue", "cycle_sort", "Sort", show=True),
    Command("queue.filter", "queue", "filter", "Filter", show=True),
    Command("queue.clear", "queue", "clear_filter", "Clear filter"),
    Command("queue.refresh", "queue", "refresh", "Refresh"),
    Command("queue.stats", "queue", "app.stats", "Stats", show=True),
    Command("queue.pair", "queue", "start_pair", "Pair session", show=True),
    Command("queue.audit", "queue", "toggle_audit", "Audit view: older AI commits on main"),
    Command("queue.quit", "queue", "app.quit", "Quit", show=True),
    *(Command(i, "queue-table", a, d) for i, a, d in _NAV),
    Command("nav.left", "queue-table", "scroll_columns(-8)", "Scroll left"),
    Command("nav.right", "queue-table", "scroll_columns(8)", "Scroll right"),
    # stats screen
    Command("stats.period_7d", "stats", "period('7d')", "7 days"),
    Command("stats.period_30d", "stats", "period('30d')", "30 days"),
    Command("stats.period_90d", "stats", "period('90d')", "90 days"),
    Command("stats.period_all", "stats", "period('all')", "All time"),
    Command("stats.next_period", "stats", "next_period", "Next period", show=True),
    Command("stats.close", "stats", "close", "Back", show=True),
    # review screen
    Command("review.back", "review", "back", "Queue", show=True),
    Command("verdict.approve", "review", "verdict('approve')", "Approve", show=True),
    Command("verdict.reject", "review", "verdict('reject')", "Reject", show=True),
    Command("verdict.changes", "review", "verdict('changes')", "Changes", show=True),
    Command("verdict.escalate", "review", "verdict('escalate')", "Escalate", show=True),
    Command("verdict.skip", "review", "skip", "Skip", show=True),
    Command("pane.prompt", "review", "toggle_pane('prompt')", "Prompt", show=True),
    Command("pane.critique", "review", "toggle_pane('critique')", "Critique", show=True),
    Command("pane.rationale", "review", "toggle_pane('rationale')", "Rationale", show=True),
    Command("pane.files", "review", "toggle_pane('files')", "Files"),
    Command("pane.zoom", "review", "zoom", "Zoom the focused pane (again: back)", show=True),
    Command("pane.wider", "review", "resize_panes(6)", "Widen the side panes"),
    Command("pane.narrower", "review", "resize_panes(-6)", "Narrow the side panes"),
    Command("file.edit", "review", "edit_file", "Open the file at the line in $EDITOR"),
    Command("search.open", "review", "search", "Search"),
    Command("search.next", "review", "search_next(1)", "Next match"),
    Command("search.prev", "review", "search_next(-1)", "Previous match"),
    Command("nav.next_hunk", "review", "hunk(1)", "Next hunk"),
    Command("nav.prev_hunk", "review", "hunk(-1)", "Previous hunk"),
    Command("nav.next_file", "review", "file(1)", "Next file"),
    Command("nav.prev_file", "review", "file(-1)", "Previous file"),
    Command("diff.layout", "review", "toggle_layout", "Split/unified"),
    Command("diff.fold", "review", "fold", "Expand/collapse file"),
    Command("diff.unfold_all", "review", "unfold_all", "Expand all files"),
    Command("diff.context", "review", "more_context", "More of the file around the hunk"),
    Command("file.viewed", "review", "toggle_viewed", "Mark file viewed", show=True),
    Command("inbox.apply", "review", "apply_patch", "Apply inbox patch to a branch"),
    Command("review.pair", "review", "start_pair", "Pair session on this change"),
    Command("unit.next_commit", "review", "unit_step(1)", "Unit: next commit"),
    Command("unit.prev_commit", "review", "unit_step(-1)", "Unit: previous commit"),
    Command("unit.whole", "review", "unit_whole", "Unit: the whole diff (merge base to tip)"),
    Command("unit.since", "review", "unit_since", "Unit: what is new since your verdict"),
    # pair session: the walkthrough, its notes, the driver, presenter layout
    Command("pair.next", "pair", "step(1)", "Next hunk", show=True),
    Command("pair.prev", "pair", "step(-1)", "Previous hunk", show=True),
    Command("pair.note", "pair", "note", "Note on this hunk", show=True),
    Command("pair.driver", "pair", "hand_over", "Hand over", show=True),
    Command("pair.presenter", "pair", "presenter", "Presenter", show=True),
    *(Command(f"pair.tick_{n}", "pair", f"tick({n})", f"Tick checklist item {n}") for n in _TICKS),
    Command("review.back", "pair", "back", "Leave", show=True),
    Command("verdict.approve", "pair", "verdict('approve')", "Approve", show=True),
    Command("verdict.reject", "pair", "verdict('reject')", "Reject", show=True),
    Command("verdict.changes", "pair", "verdict('changes')", "Changes", show=True),
    Command("verdict.escalate", "pair", "verdict('escalate')", "Escalate", show=True),
    Command("verdict.skip", "pair", "skip", "Skip"),
    Command("pane.prompt", "pair", "toggle_pane('prompt')", "Prompt"),
    Command("pane.critique", "pair", "toggle_pane('critique')", "Critique"),
    Command("pane.rationale", "pair", "toggle_pane('rationale')", "Rationale"),
    Command("pane.files", "pair", "toggle_pane('steps')", "Steps"),
    Command("diff.layout", "pair", "toggle_layout", "Split/unified"),
    Command("diff.fold", "pair", "fold", "Expand/collapse file"),
    # the diff in a pair session: the step keys (space, arrows) belong to the walkthrough
    *(Command(i, "pair-diff", a, d) for i, a, d in _NAV if i not in _PAGING),
    Command("pair.page_down", "pair-diff", "page_down", "Page down"),
    Command("pair.page_up", "pair-diff", "page_up", "Page up"),
    Command("nav.half_down", "pair-diff", "half_page(1)", "Half page down"),
    Command("nav.half_up", "pair-diff", "half_page(-1)", "Half page up"),
    Command("pair.left", "pair-diff", "scroll_columns(-8)", "Scroll left"),
    Command("pair.right", "pair-diff", "scroll_columns(8)", "Scroll right"),
    # the diff itself
    *(Command(i, "diff", a, d) for i, a, d in _NAV),
    Command("nav.half_down", "diff", "half_page(1)", "Half page down"),
    Command("nav.half_up", "diff", "half_page(-1)", "Half page up"),
    Command("nav.left", "diff", "scroll_columns(-8)", "Scroll left"),
    Command("nav.right", "diff", "scroll_columns(8)", "Scroll right"),
    Command("diff.wrap", "diff", "toggle_wrap", "Wrap long lines (again: cut them)"),
    # lists in the review screen: files sidebar, critique findings
    *(Command(i, "files", a, d) for i, a, d in _NAV),
    Command("nav.select", "files", "select", "Open"),
    *(Command(i, "findings", a, d) for i, a, d in _NAV),
    Command("nav.select", "findings", "select", "Jump to finding"),
    # dialogs and help
    Command("dialog.submit", "dialog", "submit", "Record", show=True),
    Command("dialog.cancel", "dialog", "cancel", "Cancel", show=True),
    *(Command(i, "help", a, d) for i, a, d in _NAV),
    Command("help.close", "help", "close", "Close", show=True),
)

#: Every binding id, in registry order.
IDS: tuple[str, ...] = tuple(dict.fromkeys(c.id for c in COMMANDS))


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"nav": {"down": "j"}}` and `{"nav.down": "j"}` both become `{"nav.down": "j"}`."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _preset_text(name: str) -> str:
    return resources.files("reviewq.keymaps").joinpath(f"{name}.toml").read_text("utf-8")


def _load_preset(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in flatten(tomllib.loads(_preset_text(name))).items()}


DEFAULT_KEYS: dict[str, str] = _load_preset("default")


def bindings(scope: str) -> list[Binding]:
    """The `BINDINGS` of a widget or screen in `scope`, with the default keys."""
    out = []
    for command in COMMANDS:
        if command.scope != scope:
            continue
        out.append(
            Binding(
                DEFAULT_KEYS[command.id],
                command.action,
                command.description,
                show=command.show,
                priority=command.priority,
                id=command.id,
            )
        )
    return out


def display_path(path: Path | str | None) -> str:
    """A path as a person would type it: the home directory shown as ~."""
    if path is None:
        return "(none)"
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("", "/", "~") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text


def screen_bindings(scope: str) -> list[Binding]:
    """A screen's `BINDINGS`: its own scope's and those every screen has (focus, copy)."""
    return bindings(scope) + bindings("screen")


def user_keymap_path(env: Mapping[str, str] | None = None) -> Path:
    return config_home(env) / "reviewq" / "keymap.toml"


@dataclass(frozen=True, slots=True)
class Clash:
    key: str
    ids: tuple[str, ...]
    scope: str

    def describe(self) -> str:
        return f"{self.key!r} is bound to {' and '.join(self.ids)} (in {self.scope})"


@dataclass
class Keymap:
    """A resolved keymap: effective keys of every id, and what went wrong getting there."""

    preset: str
    keys: dict[str, str]
    problems: list[str] = field(default_factory=list)
    clashes: list[Clash] = field(default_factory=list)
    user_file: Path | None = None

    def for_textual(self) -> dict[str, str]:
        """The mapping for `App.set_keymap` (unbound ids get a key no terminal sends)."""
        return {
            i: (keys if keys else f"{UNBOUND_PREFIX}{i.replace('.', '_')}")
            for i, keys in self.keys.items()
        }

    def display(self, binding_id: str) -> str:
        """First key of an id as a person reads it ('z', '^d', 'pgdn'), or '(unbound)'."""
        keys = self.keys.get(binding_id, "")
        if not keys:
            return "(unbound)"
        return ", ".join(key_display(k) for k in keys.split(","))

    def first(self, binding_id: str) -> str:
        keys = self.keys.get(binding_id, "")
        return key_display(keys.split(",")[0]) if keys else "(unbound)"


def key_display(key: str) -> str:
    key = key.strip()
    parts = key.split("+")
    name = format_key(parts[-1]) if len(parts[-1]) > 1 else parts[-1]
    mods = parts[:-1]
    prefix = "".join("^" if m == "ctrl" else f"{m}+" for m in mods)
    return f"{prefix}{name}"


def _validate(source: str, data: Mapping[str, Any], problems: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for binding_id, value in flatten(data).items():
        if binding_id == "preset":
            continue
        if binding_id not in IDS:
            problems.append(f"{source}: unknown binding id {binding_id!r} (press ? for the ids)")
            continue
        if not isinstance(value, str):
            problems.append(f'{source}: {binding_id} must be a string of keys like "j,down"')
            continue
        keys = ",".join(k.strip() for k in value.split(",") if k.strip())
        out[binding_id] = keys
    return out


def resolve(
    preset: str | None = None,
    user_file: Path | None = None,
    *,
    read_user_file: bool = True,
) -> Keymap:
    """default.toml, then the preset, then the user's file; problems are collected, not raised.

    `preset` (from the command line or the palette) wins over the user's file `preset = ...`.
    """
    problems: list[str] = []
    user: dict[str, Any] = {}
    if read_user_file and user_file is not None and user_file.is_file():
        try:
            user = tomllib.loads(user_file.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            problems.append(f"{user_file}: not read ({exc}); using the preset's keys")
            user = {}
    chosen = preset or user.get("preset") or "default"
    if not isinstance(chosen, str) or chosen not in PRESETS:
        problems.append(
            f"unknown keymap preset {chosen!r}; choose one of {', '.join(PRESETS)} (using default)"
        )
        chosen = "default"
    keys = dict(DEFAULT_KEYS)
    if chosen != "default":
        keys.update(_validate(f"{chosen}.toml", _load_preset(chosen), problems))
    if user:
        keys.update(_validate(str(user_file), user, problems))
    return Keymap(chosen, keys, problems, find_clashes(keys), user_file)


def find_clashes(keys: Mapping[str, str]) -> list[Clash]:
    """Keys bound to two different ids that are live at the same time."""

    def normal(key: str) -> str:
        return _character_to_key(key) if len(key) == 1 else key

    by_scope: dict[str, list[tuple[str, str]]] = {}
    for command in COMMANDS:
        for key in keys.get(command.id, "").split(","):
            if key:
                by_scope.setdefault(command.scope, []).append((normal(key), command.id))
    found: dict[tuple[str, tuple[str, ...]], Clash] = {}
    for scope, chain in SCOPE_CHAINS.items():
        owners: dict[str, set[str]] = {}
        for link in chain:
            for key, binding_id in by_scope.get(link, []):
                owners.setdefault(key, set()).add(binding_id)
        for key, ids in owners.items():
            if len(ids) > 1:
                sig = (key, tuple(sorted(ids)))
                found.setdefault(sig, Clash(key_display(key), sig[1], scope))
    return list(found.values())


def command_at(keys: Mapping[str, str], scope: str, aliases: list[str]) -> str | None:
    """The binding id a key (`events.Key.aliases`) runs in `scope` under `keys` (an id -> keys
    mapping as `App._keymap` holds it, key names in Textual's long form), or None.

    As Textual chooses: a priority binding of the chain first, then the chain from `scope` up.
    A screen that holds keys while it loads asks this before its widgets can take focus."""
    chain = SCOPE_CHAINS[scope]
    by_scope = commands_by_scope()

    def bound(command: Command) -> bool:
        given = keys.get(command.id, DEFAULT_KEYS.get(command.id, ""))
        names = {_character_to_key(k) if len(k) == 1 else k for k in given.split(",") if k}
        return any(alias in names for alias in aliases)

    for priority in (True, False):
        for link in chain:
            for command in by_scope.get(link, ()):
                if command.priority == priority and bound(command):
                    return command.id
    return None


def commands_by_scope() -> dict[str, list[Command]]:
    out: dict[str, list[Command]] = {}
    for command in COMMANDS:
        out.setdefault(command.scope, []).append(command)
    return out


def first_key(app: object, binding_id: str) -> str:
    """The first key of a binding id as the reviewer has it now (the app's resolved keymap)."""
    resolved = getattr(app, "keymap_info", None)
    if isinstance(resolved, Keymap):
        return resolved.first(binding_id)
    return key_display(DEFAULT_KEYS[binding_id].split(",")[0])
