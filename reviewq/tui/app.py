"""The review TUI: queue -> review -> verdict, with themes, keymaps, palette and timers.

The app owns what outlives one screen: the services door, the resolved keymap and themes, the
critiques prepared so far (the next items' critiques are computed in workers while the reviewer
reads the current one), the session clock behind the "take a break" warnings, and the list of
changes decided in this session.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Matcher, Provider
from textual.content import Content
from textual.dom import DOMNode
from textual.markup import escape
from textual.notifications import SeverityLevel
from textual.timer import Timer
from textual.widgets import Input

from reviewq.core import safejson
from reviewq.core.model import Change, Critique, short_id
from reviewq.core.pace import OFFLOAD, PAUSE
from reviewq.core.queue import QueueItem
from reviewq.core.text import one_line, visible
from reviewq.errors import error_text
from reviewq.files import replace_file
from reviewq.tui import keymap
from reviewq.tui.live import DEFAULT_INTERVAL
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.services import Services, VerdictInput
from reviewq.tui.themes import (
    DEFAULT_THEME,
    diff_variable_defaults,
    load_themes,
    user_theme_dir,
)
from reviewq.tui.typeahead import (
    HOLD_LIMIT,
    LEAVING,
    OPENERS,
    TypeaheadReady,
    TypeaheadRelease,
    key_clock,
)
from reviewq.tui.widgets.timer import SessionClock
from reviewq.xdg import state_home

if TYPE_CHECKING:
    from reviewq.tui.pair.screen import PairLaunch, PairScreen
    from reviewq.tui.screens.change_screen import ChangeScreen
    from reviewq.tui.screens.review import ReviewScreen

# The screens past the queue (review, pair, help: the diff view, dialogs, panes) are imported
# when first opened (start-up: the queue's first screen needs none of them).


def _is(screen: object, module: str, name: str) -> bool:
    """isinstance(screen, module.name), without importing the module: a screen of a class that
    was never imported is not one. The screens' modules are imported in the background after
    the first frame, so a key may arrive while one is half-initialised: its class is then not
    defined yet, and no screen can be of it."""
    cls = getattr(sys.modules.get(module), name, None)
    return isinstance(cls, type) and isinstance(screen, cls)


def _typed_into(widget: object) -> bool:
    """An Input or a TextArea (keys typed there are text, not bindings). TextArea's module is
    not imported for this (start-up: it brings the syntax highlighter's); until a screen that
    has one imports it, no widget is one."""
    if isinstance(widget, Input):
        return True
    loaded = sys.modules.get("textual.widgets._text_area")
    return loaded is not None and isinstance(widget, loaded.TextArea)


def _opaque(screen) -> bool:
    """Whether a screen covers every cell below it (an opaque background of its own)."""
    background = screen.styles.background
    return background.a == 1 and not background.is_transparent


def _is_change(screen: object) -> bool:
    return _is(screen, "reviewq.tui.screens.change_screen", "ChangeScreen")


def _is_review(screen: object) -> bool:
    return _is(screen, "reviewq.tui.screens.review", "ReviewScreen")


def _is_pair(screen: object) -> bool:
    return _is(screen, "reviewq.tui.pair.screen", "PairScreen")


#: How many of the next queue items get their critique prepared in the background.
PREFETCH = 2
#: Background work (rationale, critiques) waits at its pause points while a key was pressed
#: this recently or a diff is being opened (`ReviewqApp.background_pause`)...
FOREGROUND_SECONDS = 0.4
#: ...but never longer than this at one point, so it always finishes.
BACKGROUND_MAX_WAIT = 3.0
#: Seconds between the queue's live-refresh polls (a poll is a `for-each-ref` and a few stats).
LIVE_INTERVAL = DEFAULT_INTERVAL
_ACTIVITY = (
    events.Key,
    events.MouseDown,
    events.MouseScrollDown,
    events.MouseScrollUp,
    events.Paste,
)
#: Screens where a review is under way: their timers follow activity and focus, they get
#: critiques as they arrive, and quitting keeps their drafts.


def ui_state_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the last theme and keymap chosen in the palette are remembered."""
    return state_home(env) / "reviewq" / "tui.json"


class ReviewqCommands(Provider):
    """Palette entries: jump to a file or a queue item, switch theme or keymap."""

    def _entries(self) -> list[tuple[str, Callable[[], Any], str]]:
        app: ReviewqApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, Callable[[], Any], str]] = []
        screen = self.screen  # the screen the palette was opened on, not the palette
        if _is_pair(screen):
            out += _pair_entries(screen)
        if isinstance(screen, QueueScreen) or _is_review(screen):
            out += _start_pair_entries(app, screen)
        if _is_review(screen) and screen.diff is not None:
            for i, fd in enumerate(screen.diff.files):
                out.append(
                    (
                        f"Jump to file: {one_line(fd.path)}",
                        (lambda i=i, s=screen: s.jump_to_file(i)),
                        f"+{fd.additions} -{fd.deletions}",
                    )
                )
        for item in app.queue_items:
            change = item.change
            if change.id in app.done():
                continue
            short = short_id(change.id, narrow=True)
            out.append(
                (
                    f"Open queue item: {short} {one_line(change.commit.subject, 60)}",
                    (lambda item=item: app.open_review(item, app.queue_items)),
                    f"{change.authorship.agent}, risk {item.risk.level}",
                )
            )
        out.append(("Open stats: review throughput", app.action_stats, "verdicts, time, coverage"))
        for name in sorted(app.available_themes):
            out.append((f"Switch theme: {name}", (lambda n=name: app.switch_theme(n)), ""))
        for preset in keymap.PRESETS:
            out.append((f"Switch keymap: {preset}", (lambda p=preset: app.switch_keymap(p)), ""))
        return out

    # Titles hold commit subjects and paths (untrusted): the palette parses a `str` as markup,
    # so each title is handed over as literal Content, and help text with markup escaped.

    async def discover(self) -> Hits:
        for title, callback, help_text in self._entries():
            yield DiscoveryHit(Content(title), callback, text=title, help=escape(help_text) or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    _highlight(matcher, title),
                    callback,
                    text=title,
                    help=escape(help_text) or None,
                )


