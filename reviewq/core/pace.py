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
from typing import Any, TypeVar

T = TypeVar("T")

#: The hook `pause()` calls in this thread (None: carry on).
PAUSE: ContextVar[Callable[[], None] | None] = ContextVar("reviewq_pause", default=None)
#: How this thread runs a long job that holds the interpreter in one C call (`ast.parse` of a
#: large module): the TUI runs it in another process, so keys are not kept waiting. None: here.
OFFLOAD: ContextVar[Callable[..., Any] | None] = ContextVar("reviewq_offload", default=None)
#: Jobs smaller than this (characters of input) always run here: they are quick.
OFFLOAD_MIN_CHARS = 40_000


def pause() -> None:
    """A point where a background computation may wait for the foreground."""
    hook = PAUSE.get()
    if hook is not None:
        hook()


def offload(size: int, fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)`, through this thread's `OFFLOAD` hook when one is set and the job is large
    (`size` characters). `fn` must be a module-level function of picklable arguments; the
    result is the same either way."""
    hook = OFFLOAD.get()
    if hook is None or size < OFFLOAD_MIN_CHARS:
        return fn(*args)
    return hook(fn, *args)
