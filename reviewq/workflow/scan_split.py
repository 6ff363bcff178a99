"""The rest of the cold table's log, detected by a helper process forked once git has ended.

On two cores the cold table's long pole is the main thread's Python: the detection of every
record of the log. git writes the log on the other core, faster than the detection reads it, and
ends well before it: on the 6,200-commit history dense in agents' commits, 30-40 ms of records
are still to be read when git exits, and its core is then idle. When that rest is large enough
to pay for a fork (`SPLIT_REST` bytes), a child forked from this process takes its second half:
it has the detector with its rules, the side records and every memo already, detects those
records exactly as the main loop does (the same `detect_part`), and sends back one pickle: the
records it read and the AI ones among them. The main process reads on to where the child's part
starts, then lists the child's answer after its own, so the log's order is kept.

Forked only then: while git still writes, three processes would share two cores and neither half
goes faster (tried: a helper forked at the loop's start, taking every other block, was 4-11 %
slower whole; docs/speed.md).

The answer is the plain one whatever happens to the helper: when it could not be forked, failed,
was killed, or sent anything but a whole answer, the main process detects that part itself, read
again from the log's file. The helper only computes: it writes nothing but its answer to its own
pipe and ends with `os._exit` (no stdio flush, no `atexit`). Used only where a fork is safe:
Linux (the prefetched log, `scan_fast`, is Linux-only too) and no other thread alive in this
process (a thread holding a lock at the fork would leave it held in the child forever).
"""

from __future__ import annotations

import os
import sys

try:  # the C pickler alone: `pickle` costs ~1 ms more to import, on the main process's path
    from _pickle import dumps as _dumps
    from _pickle import loads as _loads
except ImportError:  # another Python than CPython
    from pickle import dumps as _dumps
    from pickle import loads as _loads

from reviewq.workflow.scan_fast import _MOST

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any

#: Bytes of log still unread when git ends, below which no helper is forked: a fork and the
#: pages both processes then copy on write cost ~2-4 ms.
SPLIT_REST = 512 * 1024
#: Fork with other threads alive (tests: pytest's workers run threads of their own; the helper
#: touches nothing those threads hold).
FORK_WITH_THREADS = False
#: Where in the rest the helper's part starts. The main loop also has the records it read
#: before git ended still to detect and takes the helper's answer in, but detects faster than
#: the helper (which copies the pages it touches on write): at a half both end within ~2 ms of
#: each other (at 0.4 the main process waited ~10 ms for the helper, at 0.45 ~5 ms).
SPLIT_AT = 0.5
#: Bytes a helper's part is read in: as the main loop reads the log, for the same reason.
_CHUNK = _MOST
#: How far forward a record's end is looked for from there.
_LOOK_AHEAD = 1 << 16
#: Helpers that had not ended when their answer was taken: reaped later without waiting (a
#: helper's exit, which frees its copy of this process's memory, took ~5 ms).
_unreaped: list[int] = []

#: How the last `RestHelper` went, for tests: "alone" (no helper), "helper" (its answer was
#: taken), "recovered" (it gave none: its part was detected here).
last_split: str | None = None


