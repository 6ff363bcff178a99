"""Benchmark: `reviewq stats` figures over a million verdict records.

Goal (issue 6): stats over 1,000,000 verdict records in <= 2 s. Reading a million JSON lines is
its own cost, so the phases are timed apart and then together:

  read     the log file -> dicts (`ProvenanceLog.records`, stdlib json)
  columns  dicts -> `VerdictTable` (the only per-record Python work)
  history  the AI-authored changes and all commits' sizes -> columns (once per run)
  compute  `compute_stats` over the columns, with the AI-authored changes and all commits
  stats    columns + compute: the records in memory, figures out
  cold     `load_log_table` without its cache (read + columns + write the cache), + compute:
           the first `reviewq stats` on that log
  warm     `load_log_table` from its cache (+ the new tail, none here), + compute: every later
           `reviewq stats` -- what the 2 s goal is about in use

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
    ChangeTable,
    CommitSize,
    CommitTable,
    VerdictTable,
    compute_stats,
)
from reviewq.store.log import read_records  # noqa: E402
from reviewq.store.verdict_columns import load_log_table  # noqa: E402

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
                "critique": dict(critiques[rand() >= 0.85]) if rand() < 0.8 else None,
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


CPU: list[float] = []


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of `repeat` runs (and the median CPU time, kept in CPU[-1]).

    This machine is shared: wall time includes other people's work, CPU time does not.
    """
    times, cpu, result = [], [], None
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU.append(statistics.median(cpu))
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
    print(
        f"{'phase':9} {'wall s':>8} {'cpu s':>8}   (medians; wall includes other load on the machine)"
    )

    def show(name: str, wall: float, cpu: float, what: str) -> None:
        print(f"{name:9} {wall:8.3f} {cpu:8.3f}   {what}")

    cold = warm = None
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
        show("read", read_s, CPU[-1], f"ProvenanceLog.records, {size / 1e6:,.0f} MB, 1 run")
        cache = work / f"stats-{args.records}.npz"
        cache.unlink(missing_ok=True)
        cold = timed(lambda: load_log_table(log, cache).table, 1)[0], CPU[-1]
        show("log>cols", *cold, "no cache: parse, columns, write the cache; 1 run")
        warm_s, warm_table = timed(lambda: load_log_table(log, cache).table, args.repeat)
        assert len(warm_table) == len(records)  # type: ignore[arg-type]
        warm = warm_s, CPU[-1]
        show("log>cols", *warm, f"from the cache ({cache.stat().st_size / 1e6:,.0f} MB)")

    agent_of = {c.id: c.agent for c in changes}
    # The history side, in columns once per run: what gather() hands compute_stats.
    hist_s, (change_table, history) = timed(
        lambda: (ChangeTable.from_changes(changes), CommitTable.from_sizes(commits)), 1
    )
    show("history", hist_s, CPU[-1], "AI changes and commit sizes -> columns (once per run)")
    columns = timed(lambda: VerdictTable.from_records(records, agent_of), args.repeat)[0], CPU[-1]
    show("columns", *columns, "dicts in memory -> VerdictTable")
    table = VerdictTable.from_records(records, agent_of)
    compute_s, stats = timed(
        lambda: compute_stats(table, now=NOW, changes=change_table, commits=history), args.repeat
    )
    compute = compute_s, CPU[-1]
    show("compute", *compute, "every figure, all time, days in each record's offset")
    since = NOW - timedelta(days=90)
    for label, kwargs in (("--tz UTC", {"tz": UTC}), ("--since 90d", {"since": since})):
        wall, _ = timed(
            lambda kw=kwargs: compute_stats(
                table, now=NOW, changes=change_table, commits=history, **kw
            ),
            args.repeat,
        )
        show("compute", wall, CPU[-1], label)
    show(
        "stats",
        columns[0] + compute[0],
        columns[1] + compute[1],
        "records in memory: columns + compute",
    )
    for name, phase, what in (
        ("cold", cold, "first `stats` on the log: log>cols (no cache) + compute"),
        ("warm", warm, "every later `stats`: log>cols (cache) + compute"),
    ):
        if phase is not None:
            wall, cpu = phase[0] + compute[0], phase[1] + compute[1]
            goal = (
                f"; goal <= 2 s {'met' if cpu <= 2 else 'NOT met'} (cpu)" if name == "warm" else ""
            )
            show(name, wall, cpu, what + goal)
    s = stats  # type: ignore[assignment]
    print(
        f"figures   {s.records:,} verdicts, {len(s.by_week)} weeks, {len(s.by_day)} days, "  # type: ignore[attr-defined]
        f"{len(s.by_reviewer)} reviewers; rubber-stamp rate "  # type: ignore[attr-defined]
        f"{s.totals.rubber_stamp_rate:.3f}, coverage {s.flow.coverage:.3f}"  # type: ignore[attr-defined]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
