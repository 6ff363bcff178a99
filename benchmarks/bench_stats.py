"""Benchmark: `reviewq stats` figures over a million verdict records.

Goal (issue 6): stats over 1,000,000 verdict records in <= 2 s. Reading a million JSON lines is
its own cost, so the phases are timed apart and then together:

  read     the log file -> dicts (`ProvenanceLog.records`, stdlib json)
  columns  dicts -> `VerdictTable` (the only per-record Python work)
  compute  `compute_stats` over the columns, with the AI-authored changes and all commits
  stats    columns + compute: what the 2 s goal is about (the records are in memory)
  total    read + columns + compute: a cold `reviewq stats` on that log

    python benchmarks/bench_stats.py [--records 1000000] [--repeat 3] [--no-read]

Records are generated in memory (realistic spread: 60 reviewers, 9 agents, 6 families, 5
domains, two years, four time zones, a few rubber stamps), written once to
benchmarks/.work/ for the read phase, and never sealed (hashing is not what is measured).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.core.metrics import (  # noqa: E402
    AuthoredChange,
    CommitSize,
    VerdictTable,
    compute_stats,
)
from reviewq.store.log import read_records  # noqa: E402

AGENTS = [
    ("claude-code", "anthropic"),
    ("codex", "openai"),
    ("aider", "deepseek"),
    ("cursor", "openai"),
    ("copilot", "openai"),
    ("devin", "unknown"),
    ("jules", "google"),
    ("gemini-cli", "google"),
    ("qwen-code", "qwen"),
]
DOMAINS = ["default", "default", "default", "auth", "ci", "billing", "docs"]
ZONES = [timezone(timedelta(hours=h)) for h in (-5, 0, 1, 9)]
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
NOW = START + timedelta(days=730)


def generate(n: int, seed: int = 7) -> tuple[list[dict], list[AuthoredChange], list[CommitSize]]:
    """n verdicts over n/2 AI changes in a history of 1.2 n/2 commits."""
    rnd = random.Random(seed)
    reviewers = [
        ({"name": f"Reviewer {i}", "email": f"r{i}@example.com"}, ZONES[i % len(ZONES)])
        for i in range(60)
    ]
    n_changes = max(1, n // 2)
    span = (NOW - START).total_seconds()
    changes, commits = [], []
    step = span / (n_changes * 1.2)
    t = 0.0
    ai_index = 0
    while ai_index < n_changes:
        t += step
        when = (START + timedelta(seconds=t)).isoformat(timespec="seconds")
        sha = f"{len(commits):040x}"
        lines = rnd.randint(1, 400)
        commits.append(CommitSize(sha, when, lines))
        if rnd.random() < 0.83:
            agent, family = AGENTS[ai_index % len(AGENTS)]
            changes.append(AuthoredChange(sha, when, family, agent, lines_changed=lines))
            ai_index += 1
    verdicts = ["approve"] * 14 + ["reject", "changes", "changes", "escalate"]
    critiques = [
        {
            "critic": "static",
            "family": "rules",
            "model": None,
            "opened_before_verdict": opened,
            "same_family_allowed": False,
        }
        for opened in (True, False)
    ]
    records = []
    rand, choice, randint = rnd.random, rnd.choice, rnd.randint
    for i in range(n):
        change = changes[(i * 7919) % n_changes]
        reviewer, zone = choice(reviewers)
        committed = datetime.fromisoformat(change.committed_at)
        at = (committed + timedelta(seconds=600 + rand() * 172800)).astimezone(zone)
        # Mostly 100-400 lines an hour; one in ten a quick glance.
        rate = 100 + rand() * 300 if rand() < 0.9 else 2000 + rand() * 8000
        active = round(change.lines_changed * 3600 / rate + rand() * 20, 3)
        records.append(
            {
                "v": 1,
                "id": f"{i:016x}",
                "sha": change.id,
                "change_id": change.id,
                "patch_id": None,
                "verdict": choice(verdicts),
                "reviewer": dict(reviewer),
                "co_reviewers": [],
                "at": at.isoformat(timespec="seconds"),
                "active_seconds": active,
                "wall_seconds": round(active * 1.3, 3),
                "lines_changed": change.lines_changed,
                "hunks_total": (h := randint(1, 12)),
                "hunks_viewed": h if rand() < 0.9 else randint(0, h),
                "critique": dict(critiques[rand() < 0.85]) if rand() < 0.8 else None,
                "author_family": change.family,
                "agent": change.agent,
                "model": None,
                "domain": choice(DOMAINS),
                "note": "",
                "prev": "0" * 64,
                "hash": "0" * 64,
                "signature": None,
            }
        )
    return records, changes, commits


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-read", action="store_true", help="skip writing and reading a log")
    args = parser.parse_args()

    t0 = time.perf_counter()
    records, changes, commits = generate(args.records)
    print(
        f"generated {len(records):,} verdicts, {len(changes):,} AI changes, "
        f"{len(commits):,} commits in {time.perf_counter() - t0:.1f} s (not timed)"
    )
    read_s = None
    if not args.no_read:
        work = ROOT / "benchmarks" / ".work"
        work.mkdir(parents=True, exist_ok=True)
        log = work / f"stats-{args.records}.jsonl"
        if not log.exists():
            with open(log, "w", encoding="utf-8") as fh:
                for record in records:
                    fh.write(json.dumps(record, separators=(",", ":")) + "\n")
        size = os.path.getsize(log)
        read_s, read_back = timed(lambda: read_records(log), 1)
        assert len(read_back) == len(records)  # type: ignore[arg-type]
        del read_back
        print(f"read      {read_s:7.3f} s   ({size / 1e6:,.0f} MB of JSON Lines, 1 run)")

    agent_of = {c.id: c.agent for c in changes}
    columns_s, table = timed(lambda: VerdictTable.from_records(records, agent_of), args.repeat)
    compute_s, stats = timed(
        lambda: compute_stats(table, now=NOW, changes=changes, commits=commits), args.repeat
    )
    since = NOW - timedelta(days=90)
    since_s, _ = timed(
        lambda: compute_stats(table, now=NOW, changes=changes, commits=commits, since=since),
        args.repeat,
    )
    utc_s, _ = timed(
        lambda: compute_stats(table, now=NOW, changes=changes, commits=commits, tz=UTC),
        args.repeat,
    )
    stats_s = columns_s + compute_s
    print(f"columns   {columns_s:7.3f} s   (median of {args.repeat})")
    print(f"compute   {compute_s:7.3f} s   (all time, record offsets)")
    print(f"compute   {utc_s:7.3f} s   (all time, --tz UTC)")
    print(f"compute   {since_s:7.3f} s   (--since 90 days)")
    print(f"stats     {stats_s:7.3f} s   goal <= 2 s: {'met' if stats_s <= 2 else 'NOT met'}")
    if read_s is not None:
        print(f"total     {read_s + stats_s:7.3f} s   (cold: read + columns + compute)")
    s = stats  # type: ignore[assignment]
    print(
        f"figures   {s.records:,} verdicts, {len(s.by_week)} weeks, {len(s.by_day)} days, "  # type: ignore[attr-defined]
        f"{len(s.by_reviewer)} reviewers; rubber-stamp rate "  # type: ignore[attr-defined]
        f"{s.totals.rubber_stamp_rate:.3f}, coverage {s.flow.coverage:.3f}"  # type: ignore[attr-defined]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