def can_fork() -> bool:
    """A helper may be forked here: Linux, and no thread but this one (the early git
    questions' thread is waited for first: it has long started them by now)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    import threading

    early = sys.modules.get("reviewq.sources.early_git")
    if early is not None:
        early.settle()
    return FORK_WITH_THREADS or threading.active_count() == 1


class RestHelper:
    """The helper of one log's reading. `on_ended` is the prefetched log's hook
    (`scan_fast.PrefetchedLog`); `rest` is the answer for the helper's part, once the main
    loop has read its own; `stop` ends the helper whatever happened (call it in a `finally`).
    `detect_part`: the answer for the records of a part of the log, read a chunk at a time as
    the main loop reads its own (pickled by the helper); `check`: that answer as the main
    process takes it back, checked (raises if it is not one)."""

    def __init__(
        self, detect_part: Callable[[Iterable[bytes]], Any], check: Callable[[Any], Any]
    ) -> None:
        global last_split
        self._detect_part, self._check = detect_part, check
        self._pid = 0
        self._answers = self._file = -1
        self._part: tuple[int, int] | None = None  # (start, end) of the helper's bytes
        last_split = "alone"

    def on_ended(self, fd: int, offset: int, size: int) -> int | None:
        """Fork the helper for the later part of `fd`'s bytes [offset, size) (`SPLIT_AT`) and
        return where it starts (a record's start); None (the main loop reads to the end) when
        the rest is small, no fork is safe or possible, or no record ends near there."""
        if self._part is not None or size - offset < SPLIT_REST or not can_fork():
            return None
        reap()
        start = _record_start(fd, offset + int((size - offset) * SPLIT_AT), size)
        if start is None:
            return None
        file = os.dup(fd)  # the main loop closes `fd` once read; a recovery reads this one
        answers, sink = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to be had: read here alone
            for end in (file, answers, sink):
                os.close(end)
            return None
        if pid == 0:  # the helper: never returns
            code = 1
            try:
                os.close(answers)
                answer = self._detect_part(_records(file, start, size))
                with os.fdopen(sink, "wb") as out:
                    out.write(_dumps(answer, -1))  # the highest protocol
                code = 0
            finally:
                os._exit(code)
        os.close(sink)
        self._pid, self._answers, self._file, self._part = pid, answers, file, (start, size)
        return start

    def rest(self) -> Any | None:
        """The answer for the helper's part (detected here if the helper gave none); None when
        no helper was forked."""
        global last_split
        if self._part is None:
            return None
        try:
            answer = self._collect()
            if answer is None:
                last_split = "recovered"
                start, end = self._part
                answer = self._detect_part(_records(self._file, start, end))
            else:
                last_split = "helper"
            return answer
        finally:
            self.stop()

    def _collect(self) -> Any | None:
        """The helper's answer, read to its end (the helper closes its pipe once it wrote it
        all); None when it is not a whole answer. Its exit is not waited for: a whole pickle
        that passes `check` is its answer, however it then ends."""
        chunks = []
        while chunk := os.read(self._answers, 1 << 20):
            chunks.append(chunk)
        try:
            return self._check(_loads(b"".join(chunks)))
        except Exception:  # a cut or damaged answer: the part is detected here
            return None

    def stop(self) -> None:
        """Close the pipe and the file; a helper still running is killed (its answer, if it
        was taken, is whole), and reaped now if it has ended, later (`reap`) if not."""
        for end in (self._answers, self._file):
            if end >= 0:
                os.close(end)
        self._answers = self._file = -1
        if self._pid:
            import signal

            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _unreaped.append(self._pid)
            self._pid = 0
            reap()


def reap() -> None:
    """Reap the helpers that have ended, without waiting for the others."""
    for pid in list(_unreaped):
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped by someone else
            done = pid
        if done:
            _unreaped.remove(pid)


def _record_start(fd: int, at: int, size: int) -> int | None:
    """Where the first record starting after offset `at` of `fd` starts (the byte after a
    NUL), if one does before `size` within `_LOOK_AHEAD` bytes."""
    window = os.pread(fd, min(_LOOK_AHEAD, size - at), at)
    nul = window.find(b"\0")
    if nul < 0 or at + nul + 1 >= size:
        return None
    return at + nul + 1


def _records(fd: int, start: int, end: int) -> Iterator[bytes]:
    """The records of `fd`'s bytes [start, end), read a chunk at a time (a helper's part of a
    large log is never held whole)."""
    from reviewq.sources.gitcmd import split_chunks

    def chunks() -> Iterator[bytes]:
        at = start
        while at < end:
            chunk = os.pread(fd, min(_CHUNK, end - at), at)
            if not chunk:
                raise OSError(f"the log's file ended {end - at} bytes early")
            at += len(chunk)
            yield chunk

    return split_chunks(chunks())
