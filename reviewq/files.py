"""Writing a file so that no reader ever sees half of it.

Caches, the column stores and reports are written beside their target and renamed over it: a
reader (another reviewq, a CI artifact upload) sees the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def replace_file(
    path: Path, write: Callable[[BinaryIO], object], *, prefix: str, suffix: str = ""
) -> None:
    """Call `write` on a new file beside `path`, then rename it over `path`.

    Raises OSError (the caller decides whether that is an error or just no cache); the temporary
    file never outlives a failure.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
