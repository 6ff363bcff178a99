"""Cooperative pauses for long pure computations run beside a user interface.

The TUI runs the rationale and the critique in threads of its own process. Python runs one
thread at a time: while one of them parses a large module (`ast.parse` holds the interpreter
for the whole file), a key the reviewer pressed waits. Long loops here call `pause()` between
steps (before each file, every few hundred findings); a thread that set `PAUSE` to a hook has it
called there, and the TUI's hook waits while the reviewer is pressing keys or a diff is being
opened. Outside the TUI nothing is set and `pause()` does nothing. Pure: the core reads no
clock; the hook does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

#: The hook `pause()` calls in this thread (None: carry on).
PAUSE: ContextVar[Callable[[], None] | None] = ContextVar("reviewq_pause", default=None)


def pause() -> None:
    """A point where a background computation may wait for the foreground."""
    hook = PAUSE.get()
    if hook is not None:
        hook()
