"""SHA-256 without `hashlib`'s start-up: importing `hashlib` loads OpenSSL (~3 ms of a cold
table's ~40 ms budget before git answers); the interpreter's own sha256 gives the same digests.

Imports nothing itself: the warm `scan --json` (`workflow.scan_fast`) calls this before the
command line loads, where even `typing` (~3 ms) is not yet imported."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def sha256_type() -> Any:
    """The built-in `sha256` constructor (`hashlib.sha256`'s where there is none)."""
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256
