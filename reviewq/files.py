"""Writing a file so that no reader ever sees half of it.

Caches, the column stores and reports are written beside their target and renamed over it: a
reader (another reviewq, a CI artifact upload) sees the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from pathlib import Path

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO


def replace_file(
    path: Path, write: Callable[[BinaryIO], object], *, prefix: str, suffix: str = ""
) -> None:
    """Call `write` on a new file beside `path`, then rename it over `path`.

    Raises OSError (the caller decides whether that is an error or just no cache); the temporary
    file never outlives a failure.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _new_file(path.parent, prefix, suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


#: How `tempfile.mkstemp` opens its file: read-write, created here and now (never an existing
#: file or a planted link), not inherited by child processes.
_NEW_FILE_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _new_file(folder: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """`tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)`: a new file (mode 0600)
    with an unpredictable name, opened exclusively, and its absolute path. Without `tempfile`,
    whose import (`shutil`, `random`, with bz2 and lzma) is ~4 ms of a cold scan."""
    for _ in range(100):
        name = os.path.abspath(os.path.join(folder, f"{prefix}{os.urandom(8).hex()}{suffix}"))
        try:
            return os.open(name, _NEW_FILE_FLAGS, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", os.fspath(folder))
