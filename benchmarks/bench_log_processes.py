"""The log's readers as whole processes, next to `sha256sum` of the same log in the same run.

    python benchmarks/bench_log_processes.py [--quick] [--records N] [--runs 5] [--rebuild]
                                             [--no-cold] [--only verify,stats,report ...]

`--quick` is 200,000 records (under two minutes once the fixture exists); the default is
1,000,000 (issue 18's size). The repository comes from tests/load_fixture.py (cached under
benchmarks/.work/). Each command runs as its own process, as a user runs it (with bytecode
caches: PYTHONDONTWRITEBYTECODE is cleared), under `/usr/bin/time` for its peak RSS:

- `sha256sum` of the log: the yardstick every goal is a multiple of;
- `reviewq log verify --full` (every line parsed, linked and rehashed; signatures too), then
  `reviewq log verify` with no checkpoint yet (the full pass, which writes one), with its
  checkpoint, and right after one new verdict; each run next to a `sha256sum` run, and each
  ratio against the sha256sum runs interleaved with it;
- `reviewq stats --json` and `reviewq report --format json` with no column cache yet (cold),
  each run next to a `sha256sum` run too;
- the same right after one new verdict (appended before each run, not timed), cache warm, each
  run next to a `sha256sum` run (as every measure below: its ratio is to the `sha256sum` runs
  beside it, and the median of each run's own ratio is printed too);
- `stats` right after `reviewq verdict` on a pending change (not timed: the log, the team's
  notes and the cache file each get what a reviewer's verdict writes);
- the same with nothing new (warm).

`--only verify,stats` (comma-separated or repeated) times only the commands named (sha256sum is always timed).

Prints median, p95 and peak RSS of each, and each median as a multiple of sha256sum's (and,
for a first build, the CPU seconds it took, workers included: steadier than wall time on a
loaded machine). The machine may be shared: the load average is printed before and after; compare ratios, and
re-run on a quiet machine for absolute figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.load_fixture import build  # noqa: E402

REVIEWQ = [sys.executable, "-m", "reviewq"]
#: Appends one verdict to the log the way a reviewer's `reviewq verdict` would (chained,
#: fsynced, head updated): a copy of the last record with a new id.
APPEND = """
import json, sys
from reviewq.store.log import ProvenanceLog
log = ProvenanceLog(sys.argv[1])
with open(log.path, "rb") as fh:
    fh.seek(max(0, log.path.stat().st_size - 8192))
    last = json.loads(fh.read().splitlines()[-1])
last["id"] = sys.argv[2]
log.append(last)
"""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


#: CPU seconds (user + system, the process and its workers) of each timed run, by command line:
#: on a shared machine a steadier figure than wall time.
CPU: dict[str, list[float]] = {}


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one process; a failure stops the benchmark."""
    with tempfile.NamedTemporaryFile("r") as stats:
        t0 = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-o", stats.name, "-f", "%U %S %M", *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wall = time.perf_counter() - t0
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
        user, system, rss = stats.read().split()[-3:]
        CPU.setdefault(" ".join(argv[-3:]), []).append(float(user) + float(system))
        return wall, int(rss)


def summary(name: str, results: list[tuple[float, int]], yardstick: float | None) -> float:
    walls = sorted(w for w, _ in results)
    median = statistics.median(walls)
    p95 = walls[min(len(walls) - 1, round(0.95 * (len(walls) - 1)))]
    rss = max(r for _, r in results) / 1024
    ratio = f"{median / yardstick:5.2f}x sha256sum" if yardstick else " " * 16
    print(
        f"{name:<46} median {median:6.2f} s  p95 {p95:6.2f} s  peak {rss:6.0f} MB  {ratio}"
        f"  (n={len(walls)})"
    )
    return median


