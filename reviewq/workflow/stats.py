"""Gathering what the metrics need from the repository: the shell around `core.metrics`.

`stats`, `report` and the stats screen all come through `gather` and `MetricInputs.stats`, so
they cannot disagree about which verdicts, changes, commits or settings a figure comes from.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

import numpy as np

from reviewq import __version__
from reviewq.clock import local_now, local_zone
from reviewq.context import Context, load_config
from reviewq.core import safejson
from reviewq.core.config import MetricsSettings
from reviewq.core.jsonio import parse_line, parse_line_strictly
from reviewq.core.metrics import (
    AuthoredChange,
    ChangeTable,
    CommitTable,
    LineLabels,
    RepositoryTables,
    Stats,
    Thresholds,
    VerdictTable,
    authored_changes,
    combine_repositories,
    compute_stats,
    labels_among,
)
from reviewq.core.metrics.compute import label_rows
from reviewq.core.model import SEVERITIES, Change
from reviewq.core.verdict import dedupe_records, line_hash_matches
from reviewq.errors import ReviewqError
from reviewq.files import replace_file
from reviewq.sources.gitcmd import Git
from reviewq.store.cache_digests import CRITIQUES_TABLE, file_stamp, table_digest
from reviewq.store.log import ProvenanceLog
from reviewq.store.notes_log import NOTES_REF, changed_notes, read_verdict_notes
from reviewq.store.verdict_columns import (
    CACHE_NAME,
    load_log_table,
    load_table_after_cache,
    load_table_and_ids,
    wait_stored,
)
from reviewq.workflow import table_prefetch
from reviewq.workflow.scan_answer import DETECTOR_VERSION, STATE_VERSION

# start-up: the scan (its detector, the git log reader), the commit sizes and the policy's
# rules are imported by the full path only; a warm `stats` answers from the summary without
# them. Named here so that the full path's steps stay this module's own names.


def scan_history(*args: Any, **kwargs: Any) -> Any:
    from reviewq.workflow.scan import scan_history as scan

    return scan(*args, **kwargs)


def scan_inbox(ctx: Context) -> list[Change]:
    from reviewq.workflow.scan import scan_inbox as inbox

    return inbox(ctx)


def warn_unknown_sizes(ctx: Context, changes: Sequence[Change]) -> None:
    from reviewq.workflow.scan import warn_unknown_sizes as warn

    warn(ctx, changes)


def commit_sizes(*args: Any, **kwargs: Any) -> Any:
    from reviewq.sources.commit_sizes import commit_sizes as sizes

    return sizes(*args, **kwargs)


@dataclass
class MetricInputs:
    """Everything `compute_stats` reads, gathered once (the stats screen recomputes from it)."""

    table: VerdictTable
    changes: ChangeTable | list[AuthoredChange]
    commits: CommitTable | None
    severity: dict[str, str]
    #: AI-authored changes that fall short of the policy, as dicts; None when no policy is
    #: configured or it was not asked for (`gather(..., policy=True)`).
    violations: list[dict[str, Any]] | None
    thresholds: Thresholds
    tz: tzinfo | None
    repository: str
    #: Author model families and models seen among AI-authored changes: family -> models.
    models: dict[str, list[str]]
    #: What these figures were computed from, exactly (the report's input block; see `pin`).
    provenance: dict[str, Any] | None = None
    #: The repository's own settings' time zone (`[metrics] timezone`), before any --tz.
    settings_tz: str | None = None
    #: Pinned (`pin`) while the log or notes have grown since: the policy judgement, which reads
    #: every verdict there is now, cannot be recomputed as it was.
    verdicts_moved: bool = False
    #: Several repositories joined (`combine_inputs`): change ids carry their position.
    namespaced: bool = False
    #: The AI-authored changes themselves and their cached critiques, summarised (`export`).
    change_list: list[Change] | None = None
    critiques: list[dict[str, Any]] | None = None
    #: The repository's parsed settings (`Config.sections`: the export's domains).
    config_sections: Mapping[str, Any] | None = None
    #: Each label of `table.changes` -> its row of `changes` (-1: none), when kept
    #: (`_kept_rows`); None: `compute_stats` works it out.
    change_rows: np.ndarray | None = None

    def stats(self, now: datetime, since: datetime | None = None, *, days: bool = True) -> Stats:
        stats = self._stats(now, since, days)
        pending = stats.queue.oldest_pending_id
        if self.namespaced and pending:
            # Several repositories' change ids are `<position>:<id>` inside; show the id.
            stats.queue.oldest_pending_id = pending.partition(":")[2]
        return stats

    def _stats(self, now: datetime, since: datetime | None, days: bool) -> Stats:
        return compute_stats(
            self.table,
            days=days,
            now=now,
            changes=self.changes,
            commits=self.commits,
            severity=self.severity,
            since=since,
            tz=self.tz,
            thresholds=self.thresholds,
            change_rows=self.change_rows,
        )


def verdict_table(
    ctx: Context,
    agent_of: dict[str, str],
    pin: Mapping[str, Any] | None = None,
    *,
    no_notes: bool = False,
) -> VerdictTable:
    """Every verdict known here, as metric columns: the one place metrics read verdicts.

    The same records as `reviewq.workflow.recording.load_verdicts` (the local log, and the team's records
    from the notes ref, one per id), but the local log comes through the column cache: a
    million-record log is parsed once, not on every `stats`.

    `pin` (a report's input block, `reviewq report --check`): the log up to the record it names
    and the notes ref at the tip it names, however both have grown since. `no_notes`: the
    caller just saw that there is no notes ref (spares two git calls per repository).
    """
    return _verdict_table(ctx, agent_of, pin, no_notes=no_notes)[0]


def _verdict_table(
    ctx: Context,
    agent_of: Mapping[str, str],
    pin: Mapping[str, Any] | None = None,
    *,
    no_notes: bool = False,
) -> tuple[VerdictTable, list[dict[str, Any]]]:
    """`verdict_table`, and the notes records the log lacks (those it holds beyond the log's)."""
    if pin is None:
        local = load_table_and_ids(ctx.log_path, ctx.log_cache(CACHE_NAME))
        notes = [] if no_notes else read_verdict_notes(ctx.git).records
    else:
        local = _pinned_log_table(ctx, pin["log"])
        notes = _pinned_notes(ctx, pin.get("notes_tip"))
    lacking = _lacked(local, notes)
    return _with_records(local.table, lacking, agent_of), lacking


def _lacked(local: Any, records: list[Any]) -> list[dict[str, Any]]:
    """The records (the team's, from the notes) whose id the log's columns `local` lack."""
    records = [r for r in records if isinstance(r, dict)]
    if not records:
        return []
    lacking = local.lacks([str(r.get("id")) for r in records])
    return [r for r, new in zip(records, lacking.tolist()) if new]


def _with_records(
    table: VerdictTable, extra: list[dict[str, Any]], agent_of: Mapping[str, str]
) -> VerdictTable:
    if extra:
        table = VerdictTable.concat([table, VerdictTable.from_records(extra)])
    return table.with_agents(agent_of)


def _summary_table(
    ctx: Context,
    agent_of: Mapping[str, str],
    notes_tip: str | None,
    end: Any,
    kept: Any,
    candidates: Sequence[dict[str, Any]] = (),
) -> tuple[VerdictTable, list[dict[str, Any]], bool]:
    """`verdict_table` for the summary path, and the notes records the log lacks.

    The summary keeps those records as of the log end it was stored at (`end`; the notes tip
    is in its key). The log only grew since (checked by the caller): what it lacks now is
    what it lacked then less the ids of the records after the column cache's end, which
    covers no more than `end`. So neither the notes nor the log's million ids are read.
    `candidates`: notes records read since (`_notes_since`), which the log may or may not
    hold: those the records after the cache's end hold are not lacking (a verdict recorded
    here since: the usual case); any other, and the log's ids are read to tell.
    Returns (table, the records the log lacks now, whether they were read afresh)."""
    valid = (
        isinstance(kept, dict) and kept.get("log") == end and isinstance(kept.get("records"), list)
    )
    cache = ctx.log_cache(CACHE_NAME)
    # Read while the modules loaded, if it was (for this log, unchanged since); joined here
    # either way, before the full load below (which may fork).
    prefetched = table_prefetch.take(ctx.log_path, cache)
    if valid:
        found = (
            prefetched[0] if prefetched is not None else load_table_after_cache(ctx.log_path, cache)
        )
        # Candidates none of the tail's records hold: the log's ids tell, below.
        if found is not None and found[1] <= int(end["size"]) and not _lacked(found[0], candidates):
            lacking = _lacked(found[0], kept["records"])
            return _with_records(found[0].table, lacking, agent_of), lacking, False
    local = load_table_and_ids(ctx.log_path, ctx.log_cache(CACHE_NAME))
    if valid:
        # Every id of the log now (a first build's, say): of the notes' records (the same
        # tip), those it lacks now are those it lacked then not appended since (every other
        # one was in the log then, and the log only grew). No git read of the notes.
        lacking = _lacked(local, kept["records"])
        if candidates:
            lacking = dedupe_records([*lacking, *_lacked(local, candidates)])
        return _with_records(local.table, lacking, agent_of), lacking, False
    notes = [] if notes_tip is None else read_verdict_notes(ctx.git).records
    lacking = _lacked(local, notes)
    return _with_records(local.table, lacking, agent_of), lacking, True


def critiqued_ids(ctx: Context) -> set[Any]:
    """The change ids the critique cache has rows for (one pass over that table)."""
    # start-up: the critique machinery (its detectors compile ~250 patterns) only when asked
    from reviewq.workflow.critiquing import TABLE

    return {row.get("change_id") for _, row in ctx.cache.items(TABLE) if isinstance(row, dict)}


def critique_rows(
    ctx: Context, changes: Iterable[Any], critiqued: set[Any] | None = None
) -> list[dict[str, Any]]:
    """The cached critique of each of `changes` that has one, summarised (the export's
    critiques table). `cached_critique` reads the change's diff to know which critique applies,
    so it is asked only about changes the critique cache has rows for (`critiqued`, else
    `critiqued_ids`): on a long history most changes were never critiqued."""
    # start-up: as in `critiqued_ids`
    from reviewq.workflow.critiquing import cached_critique

    if critiqued is None:
        critiqued = critiqued_ids(ctx)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    out: list[dict[str, Any]] = []
    for change in changes:
        if change.id not in critiqued:
            continue
        critique = cached_critique(ctx, change)
        if critique is None:
            continue
        severities = [f.severity for f in critique.findings]
        out.append(
            {
                "change_id": change.id,
                "critic": critique.critic,
                "family": critique.family,
                "model": critique.model,
                "author_family": critique.author_family,
                "same_family_allowed": critique.same_family_allowed,
                "findings": len(severities),
                **{s: severities.count(s) for s in SEVERITIES},
                "highest_severity": max(severities, key=lambda s: rank.get(s, 0))
                if severities
                else "none",
                "tests_present": critique.tests_present,
                "effort": critique.effort,
            }
        )
    return out


def policy_violations(
    ctx: Context, changes: Sequence[Change], now: datetime
) -> list[dict[str, Any]] | None:
    """AI-authored changes that do not meet the policy now, as `reviewq queue` judges them
    (`workflow.gate.QueuePolicy`: the work tree's policy, every verdict this clone can read).

    None when the repository configures no policy (`[policy]` or `[[domains]]`): the report then
    says "policy: not configured" instead of judging against built-in defaults nobody chose.
    """
    if not any(name in ctx.config.sections for name in ("policy", "domains")):
        return None
    # start-up: the policy's machinery (gate, recording, signing) only when a policy is set
    from reviewq.core.policy_rules import domain_label
    from reviewq.workflow.gate import QueuePolicy

    judge = QueuePolicy(ctx, changes, now)
    out = []
    for change in changes:
        evaluation = judge.evaluation(change)
        if evaluation.passed:
            continue
        out.append(
            {
                "change": change.id,
                "sha": change.sha,
                "subject": change.commit.subject,
                "domain": domain_label(evaluation.domains),
                "rule": ", ".join(dict.fromkeys(n.code for n in evaluation.needs)),
                "message": "; ".join(n.message for n in evaluation.needs),
            }
        )
    return out


def resolve_tz(name: str, where: str = "--tz") -> tzinfo | None:
    """`record` -> None (each verdict's own offset); `local`, `UTC` or an IANA zone name."""
    key = name.strip()
    if key.lower() == "record":
        return None
    if key.lower() == "utc":
        return UTC
    if key.lower() == "local":
        return local_zone()

    # start-up: zoneinfo reads sysconfig; only for a zone named here
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReviewqError(
            f"{where}: unknown time zone {name!r}; use record, local, UTC or a name like "
            "Europe/Berlin"
        ) from None


_RELATIVE = re.compile(r"^(\d+)\s*([dw])$")


def parse_since(text: str, now: datetime, tz: tzinfo | None) -> datetime:
    """`--since`: `30d`, `12w`, a date (midnight in `tz`, else local) or an RFC 3339 time."""
    value = text.strip()
    match = _RELATIVE.match(value.lower())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(days=amount * (7 if unit == "w" else 1))
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ReviewqError(
            f"--since {text!r}: not a date; give 2026-11-01, 2026-11-01T09:00+01:00, 30d or 12w"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz or now.tzinfo)
    return when


def settings(ctx: Context) -> MetricsSettings:
    return ctx.config.metrics or MetricsSettings()


def gather(
    ctx: Context,
    tz_name: str | None = None,
    *,
    policy: bool = False,
    pin: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> MetricInputs:
    """Read verdicts, scan the history (cached), size every commit (cached); with `policy`,
    also judge every AI-authored change against the policy (the report's violations).

    The result names its inputs exactly (`provenance`). `pin`: such a block from a report;
    the history, log and notes are then read as they were then (`reviewq report --check`);
    an input that is gone raises `MissingInput`. `now`: the instant the policy is judged at.
    `full`: keep the changes themselves (`change_list`, for `export`), never the summary cache.
    """
    conf = settings(ctx)
    tz = resolve_tz(tz_name, "--tz") if tz_name else resolve_tz(conf.timezone, "metrics.timezone")
    git = ctx.git
    head = git.try_resolve("HEAD")
    summary_key = None
    if pin is None and not full and not (policy and _has_policy(ctx)) and not _has_inbox(ctx):
        summary_key = _summary_key(ctx, head)
        hit = _load_summary(ctx, summary_key, conf, tz)
        if hit is not None:
            return hit
    # A read started before the modules loaded (`table_prefetch`) and not used above: joined
    # and dropped (the paths below read for themselves, and may fork).
    table_prefetch.take(ctx.log_path, None)
    rev = head
    if pin is not None:
        rev = pin.get("revision")
        if rev is not None and not git.succeeds(["cat-file", "-e", f"{rev}^{{commit}}"]):
            raise MissingInput(f"revision {rev} (no longer in the repository)")
    early = None
    if pin is None:
        # The log's columns first: a first build's memory peaks while it joins a million
        # records' columns, better before the history's changes are held than beside them.
        # Used only if the log has not moved by the time its end is read for the report.
        early_end = _log_end(ctx)
        columns = load_table_and_ids(ctx.log_path, ctx.log_cache(CACHE_NAME))
        # A first build's cache written in a thread (`STORE_IN_BACKGROUND`) is written before
        # the history's changes are made: its arrays are let go once written, not held beside
        # them.
        wait_stored()
        # The record ids only tell which of the notes' records the log lacks: that is worked
        # out now, and the ids (~32 MB at a million records) let go before the history is
        # scanned. Used only if neither the log nor the notes ref has moved by then.
        early_tip = _notes_tip(ctx)
        notes = [] if early_tip is None else read_verdict_notes(ctx.git).records
        early = (early_end, early_tip, columns.table, _lacked(columns, notes))
        del columns, notes
    if rev is None:
        changes = []
    else:
        # A check trusts no cache: a local cache is not an input the report names.
        changes = list(
            scan_history(ctx, ["HEAD"] if rev == head else [rev], use_cache=pin is None).changes
        )
        warn_unknown_sizes(ctx, changes)
    # The inbox is a folder beside a work tree; a bare CI mirror has none to read.
    inbox = []
    if ctx.inbox_dir() is not None and not git.paths().is_bare:
        inbox = scan_inbox(ctx)
    inbox_digest = _digest(sorted(c.id for c in inbox))
    if pin is not None and inbox_digest != pin.get("inbox"):
        raise MissingInput("the patch inbox as it was (its patches changed since)")
    changes += inbox
    authored = ChangeTable.from_changes(authored_changes(changes))
    log_end = _log_end(ctx) if pin is None else pin["log"]
    notes_tip = _notes_tip(ctx) if pin is None else pin.get("notes_tip")
    if early is not None and early[:2] == (log_end, notes_tip):
        lacking = early[3]
        table = _with_records(early[2], lacking, authored.agent_of())
    else:
        table, lacking = _verdict_table(ctx, authored.agent_of(), pin, no_notes=notes_tip is None)
    del early
    if pin is None and _log_end(ctx) != log_end:
        # A verdict arrived while we read: read again, so the block names what was read.
        log_end, notes_tip = _log_end(ctx), _notes_tip(ctx)
        table, lacking = _verdict_table(
            ctx,
            authored.agent_of(),
            {"log": {**log_end, "cached": True}, "notes_tip": notes_tip},
        )
    # Which of these changes have a record: the labels (a million, kept as text) stay text.
    reviewed_ids = labels_among(table.changes, (c.id for c in changes))
    critiqued = critiqued_ids(ctx)
    critiques = critique_rows(ctx, [c for c in changes if c.id in reviewed_ids], critiqued)
    severity = {row["change_id"]: row["highest_severity"] for row in critiques}
    state_dir = ctx.state_dir
    models: dict[str, set[str]] = {}
    for c in changes:
        models.setdefault(c.authorship.family, set())
        if c.authorship.model:
            models[c.authorship.family].add(c.authorship.model)
    if rev is None:
        commits = commit_sizes(git, state_dir)
    else:
        # A pinned older tip is read without the cache (it would be rewritten for that tip).
        commits = commit_sizes(git, state_dir if rev == head and pin is None else None, rev)
    moved = pin is not None and (_log_end(ctx), _notes_tip(ctx)) != (
        pin["log"],
        pin.get("notes_tip"),
    )
    provenance = _provenance(ctx, rev, notes_tip, log_end, inbox_digest, severity)
    if summary_key is not None:
        # Keyed as things are now: the scan above may have rewritten the cache file.
        fresh = _summary_key(ctx, head)
        if fresh["log"] == log_end and fresh["notes"].get(_NOTES_REF) == notes_tip:
            ours = {c.id for c in changes if c.id in critiqued}
            lacked = {"log": log_end, "records": lacking}
            _store_summary(ctx, fresh, authored, commits, models, critiques, ours, None, lacked)
    return MetricInputs(
        table=table,
        changes=authored,
        commits=commits,
        severity=severity,
        violations=policy_violations(ctx, changes, now or local_now()) if policy else None,
        thresholds=Thresholds(
            max_lines_per_hour=conf.rubber_stamp_lines_per_hour,
            min_active_seconds=conf.rubber_stamp_min_seconds,
            min_hunks_viewed_share=conf.rubber_stamp_min_hunk_share,
        ),
        tz=tz,
        repository=ctx.repo_root.name,
        models={family: sorted(names) for family, names in sorted(models.items())},
        provenance=provenance,
        settings_tz=conf.timezone,
        verdicts_moved=moved,
        # Only `export` reads the changes themselves: tens of MB of objects at 10,000
        # changes, not held through the figures otherwise.
        change_list=changes if full else None,
        critiques=critiques,
        config_sections=ctx.config.sections,
    )


# -- the report's inputs, named exactly ------------------------------------------------------

_NOTES_REF = "refs/notes/reviewq"


class MissingInput(ReviewqError):
    """An input a report names is gone (`reviewq report --check` exits 2 naming it)."""


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


def _version() -> str:
    return __version__


def _branch(ctx: Context) -> str | None:
    """The branch HEAD names (None when detached), read from HEAD itself (no git call: a team
    report opens a hundred repositories)."""
    try:
        text = (ctx.git.paths().git_dir / "HEAD").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text.removeprefix("ref:").strip() if text.startswith("ref:") else None


def _notes_tip(ctx: Context) -> str | None:
    """The notes ref's tip, in one git call (`read_verdict_notes` checks what it points at)."""
    assert NOTES_REF == _NOTES_REF
    return ctx.git.ref_tips(_NOTES_REF).get(_NOTES_REF)


def settings_digest(ctx: Context) -> dict[str, Any]:
    """Where the settings came from and the SHA-256 of their bytes (built-in defaults: null)."""
    origin = ctx.config.origin
    data: bytes | None = None
    if origin is None:
        data = None
    elif origin.startswith("HEAD:"):
        data = ctx.git.run(["cat-file", "blob", origin], ok_codes=(0, 128))
    else:
        try:
            data = Path(origin).read_bytes()
        except OSError:
            data = None
    return {
        "origin": origin,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
    }


def _log_end(ctx: Context) -> dict[str, Any]:
    """The log as far as its last complete record: size in bytes and that record's hash."""

    path = ctx.log_path
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return {"size": 0, "head": None}
    except OSError as exc:
        raise ReviewqError(f"cannot read the log {path} ({exc.strerror})") from None
    try:
        size = os.fstat(fd).st_size
        end = size
        while end > 0 and os.pread(fd, 1, end - 1) != b"\n":
            end -= 1  # an unterminated (torn) tail is not a record yet
        head = ProvenanceLog(path)._hash_of_line_ending_at(fd, end) if end else None
    finally:
        os.close(fd)
    return {"size": end, "head": head}


def _provenance(
    ctx: Context,
    rev: str | None,
    notes_tip: str | None,
    log_end: Mapping[str, Any],
    inbox_digest: str,
    severity: Mapping[str, str],
) -> dict[str, Any]:
    """The input block of one repository (docs/metrics.md, "Reproducible reports")."""
    return {
        "path": str(ctx.repo_root),
        "log_path": str(ctx.log_override) if ctx.log_override else None,
        "bare": ctx.git.paths().is_bare,
        "revision": rev,
        "branch": _branch(ctx),
        "notes_ref": _NOTES_REF,
        "notes_tip": notes_tip,
        "log": dict(log_end),
        "reviewq_version": _version(),
        "settings": settings_digest(ctx),
        "inbox": inbox_digest,
        "critique_findings": _digest(sorted(severity.items())),
    }


# -- the summary cache: a warm team report without rebuilding every change ---------------------

SUMMARY_CACHE = "metric-summary.npz"
SUMMARY_VERSION = 2
#: The summary is stored again at the log's new end once the log has grown this much past the
#: end it was stored at (or when its kept rows or notes records were worked out afresh).
SUMMARY_BEHIND_BYTES = 1 << 20


def _has_policy(ctx: Context) -> bool:
    return any(name in ctx.config.sections for name in ("policy", "domains"))


def _has_inbox(ctx: Context) -> bool:
    folder = ctx.inbox_dir()
    if folder is None or ctx.git.paths().is_bare:
        return False
    try:
        return any(folder.iterdir())
    except OSError:
        return False


def _summary_key(ctx: Context, head: str | None) -> dict[str, Any]:
    """Everything the summarised inputs are a function of. The scan (and so the AI-authored
    changes) is a function of HEAD, every notes ref, the settings and reviewq's version; the
    critiques of the local cache file (the digest of their table, kept beside it: a verdict's
    patch id or a scan's changes rewrite the file, not the critiques; the file's own stamp when
    no digest describes it); which changes are reviewed, of the log and the notes.
    Any of them changed: the full path runs (through its own caches) and stores a new one."""
    cache = ctx.state_dir / "cache.json"
    return {
        "v": SUMMARY_VERSION,
        "scan": [DETECTOR_VERSION, STATE_VERSION],
        "reviewq": _version(),
        "head": head,
        "notes": ctx.git.ref_tips("refs/notes/"),
        "settings": settings_digest(ctx),
        "cache": table_digest(cache, CRITIQUES_TABLE) or file_stamp(cache),
        "log": _log_end(ctx),
        "log_path": str(ctx.log_path),
    }


def _load_summary(ctx: Context, key: dict[str, Any], conf: MetricsSettings, tz) -> Any:

    path = ctx.state_dir / SUMMARY_CACHE
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = safejson.loads(bytes(data["meta"]).decode("utf-8"))
            stored = meta.get("key")
            now = json.loads(json.dumps(key))
            if not isinstance(stored, dict) or _apart(stored) != _apart(now):
                return None
            grown = stored["log"] != now["log"]
            if grown and not _same_critiques_after(ctx, stored["log"], now["log"], meta):
                return None
            ids = [i.decode("ascii") for i in data["ids"].tolist()]
            changes = ChangeTable(
                ids=ids,
                epoch=data["epoch"],
                offset=data["offset"],
                family=data["family"],
                agent=data["agent"],
                families=tuple(meta["families"]),
                agents=tuple(meta["agents"]),
                position=dict(zip(ids, range(len(ids)))),
            )
            kept_rows = data["rows"] if "rows" in data.files else None
            commits = None
            if meta.get("commits"):
                commits = CommitTable(
                    sha=[x.decode("ascii") for x in data["c_sha"].tolist()],
                    epoch=data["c_epoch"],
                    offset=data["c_offset"],
                    lines=data["c_lines"],
                )
    except (OSError, ValueError, KeyError, TypeError, EOFError, UnicodeDecodeError):
        return None  # missing, damaged or foreign: the full path rebuilds it
    notes_tip = key["notes"].get(_NOTES_REF)
    kept_notes, candidates, notes_behind = meta.get("notes_lacking"), [], False
    then_tip = stored["notes"].get(_NOTES_REF)
    if then_tip != notes_tip:
        moved = _notes_since(ctx, then_tip, notes_tip, kept_notes, meta)
        if moved is None:
            return None  # read every note: the full path
        kept_notes, candidates, notes_behind = moved
    table, lacking, fresh_notes = _summary_table(
        ctx, changes.agent_of(), notes_tip, stored["log"], kept_notes, candidates
    )
    if _log_end(ctx) != key["log"]:
        return None  # a verdict arrived meanwhile: the full path reads it all again
    critiques = meta["critiques"]
    severity = {row["change_id"]: row["highest_severity"] for row in critiques}
    inbox_digest = _digest([])
    rows, rows_of, fresh_rows = _kept_rows(table.changes, changes, kept_rows, meta.get("rows_of"))
    behind = int(key["log"]["size"]) - int(stored["log"]["size"])
    if fresh_rows or fresh_notes or notes_behind or (grown and behind >= SUMMARY_BEHIND_BYTES):
        # Keyed at this end of the log, so the next reader checks only what comes after it.
        # Not for a few new records: rewriting the summary (megabytes at a million records)
        # costs more than the next reader's check of the lines after its end.
        _store_summary(
            ctx,
            key,
            changes,
            commits,
            meta["models"],
            critiques,
            meta["critiqued"],
            (rows[: rows_of["count"]], rows_of) if rows_of else None,
            {"log": key["log"], "records": lacking},
        )
    return MetricInputs(
        table=table,
        changes=changes,
        commits=commits,
        severity=severity,
        violations=None,
        thresholds=Thresholds(
            max_lines_per_hour=conf.rubber_stamp_lines_per_hour,
            min_active_seconds=conf.rubber_stamp_min_seconds,
            min_hunks_viewed_share=conf.rubber_stamp_min_hunk_share,
        ),
        tz=tz,
        repository=ctx.repo_root.name,
        models=meta["models"],
        provenance=_provenance(ctx, key["head"], notes_tip, key["log"], inbox_digest, severity),
        settings_tz=conf.timezone,
        critiques=critiques,
        config_sections=ctx.config.sections,
        change_rows=rows,
    )


def _kept_rows(
    labels: Sequence[str], changes: ChangeTable, kept: np.ndarray | None, kept_of: Any
) -> tuple[np.ndarray, dict[str, Any] | None, bool]:
    """Each change label's row of `changes` (`label_rows`), the summary's kept rows reused.

    The summary keeps the rows of the column cache's labels, named by the cache's generation
    and label count (`rows_of`); rows belong to the summary's own changes (stored with them,
    dropped whenever the summary is stored afresh). Labels the cache does not hold (the
    tail's, the notes') are looked up. Returns (rows, what they are of, whether they were
    worked out afresh and are worth keeping)."""
    source = labels.source if isinstance(labels, LineLabels) else None
    if source is None:
        return label_rows(labels, changes), None, False
    of = {"generation": source, "count": labels.base_count}
    if kept is not None and kept_of == of and len(kept) == labels.base_count:
        added = label_rows(labels.added, changes)
        return np.concatenate([kept.astype(np.int64), added]), of, False
    return label_rows(labels, changes), of, True


def _apart(key: Mapping[str, Any]) -> dict[str, Any]:
    """A summary key without what the summary path brings up to date itself: the log's end
    (`_same_critiques_after`) and the tip of the verdict notes (`_notes_since`)."""
    notes = key.get("notes")
    return {
        **key,
        "log": None,
        "notes": {**notes, _NOTES_REF: None} if isinstance(notes, dict) else notes,
    }


#: Notes changed since the summary's notes tip from which the summary is stored again (until
#: then each reader reads those notes: a verdict recorded here changes one).
NOTES_BEHIND = 256


def _notes_since(
    ctx: Context, old: str | None, new: str | None, kept: Any, meta: Mapping[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]], bool] | None:
    """The summary's notes records the log lacked at the notes tip `old` (`kept`), brought up
    to the tip `new`: (`kept` less the records of the notes changed since; the intact records
    of those notes now, which the log may hold or not (`_summary_table` tells); whether
    enough notes changed to store the summary again). A verdict recorded here moves the tip
    (its record goes to the notes too): its note alone is read, not every note.

    None when that cannot be said for sure, and the full path reads every note: a tip or
    note unreadable (`changed_notes`), a kept record whose note cannot be named without git
    (no sha), a record read with the id of a kept one (which one counts is
    `read_verdict_notes`' order), or a record about a change critiqued since the summary's
    critiques (as `_same_critiques_after` for the log). No ref then (`old` None): every
    note is new; no ref now: no record is read from the notes."""
    if not isinstance(kept, dict):
        return None
    records = kept.get("records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    if new is None:
        return {**kept, "records": []}, [], True
    if not all(isinstance(r.get("sha"), str) and r.get("sha") for r in records):
        return None
    change = changed_notes(ctx.git, old, new)
    if change is None:
        return None
    staying = [r for r in records if r["sha"] not in change.targets]
    ids = {r.get("id") for r in staying}
    if any(r.get("id") in ids for r in change.records):
        return None
    if _reviews_unsummarised(change.records, meta) is not False:
        return None
    return {**kept, "records": staying}, change.records, len(change.targets) >= NOTES_BEHIND


def _reviews_unsummarised(records: Iterable[Any], meta: Mapping[str, Any]) -> bool | None:
    """Does a record review a change the critique cache has a row for and the summary has no
    critique of? None when the summary's meta does not say."""
    try:
        critiqued = set(meta["critiqued"])
        summarised = {row["change_id"] for row in meta["critiques"]}
    except (KeyError, TypeError):
        return None
    for record in records:
        if type(record) is not dict:
            continue  # counts as no verdict anywhere
        # Every key a reader may file the verdict under (metrics' change key is one of them).
        for field in ("change_id", "sha", "patch_id"):
            value = record.get(field)
            if isinstance(value, str) and value in critiqued and value not in summarised:
                return True
    return False


def _same_critiques_after(
    ctx: Context, then: Mapping[str, Any], now: Mapping[str, Any], meta: Mapping[str, Any]
) -> bool:
    """Would the summary stored at log end `then` summarise the same critiques at `now`?

    Everything else it holds comes from the history, the notes refs, the settings and the
    critique cache, all in its key; only its critiques depend on the log, through which
    changes are reviewed. So it still holds when the log only grew (the record that ended it
    then still ends there with the same hash: the chain covers everything before it) and no
    record after that reviews a change the critique cache has a row for and the summary has
    no critique of. Anything else (a log cut, rewritten or replaced, a line that does not
    parse, such a change reviewed): False, and the full path runs."""
    try:
        size, head = int(then["size"]), then["head"]
        end = int(now["size"])
    except (KeyError, TypeError, ValueError):
        return False
    if end < size or (not head and size):
        return False
    try:
        fd = os.open(ctx.log_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        if size and ProvenanceLog(ctx.log_path)._hash_of_line_ending_at(fd, size) != head:
            return False
        tail = os.pread(fd, end - size, size) if end > size else b""
    finally:
        os.close(fd)
    if len(tail) != end - size:
        return False
    try:
        records = [parse_line(line) for line in tail.splitlines()]
    except ValueError:
        return False
    return _reviews_unsummarised(records, meta) is False


def _store_summary(
    ctx, key, authored, commits, models, critiques, critiqued, rows=None, lacking=None
) -> None:
    """A read-only place (a CI mirror) just means no summary. `critiqued`: the changes among
    `authored` that the critique cache had a row for (`_same_critiques_after`). `rows`:
    (the column cache's labels' rows of `authored`, what they are of: `_kept_rows`).
    `lacking`: the notes records the log lacked at its end then (`_summary_table`)."""

    if not isinstance(authored, ChangeTable) or any(not i.isascii() for i in authored.ids):
        return
    meta = {
        "key": key,
        "families": list(authored.families),
        "agents": list(authored.agents),
        "models": {f: sorted(m) for f, m in sorted(models.items())},
        "critiques": critiques,
        "critiqued": sorted(critiqued),
        "commits": commits is not None,
        "rows_of": rows[1] if rows is not None else None,
        "notes_lacking": lacking,
    }
    arrays = {
        "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        "ids": np.array([i.encode("ascii") for i in authored.ids], dtype=np.bytes_),
        "epoch": authored.epoch,
        "offset": authored.offset,
        "family": authored.family,
        "agent": authored.agent,
    }
    if commits is not None:
        arrays.update(
            c_sha=np.array([x.encode("ascii") for x in commits.sha], dtype=np.bytes_),
            c_epoch=commits.epoch,
            c_offset=commits.offset,
            c_lines=commits.lines,
        )
    if rows is not None:
        arrays["rows"] = rows[0].astype(np.int32)
    with contextlib.suppress(OSError):
        ctx.state_dir.mkdir(parents=True, exist_ok=True)
        replace_file(
            ctx.state_dir / SUMMARY_CACHE,
            lambda fh: np.savez(fh, **arrays),
            prefix=".metric-summary-",
        )


def _pinned_log_table(ctx: Context, pin: Mapping[str, Any]):
    """The log's first `size` bytes as columns, if its last record still has hash `head`.

    Parsed afresh, never through the column cache: the cache trusts the chain (a record edited
    in place behind an unchanged last record keeps its cached columns), a check must not."""

    size, head = int(pin.get("size") or 0), pin.get("head")
    if pin.get("cached") and _log_end(ctx) == {"size": size, "head": head}:
        # Our own re-read in `gather` (a verdict arrived meanwhile), not a check.
        return load_log_table(ctx.log_path, ctx.log_cache(CACHE_NAME))
    if size == 0:
        with tempfile.TemporaryDirectory() as tmp:
            return load_log_table(Path(tmp) / "log.jsonl", None)

    try:
        fd = os.open(ctx.log_path, os.O_RDONLY)
    except OSError:
        raise MissingInput(f"the provenance log {ctx.log_path}") from None
    try:
        fits = os.fstat(fd).st_size >= size and os.pread(fd, 1, size - 1) == b"\n"
        if not fits or ProvenanceLog(ctx.log_path)._hash_of_line_ending_at(fd, size) != head:
            raise MissingInput(
                f"log record {str(head)[:16]} ending at byte {size:,} of {ctx.log_path} "
                "(the log was cut or rewritten)"
            )
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "log.jsonl"
            with open(copy, "wb") as out, os.fdopen(os.dup(fd), "rb") as src:
                src.seek(0)
                shutil.copyfileobj(_Limited(src, size), out)
            return load_log_table(copy, None)
    finally:
        os.close(fd)


class _Limited:
    """The first `size` bytes of a file object."""

    def __init__(self, fh: Any, size: int) -> None:
        self.fh, self.left = fh, size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.fh.read(n)
        self.left -= len(data)
        return data


def _pinned_notes(ctx: Context, tip: str | None) -> list[dict[str, Any]]:
    """The verdict records on the notes ref as of commit `tip` (none when it was absent)."""
    if tip is None:
        return []
    if _notes_tip(ctx) == tip:
        return read_verdict_notes(ctx.git).records
    git = ctx.git
    if not git.succeeds(["cat-file", "-e", f"{tip}^{{commit}}"]):
        raise MissingInput(f"notes commit {tip} of {_NOTES_REF} (no longer in the repository)")

    listing = git.text(["ls-tree", "-r", "--full-tree", tip], what="ls-tree")
    blobs: list[str] = []
    for line in listing.splitlines():
        meta, _, _path = line.partition("\t")
        kind_blob = meta.split()
        if len(kind_blob) == 3 and kind_blob[1] == "blob":
            blobs.append(kind_blob[2])
    contents = git.cat_blobs(sorted(set(blobs)))
    records = []
    for blob in sorted(set(blobs)):
        for raw in contents.get(blob, b"").split(b"\n"):
            raw = raw.strip()
            if not raw:
                continue
            try:
                record, strict = parse_line_strictly(raw)
            except ValueError:
                continue
            if (
                isinstance(record, dict)
                and isinstance(record.get("id"), str)
                and line_hash_matches(raw, record, strict=strict)
            ):
                records.append(record)
    return dedupe_records(records)


# -- several repositories ---------------------------------------------------------------------


@dataclass
class TeamInputs:
    """Each repository's inputs (its own settings, scope and policy) and all of them as one."""

    labels: list[str]
    parts: list[MetricInputs]
    combined: MetricInputs


def team_paths(args: Any) -> list[Path] | None:
    """The repositories of a team report: `--repos PATH...`, else a `[team] repos` list in the
    settings (`--config FILE`, else the current repository's); None for one repository."""
    repos = getattr(args, "repos", None)
    if repos:
        for flag in ("repo", "config", "log"):
            if getattr(args, flag, None):
                raise ReviewqError(
                    f"--{flag} with --repos: each repository is read with its own settings and "
                    f"log; drop --{flag} or --repos"
                )
        return _distinct([Path(p) for p in repos], "--repos")

    if args.config:
        config = load_config(None, args.config)
    else:
        try:
            git = Git.open(args.repo or ".")
        except ReviewqError:
            return None  # not a repository: the ordinary error follows from Context.open
        config = load_config(git, None)
    team = config.team
    if team is None or not team.repos:
        return None
    origin = config.origin or "."
    base = Path(args.repo or ".") if origin.startswith("HEAD:") else Path(origin).parent
    return _distinct([(base / p) for p in team.repos], "team.repos")


def context_team_paths(ctx: Context) -> list[Path] | None:
    """The `[team] repos` of this repository's settings (the stats screen's team view)."""
    team = ctx.config.team
    if team is None or not team.repos:
        return None
    origin = ctx.config.origin or ""
    base = ctx.repo_root if not origin or origin.startswith("HEAD:") else Path(origin).parent
    return _distinct([base / p for p in team.repos], "team.repos")


def _distinct(paths: list[Path], where: str) -> list[Path]:
    seen: dict[Path, Path] = {}
    for p in paths:
        key = p.resolve()
        if key in seen:
            raise ReviewqError(f"{where}: {p} is listed twice; list each repository once")
        seen[key] = p
    return paths


def repository_labels(roots: Sequence[Path], given: Sequence[Path]) -> list[str]:
    """Each repository's folder name; where two share a name, the path as given."""
    names = [r.name for r in roots]
    return [n if names.count(n) == 1 else str(g) for n, g in zip(names, given)]


#: Repositories gathered at once by `gather_team`.
TEAM_THREADS = 4


def gather_team(
    paths: Sequence[Path],
    tz_name: str | None = None,
    *,
    policy: bool = False,
    pins: Sequence[Mapping[str, Any]] | None = None,
    now: datetime | None = None,
    full: bool = False,
) -> TeamInputs:
    """`gather` for each repository (each with its own `.reviewq.toml`), and all as one."""
    for path in paths:
        if not path.exists():
            if pins is not None:
                raise MissingInput(f"repository {path}")
            raise ReviewqError(f"{path}: no such repository; check --repos or [team] repos")

    def one(i: int) -> tuple[MetricInputs, Path]:
        ctx = Context.open(paths[i])
        try:
            pin = pins[i] if pins is not None else None
            part = gather(ctx, tz_name, policy=policy, pin=pin, now=now, full=full)
            return part, ctx.repo_root
        finally:
            ctx.close()

    # A few repositories at a time: most of a warm gather is waiting for git processes. Each
    # runs in a copy of this context (the column-build notice is a ContextVar).
    with ThreadPoolExecutor(max_workers=min(TEAM_THREADS, len(paths)) or 1) as pool:
        futures = [pool.submit(contextvars.copy_context().run, one, i) for i in range(len(paths))]
        done = [f.result() for f in futures]
    parts = [part for part, _ in done]
    roots = [root for _, root in done]
    labels = repository_labels(roots, paths)
    for label, part in zip(labels, parts):
        part.repository = label
    return TeamInputs(labels, parts, combine_inputs(parts, labels, tz_name))


def combine_inputs(
    parts: Sequence[MetricInputs], labels: Sequence[str], tz_name: str | None
) -> MetricInputs:
    """All repositories as one set of inputs: rows joined, never figures averaged.

    Days end where `--tz` says; without it, in the zone the repositories' settings agree on,
    else in each record's own offset."""
    joined = combine_repositories(
        [
            RepositoryTables(
                table=p.table,
                changes=p.changes
                if isinstance(p.changes, ChangeTable)
                else ChangeTable.from_changes(p.changes),
                commits=p.commits
                if p.commits is None or isinstance(p.commits, CommitTable)
                else CommitTable.from_sizes(p.commits),
                severity=p.severity,
                thresholds=p.thresholds,
            )
            for p in parts
        ]
    )
    if tz_name:
        tz = resolve_tz(tz_name, "--tz")
    else:
        zones = {p.settings_tz or "record" for p in parts}
        tz = resolve_tz(zones.pop(), "metrics.timezone") if len(zones) == 1 else None
    models: dict[str, set[str]] = {}
    for p in parts:
        for family, names in p.models.items():
            models.setdefault(family, set()).update(names)
    violations = None
    if any(p.violations is not None for p in parts):
        violations = [
            {"repository": label, **v}
            for label, p in zip(labels, parts)
            for v in p.violations or ()
        ]
    return MetricInputs(
        table=joined.table,
        changes=joined.changes,
        commits=joined.commits,
        severity=joined.severity,
        violations=violations,
        thresholds=joined.thresholds,  # type: ignore[arg-type]
        tz=tz,
        repository=f"{len(parts)} repositories",
        namespaced=True,
        models={family: sorted(names) for family, names in sorted(models.items())},
    )


def gather_for(args: Any, *, policy: bool = False, now: datetime | None = None, full: bool = False):
    """The inputs `stats` and `report` were asked for: one repository (`--repo`, the default)
    -> MetricInputs, or several (`--repos`, `[team] repos`) -> TeamInputs."""
    paths = team_paths(args)
    if paths is not None:
        return gather_team(paths, args.tz, policy=policy, now=now, full=full)
    ctx = Context.open(args.repo, args.config, args.log)
    try:
        return gather(ctx, args.tz, policy=policy, now=now, full=full)
    finally:
        ctx.close()
