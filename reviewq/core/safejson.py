"""`json.loads` for text from outside the process, which may be nested deeper than the parser goes.

The stdlib parser raises RecursionError, not ValueError, for such text (a few thousand `[`).
Every reader of notes, trace files, session stores, cache files or a model's answer skips or
refuses what it cannot read by catching ValueError; without this, one forged note (anyone who
can push `refs/notes/agent-trace` can write one) ended `reviewq scan` with a traceback.
"""

from __future__ import annotations

import json

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def loads(text: str | bytes | bytearray) -> Any:
    """`json.loads(text)`; ValueError, never RecursionError, for text nested too deeply."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


__all__ = ["loads"]
