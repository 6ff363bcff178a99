"""The TUI's last queue, kept so that the next open can draw its first screen at once.

Building the queue at 10,000 items over a million-record log takes seconds (the scope scan's
changes decoded, every verdict about them looked up, the policy asked for each). What the queue
screen draws of it is much less: one row of text per item (`core.queue.QueueRow`), the counts in
its top line and the reviewer's own verdicts on those items. That is kept in
`<state dir>/queue-answers/<view>.json` under a key of everything the queue is computed from:

- the refs (every tip, symbolic refs, HEAD): new commits, pushes, merges, and the verdict notes
  ref `refs/notes/reviewq`;
- the local provenance log (its size, mtime and head file) and the patch inbox (every file);
- the settings as parsed (`.reviewq.toml` or `--config`: scope, policy, agents), git's config
  (who the reviewer is, which allowed-signers file), the allowed-signers files themselves;
- the agents' session files this repository's worktrees have (prompts; or that they are off),
  the forge tasks `reviewq pull` kept;
- reviewq's own version and this file's layout.

Time moves the queue too: the answer holds until its `valid_until` (a cooldown ending, a commit
leaving the daily view; `workflow.units.UnitQueue.valid_until`) and the "reviewed today" count
is counted again from the reviewer's verdict times at the moment it is shown.

The answer is display state and nothing else: the screen shows its rows while the real queue is
computed in a worker, then replaces them with the real items' rows. A row can open nothing
(Enter waits for the real item of the same id); verdicts are recorded only on real items. The
gate, `reviewq queue` and every other command never read it. A local shell that rewrites the
file can make the first second of the screen lie, as it could rewrite the screen itself; it
cannot make a verdict count, or land on any other commit than the one reviewed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reviewq import __version__
from reviewq.core.alloc import gc_paused
from reviewq.core.jsonio import dump_json, parse_line
from reviewq.core.model import VERDICTS
from reviewq.core.queue import QueueRow
from reviewq.files import replace_file
from reviewq.sources.gitcmd import GitError
from reviewq.sources.refs import read_snapshot

#: The answer file's layout (and what its rows hold): bump to forget older ones.
ANSWER_VERSION = 1
FOLDER = "queue-answers"


def answer_path(state_dir: Path, view: str) -> Path:
    return state_dir / FOLDER / f"{view}.json"


def _stat(path: Path | None) -> list[int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().hex()
    except OSError:
        return None


def _listing(folder: Path | None) -> list[list[Any]]:
    if folder is None:
        return []
    try:
        with os.scandir(folder) as entries:
            return sorted([e.name, e.stat().st_size, e.stat().st_mtime_ns] for e in entries)
    except OSError:
        return []


def _signers_files(ctx: Any, git_config: str) -> list[Any]:
    """Stamps of the allowed-signers files a signature check could read (git's and the
    policy's `[log] allowed_signers`, relative to the work tree)."""
    names: list[str] = []
    for line in git_config.split("\0"):
        key, _, value = line.partition("\n")
        if key.lower() == "gpg.ssh.allowedsignersfile" and value:
            names.append(value)
    log = ctx.config.log
    if log is not None and log.allowed_signers:
        names.append(log.allowed_signers)
    root = ctx.git.paths().work_tree
    out = []
    for name in names:
        path = Path(name).expanduser()
        if not path.is_absolute() and root is not None:
            path = root / path
        out.append([str(path), _stat(path), _read(path) if _stat(path) else None])
    return out


def answer_key(ctx: Any, view: str) -> str | None:
    """The hash of every input of the queue (see the module's docstring); None when one of
    them cannot be read (then no answer is shown or kept)."""
    from reviewq.workflow.session_prompts import answer_stamp

    git = ctx.git
    try:
        snapshot = read_snapshot(git)
        git_config = git.run(["config", "--list", "-z"], ok_codes=(0, 1)).decode("utf-8", "replace")
        sessions = answer_stamp(ctx)
    except (GitError, OSError):
        return None
    log = ctx.log_path
    parts = [
        ANSWER_VERSION,
        __version__,
        view,
        sorted(snapshot.tips.items()),
        sorted(snapshot.symrefs.items()),
        snapshot.head_ref,
        snapshot.head_sha,
        str(log),
        _stat(log),
        _read(log.with_name(log.name + ".head")),
        _listing(ctx.inbox_dir()),
        repr(ctx.config),
        hashlib.sha256(git_config.encode("utf-8", "replace")).hexdigest(),
        _signers_files(ctx, git_config),
        sessions,
        _stat(ctx.state_dir / "forge.json"),
    ]
    text = json.dumps(parts, default=repr, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class StoredQueue:
    """A stored answer as the screen shows it: rows in the load's order, the reviewer's own
    verdicts on them, the times of their verdicts since `day_start`, and the audit count."""

    rows: list[QueueRow]
    mine: dict[str, str]
    my_times: list[float]
    hidden_audit: int

    def reviewed_today(self, now: datetime) -> int:
        """`Services.my_progress`'s count: this reviewer's verdicts since `now`'s midnight."""
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight.timestamp()
        end = (midnight + timedelta(days=1)).timestamp()
        return sum(1 for t in self.my_times if start <= t < end)


def store(
    ctx: Any,
    view: str,
    key: str,
    rows: Sequence[QueueRow],
    *,
    mine: dict[str, str],
    my_times: Sequence[float],
    day_start: float,
    hidden_audit: int,
    valid_until: datetime | None,
) -> None:
    """Keep the answer (a read-only place just keeps none)."""
    ids = {r.id for r in rows}
    data = {
        "v": ANSWER_VERSION,
        "key": key,
        "valid_until": valid_until.timestamp() if valid_until is not None else None,
        "day_start": day_start,
        "my_times": sorted(float(t) for t in my_times if t >= day_start),
        "mine": {cid: verdict for cid, verdict in mine.items() if cid in ids},
        "hidden_audit": hidden_audit,
        "rows": [r.to_list() for r in rows],
    }
    body = dump_json(data)
    with contextlib.suppress(OSError):
        path = answer_path(ctx.state_dir, view)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, lambda fh: fh.write(body), prefix=".answer-")


def forget(ctx: Any, view: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(answer_path(ctx.state_dir, view))


def load(ctx: Any, view: str, key: str | None, now: datetime) -> StoredQueue | None:
    """The stored answer when it answers `key` at `now`, else None (missing, another key,
    expired, damaged: the screen then waits for the real queue as before)."""
    if key is None:
        return None
    try:
        raw = answer_path(ctx.state_dir, view).read_bytes()
    except OSError:
        return None
    with gc_paused():  # a row is a dozen strings: tens of thousands of objects, no cycle
        return _parse(raw, key, now)


def _parse(raw: bytes, key: str, now: datetime) -> StoredQueue | None:
    try:
        data = parse_line(raw)
        if not isinstance(data, dict) or data.get("v") != ANSWER_VERSION:
            return None
        if data.get("key") != key:
            return None
        until = data.get("valid_until")
        if until is not None and not now.timestamp() < float(until):
            return None
        day_start = float(data["day_start"])
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if midnight.timestamp() < day_start:
            return None  # the clock went back: the times kept may not cover today
        rows = [QueueRow.from_list(row, now) for row in data["rows"]]
        mine = data["mine"]
        my_times = [float(t) for t in data["my_times"]]
        hidden = data["hidden_audit"]
        if not isinstance(mine, dict) or not all(
            isinstance(k, str) and v in VERDICTS for k, v in mine.items()
        ):
            return None
        if isinstance(hidden, bool) or not isinstance(hidden, int):
            return None
        if len({r.id for r in rows}) != len(rows):
            return None
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return StoredQueue(rows, mine, my_times, hidden)
