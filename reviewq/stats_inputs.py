"""Gathering what the metrics need from the repository: the shell around `core.metrics`.

`stats`, `report` and the stats screen all come through `gather` and `MetricInputs.stats`, so
they cannot disagree about which verdicts, changes, commits or settings a figure comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from reviewq.context import Context
from reviewq.core.config import MetricsSettings
from reviewq.core.metrics import (
    AuthoredChange,
    ChangeTable,
    CommitTable,
    Stats,
    Thresholds,
    VerdictTable,
    authored_changes,
    compute_stats,
)
from reviewq.core.model import SEVERITIES, Change
from reviewq.errors import ReviewqError


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

    def stats(self, now: datetime, since: datetime | None = None) -> Stats:
        return compute_stats(
            self.table,
            now=now,
            changes=self.changes,
            commits=self.commits,
            severity=self.severity,
            since=since,
            tz=self.tz,
            thresholds=self.thresholds,
        )


def verdict_table(ctx: Context, agent_of: dict[str, str]) -> VerdictTable:
    """Every verdict known here, as metric columns: the one place metrics read verdicts.

    The same records as `reviewq.verdicts.load_verdicts` (the local log, and the team's records
    from the notes ref, one per id), but the local log comes through the column cache: a
    million-record log is parsed once, not on every `stats`.
    """
    from reviewq.store.notes_log import read_verdict_notes
    from reviewq.store.verdict_columns import CACHE_NAME, load_log_table

    local = load_log_table(ctx.log_path, ctx.log_cache(CACHE_NAME))
    notes = read_verdict_notes(ctx.git).records
    if notes:
        lacking = local.lacks([str(r.get("id")) for r in notes])
        extra = [r for r, new in zip(notes, lacking.tolist()) if new]
        if extra:
            return VerdictTable.concat([local.table, VerdictTable.from_records(extra)]).with_agents(
                agent_of
            )
    return local.table.with_agents(agent_of)


def critique_severities(ctx: Context, changes: Iterable[Any]) -> dict[str, str]:
    """change id -> highest severity its cached critique found, "none" for a critique without
    findings (the override rate's input). Only changes that have verdicts matter.

    `cached_critique` reads the change's diff to know which critique applies, so it is asked
    only about changes the critique cache has rows for (one pass over that table): on a long
    history most changes were never critiqued.
    """
    from reviewq.critiques import TABLE, cached_critique

    critiqued = {row.get("change_id") for _, row in ctx.cache.items(TABLE) if isinstance(row, dict)}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    out: dict[str, str] = {}
    for change in changes:
        if change.id not in critiqued:
            continue
        critique = cached_critique(ctx, change)
        if critique is None:
            continue
        severities = [f.severity for f in critique.findings]
        out[change.id] = max(severities, key=lambda s: rank.get(s, 0)) if severities else "none"
    return out


def policy_violations(
    ctx: Context, changes: Sequence[Change], now: datetime
) -> list[dict[str, Any]] | None:
    """AI-authored changes that do not meet the policy now, as `reviewq queue` judges them
    (`enforce.QueuePolicy`: the work tree's policy, every verdict this clone can read).

    None when the repository configures no policy (`[policy]` or `[[domains]]`): the report then
    says "policy: not configured" instead of judging against built-in defaults nobody chose.
    """
    if not any(name in ctx.config.sections for name in ("policy", "domains")):
        return None
    from reviewq.core.policy import domain_label
    from reviewq.enforce import QueuePolicy

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
        return datetime.now().astimezone().tzinfo
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
    return ctx.config.section("metrics") or MetricsSettings()


def gather(ctx: Context, tz_name: str | None = None, *, policy: bool = False) -> MetricInputs:
    """Read verdicts, scan the history (cached), size every commit (cached); with `policy`,
    also judge every AI-authored change against the policy (the report's violations)."""
    from reviewq.scan import scan_history, scan_inbox, warn_unknown_sizes
    from reviewq.sources.commit_sizes import commit_sizes

    conf = settings(ctx)
    tz = resolve_tz(tz_name, "--tz") if tz_name else resolve_tz(conf.timezone, "metrics.timezone")
    changes = list(scan_history(ctx).changes)
    warn_unknown_sizes(ctx, changes)
    # The inbox is a folder beside a work tree; a bare CI mirror has none to read.
    if ctx.inbox_dir() is not None and not ctx.git.paths().is_bare:
        changes += scan_inbox(ctx)
    authored = ChangeTable.from_changes(authored_changes(changes))
    table = verdict_table(ctx, authored.agent_of())
    reviewed_ids = set(table.changes)
    severity = critique_severities(ctx, [c for c in changes if c.id in reviewed_ids])
    state_dir = ctx.state_dir
    models: dict[str, set[str]] = {}
    for c in changes:
        models.setdefault(c.authorship.family, set())
        if c.authorship.model:
            models[c.authorship.family].add(c.authorship.model)
    return MetricInputs(
        table=table,
        changes=authored,
        commits=commit_sizes(ctx.git, state_dir),
        severity=severity,
        violations=policy_violations(ctx, changes, local_now()) if policy else None,
        thresholds=Thresholds(
            max_lines_per_hour=conf.rubber_stamp_lines_per_hour,
            min_active_seconds=conf.rubber_stamp_min_seconds,
            min_hunks_viewed_share=conf.rubber_stamp_min_hunk_share,
        ),
        tz=tz,
        repository=ctx.repo_root.name,
        models={family: sorted(names) for family, names in sorted(models.items())},
    )


def local_now() -> datetime:
    return datetime.now().astimezone()