def _highlight(matcher: Matcher, title: str) -> Content:
    """`Matcher.highlight` without its markup parsing: the title stays literal."""
    content = Content(title)
    _score, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class ReviewqApp(App[None], inherit_bindings=False):
    CSS_PATH = "app.tcss"
    TITLE = "reviewq"
    BINDINGS = keymap.bindings("app")
    COMMANDS = App.COMMANDS | {ReviewqCommands}

    def __init__(
        self,
        services: Services,
        *,
        theme: str | None = None,
        keymap_preset: str | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        repo_label: str = "",
        remember: bool = True,
        live_interval: float | None = LIVE_INTERVAL,
        pair: PairLaunch | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        #: A unit's ref (or a commit) to open the review of once the queue is in (`reviewq tui
        #: REF`).
        self.open_on_load: str | None = None
        #: Seconds between live-refresh polls of the queue (None: only on request).
        self.live_interval = live_interval
        self.env = dict(os.environ if env is None else env)
        self.clock = clock
        self.repo_label = repo_label
        self.requested_theme = theme
        self.requested_keymap = keymap_preset
        self.remember = remember
        self.session = SessionClock(clock)
        self.critiques: dict[str, Critique | str] = {}
        self._critiques_running: set[str] = set()
        #: Until when background work yields to the reviewer (keys; a diff being opened).
        self.foreground_until = 0.0
        self.opening_until = 0.0
        #: When the reviewer last pressed a key or used the mouse (`time.monotonic()`): the
        #: diff's highlighter thread holds back from then until the frame is drawn.
        self.input_at = 0.0
        #: (screen, focus, keymap) -> {key: opens a box?}: the binding chain is walked once
        #: per state, not for every key (a page-down storm walked it three times a key).
        self._opener_cache: tuple[tuple, dict[str, bool]] = ((), {})
        self.queue_items: list[QueueItem] = []
        self.decided: set[str] = set()
        #: Changes skipped in this session, oldest skip first (they come back last).
        self.skipped: list[str] = []
        self.keymap_info = keymap.resolve(keymap_preset, None, read_user_file=False)
        self.theme_problems: list[str] = []
        self._clash_reported: set[frozenset[str]] = set()
        self._state = self._read_state()
        #: `reviewq pair`: the session to start once the app is up (then None).
        self.pair_launch = pair
        #: Keys typed after a key that opens a box, held until the box has focus (typeahead.py).
        self._held: list[events.Key] | None = None
        self._hold_timer: Timer | None = None
        #: The key that started `_held` (a screen not ready yet may hold it: `_hold_for_screen`).
        self._held_opener: events.Key | None = None
        #: Keys held for a screen not ready for them yet (`_waiting_for`: a review screen whose
        #: diff is not on screen, the queue before its rows), replayed when it says it is.
        self._waiting: list[events.Key] = []
        self._waiting_for: Any = None
        #: One of the waiting keys opens a box: the keys after it are its text, never `LEAVING`.
        self._waiting_box = False
        #: The key whose binding runs now: an action asks when it was typed (`typed_before`).
        self._key_now: events.Key | None = None
        #: Keys stamped before this are dropped: the rest of a burst whose verdict was refused.
        self._drop_before = float("-inf")

    # -- start --------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._load_themes()
        self.apply_keymap(self.requested_keymap or self._state.get("keymap"), announce=False)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.session.touch()
        self.push_screen(QueueScreen())
        launch = self.pair_launch
        if launch is not None and launch.item is not None:
            self.pair_launch = None
            self.call_after_refresh(self.start_pair, launch.item, [launch.item], launch)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return diff_variable_defaults(self.current_theme.to_color_system().generate())

    def _load_themes(self) -> None:
        loaded = load_themes(user_theme_dir(self.env))
        for theme in loaded.themes:
            self.register_theme(theme)
        self.theme_problems = loaded.problems
        for problem in loaded.problems:
            self.notify(problem, title="Theme file skipped", severity="warning", timeout=10)
        wanted = (
            self.requested_theme
            or self.env.get("REVIEWQ_THEME")
            or self._state.get("theme")
            or DEFAULT_THEME
        )
        if wanted not in self.available_themes:
            self.notify(
                f"No theme named {wanted!r}; using {DEFAULT_THEME}. "
                f"Themes: {', '.join(sorted(self.available_themes))}",
                severity="warning",
                timeout=10,
            )
            wanted = DEFAULT_THEME
        self.theme = wanted

    def _theme_changed(self, theme) -> None:
        self._write_state(theme=theme.name)

    # -- keymaps ------------------------------------------------------------------------------

    def apply_keymap(self, preset: str | None, announce: bool = True) -> keymap.Keymap:
        info = keymap.resolve(preset, keymap.user_keymap_path(self.env))
        self.keymap_info = info
        self.set_keymap(info.for_textual())
        for problem in info.problems:
            self.notify(problem, title="Keymap", severity="warning", timeout=10)
        for clash in info.clashes:
            self.notify(
                f"Key clash: {clash.describe()}; only one of them will work. "
                f"Fix it in {keymap.display_path(info.user_file)}",
                title="Keymap",
                severity="warning",
                timeout=10,
            )
        if announce:
            self.notify(f"Keymap: {info.preset}", timeout=3)
        return info

    def switch_keymap(self, preset: str) -> None:
        self.apply_keymap(preset)
        self._write_state(keymap=preset)

    def switch_theme(self, name: str) -> None:
        self.theme = name

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        # Textual also reports an id against itself: re-applying a keymap that gives one key
        # to an id which had two (emacs: nav.next_hunk "],full_stop" -> "alt+n"). A clash is
        # a binding whose key the keymap gives to another id; a binding on a key its own id
        # keeps clashed with nobody (two ids given one key are found by keymap.find_clashes).
        keys = self.keymap_info.keys
        real = {
            b for b in clashed_bindings if not b.id or b.key not in keys.get(b.id, "").split(",")
        }
        if not real:
            return
        clashed_bindings = real
        ids = frozenset(b.id or b.action for b in clashed_bindings)
        if ids in self._clash_reported:
            return
        self._clash_reported.add(ids)
        keys = ", ".join(sorted({b.key for b in clashed_bindings}))
        self.notify(
            f"Key {keys} is claimed by {' and '.join(sorted(ids))}; check your keymap.toml",
            title="Keymap clash",
            severity="warning",
            timeout=10,
        )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry paths, subjects, finding locations and error messages that came
        from repositories and agents: never parsed as markup, hidden characters made visible."""
        super().notify(
            visible(message), title=title, severity=severity, timeout=timeout, markup=markup
        )

    def get_key_display(self, binding: Binding) -> str:
        if binding.key.startswith(keymap.UNBOUND_PREFIX):
            return "—"
        return super().get_key_display(binding)

    # -- remembered choices -------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        if not self.remember:
            return {}
        try:
            data = safejson.loads(ui_state_path(self.env).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, **changes: str) -> None:
        if not self.remember:
            return
        self._state.update(changes)
        path = ui_state_path(self.env)
        text = json.dumps(self._state).encode("utf-8")
        try:
            replace_file(path, lambda fh: fh.write(text), prefix=".ui-state-")
        except OSError:
            pass  # remembering a theme is a convenience, never an error

    # -- drawing ------------------------------------------------------------------------------

    @property
    def _background_screens(self) -> list:
        """Screens that may show through the top one: none when the top screen is opaque.

        Textual counts the screen just under the top one as visible whatever the top one's
        background, so any message to that screen (the queue's live-refresh worker changing
        state every two seconds under a review) repainted it, and through it the whole review
        screen: two or three full frames (12-15 ms of the UI thread each) per poll, in the
        middle of page downs (issue 18). An opaque top screen paints every cell itself (its
        background, then its widgets); a covered screen is laid out again for the terminal's
        size and repainted when it is shown again (`Screen._on_screen_resume`), as the
        screens deeper in the stack already are. A translucent top screen (a dialog) keeps
        Textual's answer."""
        stack = self._screen_stack
        if stack and _opaque(stack[-1]):
            return []
        return super()._background_screens

    # -- activity and focus -------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _ACTIVITY):
            self.input_at = time.monotonic()
            self.foreground_until = self.input_at + FOREGROUND_SECONDS
            self.session.touch()
            for screen in self.screen_stack:
                if _is_change(screen):
                    screen.activity()
        if isinstance(event, events.Key):
            if not event.is_forwarded:
                await self._take_key(event)
            elif not self._hold_for_screen(event):
                # Back from the focused widget: its binding runs now (`App._on_key`).
                await self._with_key(event, super().on_event(event))
            return
        if (
            self._held is not None
            and isinstance(event, events.DescendantFocus)
            and _typed_into(event.widget)
        ):
            await super().on_event(event)
            await self._release_held()
            return
        await super().on_event(event)

    # -- type-ahead (reviewq/tui/typeahead.py) ------------------------------------------------

    async def _take_key(self, event: events.Key) -> None:
        if event.time < self._drop_before:
            return  # typed with a verdict that was refused (`refuse_typeahead`)
        if self._held is not None:
            self._held.append(event)
            return
        if not self._waits(self.screen) and self._opens_box(event.key):
            self._held = []
            self._held_opener = event
            self._hold_timer = self.set_timer(HOLD_LIMIT, self._release_held)
        await self._with_key(event, super().on_event(event))

    async def _with_key(self, event: events.Key, handling) -> None:
        """Handle `event`, with it as `_key_now` while its binding runs."""
        previous, self._key_now = self._key_now, event
        try:
            await handling
        finally:
            self._key_now = previous

    # -- keys typed ahead of a screen that is not ready (typeahead.py) --------------------------

    @staticmethod
    def _waits(screen: object) -> bool:
        """Whether `screen` holds the keys typed now (its diff or its rows are not in yet)."""
        waits = getattr(screen, "typeahead_waits", None)
        return bool(waits is not None and waits())

    def _binding_id(self, screen: object, event: events.Key) -> str | None:
        """The id `event` runs on `screen` once it is ready (its diff view or table focused)."""
        scope = getattr(screen, "TYPEAHEAD_SCOPE", None)
        if scope is None:
            return None
        return keymap.command_at(getattr(self, "_keymap", {}), scope, event.aliases)

    def _hold_for_screen(self, event: events.Key) -> bool:
        """At the moment a key's binding would run: True when it is dropped or held for the
        screen on top until it is ready (then `on_typeahead_release` replays it)."""
        if event.time < self._drop_before:
            return True
        waiting_for = self._waiting_for
        if waiting_for is not None and waiting_for not in self.screen_stack:
            self._drop_waiting()  # the screen they waited for is gone: so are they
            waiting_for = None
        screen = self.screen
        waits = self._waits(screen)
        if not waits and (waiting_for is None or screen is not waiting_for):
            return False
        binding = self._binding_id(screen, event) if waits else None
        if binding in LEAVING and not self._waiting_box:
            self._drop_waiting()  # they were for the screen this key leaves
            return False
        if waiting_for is None:
            self._waiting_for = screen
        self._waiting.append(event)
        self._waiting_box = self._waiting_box or binding in OPENERS
        if event is self._held_opener and self._held is not None:
            # The keys typed after a box's key are held behind it, in order, not for the box.
            self._waiting.extend(self._held)
            self._held = None
            self._held_opener = None
            if self._hold_timer is not None:
                self._hold_timer.stop()
                self._hold_timer = None
        return True

    def _drop_waiting(self) -> int:
        count = len(self._waiting)
        self._waiting, self._waiting_for, self._waiting_box = [], None, False
        return count

    def drop_typeahead(self, screen: object) -> int:
        """Drop the keys held for `screen` (what they were for will not open); how many."""
        return self._drop_waiting() if self._waiting_for is screen else 0

    async def on_typeahead_release(self, message: TypeaheadRelease) -> None:
        """`message.screen` is ready: the keys held for it go on, in order, as if typed now
        (each through `_take_key`: a box's key holds the ones after it again)."""
        if message.screen is not self._waiting_for:
            return
        if message.screen not in self.screen_stack:
            self._drop_waiting()
            return
        held = self._waiting
        self._drop_waiting()
        for event in held:
            again = events.Key(event.key, event.character)
            again.time = event.time  # typed then: a verdict among them is still refused
            await self._take_key(again)

    def typed_before(self, moment: float | None) -> bool:
        """Whether the key whose binding runs now was typed before `moment` (None: not yet).
        An action run without a key (the palette, a click) counts as typed now."""
        key = self._key_now
        if moment is None:
            return True
        return key is not None and key.time < moment

    def refuse_typeahead(self, moment: float | None) -> None:
        """A key typed before `moment` was refused: the keys typed before it that are still
        to come are dropped too (they were for the box it would have opened)."""
        until = moment if moment is not None else key_clock()
        self._drop_before = max(self._drop_before, until)
        self._drop_waiting()
        if self._held is not None:
            # held for the box the refused key would have opened: none opens, they go on now
            # (`_take_key` drops the ones typed with it)
            self.call_next(self._release_held)

    def _opens_box(self, key: str) -> bool:
        """Would this key run a binding that opens a box (the first binding that takes it)?"""
        if _typed_into(self.focused):
            return False  # typed into a field, not a binding
        try:
            screen = self.screen
        except Exception:
            return False
        keymap_now = tuple(sorted(getattr(self, "_keymap", {}).items()))
        state = (screen, self.focused, keymap_now)  # the nodes themselves: ids get reused
        if self._opener_cache[0] != state:
            self._opener_cache = (state, {})
        known = self._opener_cache[1]
        if key not in known:
            known[key] = self._first_binding_opens(screen, key)
        return known[key]

    def _first_binding_opens(self, screen, key: str) -> bool:
        for priority in (True, False):
            chain = reversed(screen._binding_chain) if priority else screen._modal_binding_chain
            for _namespace, bindings in chain:
                for binding in bindings.key_to_bindings.get(key, ()):
                    if binding.priority == priority:
                        return binding.id in OPENERS
        return False

    async def _release_held(self) -> None:
        held, self._held = self._held, None
        self._held_opener = None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        for event in held or ():
            await self._take_key(event)  # a held key may open the next box: hold again

    async def on_typeahead_ready(self, _message: TypeaheadReady) -> None:
        if self._held is not None:
            await self._release_held()

    def on_app_blur(self) -> None:
        self.session.blur()
        for screen in self.screen_stack:
            if _is_change(screen):
                screen.blurred()

    def on_app_focus(self) -> None:
        self.session.focus()
        for screen in self.screen_stack:
            if _is_change(screen):
                screen.focused_again()

    async def action_quit(self) -> None:
        """Quit, keeping the open review's time and note as a draft for next time."""
        for screen in self.screen_stack:
            if _is_change(screen):
                screen.save_draft(wait=False)
        self.exit()

    # -- screens ------------------------------------------------------------------------------

    def action_stats(self) -> None:
        """The leads' view: throughput, rubber stamps and coverage (gathered in a worker)."""
        # start-up: the stats screen brings numpy (core.metrics); the queue opens without it
        from reviewq.tui.screens.stats import StatsScreen

        if isinstance(self.screen, StatsScreen):
            return
        self.push_screen(StatsScreen(self.services.gather_stats))

    def action_help(self) -> None:
        from reviewq.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen())

    def queue_loaded(self, items: list[QueueItem]) -> None:
        self.queue_items = items
        for notice in self.services.take_notices():
            self.notify(notice, title="Queue", severity="warning", timeout=20)
        for item in items[:PREFETCH]:
            self.request_critique(item.change)
        wanted, self.open_on_load = self.open_on_load, None
        if wanted:
            self.open_named(wanted, items)
        launch = self.pair_launch
        if launch is not None:  # `reviewq pair` without a revision: the queue, riskiest first
            self.pair_launch = None
            self.start_pair(None, items, launch)

    def done(self) -> set[str]:
        """Changes this reviewer has a verdict on (this session, or earlier in the log)."""
        queue = self.queue_screen()
        return self.decided | set(queue.mine if queue is not None else ())

    def queue_screen(self) -> QueueScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, QueueScreen):
                return screen
        return None

    def open_named(self, text: str, items: list[QueueItem]) -> None:
        """Open the review of the queue item `text` names (a unit's ref, or a commit in one)."""
        self.run_worker(
            lambda: self._find_named(text, items),
            thread=True,
            group="open-named",
            exit_on_error=False,
        )

    def _find_named(self, text: str, items: list[QueueItem]) -> None:
        try:
            item = self.services.find_item(text, items)
        except Exception as exc:  # one line, never a traceback
            item, problem = None, str(exc)
        else:
            problem = f"{text} is not in the queue (settled, merged or not AI-authored)"
        if item is None:
            self.call_from_thread(self.notify, problem, severity="warning", timeout=8)
            return
        self.call_from_thread(self.open_review, item, items)

    def open_review(self, item: QueueItem, queue: list[QueueItem]) -> None:
        from reviewq.tui.screens.review import ReviewScreen

        self.open_change_screen(ReviewScreen(item, list(queue)))

    def open_change_screen(self, screen: ChangeScreen) -> None:
        """In place of the review on screen (its draft kept), else over what is there, so
        that going back leads to the queue rather than through every change opened."""
        current = self.screen
        if _is_review(current):
            current.save_draft()
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def next_item(self, current: ReviewScreen, skipped: bool = False) -> None:
        """Open the item after `current` in its queue, or go back to the queue when done.

        Items skipped in this session come back only once nothing else is left: a verdict
        right after a skip moves on, not back to the item just skipped."""
        if skipped:
            if current.change.id in self.skipped:
                self.skipped.remove(current.change.id)
            self.skipped.append(current.change.id)
        done = self.done()
        here = current.change.id
        order = [i for i in current.queue if i.change.id not in done or i.change.id == here]
        ids = [i.change.id for i in order]
        index = ids.index(here) if here in ids else -1
        rest = [i for i in order[index + 1 :] + order[: max(index, 0)] if i.change.id != here]
        fresh = [i for i in rest if i.change.id not in self.skipped]
        if not fresh:  # only skipped ones left: the one skipped longest ago first
            rank = {cid: n for n, cid in enumerate(self.skipped)}
            fresh = sorted(rest, key=lambda i: rank.get(i.change.id, -1))
        if not fresh:
            self.pop_screen()
            self.notify("That was the last item in the queue.", timeout=4)
            return
        from reviewq.tui.screens.review import ReviewScreen

        self.switch_screen(ReviewScreen(fresh[0], current.queue))

    def verdict_recorded(
        self, screen: ReviewScreen, data: VerdictInput, record: dict[str, Any]
    ) -> None:
        self.note_decided(data.change.id, data.verdict)
        self.next_item(screen)

    def note_decided(self, change_id: str, verdict: str) -> None:
        """A verdict was recorded here: this session and the queue screen know it is done."""
        self.decided.add(change_id)
        queue = self.queue_screen()
        if queue is not None:
            queue.verdict_recorded(change_id, verdict)

    # -- pair sessions (reviewq/tui/pair/screen.py) ------------------------------------------

    def start_pair(
        self, first: QueueItem | None, queue: list[QueueItem], launch: PairLaunch | None = None
    ) -> None:
        """Ask who takes part, then walk through `first` and the rest of `queue`, riskiest
        first (`first` None: the riskiest pending item)."""
        from reviewq.tui.pair.screen import PairLaunch, start_pair

        start_pair(self, first, queue, launch or PairLaunch())

    # -- critiques ----------------------------------------------------------------------------

    def request_critique(self, change: Change) -> None:
        if change.id in self.critiques or change.id in self._critiques_running:
            return
        self._critiques_running.add(change.id)
        self._critique_worker(change)

    def prefetch_after(self, change_id: str, queue: Iterable[QueueItem]) -> None:
        """Prepare the critiques of the next items while the reviewer reads this one."""
        done = self.done()
        items = [i for i in queue if i.change.id not in done]
        ids = [i.change.id for i in items]
        start = ids.index(change_id) + 1 if change_id in ids else 0
        for item in items[start : start + PREFETCH]:
            self.request_critique(item.change)

    def background_pause(self) -> None:
        """A worker thread's pause point (`reviewq.core.pace`): wait while the reviewer is
        pressing keys or a diff is being opened, at most `BACKGROUND_MAX_WAIT` seconds."""
        limit = time.monotonic() + BACKGROUND_MAX_WAIT
        while True:
            now = time.monotonic()
            if now >= limit or now >= max(self.foreground_until, self.opening_until):
                return
            time.sleep(0.02)

    @contextmanager
    def background(self) -> Iterator[None]:
        """For a worker thread's long job: pause points wait for the reviewer, and a large
        parse runs in a worker process (`reviewq.core.pace`)."""
        pause_token = PAUSE.set(self.background_pause)
        offload_token = OFFLOAD.set(self.services.offload)
        try:
            yield
        finally:
            OFFLOAD.reset(offload_token)
            PAUSE.reset(pause_token)

    @work(thread=True, group="critiques", exit_on_error=False, description="a critique")
    def _critique_worker(self, change: Change) -> None:
        try:
            with self.background():
                result: Critique | str = self.services.critique(change)
        except ImportError:
            result = (
                "The critic is not part of this build yet (reviewq.workflow.critiquing is missing)."
            )
        except Exception as exc:
            message = error_text(exc)
            result = f"The critic failed: {one_line(message, 300)}"
        self.call_from_thread(self._critique_done, change.id, result)

    def _critique_done(self, change_id: str, result: Critique | str) -> None:
        self._critiques_running.discard(change_id)
        if isinstance(self.critiques.get(change_id), Critique):
            return  # already known (a refresh or a test put one there): keep it
        self.critiques[change_id] = result
        for screen in self.screen_stack:
            if _is_change(screen):
                screen.critique_arrived(change_id, result)


