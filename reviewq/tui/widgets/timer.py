"""Active review time: what the record's `active_seconds` measures, as pure logic.

Wall time overstates review effort (a reviewer answers a chat message with the diff open), so the
timer only runs while the reviewer is plausibly reading: the terminal has focus and there was
input (a key, a click, a scroll) within the last `idle_after` seconds. The idle stretch itself
counts up to that limit, because reading a hunk without pressing a key is review; past it the
timer stops until the next input. Losing terminal focus stops it at once.

The clock is injected (a `time.monotonic`-like callable) so tests drive it without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reviewq.core.times import duration

#: Seconds without input after which the timer pauses (the issue's 60 s).
IDLE_AFTER = 60.0
#: Review speed limits (SmartBear/Cisco): past these a review finds fewer defects.
LARGE_REVIEW_LINES = 400
MAX_LINES_PER_HOUR = 500.0
SESSION_SOFT_SECONDS = 60 * 60.0
SESSION_BREAK_SECONDS = 90 * 60.0
#: A pause this long ends a review session (the reviewer took their break).
SESSION_RESET_AFTER = 10 * 60.0


class ActiveTimer:
    """Accumulates active seconds between `start()` and now, pausing on idle and blur."""

    def __init__(self, clock: Callable[[], float], idle_after: float = IDLE_AFTER) -> None:
        self._clock = clock
        self.idle_after = idle_after
        self._started: float | None = None
        self._banked = 0.0  # active seconds of finished running stretches
        self._run_from: float | None = None  # start of the current running stretch
        self._last_input: float | None = None
        self._focused = True
        #: Seconds the timer was stopped the last time it resumed (for session breaks).
        self.last_pause = 0.0
        self._paused_at: float | None = None

    # -- events -------------------------------------------------------------------------------

    def start(self, carried_active: float = 0.0, carried_wall: float = 0.0) -> None:
        """Start (or restart) timing; `carried_*` continue an earlier visit to the same item."""
        now = self._clock()
        self._started = now - carried_wall
        self._banked = carried_active
        self._run_from = now if self._focused else None
        self._last_input = now
        self._paused_at = None if self._focused else now

    def carry(self, active: float, wall: float) -> None:
        """Add time from an earlier visit to the same item (a draft)."""
        self._banked += active
        if self._started is not None:
            self._started -= wall

    def touch(self) -> None:
        """Input happened: resume if idle, and push the idle deadline forward."""
        now = self._clock()
        if self._started is None:
            self.start()
            return
        self._settle(now)
        self._last_input = now
        if self._focused and self._run_from is None:
            self._resume(now)

    def blur(self) -> None:
        now = self._clock()
        self._settle(now)
        if self._run_from is not None:
            self._banked += now - self._run_from
            self._run_from = None
            self._paused_at = now
        self._focused = False

    def focus(self) -> None:
        self._focused = True
        self.touch()

    # -- readings -----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._started is not None

    @property
    def running(self) -> bool:
        if self._started is None:
            return False
        self._settle(self._clock())
        return self._run_from is not None

    def active_seconds(self) -> float:
        if self._started is None:
            return 0.0
        now = self._clock()
        self._settle(now)
        running = now - self._run_from if self._run_from is not None else 0.0
        return self._banked + running

    def wall_seconds(self) -> float:
        return 0.0 if self._started is None else self._clock() - self._started

    # -- internals ----------------------------------------------------------------------------

    def _settle(self, now: float) -> None:
        """Stop the running stretch at the idle deadline if it passed without input."""
        if self._run_from is None or self._last_input is None:
            return
        deadline = self._last_input + self.idle_after
        if now > deadline:
            self._banked += max(0.0, deadline - self._run_from)
            self._run_from = None
            self._paused_at = deadline

    def _resume(self, now: float) -> None:
        self.last_pause = now - self._paused_at if self._paused_at is not None else 0.0
        self._paused_at = None
        self._run_from = now


@dataclass(frozen=True, slots=True)
class PaceWarning:
    """A warning, never a block: `level` is 'soft' or 'strong'."""

    key: str
    level: str
    message: str


def size_warnings(lines_changed: int) -> list[PaceWarning]:
    if lines_changed > LARGE_REVIEW_LINES:
        return [
            PaceWarning(
                "large",
                "soft",
                f"{lines_changed} changed lines: past {LARGE_REVIEW_LINES} a single review finds "
                "fewer defects; consider asking for the change to be split",
            )
        ]
    return []


def pace_warnings(
    lines_changed: int, active_seconds: float, session_seconds: float, *, rate: bool = True
) -> list[PaceWarning]:
    """What to say before a verdict: review rate and session length (warnings, never blocks).

    `rate` False leaves the review rate out (a reject: its speed does not matter)."""
    out = size_warnings(lines_changed)
    if rate and active_seconds > 0 and lines_changed > 0:
        rate = lines_changed / (active_seconds / 3600.0)
        if rate > MAX_LINES_PER_HOUR:
            out.append(
                PaceWarning(
                    "rate",
                    "soft",
                    f"reviewed at {rate:,.0f} lines/hour (over {MAX_LINES_PER_HOUR:.0f}): "
                    f"{lines_changed} lines in {duration(active_seconds)}",
                )
            )
    out.extend(session_warnings(session_seconds))
    return out


def session_warnings(session_seconds: float) -> list[PaceWarning]:
    if session_seconds > SESSION_BREAK_SECONDS:
        return [
            PaceWarning(
                "session",
                "strong",
                f"{duration(session_seconds)} of reviewing without a break: take a break",
            )
        ]
    if session_seconds > SESSION_SOFT_SECONDS:
        return [
            PaceWarning(
                "session",
                "soft",
                f"{duration(session_seconds)} of reviewing: attention drops after an hour",
            )
        ]
    return []


class SessionClock:
    """Active time across items; a pause of `reset_after` seconds starts a new session."""

    def __init__(self, clock: Callable[[], float], reset_after: float = SESSION_RESET_AFTER):
        self.timer = ActiveTimer(clock)
        self.reset_after = reset_after

    def touch(self) -> None:
        timer = self.timer
        if not timer.started:
            timer.start()
            return
        was_running = timer.running
        timer.touch()
        if not was_running and timer.last_pause >= self.reset_after:
            timer.start()

    def blur(self) -> None:
        self.timer.blur()

    def focus(self) -> None:
        was_running = self.timer.running
        self.timer.focus()
        if not was_running and self.timer.last_pause >= self.reset_after:
            self.timer.start()

    def seconds(self) -> float:
        return self.timer.active_seconds()
