"""Type-ahead: keys typed right after a key that opens a box go to that box.

A terminal delivers a burst (`/ab`, `c` then a note) faster than a box opens. Textual hands
each key to whatever has focus when the key is read, so without this the keys after the
opening one went to the screen behind (`/zzznomatch⏎` once re-sorted the queue with its `o` and
opened a review with its Enter) or were lost. The app holds the keys that follow a key bound to
one of `OPENERS` until the box has focus (its input, or the box says it is ready), then hands
them over in order; if no box opens, they are handed over after `HOLD_LIMIT` seconds.

A screen that is not ready for keys yet holds them the same way (issue 18): a review screen
until its diff is on screen (`ChangeScreen.shown_at`), the queue until its rows are in (or,
after an Enter on a stored row, until the review it asked for is opened). Its keys are held
where Textual would run their binding, and replayed in order once the screen says it is ready
(`typeahead_release`), so a burst typed fast ends where the same keys typed slowly end. A key
of `LEAVING` is not held: it acts at once and the keys held for the screen go with it. A key
that records something (a verdict, a viewed mark, a checklist tick) typed before the diff was
on screen is refused by its action (`ChangeScreen.typed_blind`), with a notice, and the keys
typed before the diff was on screen that are still to come are dropped (they were meant for
the dialog that did not open). See docs/tui.md, "Keys typed ahead".
"""

from __future__ import annotations

from textual._time import get_time
from textual.message import Message
from textual.message_pump import MessagePump

#: Binding ids whose action opens a box that takes the keys typed after it.
OPENERS = frozenset(
    {
        "app.help",
        "app.palette",
        "queue.filter",
        "queue.pair",
        "search.open",
        "verdict.approve",
        "verdict.reject",
        "verdict.changes",
        "verdict.escalate",
        "pair.note",
        "inbox.apply",
        "review.pair",
    }
)
#: Seconds after which held keys go on even if no box took focus (the action declined).
HOLD_LIMIT = 1.0

#: Binding ids that act at once even while the screen holds keys: leaving it (the held keys
#: were for the screen left and go with it).
LEAVING = frozenset({"app.quit", "queue.quit", "review.back"})

#: The clock Textual stamps every message with (`Message.time`: a key's is when the terminal
#: delivered it). "Typed before the diff was on screen" compares a key's stamp with the
#: screen's `shown_at`, read from this clock.
key_clock = get_time


class TypeaheadRelease(Message):
    """A screen that held keys is ready for them (`screen`), or gone."""

    def __init__(self, screen: MessagePump) -> None:
        super().__init__()
        self.screen = screen


def typeahead_release(screen: MessagePump) -> None:
    """Tell the app that `screen` is ready: the keys held for it are replayed in order."""
    screen.app.post_message(TypeaheadRelease(screen))


class TypeaheadReady(Message):
    """A box without a text field (help) is up: the keys held for it can go to it."""


def typeahead_ready(node: MessagePump) -> None:
    """Tell the app the box opened by the last key is ready for the keys typed after it."""
    node.app.post_message(TypeaheadReady())
