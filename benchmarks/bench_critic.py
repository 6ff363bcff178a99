"""How fast is the offline critic? Medians on the demo's largest and riskiest diffs.

    .venv/bin/python benchmarks/bench_critic.py [--runs N]

For each commit: the pure rules alone, the critic as it runs (rules + ruff on changed Python
files + verification + rationale), and the whole `get_critique` path with --refresh (git reads
included). Also the `reviewq critique` command end to end, process start included (with
bytecode caching on, as in an installed reviewq).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.demo.builder import build_demo  # noqa: E402

from reviewq.context import Context  # noqa: E402
from reviewq.core import detectors  # noqa: E402
from reviewq.core.detectors.base import Scope  # noqa: E402
from reviewq.critics.static import StaticCritic  # noqa: E402
from reviewq.workflow.critiquing import critique_change, critique_input  # noqa: E402

COMMITS = {
    "currency table (1,800-line diff)": "Add the currency table for multi-currency orders",
    "risky Devin commit": "Let support engineers impersonate customers; simplify CI",
    "CSV export (shell=True)": "Add CSV export",
}


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench(ctx: Context, repo: Path, sha: str, critic: StaticCritic, runs: int) -> tuple:
    from reviewq.workflow.lookup import lookup

    change = lookup(ctx, sha).change
    inp = critique_input(ctx, change)
    rules = median_ms(
        lambda: detectors.run(Scope(inp.diff, inp.prompt, inp.message, inp.new_texts)), runs
    )
    review = median_ms(lambda: critic.review(inp), runs)
    full = median_ms(lambda: critique_change(ctx, change, critic="static", refresh=True), runs)
    command = [sys.executable, "-m", "reviewq", "critique", sha, "--refresh", "--json"]
    # An installed reviewq has its bytecode cached; measure that, not recompilation.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cli = median_ms(
        lambda: subprocess.run(command, cwd=repo, capture_output=True, check=True, env=env),
        max(3, runs // 3),
    )
    lines = inp.diff.stats.additions + inp.diff.stats.deletions
    return lines, rules, review, full, cli


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    os.environ.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    now = datetime(2026, 11, 20, 12, tzinfo=timezone(timedelta(hours=1)))
    with tempfile.TemporaryDirectory(prefix="reviewq-bench-") as tmp:
        repo = build_demo(Path(tmp) / "orders", now=now)
        ctx = Context.open(repo)
        log = subprocess.run(
            ["git", "log", "--all", "--format=%H %s"], cwd=repo, capture_output=True, text=True
        ).stdout
        by_subject = dict(reversed(line.split(" ", 1)) for line in log.splitlines())
        critic = StaticCritic()
        ruff = "ruff found" if critic.prompt_version.endswith("+ruff") else "ruff MISSING"
        print(f"static critic, median of {args.runs} runs ({ruff})")
        print(
            f"{'commit':34} {'lines':>6} {'rules':>9} {'critic':>9} {'get_critique':>13} {'CLI':>8}"
        )
        for label, subject in COMMITS.items():
            lines, rules, review, full, cli = bench(
                ctx, repo, by_subject[subject], critic, args.runs
            )
            print(
                f"{label:34} {lines:>6} {rules:>7.1f}ms {review:>7.1f}ms {full:>11.1f}ms {cli:>6.0f}ms"
            )
        ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
