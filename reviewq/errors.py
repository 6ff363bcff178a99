"""The one exception a user's mistake becomes: a single line on stderr and exit code 2."""

from __future__ import annotations


class ReviewqError(Exception):
    """Bad input or an environment problem the user can fix.

    The message is the whole line the user sees, so it names what is wrong and what to do.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())


class CheckFailed(ReviewqError):
    """A check that was asked for did not pass (gate, log verify): exit code 1."""

    exit_code = 1


def error_text(exc: BaseException) -> str:
    """What an exception says, for one line on screen: a ReviewqError's own message first (the
    TUI shows faults where the CLI would print them)."""
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
