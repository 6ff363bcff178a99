"""Pure work on a list, split across two processes: the second half in a forked child.

The cold scan's detection is CPU-bound Python (~25 µs a record on a history of agents' long
messages) and most of it runs after git has written the log, when the machine's second core is
idle. A forked child inherits the items and whatever the work reads (nothing is pickled on the
way in), works out the second half and sends back only its answer, pickled, through a pipe,
while this process works out the first half. Whatever goes wrong with the child (no `fork`,
another thread running, a failure or signal in the child, a short answer) and this process
works out that half itself: the answer is the same either way, only slower.

The `ProcessPoolExecutor` the log's readers use costs ~20 ms of imports (`multiprocessing`,
`concurrent.futures`): more than a cold table of a few thousand commits gains from it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")
#: The child's part of the work. Less than half: the child starts ~5 ms after the fork and then
#: runs ~1.3 times slower than this process (every page it writes, a reference count
#: included, is copied first), measured on the cold scan of a 6,200-commit history.
CHILD_SHARE = 0.42
#: What `_answer_of` says when the child gave no answer (any value, None too, may be one).
_NO_ANSWER: Any = object()


def in_two(
    items: Sequence[Item],
    work: Callable[[Sequence[Item]], Answer],
    *,
    weight: Callable[[Item], int],
    minimum: int,
) -> list[Answer]:
    """`[work(first part), work(second part)]`, the second worked out in a forked child and
    given `CHILD_SHARE` of the items' weight; `[work(items)]` for fewer than `minimum` items or
    where no child can be forked. `work` must be pure (its answer depends on its input alone)
    and its answer picklable."""
    if len(items) < max(minimum, 2) or not _may_fork():
        return [work(items)]
    cut = _cut(items, weight, 1 - CHILD_SHARE)
    first, second = items[:cut], items[cut:]
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return [work(items)]
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return [work(items)]
    if pid == 0:  # the child: never returns into the caller's code
        _child(work, second, read_end, write_end)
    os.close(write_end)
    try:
        mine = work(first)
        answer = _read_all(read_end)
    except BaseException:
        _stop(pid)
        raise
    finally:
        os.close(read_end)
    theirs = _answer_of(pid, answer)
    return [mine, work(second) if theirs is _NO_ANSWER else theirs]


def _may_fork() -> bool:
    """A fork copies only the thread that calls it: with another thread running, a lock it held
    would stay held in the child (the log's readers fork under the same rule)."""
    if not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _cut(items: Sequence[Item], weight: Callable[[Item], int], share: float) -> int:
    """The index that cuts `items` after about `share` of their weight, each part non-empty."""
    wanted = sum(map(weight, items)) * share
    total = 0
    for index, item in enumerate(items):
        total += weight(item)
        if total >= wanted:
            return min(max(index + 1, 1), len(items) - 1)
    return len(items) - 1


def _child(
    work: Callable[[Sequence[Item]], Answer], part: Sequence[Item], read_end: int, fd: int
) -> None:
    code = 1
    try:
        os.close(read_end)
        import pickle

        data = memoryview(pickle.dumps(work(part), protocol=pickle.HIGHEST_PROTOCOL))
        while data:
            data = data[os.write(fd, data) :]
        code = 0
    except BaseException:  # nothing of the child may reach the caller: the parent redoes it
        pass
    finally:
        os._exit(code)  # no flush of buffers the parent owns, no atexit handlers


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _answer_of(pid: int, data: bytes) -> Any:
    """The child's answer once it has ended with exit 0; `_NO_ANSWER` for anything else."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return _NO_ANSWER
    if os.waitstatus_to_exitcode(status) != 0:
        return _NO_ANSWER
    import pickle

    try:
        return pickle.loads(data)
    except Exception:
        return _NO_ANSWER


def _stop(pid: int) -> None:
    import signal

    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
