"""The TUI's one door to the rest of reviewq: queue, diffs, marks, drafts, verdicts, critiques.

Screens never touch git, the cache or the log directly; they call these methods from thread
workers (every one may block on git or disk). `lock` serialises the queue load, drafts and
verdicts; critiques and the rationale run outside it (see `critique`). Verdicts and critiques
are delegated to `reviewq.workflow.recording` and `reviewq.workflow.critiquing`, the single places that record and
compute them.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.core.model import VERDICTS, Change, Critique, Diff, FileDiff, Identity
from reviewq.core.policy import evaluate
from reviewq.core.queue import QueueItem, QueueRow
from reviewq.core.verdict import CritiqueState, new_record
from reviewq.output import LARGE_LOG_BYTES  # noqa: F401 (the screens read it from here)
from reviewq.sources.gitcmd import BINARY_PROBE

# Kept inside the methods that use them (start-up): the workflow's shells (queue, scan, gate,
# recording, units, lookup) and the diff parser, which the queue's first screen from a stored
# answer does not need (its worker imports them once that screen is drawn); numpy
# (`workflow.stats`, `store.verdict_columns`), multiprocessing, the critic's rules
# (`workflow.critiquing`: a few hundred regular expressions) and the patch inbox's email parser
# (`workflow.apply_patch`). The app paints its first screen without them; they load in the
# worker that first needs them.

if TYPE_CHECKING:
    from reviewq.core.policy_rules import Requirements
    from reviewq.core.rationale import Rationale
    from reviewq.workflow.apply_patch import Applied
    from reviewq.workflow.queue import QueueSource, QueueUpdate
    from reviewq.workflow.queue_answer import StoredQueue
    from reviewq.workflow.scan import Scanner


@dataclass(frozen=True, slots=True)
class Draft:
    """A review left without a verdict: the note so far and the time already spent."""

    note: str = ""
    active_seconds: float = 0.0
    wall_seconds: float = 0.0
    #: (file, hunk) indexes seen in full; with `diff_hash` so a changed diff forgets them.
    hunks_seen: tuple[tuple[int, int], ...] = ()
    diff_hash: str = ""


#: How `Services.load_unit_diff` marks a range-diff note (after a force-pushed rebase).
RANGE_DIFF_NOTE = "range-diff:\n"


@dataclass(frozen=True, slots=True)
class VerdictInput:
    """Everything the review screen knows when the reviewer decides."""

    change: Change
    verdict: str
    note: str
    active_seconds: float
    wall_seconds: float
    hunks_total: int
    hunks_viewed: int
    critique: CritiqueState | None
    domain: str = "default"
    #: Checklist items of the change's policy domains the reviewer ticked.
    checklist: tuple[str, ...] = ()
    #: A pair session's driver (None: git's identity here), the others, and its record fields.
    reviewer: Identity | None = None
    co_reviewers: tuple[Identity, ...] = ()
    extra: Mapping[str, Any] | None = None
    #: The unit reviewed (`core.units.Unit`): the verdict is recorded for each AI commit of it.
    unit: Any = None

    def record_extra(self) -> dict[str, Any]:
        return {"checklist": list(self.checklist), **(self.extra or {})}


@dataclass(frozen=True, slots=True)
class QueueRefresh:
    """What a live poll brings the queue screen."""

    update: QueueUpdate
    reviewed_today: int
    mine: dict[str, str]
    #: The items' rows (`core.queue.row_of`), made in the worker rather than on screen.
    rows: list[QueueRow] | None = None


class Services:
    def __init__(self, ctx: Context, now: Callable[[], datetime] = local_now) -> None:
        self.ctx = ctx
        self.now = now
        self.lock = threading.RLock()
        self._reviewer: Identity | None = None
        self._notices: list[str] = []
        self._source: QueueSource | None = None
        self._scanner: Scanner | None = None
        #: `daily` (unmerged work, then recent main) or `all` (the audit view too).
        self.queue_view = "daily"
        #: The last unit grouping (`reviewq.workflow.units.UnitQueue`): unit diffs and verdicts read it.
        self.units: Any = None
        self._pool: Any = None
        self._pool_broken = False
        self._pool_closed = False
        self._pool_lock = threading.Lock()
        #: The last `load_queue_rows`, until `keep_queue_answer` stores it.
        self._answer: Any = None
        #: `prefetch_stored_queue`'s thread and its result, until `stored_queue` takes it.
        self._prefetch: tuple[threading.Thread, list[Any]] | None = None
        #: The diff prepared for the queue row under the cursor (`screens.review.PreparedDiff`),
        #: until the review screen opened on it takes it.
        self._prepared: Any = None
        #: Its own lock: the UI thread takes it, and `lock` may be held by a queue load.
        self._prepared_lock = threading.Lock()
        #: The prepare under way: (change id, set when it is done).
        self._preparing: tuple[str, threading.Event] | None = None
        #: Counts `set_viewed` calls: a diff prepared across one is not kept.
        self._viewed_generation = 0

    def gather_stats(self) -> Any:
        """The stats screen's inputs: this repository's log and notes, or the team's when
        `[team] repos` names more repositories (`MetricInputs` / `TeamInputs`)."""
        from reviewq.workflow.stats import context_team_paths, gather, gather_team

        paths = context_team_paths(self.ctx)
        return gather_team(paths) if paths else gather(self.ctx)

    # -- work in another process ----------------------------------------------------------------

    def offload(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` in a worker process (`reviewq.core.pace.OFFLOAD`,
        `reviewq.tui.worker_process`): the rationale and the static critique of a large change
        hold the interpreter for tens of milliseconds at a time, and in this process that is
        the reviewer's keys waiting. Same result as running it here, which is what happens
        when no process can be started; a process that dies or runs out of time raises
        `WorkerFailed` with the reason (the screen shows it), and so does a job whose screen
        closed (`worker_process.CANCELLED`), after its process is ended."""
        from reviewq.tui.worker_process import WorkerCancelled, WorkerUnavailable

        if self._pool_closed:
            raise WorkerCancelled("the app is closing")
        if not self._pool_broken:
            try:
                pool = self._pool or self.start_worker_process()
                return pool.run(fn, *args)
            except WorkerUnavailable:
                self._pool_broken = True
        return fn(*args)

    def start_worker_process(self) -> Any:
        """Get the worker processes `offload` uses ready (the first job starts one). The TUI
        calls this before the app takes over the terminal: multiprocessing's resource tracker
        is started with the process's stderr, which Textual replaces while it runs."""
        from reviewq.tui.worker_process import WorkerCancelled, WorkerProcesses

        with self._pool_lock:
            if self._pool_closed:
                raise WorkerCancelled("the app is closing")
            pool = self._pool = self._pool or WorkerProcesses()
        pool.start()
        return pool

    def worker_pids(self) -> list[int]:
        """The worker processes alive now (tests check none is left behind)."""
        return self._pool.pids() if self._pool is not None else []

    def close(self) -> None:
        """End the worker processes, idle or busy; later jobs raise `WorkerCancelled`."""
        with self._pool_lock:
            self._pool_closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # -- queue and diffs ----------------------------------------------------------------------

    def queue_source(self) -> QueueSource:
        """The queue as something to poll (`reviewq.workflow.queue`): one per app, sharing `lock`."""
        from reviewq.workflow.queue import QueueSource

        if self._source is None:
            self._source = QueueSource(self.ctx, now=self.now, lock=self.lock, load=self._pending)
        return self._source

    def load_queue(self) -> list[QueueItem]:
        """The pending queue. When the team's verdicts (the notes ref) cannot be read, the queue
        is built from this machine's log alone and `take_notices` says so: the reviewer can go
        on, and is told what to repair (nothing recorded is touched)."""
        return self.queue_source().refresh().items

    @property
    def scanner(self) -> Scanner:
        """The app's scanner: kept, so a refresh decodes only the changes new since the last."""
        from reviewq.workflow.scan import Scanner

        if self._scanner is None:
            self._scanner = Scanner(self.ctx)
        return self._scanner

    def _pending(self, ctx: Context, **kwargs: Any) -> list[QueueItem]:
        """The queue source's load: the pending queue, falling back to this machine's verdicts
        when the notes ref cannot be read (a notice says so)."""
        from reviewq.store.notes_log import NotesError
        from reviewq.workflow.units import build_units

        kwargs.setdefault("scanner", self.scanner if ctx is self.ctx else None)
        kwargs.setdefault("for_view", self.queue_view)  # daily: the audit view is sized on `A`
        # What `reviewq.workflow.queue.pending_queue` returns, with the grouping kept (unit diffs and
        # verdicts read it) and the view the reviewer chose.
        now = kwargs.pop("now", None) or self.now()
        try:
            units = build_units(ctx, now, **kwargs)
        except NotesError as exc:
            self._notices.append(
                "The team's verdicts could not be read, so the queue shows only the "
                f"verdicts recorded on this machine: {exc.message}"
            )
            units = build_units(ctx, now, include_notes=False, **kwargs)
        self.units = units
        return units.items(self.queue_view, sort=None)

    def hidden_audit(self) -> int:
        """How many older AI commits on main the daily queue leaves to the audit view."""
        if self.units is None or self.queue_view == "all":
            return 0
        return len(self.units.audit)

    def set_queue_view(self, view: str) -> None:
        """`daily` or `all`; the next load (forced: the refs did not move) uses it."""
        self.queue_view = view
        if self._source is not None:
            self._source._seen = None

    def load_unit_diff(self, unit: Any, mode: str, step: int) -> tuple[Diff, str]:
        """(the diff to show, a note) for a unit: `unit` the combined diff from the merge base,
        `commit` its commit number `step`, `since` the interdiff since your verdict (after a
        force-push the range-diff comes back as the note: it is not a diff of files)."""
        from reviewq.sources.diffs import parse_unified_diff, read_commit_diff
        from reviewq.workflow.lookup import diff_of
        from reviewq.workflow.units import unit_diffs

        with self.lock:
            queue = self.units
        if mode == "commit":
            sha = unit.commits[step]
            change = queue.changes.get(sha) if queue is not None else None
            if change is not None:
                return diff_of(self.ctx, change), ""
            return read_commit_diff(self.ctx.git, sha), "a human commit (no agent markers)"
        diffs = unit_diffs(self.ctx, unit, queue)
        if mode == "since":
            if diffs.since_kind == "interdiff":
                return parse_unified_diff(diffs.since.encode(), source="interdiff"), ""
            note = diffs.note or (RANGE_DIFF_NOTE + diffs.since if diffs.since else "")
            return parse_unified_diff(diffs.combined.encode(), source="unit"), note
        return parse_unified_diff(diffs.combined.encode(), source="unit"), ""

    def find_item(self, text: str, items: list[QueueItem]) -> QueueItem | None:
        """The item `text` names: a unit's ref as typed (`origin/codex/fix`, `refs/pull/7/head`,
        `inbox:<id>`) or a commit (sha, HEAD) in one of the items' units."""
        from reviewq.workflow.units import full_ref

        ref = text if text.startswith("inbox:") else full_ref(self.ctx, text)
        for item in items:
            unit = item.unit
            if unit is not None and ref is not None and unit.ref == ref:
                return item
        if ref is not None and self.units is not None and ref in self.units.work:
            text = self.units.work[ref]  # a branch whose tip sits in another unit (its PR)
        sha = text if text.startswith("inbox:") else self.ctx.git.try_resolve(text)
        for item in items:
            unit = item.unit
            if sha and (item.change.id == sha or (unit is not None and sha in unit.commits)):
                return item
        return None

    def unit_commit_rows(self, unit: Any) -> list[dict[str, Any]]:
        """The unit's commits, each with agent and prompt (or marked human)."""
        from reviewq.workflow.units import unit_details

        with self.lock:
            queue = self.units
        return unit_details(self.ctx, unit, queue)["commits"]

    @staticmethod
    def report_column_builds(progress: Callable[[int, int], None] | None) -> None:
        """Call `progress(bytes done, bytes in all)` while this thread builds a log column
        cache (`None` stops it). The first open over a large log reads all of it once."""
        from reviewq.store.verdict_columns import BUILD_PROGRESS

        BUILD_PROGRESS.set(progress)

    def open_in_editor(self, path: Path, line: int | None, env: Mapping[str, str]) -> None:
        """Run the reviewer's `$VISUAL`/`$EDITOR` (from `env`, the app's environment; else vi)
        on `path` at `line`; the caller hands the terminal over (`App.suspend`). Raises OSError
        when it cannot be run."""
        editor = env.get("VISUAL") or env.get("EDITOR") or "vi"
        argv = [*shlex.split(editor), *([f"+{line}"] if line else []), str(path)]
        subprocess.run(argv, check=False)

    def take_notices(self) -> list[str]:
        """Warnings from the last loads, for the screen to show once."""
        notices, self._notices = self._notices, []
        return notices

    def apply_patch(self, change: Change, branch: str) -> Applied:
        """`git am` an inbox patch onto `branch` (a new branch starts from main)."""
        from reviewq.workflow.apply_patch import apply_patches

        with self.lock:
            return apply_patches(self.ctx, change.id, branch, create=True, now=self.now())

    def inbox_verdict(self, change: Change) -> str | None:
        """The latest verdict on an inbox patch (by its patch-id), or None."""
        from reviewq.workflow.recording import settled_index

        pid = change.id.removeprefix("inbox:")
        return settled_index(self.ctx).latest(sha=None, patch_id=pid, change_id=change.id)

    def poll_queue(self) -> QueueRefresh | None:
        """Every few seconds, from a worker: None unless refs, notes, the inbox or the log moved
        (a cheap check); else the incrementally refreshed queue and this reviewer's progress.
        The refreshed rows are kept for the next open too (`keep_queue_answer`)."""
        from reviewq.core.queue import row_of
        from reviewq.workflow.queue_answer import answer_key

        source = self.queue_source()
        with source.lock:  # as `QueueSource.poll`, with the inputs' key taken before the refresh
            if not source.changed():
                return None
            try:
                key = answer_key(self.ctx, self.queue_view)
            except Exception:  # the answer is a convenience; the refresh goes on without it
                key = None
            update = source.refresh()
        count, mine, times, start = self._progress()
        rows = [row_of(i) for i in update.items]
        self.keep_queue_answer(key, (self.queue_view, rows, mine, times, start, self.units))
        return QueueRefresh(update, count, mine, rows)

    def load_diff(self, change: Change) -> Diff:
        from reviewq.workflow.lookup import diff_of

        return diff_of(self.ctx, change)

    def file_lines(self, rev: str, path: str, encoding: str = "utf-8") -> list[str] | None:
        """The file `path` as commit `rev` holds it, line by line (decoded as its diff was),
        for more context around a hunk; None when it is binary. GitError when `rev` has no
        such file."""
        data = self.ctx.git.run(["cat-file", "blob", f"{rev}:{path}"], what="cat-file")
        if b"\0" in data[:BINARY_PROBE]:  # git's own rule (`Git.binary_blobs`)
            return None
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            text = data.decode("latin-1")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines

    def reviewer(self) -> Identity:
        if self._reviewer is None:
            git = self.ctx.git
            self._reviewer = Identity(
                git.config_get("user.name") or "", git.config_get("user.email") or ""
            )
        return self._reviewer

    def my_progress(self) -> tuple[int, dict[str, str]]:
        """(verdicts this reviewer recorded since midnight, change id -> their latest verdict),
        from the local provenance log.

        Read through the log's column cache (`store.verdict_columns`), which parses each record
        once: a million-record log costs a fraction of a second here, not seconds. Midnight is
        the app clock's (`now`).
        """
        count, mine, _times, _start = self._progress()
        return count, mine

    def _progress(self) -> tuple[int, dict[str, str], list[float], float]:
        """`my_progress`, plus the times of this reviewer's verdicts since midnight and that
        midnight (a stored queue answer counts "today" again from them when shown)."""
        import numpy as np

        from reviewq.store.verdict_columns import CACHE_NAME, load_verdict_table

        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight.timestamp()
        end = (midnight + timedelta(days=1)).timestamp()
        table = load_verdict_table(self.ctx.log_path, self.ctx.log_cache(CACHE_NAME))
        me = self.reviewer().email.strip().lower()
        if me:
            if me not in table.reviewers:
                return 0, {}, [], start
            rows = np.flatnonzero(table.reviewer == table.reviewers.index(me))
        else:
            rows = np.arange(len(table))
        epochs = table.epoch[rows]
        count = int(np.count_nonzero((epochs >= start) & (epochs < end)))
        mine: dict[str, str] = {}
        changes, verdicts = table.changes, table.verdict
        for row in rows.tolist():  # in log order: the latest verdict wins
            mine[changes[table.change[row]]] = VERDICTS[verdicts[row]]
        return count, mine, epochs[epochs >= start].tolist(), start

    # -- the stored queue answer (reviewq/workflow/queue_answer.py) ---------------------------

    def prefetch_stored_queue(self) -> None:
        """Start `stored_queue` in a thread now (the TUI does, before it imports the app): its
        `git` calls and file reads then overlap the app's start, and the queue screen's worker
        takes the result. Never raises."""
        holder: list[Any] = []

        def run() -> None:
            holder.append(self._stored_queue_now())

        thread = threading.Thread(target=run, name="reviewq-stored-queue", daemon=True)
        try:
            thread.start()
        except RuntimeError:
            return
        self._prefetch = (thread, holder)

    def stored_queue_ready(self) -> tuple[str | None, StoredQueue | None] | None:
        """`stored_queue`, when the thread `prefetch_stored_queue` started has finished; else
        None at once (and the worker asks `stored_queue`)."""
        prefetch = self._prefetch
        if prefetch is None or prefetch[0].is_alive():
            return None
        return self.stored_queue()

    def stored_queue(self) -> tuple[str | None, StoredQueue | None]:
        """(the key of the queue's inputs now, the stored answer when it answers that key):
        what the queue screen may draw before the real queue is in. Never raises: the answer
        is a convenience, and without one the screen waits for the real queue as before."""
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            thread, holder = prefetch
            thread.join()
            if holder:
                key, stored = holder[0]
                if stored is not None and not stored.holds_at(self.now()):
                    stored = None  # time passed its valid_until since it was read
                return key, stored
        return self._stored_queue_now()

    def _stored_queue_now(self) -> tuple[str | None, StoredQueue | None]:
        from reviewq.workflow.queue_answer import answer_key, load

        try:
            key = answer_key(self.ctx, self.queue_view)
            return key, load(self.ctx, self.queue_view, key, self.now())
        except Exception:
            return None, None

    def load_queue_rows(
        self, key: str | None = None, *, keep: bool = True
    ) -> tuple[list[QueueItem], list[QueueRow], int, dict[str, str]]:
        """The queue screen's load: (items, their rows, verdicts today, my verdicts), and the
        answer kept for the next open when nothing moved while it was computed (`key`: the
        inputs' key taken before, as `stored_queue` returned it). `keep=False`: kept only when
        `keep_queue_answer(key)` is called (after the screen has the rows)."""
        from reviewq.core.queue import row_of

        items = self.load_queue()
        count, mine, times, start = self._progress()
        rows = [row_of(item) for item in items]
        self._answer = (self.queue_view, rows, mine, times, start, self.units)
        if keep:
            self.keep_queue_answer(key)
        return items, rows, count, mine

    def keep_queue_answer(self, key: str | None, answer: Any = None) -> None:
        """Store the last `load_queue_rows` (or `answer`, in its shape) for the next open, if
        the queue's inputs still have `key` (what they had before it was computed). Never
        raises."""
        from reviewq.workflow.queue_answer import answer_key, store

        if answer is None:
            answer, self._answer = self._answer, None
        if key is None or answer is None:
            return
        view, rows, mine, times, start, units = answer
        try:
            if units is not None and answer_key(self.ctx, view) == key:
                # What the queue screen draws them with at the next open (their order, the
                # columns' widths), so that its first screen reads only the rows it shows.
                from reviewq.tui.screens.queue import stored_display

                now = self.now()
                store(
                    self.ctx,
                    view,
                    key,
                    rows,
                    mine=mine,
                    my_times=times,
                    day_start=start,
                    hidden_audit=len(units.audit) if view == "daily" else 0,
                    valid_until=units.valid_until,
                    stored_at=now,
                    display=stored_display(rows, mine, now),
                )
        except Exception:  # keeping the answer is a convenience, never an error
            pass

    # -- viewed marks and drafts (local cache) ------------------------------------------------

    @staticmethod
    def _viewed_key(change: Change, path: str) -> str:
        return f"{change.id}:{path}"

    @staticmethod
    def diff_hash(diff: Diff) -> str:
        """One hash for the whole diff (from the per-file hashes the parser computed)."""
        joined = "\n".join(f"{fd.path}\0{fd.content_hash}" for fd in diff.files)
        return hashlib.sha256(joined.encode("utf-8", "replace")).hexdigest()

    def viewed_paths(self, change: Change, diff: Diff) -> set[str]:
        """Files marked viewed whose diff is still the one that was marked (hash matches)."""
        with self.lock:
            cache = self.ctx.cache
            return {
                fd.path
                for fd in diff.files
                if fd.content_hash
                and cache.get("viewed", self._viewed_key(change, fd.path)) == fd.content_hash
            }

    def viewed_generation(self) -> int:
        """Changes with each viewed mark set here (`keep_prepared` compares)."""
        return self._viewed_generation

    def keep_prepared(self, prepared: Any, generation: int) -> bool:
        """Keep `prepared` (`screens.review.PreparedDiff`: a change's diff, model, rows and
        viewed marks) for the review screen that opens its change next; one at a time. Not
        kept (False) when a viewed mark was set since `generation` was read."""
        with self._prepared_lock:
            if generation != self._viewed_generation:
                return False
            self._prepared = prepared
            return True

    def preparing(self, change_id: str) -> threading.Event:
        """A prepare of `change_id`'s diff starts: `wait_prepared` waits for the returned
        event, which the preparer sets when it is done (kept or not)."""
        done = threading.Event()
        with self._prepared_lock:
            self._preparing = (change_id, done)
        return done

    def wait_prepared(self, change: Change, timeout: float) -> Any:
        """For a screen's diff worker: the prepare of `change` under way (Enter came before it
        finished) is waited for rather than done twice, then taken (None: none under way for
        it, or nothing kept)."""
        with self._prepared_lock:
            under_way = self._preparing
        if under_way is None or under_way[0] != change.id:
            return None
        under_way[1].wait(timeout)
        return self.take_prepared(change)

    def take_prepared(self, change: Change) -> Any:
        """The prepared diff of `change`, once (None: none, or one of another change or
        commit); whatever was kept is forgotten."""
        with self._prepared_lock:
            prepared, self._prepared = self._prepared, None
        if prepared is None or prepared.change_id != change.id or prepared.sha != change.commit.sha:
            return None
        return prepared

    def set_viewed(self, change: Change, fd: FileDiff, viewed: bool) -> None:
        with self._prepared_lock:
            self._viewed_generation += 1
            if self._prepared is not None and self._prepared.change_id == change.id:
                self._prepared = None  # its viewed marks are no longer these
        with self.lock:
            cache = self.ctx.cache
            key = self._viewed_key(change, fd.path)
            if viewed:
                cache.put("viewed", key, fd.content_hash)
            else:
                cache.delete("viewed", key)
            cache.flush()

    def draft(self, change: Change) -> Draft:
        with self.lock:
            data = self.ctx.cache.get("drafts", change.id) or {}
        seen = tuple(
            (int(pair[0]), int(pair[1]))
            for pair in data.get("hunks_seen", [])
            if isinstance(pair, list) and len(pair) == 2
        )
        return Draft(
            str(data.get("note", "")),
            float(data.get("active_seconds", 0.0)),
            float(data.get("wall_seconds", 0.0)),
            seen,
            str(data.get("diff_hash", "")),
        )

    def save_draft(self, change: Change, draft: Draft, timeout: float | None = None) -> bool:
        """Store a draft; with `timeout`, give up (False) if the cache stays busy that long."""
        if not self.lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            cache = self.ctx.cache
            cache.put(
                "drafts",
                change.id,
                {
                    "note": draft.note,
                    "active_seconds": round(draft.active_seconds, 3),
                    "wall_seconds": round(draft.wall_seconds, 3),
                    "hunks_seen": [list(pair) for pair in draft.hunks_seen],
                    "diff_hash": draft.diff_hash,
                },
            )
            cache.flush()
        finally:
            self.lock.release()
        return True

    def drop_draft(self, change: Change) -> None:
        with self.lock:
            self.ctx.cache.delete("drafts", change.id)
            self.ctx.cache.flush()

    # -- verdicts -----------------------------------------------------------------------------

    def record_verdict(self, data: VerdictInput) -> tuple[dict[str, Any], list[str]]:
        """Append the verdict to the provenance log: (the stored record, warnings).

        Warnings (the team's notes ref could not be updated) come back as text for the screen:
        anything printed to stderr would tear through the TUI.
        """
        from reviewq.workflow.recording import record_verdict

        warnings: list[str] = []
        unit = data.unit
        if unit is not None and self.units is not None and len(unit.ai) > 1:
            return self._record_unit_verdict(data, warnings)
        with self.lock:
            record = record_verdict(
                self.ctx,
                data.change,
                data.verdict,
                note=data.note,
                active_seconds=data.active_seconds,
                wall_seconds=data.wall_seconds,
                hunks_total=data.hunks_total,
                hunks_viewed=data.hunks_viewed,
                critique=data.critique,
                domain=data.domain,
                extra=data.record_extra(),
                warn=warnings.append,
                notice=warnings.append,
                clock=self.now,
                reviewer=data.reviewer,
                co_reviewers=data.co_reviewers,
            )
            self.ctx.cache.delete("drafts", data.change.id)
            self.ctx.cache.delete("pair_drafts", data.change.id)
            self.ctx.cache.flush()
        return record, warnings

    def _record_unit_verdict(
        self, data: VerdictInput, warnings: list[str]
    ) -> tuple[dict[str, Any], list[str]]:
        """A verdict on a unit: one record per AI commit, each naming the unit (one batch),
        the review shared out as `reviewq.workflow.units.record_unit_verdict` does for the CLI: each
        record its own commit's lines and hunks, the time in proportion to its lines, the
        fraction of the combined diff's hunks viewed."""
        from reviewq.workflow.units import record_unit_verdict

        with self.lock:
            stored = record_unit_verdict(
                self.ctx,
                data.unit,
                self.units,
                data.verdict,
                note=data.note,
                seconds=data.active_seconds,
                wall_seconds=data.wall_seconds,
                hunks_viewed=min(data.hunks_viewed, data.hunks_total),
                hunks_seen_of=data.hunks_total,
                policy_fields=lambda _change: (data.domain, list(data.checklist)),
                critique_of=lambda _change: data.critique,
                notice=warnings.append,
                warn=warnings.append,
                clock=self.now,
                reviewer=data.reviewer,
                co_reviewers=data.co_reviewers,
                extra=data.record_extra(),
            )
            self.ctx.cache.delete("drafts", data.change.id)
            self.ctx.cache.flush()
        return stored[-1], warnings

    # -- policy -------------------------------------------------------------------------------

    def requirements(self, change: Change) -> Requirements:
        """What the policy asks of the domains this change touches (pure; no git)."""
        from reviewq.workflow.gate import policy_of

        policy = policy_of(self.ctx.config)
        return policy.requirements(policy.domains_for(change.paths))

    def approval_problems(self, data: VerdictInput) -> list[str]:
        """Why an approval like this one would not count under the policy (empty: it would).

        The policy names one reason at a time (the first it meets); the dialog wants them all
        at once, so the ones the reviewer can fix here (too fast, checklist) are set aside in
        turn and the approval judged again, up to a reason that no waiting or ticking fixes.
        """
        requirements = self.requirements(data.change)
        problems: list[str] = []
        current = data
        for _ in range(4):
            evaluation = self._judge_approval(current, requirements)
            reasons = [n for n in evaluation.not_counted if n.code != "unsigned"]
            problems += [n.message for n in reasons]
            codes = {n.code for n in reasons}
            if codes == {"too-fast"}:
                current = replace(current, active_seconds=float(10**9))
            elif codes == {"checklist"}:
                current = replace(current, checklist=tuple(requirements.checklist))
            else:
                break
        if not evaluation.not_counted:
            # Only for an approval that would otherwise count: for one that would not, the
            # policy's "no counted approval had a second-family critique" is an echo. The
            # preview judges this approval alone: "so far" is this one.
            problems += [
                n.message.replace("; approvals so far had ", "; this approval has ")
                for n in evaluation.needs
                if n.code == "second-family"
            ]
        return problems

    def _judge_approval(self, data: VerdictInput, requirements: Any) -> Any:
        """The policy's evaluation of this approval alone, as `record_verdict` would write it:
        the dialog and the gate cannot disagree. Signatures are left out (made on recording)."""
        change = data.change
        record = new_record(
            record_id="preview",
            sha=change.sha,
            change_id=change.id,
            patch_id=None,
            verdict="approve",
            reviewer=data.reviewer or self.reviewer(),
            at=self.now().isoformat(timespec="seconds"),
            active_seconds=data.active_seconds,
            wall_seconds=data.wall_seconds,
            lines_changed=change.stats.lines_changed if change.stats else 0,
            hunks_total=data.hunks_total,
            hunks_viewed=data.hunks_viewed,
            critique=data.critique,
            author_family=change.authorship.family,
            domain=data.domain,
            co_reviewers=data.co_reviewers,
            extra=data.record_extra(),
        )
        return evaluate(
            change,
            requirements,
            [record],
            now=self.now(),
            agent_rules=self.ctx.config.agents,
        )

    # -- critiques ----------------------------------------------------------------------------

    # These do not hold `lock` while they work: a model critic can wait minutes on the network
    # (timeouts, retries, Retry-After), and a verdict must be recordable meanwhile. The cache
    # locks each of its own operations; `_open_cache` makes sure it exists first (opening it is
    # not thread-safe).

    def _open_cache(self) -> None:
        with self.lock:
            self.ctx.cache  # noqa: B018 - opens it once, under the lock

    def critique(self, change: Change, refresh: bool = False) -> Critique:
        """The configured critic's critique (cached when one exists; the family guard applies)."""
        from reviewq.workflow.critiquing import get_critique

        self._open_cache()
        return get_critique(self.ctx, change, refresh=refresh)

    def rationale(self, change: Change, diff: Diff | None = None) -> Rationale:
        """The offline design-rationale summary (plus a model critic's, when one is cached);
        `diff`, when the screen has parsed it already, is not read and parsed again."""
        from reviewq.workflow.critiquing import critique_input, rationale_for

        self._open_cache()
        subject = critique_input(self.ctx, change, diff) if diff is not None else None
        return rationale_for(self.ctx, change, subject=subject)

    def cached_critique(self, change: Change) -> Critique | None:
        from reviewq.workflow.critiquing import cached_critique

        self._open_cache()
        return cached_critique(self.ctx, change)

    # -- pair sessions ------------------------------------------------------------------------

    #: How many people the start dialog remembers (most recent first).
    RECENT_PEOPLE = 12

    def recent_people(self) -> list[str]:
        """`Name <email>` of people named in earlier pair sessions here, most recent first."""
        with self.lock:
            data = self.ctx.cache.get("pair", "recent") or []
        return [p for p in data if isinstance(p, str)][: self.RECENT_PEOPLE]

    def remember_people(self, people: list[str]) -> None:
        with self.lock:
            known = self.ctx.cache.get("pair", "recent") or []
            merged = list(dict.fromkeys([*people, *(p for p in known if isinstance(p, str))]))
            self.ctx.cache.put("pair", "recent", merged[: self.RECENT_PEOPLE])
            self.ctx.cache.flush()

    def pair_draft(self, change: Change) -> dict[str, Any]:
        """What a pair session left on this change without a verdict (notes, ticks, time)."""
        with self.lock:
            data = self.ctx.cache.get("pair_drafts", change.id)
        return data if isinstance(data, dict) else {}

    def save_pair_draft(
        self, change: Change, draft: dict[str, Any], timeout: float | None = None
    ) -> bool:
        if not self.lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            self.ctx.cache.put("pair_drafts", change.id, draft)
            self.ctx.cache.flush()
        finally:
            self.lock.release()
        return True

    def drop_pair_draft(self, change: Change) -> None:
        with self.lock:
            self.ctx.cache.delete("pair_drafts", change.id)
            self.ctx.cache.flush()