def cpu_of(argv: list[str], count: int) -> str:
    """Median CPU seconds of the last `count` runs of `argv`."""
    done = CPU.get(" ".join(argv[-3:]), [])[-count:]
    return f"{statistics.median(done):.2f} s" if done else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="200,000 records")
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--runs", type=int, default=5, help="runs of each warm measurement")
    parser.add_argument("--cold-runs", type=int, default=None, help="default: --runs // 2 + 1")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--no-cold", action="store_true", help="skip the first builds (keep the caches there)"
    )
    parser.add_argument(
        "--only",
        action="append",
        help="time only these of verify, stats, report (comma-separated or repeated; default: all)",
    )
    args = parser.parse_args()
    only = {w for arg in args.only or ["verify,stats,report"] for w in arg.split(",") if w}
    if not only <= {"verify", "stats", "report"}:
        parser.error("--only takes verify, stats and report")
    records = args.records or (200_000 if args.quick else 1_000_000)
    pending = 1_000 if args.quick else 10_000
    cold_runs = args.cold_runs or args.runs // 2 + 1

    print(f"before: {load()}")
    fixture = build(pending, 2_000, 2_000, records, rebuild=args.rebuild)
    repo, log = fixture.path, fixture.log_path
    state = log.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(fixture.git_env)
    xdg = repo.parent / "xdg"
    for part in ("config", "cache", "state", "data"):
        env[f"XDG_{part.upper()}_HOME"] = str(xdg / part)
    env["PYTHONPATH"] = str(ROOT)
    run([*REVIEWQ, "--version"], repo, env)  # bytecode caches written once, not timed
    size = log.stat().st_size
    print(f"{records:,} records, {size / 2**20:,.0f} MiB; {args.runs} runs each")

    def caches(keep: bool) -> None:
        if not keep:
            for name in (
                "verdict-columns.arrays",
                "log-records.arrays",
                "verdict-columns.npz",  # the names of earlier builds (npz files)
                "log-records.npz",
            ):
                (state / name).unlink(missing_ok=True)

    summary(
        "sha256sum of the log",
        [run(["sha256sum", str(log)], repo, env) for _ in range(args.runs)],
        None,
    )

    def beside_sha256sum(
        name: str, argv: list[str], before: Callable[[], object] | None, runs: int
    ) -> None:
        """Each run next to a `sha256sum` run: the ratio holds under a changing load (the
        median of the runs' own ratios is printed too: the yardstick itself drifts)."""
        timed, yardstick = [], []
        for _ in range(runs):
            if before is not None:
                before()
            yardstick.append(run(["sha256sum", str(log)], repo, env)[0])
            timed.append(run(argv, repo, env))
        here = statistics.median(yardstick)
        summary(name, timed, here)
        own = statistics.median([t / y for (t, _), y in zip(timed, yardstick, strict=True)])
        print(
            f"{'':<46} (sha256sum in the same runs: median {here:.2f} s; "
            f"each run's own ratio: median {own:.2f}x)"
        )

    def append() -> None:
        """One new verdict at the log's end, as the next run's `before` (not timed)."""
        subprocess.run(
            [sys.executable, "-c", APPEND, str(log), uuid.uuid4().hex], env=env, check=True
        )

    if "verify" in only:
        checkpoint = log.with_name(log.name + ".verified")

        verify = [*REVIEWQ, "log", "verify"]
        variants = [
            ("reviewq log verify --full", [*verify, "--full"], None, args.runs),
            (
                "reviewq log verify, no checkpoint yet",
                verify,
                lambda: checkpoint.unlink(missing_ok=True),
                cold_runs,
            ),
            ("reviewq log verify, checkpoint", verify, None, args.runs),
            ("reviewq log verify, right after one new verdict", verify, append, args.runs),
        ]
        for name, argv, before, runs in variants:
            beside_sha256sum(name, argv, before, runs)
    commands = {
        name: argv
        for name, argv in {
            "stats": [*REVIEWQ, "stats", "--json"],
            "report": [*REVIEWQ, "report", "--format", "json"],
        }.items()
        if name in only
    }
    # Pending AI changes to record verdicts on with the CLI (each run a new one).
    pending = (
        [
            json.loads(line)["sha"]
            for line in subprocess.run(
                [*REVIEWQ, "queue", "--json"], cwd=repo, env=env, capture_output=True, check=True
            ).stdout.splitlines()[: args.runs]
        ]
        if "stats" in commands
        else []
    )
    for name, argv in commands.items():
        if not args.no_cold:
            # Beside its own `sha256sum` too: the host's speed drifts by a third within
            # minutes, and the cold build is CPU-bound on both cores.
            beside_sha256sum(
                f"reviewq {name}, no column cache yet", argv, lambda: caches(False), cold_runs
            )
            print(
                f"{'':<46} (CPU, user + system with its workers: median {cpu_of(argv, cold_runs)})"
            )
        beside_sha256sum(f"reviewq {name}, right after one new verdict", argv, append, args.runs)
        if name == "stats":
            # As a reviewer records one: `reviewq verdict` (the log, the team's notes, the
            # change's patch id in the cache file), not timed; then `stats`, timed.
            targets = iter(pending[: args.runs])
            beside_sha256sum(
                "reviewq stats, right after `reviewq verdict`",
                argv,
                lambda targets=targets: subprocess.run(
                    [*REVIEWQ, "verdict", next(targets), "approve", "--seconds", "60"],
                    cwd=repo,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    check=True,
                ),
                min(args.runs, len(pending)),
            )
        beside_sha256sum(f"reviewq {name}, nothing new", argv, None, args.runs)
    print(f"after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
