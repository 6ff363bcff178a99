"""The log's cached columns, read in a thread while `stats` and `report` load their modules.

Right after a verdict, a warm `stats` spends about a tenth of a second reading the column
cache (a hundred MB at a million records: `os.preadv` and `zlib.crc32`, both without the GIL)
and about as long importing the figures' modules: started first, the read overlaps the imports
(`start`, from the command before its imports). `take` hands the result to `gather` only if it
was read for the very log and cache `gather` reads, and the log has not changed since the read
began (same inode, size and modification time before the read, after it and when taken);
anything else, and `gather` reads as it always did. The thread is always joined before
`gather` goes on (nothing forks while it runs). Only `load_table_after_cache` runs in the
thread: a read that never builds or stores a cache.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

_lock = threading.Lock()
_pending: dict[str, Any] = {}


def _stamp(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _read(repo: str | None, out: dict[str, Any]) -> None:
    try:
        from reviewq.sources.gitcmd import Git
        from reviewq.store.verdict_columns import CACHE_NAME, load_table_after_cache

        state = Git.open(repo or os.getcwd()).paths().state_dir
        log, cache = state / "log.jsonl", state / CACHE_NAME
        before = _stamp(str(log))
        found = load_table_after_cache(log, cache)
        if before is not None and _stamp(str(log)) == before:
            out.update(log=str(log), cache=str(cache), stamp=before, found=found)
    except Exception:  # a prefetch that fails is a prefetch not taken
        out.clear()


def set_up_numpy() -> None:
    """numpy as the figures want it, unless the user chose otherwise; before numpy is imported
    (its import reads both):

    - one OpenBLAS thread: numpy's import starts one per core and they spin for a while (~0.06
      s of CPU a run, on a core this read could use); no figure multiplies matrices;
    - no arrays marked for huge pages (NUMPY_MADVISE_HUGEPAGE=0; `heap.small_pages` has why):
      on the measuring machine a warm `stats` at 1M records, its arrays read from the column
      cache, took 0.59-0.97 s marked (0.11-0.50 s of it in the kernel, zeroing 2 MiB pages)
      against 0.61-0.64 s not, in 8 rounds each, interleaved; a cold one 4.43-5.11 against
      4.43-4.73 s, the same peak memory."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")


def start_for_argv(words: list[str]) -> None:
    """From the command line, before it is parsed (`cli.main`): a read for `[--repo PATH]
    stats ...` without --repos or --log; any read an earlier command of this process left is
    dropped first. Anything else is left to `stats` itself (`pending`)."""
    discard()
    rest, repo = list(words), None
    if rest[:1] == ["--repo"] and len(rest) >= 2:
        repo, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--repo="):
        repo, rest = rest[0][len("--repo=") :], rest[1:]
    if rest[:1] != ["stats"] or repo == "":
        return
    if any(w in ("--repos", "--log", "--repo") or w.startswith(("--log=", "--repo")) for w in rest):
        return
    start(repo)


def pending() -> bool:
    """Is a read started and not yet taken?"""
    with _lock:
        return "thread" in _pending


def discard() -> None:
    """Join and drop a read not taken."""
    with _lock:
        thread = _pending.pop("thread", None)
        _pending.clear()
    if thread is not None:
        thread.join()


def start(repo: str | None) -> None:
    """Start reading the column cache of the repository at `repo` (None: the current one)."""
    set_up_numpy()
    out: dict[str, Any] = {}
    thread = threading.Thread(target=_read, args=(repo, out), daemon=True)
    with _lock:
        _pending.clear()
        _pending.update(thread=thread, out=out)
    thread.start()


def wait() -> None:
    """Join the read, if one runs (before anything that forks)."""
    with _lock:
        thread = _pending.get("thread")
    if thread is not None:
        thread.join()


def take(log_path: os.PathLike[str], cache_path: os.PathLike[str] | None) -> Any:
    """The prefetched `load_table_after_cache(log_path, cache_path)`, as a one-element tuple,
    if it was read for these files and the log is unchanged since; else None. Taken once."""
    with _lock:
        thread, out = _pending.pop("thread", None), _pending.pop("out", None)
    if thread is None or out is None:
        return None
    thread.join()
    if not out or cache_path is None:
        return None
    if out["log"] != os.fspath(log_path) or out["cache"] != os.fspath(cache_path):
        return None
    if _stamp(out["log"]) != out["stamp"]:
        return None
    return (out["found"],)
