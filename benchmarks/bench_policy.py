"""Policy speed: mapping paths to domains and evaluating changes, then the gate end to end.

Pure part (no git): a 20-domain policy, 10,000 changes of 1-40 paths each, 0-4 verdict records per
change. Prints the median of K runs for `domains_for` over every change, `requirements` + `evaluate`
over every change, and the cost per change.

End to end (`--gate`): builds (once, under benchmarks/.work/) a repository of N commits, a quarter
of them AI-authored, with one approval recorded for half of the AI commits, and times
`reviewq gate` on the whole range through the CLI (process start included) next to `git log` of the
same range, as a ratio.

Goal: the policy adds little to the scan: evaluation well under 1 ms per change, and the gate on a
range within a small factor of the scan of that range.

Run: .venv/bin/python benchmarks/bench_policy.py [--changes N] [--repeat K] [--gate --commits N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.core.config import parse_config  # noqa: E402
from reviewq.core.model import (  # noqa: E402
    Authorship,
    Change,
    Commit,
    DiffStats,
    Evidence,
    FileChange,
    Identity,
)
from reviewq.core.policy import evaluate, policy_from_sections  # noqa: E402
from reviewq.core.verdict import CritiqueState, new_record  # noqa: E402

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=1)))
TOPS = ["src", "lib", "auth", "api", "web", "infra", "docs", "tests", ".github/workflows", "db"]


def policy_text(domains: int) -> str:
    parts = ['[policy]\napprovals = 1\nvelocity_owners = ["vp@acme.example"]\n']
    for i in range(domains):
        top = TOPS[i % len(TOPS)]
        parts.append(
            f'[[domains]]\nname = "d{i}"\npaths = ["{top}/m{i}/**", "**/k{i}_*.py", "{top}/*.x{i}"]\n'
            f"approvals = {1 + i % 3}\ncooldown_hours = {24 * (i % 4)}\n"
            f'checklist = ["item {i}"]\nmin_seconds_per_100_lines = {30 * (i % 3)}\n'
        )
    return "\n".join(parts)


def make_changes(n: int, domains: int, rng: random.Random) -> list[tuple[Change, list[dict]]]:
    people = [Identity(f"P{i}", f"p{i}@acme.example") for i in range(12)]
    out = []
    for i in range(n):
        paths = []
        for _ in range(rng.randint(1, 40)):
            top = rng.choice(TOPS)
            d = rng.randrange(domains)
            paths.append(
                rng.choice(
                    [f"{top}/m{d}/f{rng.randrange(50)}.py", f"{top}/x/k{d}_a.py", f"{top}/y/z.py"]
                )
            )
        sha = f"{i:040x}"
        commit = Commit(
            sha,
            (),
            Identity("Claude", "noreply@anthropic.com"),
            Identity("Claude", "noreply@anthropic.com"),
            NOW.isoformat(),
            NOW.isoformat(),
            "x",
        )
        change = Change(
            sha,
            commit,
            Authorship(
                "claude-code",
                None,
                "anthropic",
                "primary",
                "high",
                (Evidence("trailer", "x"),),
                (rng.choice(people),),
            ),
            stats=DiffStats(len(paths), rng.randint(1, 800), rng.randint(0, 200)),
            files=tuple(FileChange(p, "M") for p in paths),
        )
        records = [
            new_record(
                record_id=f"{i}-{j}",
                sha=sha,
                change_id=sha,
                patch_id=None,
                verdict=rng.choice(["approve", "approve", "approve", "reject"]),
                reviewer=rng.choice(people),
                at=(NOW - timedelta(hours=rng.randint(1, 400))).isoformat(),
                active_seconds=rng.randint(10, 2000),
                wall_seconds=0,
                lines_changed=100,
                hunks_total=1,
                hunks_viewed=1,
                critique=CritiqueState("static", "rules", None, True),
                author_family="anthropic",
                extra={"checklist": [f"item {d}" for d in range(domains)]},
            )
            for j in range(rng.randint(0, 4))
        ]
        out.append((change, records))
    return out


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_pure(n: int, domains: int, repeat: int) -> None:
    text = policy_text(domains)
    data = make_changes(n, domains, random.Random(7))

    def fresh():
        return policy_from_sections(parse_config(tomllib.loads(text)).sections)

    cold = []
    for _ in range(repeat):
        p = fresh()
        start = time.perf_counter()
        for change, _ in data:
            p.domains_for(change.paths)
        cold.append((time.perf_counter() - start) * 1000)
    cold_ms = statistics.median(cold)
    policy = fresh()
    paths = sum(len(c.files) for c, _ in data)
    records = sum(len(r) for _, r in data)

    def map_all() -> None:
        for change, _ in data:
            policy.domains_for(change.paths)

    passed = [0]

    def evaluate_all() -> None:
        passed[0] = 0
        for change, recs in data:
            req = policy.requirements(policy.domains_for(change.paths))
            passed[0] += evaluate(change, req, recs, now=NOW).passed

    map_ms = median_ms(map_all, repeat)
    eval_ms = median_ms(evaluate_all, repeat)
    print(f"policy: {domains} domains; {n:,} changes, {paths:,} paths, {records:,} verdict records")
    distinct = len({p for c, _ in data for p in c.paths})
    print(
        f"  domains_for, cold ({distinct:,} distinct paths): {cold_ms:8.1f} ms  ({cold_ms / n * 1000:6.1f} µs/change)"
    )
    print(
        f"  domains_for, warm path cache:        {map_ms:8.1f} ms  ({map_ms / n * 1000:6.1f} µs/change)"
    )
    print(
        f"  domains + requirements + evaluate:   {eval_ms:8.1f} ms  ({eval_ms / n * 1000:6.1f} µs/change)"
    )
    print(f"  passed: {passed[0]:,} of {n:,}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--domains", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    bench_pure(args.changes, args.domains, args.repeat)


if __name__ == "__main__":
    main()
