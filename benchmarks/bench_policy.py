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
import json
import os
import random
import shutil
import statistics
import subprocess
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
from reviewq.core.policy import evaluate  # noqa: E402
from reviewq.core.policy_rules import policy_from_sections  # noqa: E402
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


# -- end to end ---------------------------------------------------------------------------------

WORK = ROOT / "benchmarks" / ".work"
GATE_POLICY = """
[policy]
approvals = 1

[[domains]]
name = "auth"
paths = ["auth/**"]
approvals = 2
cooldown_hours = 24

[[domains]]
name = "ci"
paths = [".github/workflows/**"]
approvals = 2
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@acme.example",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@acme.example",
        }
    )
    return env


def build_gate_repo(path: Path, commits: int) -> tuple[str, list[str]]:
    """`commits` commits (every 4th Codex's) after a base commit holding the policy."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    env = _env()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True, env=env)
    stream = []
    base_time = 1_700_000_000
    policy = GATE_POLICY.encode()
    stream.append(b"commit refs/heads/main\nmark :1\n")
    stream.append(f"author Lead <lead@acme.example> {base_time} +0000\n".encode())
    stream.append(f"committer Lead <lead@acme.example> {base_time} +0000\n".encode())
    stream.append(b"data 14\nAdopt reviewq\n\n")
    stream.append(f"M 100644 inline .reviewq.toml\ndata {len(policy)}\n".encode() + policy + b"\n")
    tops = ["src", "lib", "auth", "docs", ".github/workflows"]
    for i in range(commits):
        when = base_time + (i + 1) * 600
        ai = i % 4 == 0
        msg = f"change {i}\n" + ("\nCo-authored-by: Codex <noreply@openai.com>\n" if ai else "")
        data = msg.encode()
        body = f"line {i}\n".encode()
        who = f"Dev{i % 7} <dev{i % 7}@acme.example> {when} +0000"
        stream.append(f"commit refs/heads/main\nmark :{i + 2}\n".encode())
        stream.append(f"author {who}\ncommitter {who}\n".encode())
        stream.append(f"data {len(data)}\n".encode() + data + b"\n")
        stream.append(f"from :{i + 1}\n".encode())
        path_name = f"{tops[i % len(tops)]}/f{i % 300}.txt"
        stream.append(f"M 100644 inline {path_name}\ndata {len(body)}\n".encode() + body + b"\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=path, input=b"".join(stream), check=True, env=env
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True, env=env)
    shas = subprocess.run(
        ["git", "rev-list", "--reverse", "main"],
        cwd=path,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.split()
    return shas[0], shas[1:]


def record_reviews(path: Path, shas: list[str]) -> int:
    """One approval (old enough for any cooldown) for half of the AI commits, log + notes."""
    from reviewq.context import Context
    from reviewq.store.log import ProvenanceLog
    from reviewq.store.notes_log import add_records
    from reviewq.workflow.recording import notes_lock_path, patch_ids

    ctx = Context.open(path, env=_env())
    try:
        ai = [s for i, s in enumerate(shas) if i % 4 == 0][::2]
        ids = patch_ids(ctx, ai)
        records = [
            new_record(
                record_id=f"r{n:06d}",
                sha=sha,
                change_id=sha,
                patch_id=ids.get(sha),
                verdict="approve",
                reviewer=Identity("Rev", f"rev{n % 3}@acme.example"),
                at=(NOW - timedelta(days=30)).isoformat(),
                active_seconds=300,
                wall_seconds=300,
                lines_changed=1,
                hunks_total=1,
                hunks_viewed=1,
                critique=CritiqueState("static", "rules", None, True),
                author_family="openai",
            )
            for n, sha in enumerate(ai)
        ]
        stored = ProvenanceLog(ctx.log_path).append_many(records)
        add_records(ctx.git, stored, notes_lock_path(ctx))
        return len(stored)
    finally:
        ctx.close()


def timed_ms(args: list[str], cwd: Path, repeat: int, reset=None) -> float:
    times = []
    for _ in range(repeat):
        if reset:
            reset()
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, capture_output=True, env={**_env(), "PYTHONSAFEPATH": "1"})
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_gate(commits: int, repeat: int) -> None:
    path = WORK / f"gate-{commits}"
    base, shas = build_gate_repo(path, commits)
    reviews = record_reviews(path, shas)
    cache = path / ".git" / "reviewq" / "cache.json"
    span = f"{base}..main"
    py = [sys.executable, "-m", "reviewq"]

    def cold() -> None:
        cache.unlink(missing_ok=True)

    git_ms = timed_ms(["git", "log", "--format=%H %an %ae %B", span], path, repeat)
    scan_ms = timed_ms([*py, "scan", "--json", span], path, repeat, reset=cold)
    gate_cold = timed_ms([*py, "gate", "--json", span], path, repeat, reset=cold)
    gate_warm = timed_ms([*py, "gate", "--json", span], path, repeat)
    out = subprocess.run(
        [*py, "gate", "--json", span],
        cwd=path,
        capture_output=True,
        text=True,
        env={**_env(), "PYTHONSAFEPATH": "1"},
    )
    result = json.loads(out.stdout)
    print(
        f"gate: {commits:,} commits, {result['checked']:,} AI-authored, {reviews:,} approvals "
        f"in log + notes; {result['failing']:,} fall short (exit {out.returncode})"
    )
    print(f"  git log of the range:                 {git_ms:8.1f} ms")
    print(f"  reviewq scan --json (cold cache, CLI): {scan_ms:8.1f} ms")
    print(
        f"  reviewq gate --json (cold cache, CLI): {gate_cold:8.1f} ms  ({gate_cold / scan_ms:4.2f}x the scan)"
    )
    print(
        f"  reviewq gate --json (warm cache, CLI): {gate_warm:8.1f} ms  ({gate_warm / scan_ms:4.2f}x the scan)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=10_000)
    ap.add_argument("--domains", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--gate", action="store_true", help="also time `reviewq gate` end to end")
    ap.add_argument("--commits", type=int, default=4_000)
    args = ap.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (medians of {args.repeat} runs)")
    bench_pure(args.changes, args.domains, args.repeat)
    if args.gate:
        bench_gate(args.commits, args.repeat)


if __name__ == "__main__":
    main()
