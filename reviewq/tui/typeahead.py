"""Type-ahead: keys typed right after a key that opens a box go to that box.

A terminal delivers a burst (`/ab`, `c` then a note) faster than a box opens. Textual hands
each key to whatever has focus when the key is read, so without this the keys after the
opening one went to the screen behind (`/zzznomatch⏎` once re-sorted the queue with its `o` and
opened a review with its Enter) or were lost. The app holds the keys that follow a key bound to
one of `OPENERS` until the box has focus (its input, or the box says it is ready), then hands
them over in order; if no box opens, they are handed over after `HOLD_LIMIT` seconds.
"""

from __future__ import annotations

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


class TypeaheadReady(Message):
    """A box without a text field (help) is up: the keys held for it can go to it."""


def typeahead_ready(node: MessagePump) -> None:
    """Tell the app the box opened by the last key is ready for the keys typed after it."""
    node.app.post_message(TypeaheadReady())