def _pair_entries(screen: PairScreen) -> list[tuple[str, Callable[[], Any], str]]:
    """Palette entries of a pair session: jump to any step of the walkthrough."""
    if screen.diff is None:
        return []
    return [
        (
            f"Jump to step {view.number}: {one_line(view.path)}",
            (lambda i=view.number - 1, s=screen: s.jump_to_step(i)),
            f"{view.kind}: {view.why}",
        )
        for view in screen.step_views()
    ]


def _start_pair_entries(
    app: ReviewqApp, screen: QueueScreen | ReviewScreen
) -> list[tuple[str, Callable[[], Any], str]]:
    """ "Start pair session" on the item at hand, and on the pending queue riskiest first."""
    item = screen.item if _is_review(screen) else screen.current_item()
    out: list[tuple[str, Callable[[], Any], str]] = []
    queue = screen.queue if _is_review(screen) else screen.items
    if item is not None:
        short = short_id(item.change.id, narrow=True)
        out.append(
            (
                f"Start pair session: {short} {one_line(item.change.commit.subject, 50)}",
                (lambda: app.start_pair(item, queue)),
                "walk through it together, then the rest riskiest first",
            )
        )
    out.append(
        (
            "Start pair session: the pending queue, riskiest first",
            (lambda: app.start_pair(None, app.queue_items)),
            "driver and co-reviewers named at the start",
        )
    )
    return out
