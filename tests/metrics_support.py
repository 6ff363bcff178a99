"""Verdict records for metrics tests, built with the real record constructor and chain."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from reviewq.core.model import Identity
from reviewq.core.verdict import GENESIS, CritiqueState, new_record, seal

ANN = Identity("Ann Reviewer", "ann@example.com")
BOB = Identity("Bob Lead", "bob@example.com")
RULES_OPENED = CritiqueState("static", "rules", None, opened_before_verdict=True)
RULES_UNOPENED = CritiqueState("static", "rules", None, opened_before_verdict=False)


def record(
    n: int,
    verdict: str,
    at: str,
    *,
    change: str | None = None,
    active: float = 300.0,
    lines: int = 20,
    hunks: tuple[int, int] = (2, 2),
    critique: CritiqueState | None = RULES_OPENED,
    family: str = "anthropic",
    agent: str | None = "claude-code",
    domain: str = "default",
    reviewer: Identity = ANN,
    prev: str = GENESIS,
) -> dict[str, Any]:
    """One sealed contract record; `change` defaults to a sha derived from `n`."""
    sha = change or f"{n:040x}"
    return seal(
        new_record(
            record_id=f"r{n}",
            sha=sha,
            change_id=sha,
            patch_id=None,
            verdict=verdict,
            reviewer=reviewer,
            at=at,
            active_seconds=active,
            wall_seconds=active * 1.5,
            lines_changed=lines,
            hunks_total=hunks[0],
            hunks_viewed=hunks[1],
            critique=critique,
            author_family=family,
            agent=agent,
            domain=domain,
        ),
        prev,
    )


DANA = Identity("Dana Lead", "dana@orders.example")
SAM = Identity("Sam Okafor", "sam@orders.example")

#: subject prefix -> (reviewer, verdict, active s, hunks viewed share, critique, hours after commit,
#: reviewer's UTC offset in hours). A story a lead would recognise: careful reviews, two quick
#: approvals that are rubber stamps, a rejection of the risky change, one escalation.
DEMO_VERDICTS = [
    ("Use constant-time", DANA, "approve", 260, 1.0, RULES_OPENED, 3, 1),
    ("aider: Add per-customer", SAM, "changes", 420, 1.0, RULES_OPENED, 20, -5),
    ("aider: Add per-customer", SAM, "approve", 190, 1.0, RULES_OPENED, 46, -5),
    ("Add CSV export", DANA, "approve", 14, 0.5, RULES_OPENED, 2, 1),
    ("Return 404", SAM, "approve", 45, 1.0, RULES_UNOPENED, 5, -5),
    ("Add order totals", DANA, "approve", 75, 1.0, RULES_OPENED, 26, 1),
    ("Rename store module", SAM, "approve", 95, 1.0, RULES_OPENED, 4, -5),
    ("Add a logo", DANA, "approve", 20, 1.0, None, 1, 1),
    ("Add the currency table", SAM, "approve", 280, 1.0, RULES_OPENED, 7, -5),
    ("Let support engineers", DANA, "reject", 960, 1.0, RULES_OPENED, 9, 1),
    ("Add order notes", SAM, "escalate", 130, 1.0, RULES_OPENED, 6, -5),
]


def record_demo_verdicts(repo: Path, log: Path | None = None) -> list[dict[str, Any]]:
    """Append DEMO_VERDICTS for the demo repository's changes to its log (real log, real chain)."""
    from datetime import timezone

    from reviewq.context import Context
    from reviewq.store.log import ProvenanceLog
    from reviewq.workflow.scan import scan_history

    ctx = Context.open(repo, log=str(log) if log else None)
    try:
        changes = scan_history(ctx).changes
        target = ProvenanceLog(ctx.log_path)
        written = []
        for n, (prefix, who, verdict, active, share, crit, hours, tz) in enumerate(DEMO_VERDICTS):
            change = next(c for c in changes if c.commit.subject.startswith(prefix))
            committed = datetime.fromisoformat(change.commit.committed_at)
            at = (committed + timedelta(hours=hours)).astimezone(timezone(timedelta(hours=tz)))
            stats = change.stats
            hunks = max(1, stats.files if stats else 1)
            rec = new_record(
                record_id=f"demo-{n}",
                sha=change.sha,
                change_id=change.id,
                patch_id=None,
                verdict=verdict,
                reviewer=who,
                at=at.isoformat(timespec="seconds"),
                active_seconds=active,
                wall_seconds=active * 1.4,
                lines_changed=stats.lines_changed if stats else 0,
                hunks_total=hunks,
                hunks_viewed=int(hunks * share) if share < 1 else hunks,
                critique=crit,
                author_family=change.authorship.family,
                agent=change.authorship.agent,
                model=change.authorship.model,
                domain="auth" if "session" in change.commit.subject.lower() else "default",
            )
            written.append(target.append(rec))
        return written
    finally:
        ctx.close()
