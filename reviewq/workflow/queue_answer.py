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

The file: a first line with the seal, HMAC-SHA256 with this user's key (the one `log verify`'s
checkpoints use, `$XDG_STATE_HOME/reviewq/verify-key`, under a label of its own) over the rest;
a header (one JSON line: the key, the times, the rows' ids and where each row ends, and what the
queue screen kept to draw them: `tui.screens.queue.stored_display`); then the rows, one JSON
array each. The first screen reads the header and only the rows it draws (`StoredRows`); the
rest are read after it. An answer not sealed with this user's key (edited by someone who cannot
read the key, planted by another account, copied from another repository's or machine's state)
is not read at all.

The answer is display state and nothing else: the screen shows its rows while the real queue is
computed in a worker, then replaces them with the real items' rows. A row can open nothing
(Enter waits for the real item of the same id); verdicts are recorded only on real items. The
gate, `reviewq queue` and every other command never read it. A shell of this user, which can
read the key, can reseal an edited file and make the first seconds of the screen lie, as it
could rewrite the screen itself; it cannot make a verdict count, or land on any other commit
than the one reviewed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reviewq import __version__
from reviewq.core.alloc import gc_paused
from reviewq.core.jsonio import dump_json, parse_line
from reviewq.core.model import VERDICTS
from reviewq.core.queue import QueueRow, RowRisk
from reviewq.files import replace_file
from reviewq.sources.gitcmd import GitError
from reviewq.sources.refs import read_snapshot

#: The answer file's layout (and what its rows hold): bump to forget older ones.
ANSWER_VERSION = 2
FOLDER = "queue-answers"
#: The file's first line: this, the seal (hex), a newline; then the header (one JSON line)
#: and the rows (one JSON array each, no separator: the header says where each ends).
MAGIC = b"reviewq-queue-answer 2 "
#: What the seal's HMAC covers before the body: keys of other uses never seal an answer.
SEAL = b"reviewq queue answer\0"


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


class StoredRows(Sequence[QueueRow]):
    """A stored answer's rows, in the load's order, each read from the file when first asked
    for: the first screen reads the rows it draws (fifty of 10,000), and `parse_all` the rest
    after it. Equal to a list of the same rows."""

    __slots__ = ("_blob", "_ends", "_now", "_rows", "ids")

    def __init__(self, blob: bytes, ends: list[int], ids: list[str], now: datetime) -> None:
        self._blob = blob
        self._ends = ends
        self._now = now
        self._rows: list[QueueRow | None] = [None] * len(ids)
        #: The rows' ids, in order (read without reading the rows).
        self.ids = ids

    @property
    def now(self) -> datetime:
        """The moment the rows' ages are counted at."""
        return self._now

    def __len__(self) -> int:
        return len(self.ids)

    def _read(self, index: int) -> QueueRow:
        start = self._ends[index - 1] if index else 0
        row = QueueRow.from_list(parse_line(self._blob[start : self._ends[index]]), self._now)
        if row.id != self.ids[index]:
            raise ValueError("a stored row is not the one its id names")
        return row

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        row = self._rows[index]
        if row is None:
            try:
                row = self._read(index if index >= 0 else index + len(self))
            except (KeyError, TypeError, ValueError, OverflowError):
                # Sealed with this user's key, so written by `store` from real rows: only a
                # changed reader gets here. A blank row for the moment; `parse_all` fails and
                # the screen takes the stored rows away.
                row = QueueRow(
                    self.ids[index],
                    RowRisk("low", 0),
                    None,
                    0.0,
                    0,
                    False,
                    "",
                    "?",
                    "",
                    "",
                    "",
                    "",
                    (),
                    "",
                    "",
                )
            self._rows[index] = row
        return row

    def __iter__(self) -> Iterator[QueueRow]:
        for index in range(len(self.ids)):
            yield self[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def parse_all(self) -> bool:
        """Read every row not read yet (a worker does, after the first screen); False when one
        does not read back as a row."""
        rows = self._rows
        try:
            with gc_paused():
                for index in range(len(rows)):
                    if rows[index] is None:
                        rows[index] = self._read(index)
        except (KeyError, TypeError, ValueError, OverflowError):
            return False
        return True


@dataclass(frozen=True)
class StoredQueue:
    """A stored answer as the screen shows it: rows in the load's order, the reviewer's own
    verdicts on them, the times of their verdicts since `day_start`, the audit count, and
    what the screen kept of its own to draw them (`display`: opaque here, sealed with the
    rest)."""

    rows: StoredRows
    mine: dict[str, str]
    my_times: list[float]
    hidden_audit: int
    display: Any = None
    #: When the answer was kept (the screen's precomputed order holds from then on).
    stored_at: float = 0.0
    #: Until when it holds (`UnitQueue.valid_until`), as a timestamp; None: until an input moves.
    valid_until: float | None = None

    def holds_at(self, now: datetime) -> bool:
        """Still the answer at `now` (read a moment earlier, by a thread started with the app)."""
        stamp = now.timestamp()
        return stamp >= self.stored_at and (self.valid_until is None or stamp < self.valid_until)

    def reviewed_today(self, now: datetime) -> int:
        """`Services.my_progress`'s count: this reviewer's verdicts since `now`'s midnight."""
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight.timestamp()
        end = (midnight + timedelta(days=1)).timestamp()
        return sum(1 for t in self.my_times if start <= t < end)


def _seal(key: bytes, body: bytes | memoryview) -> bytes:
    mac = hmac.new(key, SEAL, hashlib.sha256)
    mac.update(body)
    return mac.hexdigest().encode("ascii")


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
    stored_at: datetime,
    display: Any = None,
) -> None:
    """Keep the answer, sealed with this user's key (a read-only place, or no key: none)."""
    from reviewq.store.log_checkpoint import load_key

    ids = [r.id for r in rows]
    lines = [dump_json(r.to_list()) for r in rows]
    ends: list[int] = []
    at = 0
    for line in lines:
        at += len(line)
        ends.append(at)
    present = set(ids)
    header = {
        "v": ANSWER_VERSION,
        "key": key,
        "stored_at": stored_at.timestamp(),
        "valid_until": valid_until.timestamp() if valid_until is not None else None,
        "day_start": day_start,
        "my_times": sorted(float(t) for t in my_times if t >= day_start),
        "mine": {cid: verdict for cid, verdict in mine.items() if cid in present},
        "hidden_audit": hidden_audit,
        "ids": ids,
        "ends": ends,
        "display": display,
    }
    body = dump_json(header) + b"\n" + b"".join(lines)
    secret = load_key(create=True)
    if secret is None:
        return
    data = MAGIC + _seal(secret, body) + b"\n" + body
    with contextlib.suppress(OSError):
        path = answer_path(ctx.state_dir, view)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, lambda fh: fh.write(data), prefix=".answer-")


def forget(ctx: Any, view: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(answer_path(ctx.state_dir, view))


def load(ctx: Any, view: str, key: str | None, now: datetime) -> StoredQueue | None:
    """The stored answer when it is sealed with this user's key and answers `key` at `now`,
    else None (missing, another key or user's, edited, expired, damaged: the screen then
    waits for the real queue as before)."""
    from reviewq.store.log_checkpoint import load_key

    if key is None:
        return None
    try:
        raw = answer_path(ctx.state_dir, view).read_bytes()
    except OSError:
        return None
    secret = load_key(create=False)
    if secret is None:
        return None
    return _parse(raw, secret, key, now)


def _parse(raw: bytes, secret: bytes, key: str, now: datetime) -> StoredQueue | None:
    if not raw.startswith(MAGIC):
        return None
    seal_end = raw.find(b"\n", len(MAGIC))
    if seal_end < 0:
        return None
    body = memoryview(raw)[seal_end + 1 :]
    if not hmac.compare_digest(raw[len(MAGIC) : seal_end], _seal(secret, body)):
        return None  # edited, or sealed by another user (a copied or planted file)
    header_end = raw.find(b"\n", seal_end + 1)
    if header_end < 0:
        return None
    try:
        data = parse_line(raw[seal_end + 1 : header_end])
        if not isinstance(data, dict) or data.get("v") != ANSWER_VERSION:
            return None
        if data.get("key") != key:
            return None
        until = data.get("valid_until")
        stamp = now.timestamp()
        if until is not None and not stamp < float(until):
            return None
        stored_at = float(data["stored_at"])
        if stamp < stored_at:
            return None  # the clock went back: ages and order may not be as kept
        day_start = float(data["day_start"])
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if midnight.timestamp() < day_start:
            return None  # the clock went back: the times kept may not cover today
        ids, ends = data["ids"], data["ends"]
        mine = data["mine"]
        my_times = [float(t) for t in data["my_times"]]
        hidden = data["hidden_audit"]
        if not isinstance(mine, dict) or not all(
            isinstance(k, str) and v in VERDICTS for k, v in mine.items()
        ):
            return None
        if isinstance(hidden, bool) or not isinstance(hidden, int):
            return None
        if (
            type(ids) is not list
            or type(ends) is not list
            or len(ids) != len(ends)
            or not all(type(i) is str for i in ids)
            or not all(type(e) is int for e in ends)
            or len(set(ids)) != len(ids)
            or (ends and ends[-1] != len(raw) - header_end - 1)
            or ends != sorted(ends)
        ):
            return None
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    rows = StoredRows(raw[header_end + 1 :], ends, ids, now)
    valid = float(until) if until is not None else None
    return StoredQueue(rows, mine, my_times, hidden, data.get("display"), stored_at, valid)
