"""Whole-process scan speed: `reviewq scan --json > /dev/null` next to raw `git log`, interleaved.

What a user waits for is the whole process: interpreter start, imports, git, output. Each round
runs, in this order and on the same repository:

- `raw`: the baseline, `git log -z --format=%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B`
  over the history (exactly the scan's own log arguments, `sources.git_log.log_args`): every
  field the scan reads, nothing else;
- `raw+sizes`: that log, then the size pass git must make for the AI commits the scan reports
  (`git log --no-walk --stdin --raw --numstat -M -z ...` of those shas, the scan's own
  `_numstat_args`), one after the other: the same information `scan --json` prints, from git
  alone (`files`, `additions`, `deletions` need a diff of every AI commit);
- `python`: `python -c pass`, the interpreter's own start (the floor of any warm command);
- `cold`: `reviewq scan --json` with the state dir removed (no cache, no stored answer);
- `warm`: the same command again (an unchanged history): the fast path of
  `reviewq/workflow/scan_fast.py` (files only, no git process);
- `cold-list`: the human listing, `reviewq scan`, with the state dir removed (it counts no
  size: it shows those already counted, and `?` for the rest, unless given `--sizes`);
- `cold-list-script`: the same with the installed console script users run (pip's wrapper of
  `reviewq.cli:main`, found through PYTHONPATH), not `python -m reviewq`;
- `cold-queue`: `reviewq queue --json`, with the state dir removed: the queue's scope (unmerged
  work plus main's recent window, `[scope]`) is scanned and sized, nothing else;
- `warm-queue`: the same again;
- `rules`: `scan --json` after a change of detection rules with the sizes kept (the state dir
  of the previous run with its stored answers and scan cache removed, `scan-sizes.jsonl` kept):
  what a new question costs once every commit was counted.

Rounds interleave the four so machine load hits them alike; medians and p95 of each, and the
ratios of medians, are printed with the load average (`os.getloadavg`), and for the cold tables
the median CPU time (user + system of the process and the gits it waited for), which a loaded
machine disturbs less than wall time. PYTHONDONTWRITEBYTECODE
is removed from the children's environment and the package is byte-compiled first: an install
has .pyc files, and compiling 60 modules per run is not what users wait for.

`--only cold-list`: just the cold table (and `python`, `raw`, `raw+sizes`), e.g. with
`--before` and `--rounds 9` for a comparison of the table alone.

`--before DIR`: also time another source tree of reviewq (e.g. `git archive <commit> | tar -x -C
DIR`) in the same rounds, as `cold-before` / `warm-before`, `cold-list-before` and
`cold-queue-before` / `warm-queue-before` (run with PYTHONPATH=DIR).

Run: .venv/bin/python benchmarks/bench_scan_process.py [--repo PATH ...] [--rounds N] [--quick]
     [--before DIR]
Default repositories: a work-tree clone of the aider mirror (/work/.mirror/Aider-AI+aider) if
present, and the synthetic heavy-AI history of bench_scan.py (6,200 commits, --mix heavy).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scan import WORK, build_repo  # noqa: E402
from reviewq.sources.git_log import _numstat_args, log_args  # noqa: E402

AIDER_MIRROR = Path("/work/.mirror/Aider-AI+aider/repo")


def child_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GIT_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    # No session stores and no user config from this machine: the same work on every run.
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
        }
    )
    return env


def state_dir(repo: Path, env: dict[str, str]) -> Path:
    out = subprocess.run(
        ["git", "rev-parse", "--git-common-dir"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.strip()
    path = Path(out)
    return (path if path.is_absolute() else repo / path) / "reviewq"


CPU: dict[str, list[float]] = {}  # user + system seconds of each timed run's process tree


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the reaped children and theirs
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], repo: Path, env: dict[str, str], stdin: bytes | None = None) -> float:
    run.cpu = 0.0  # type: ignore[attr-defined]
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(
        cmd,
        cwd=repo,
        env=env,
        input=stdin,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the table's "? not counted" line, once per run
        check=True,
    )
    wall = time.perf_counter() - start
    run.cpu = children_cpu() - cpu  # type: ignore[attr-defined]
    return wall


def console_script(home: Path) -> Path:
    """pip's wrapper for `reviewq = reviewq.cli:main`, what users run: the installed `reviewq`
    (run with the interpreter and PYTHONPATH of the tree it times)."""
    script = home / "reviewq-script"
    script.write_text(
        "import re\nimport sys\nfrom reviewq.cli import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )
    return script


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench(
    repo: Path,
    rounds: int,
    home: Path,
    before: Path | None = None,
    only: set[str] | None = None,
) -> None:
    env = child_env(home)
    old_env = {**env, "PYTHONPATH": str(before)} if before else None
    reviewq = [sys.executable, "-m", "reviewq", "scan", "--json"]
    state = state_dir(repo, env)
    shutil.rmtree(state, ignore_errors=True)
    out = subprocess.run(reviewq, cwd=repo, env=env, capture_output=True, check=True).stdout
    shas = [line.split(b'"', 4)[3] for line in out.splitlines() if line.startswith(b'{"sha": "')]
    stdin = b"\n".join(shas) + b"\n"
    commits = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=repo, env=env, capture_output=True, text=True
    ).stdout.strip()
    raw_cmd = ["git", *log_args(["HEAD"])]
    sizes_cmd = ["git", *_numstat_args()]
    listing = [sys.executable, "-m", "reviewq", "scan"]
    script_listing = [sys.executable, str(console_script(home)), "scan"]
    new_env = {**env, "PYTHONPATH": str(ROOT)}  # the script finds this tree as installed
    queue = [sys.executable, "-m", "reviewq", "queue", "--json"]
    times: dict[str, list[float]] = {
        "python": [],
        "raw": [],
        "raw+sizes": [],
        "cold": [],
        "warm": [],
        "rules": [],
        "cold-list": [],
        "cold-list-script": [],
        "cold-queue": [],
        "warm-queue": [],
    }
    if old_env is not None:
        times.update(
            {
                "cold-before": [],
                "warm-before": [],
                "cold-list-before": [],
                "cold-list-script-before": [],
                "cold-queue-before": [],
                "warm-queue-before": [],
            }
        )
    if only is not None:  # the baselines always; of the rest, the ones asked for
        keep = {"python", "raw", "raw+sizes"}  # and the measures' variants: -script, -before
        times = {
            k: v
            for k, v in times.items()
            if k in keep
            or k.removesuffix("-before") in only
            or k.removesuffix("-before").removesuffix("-script") in only
        }
    loads = []
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        times["python"].append(run([sys.executable, "-c", "pass"], repo, env))
        times["raw"].append(run(raw_cmd, repo, env))
        times["raw+sizes"].append(run(raw_cmd, repo, env) + run(sizes_cmd, repo, env, stdin))
        if only is not None:
            for name in (
                "cold-list",
                "cold-list-before",
                "cold-list-script",
                "cold-list-script-before",
            ):
                if name in times:
                    shutil.rmtree(state, ignore_errors=True)
                    cmd = script_listing if "script" in name else listing
                    run_env = old_env if name.endswith("-before") else new_env
                    times[name].append(run(cmd, repo, run_env))
                    CPU.setdefault(name, []).append(run.cpu)  # type: ignore[attr-defined]
            continue
        shutil.rmtree(state, ignore_errors=True)
        times["cold"].append(run(reviewq, repo, env))
        times["warm"].append(run(reviewq, repo, env))
        for kept in state.iterdir():  # the sizes stay; every answer and cache goes
            if kept.name != "scan-sizes.jsonl":
                shutil.rmtree(kept) if kept.is_dir() else kept.unlink()
        times["rules"].append(run(reviewq, repo, env))
        shutil.rmtree(state, ignore_errors=True)
        times["cold-list"].append(run(listing, repo, env))
        CPU.setdefault("cold-list", []).append(run.cpu)  # type: ignore[attr-defined]
        shutil.rmtree(state, ignore_errors=True)
        times["cold-list-script"].append(run(script_listing, repo, new_env))
        CPU.setdefault("cold-list-script", []).append(run.cpu)  # type: ignore[attr-defined]
        shutil.rmtree(state, ignore_errors=True)
        times["cold-queue"].append(run(queue, repo, env))
        times["warm-queue"].append(run(queue, repo, env))
        if old_env is not None:
            shutil.rmtree(state, ignore_errors=True)
            times["cold-before"].append(run(reviewq, repo, old_env))
            times["warm-before"].append(run(reviewq, repo, old_env))
            shutil.rmtree(state, ignore_errors=True)
            times["cold-list-before"].append(run(listing, repo, old_env))
            CPU.setdefault("cold-list-before", []).append(run.cpu)  # type: ignore[attr-defined]
            shutil.rmtree(state, ignore_errors=True)
            times["cold-list-script-before"].append(run(script_listing, repo, old_env))
            CPU.setdefault("cold-list-script-before", []).append(run.cpu)  # type: ignore[attr-defined]
            shutil.rmtree(state, ignore_errors=True)
            times["cold-queue-before"].append(run(queue, repo, old_env))
            times["warm-queue-before"].append(run(queue, repo, old_env))
    raw = statistics.median(times["raw"])
    full = statistics.median(times["raw+sizes"])
    print(f"\n{repo}: {commits} commits, {len(shas)} AI-authored; {rounds} rounds")
    print(f"load average (1 min) during the rounds: {min(loads):.2f}-{max(loads):.2f}")
    print(
        f"{'measure':24} {'median':>9} {'p95':>9} {'/ raw':>7} {'/ raw+sizes':>12} "
        f"{'cpu median':>11}"
    )
    for name, values in times.items():
        med = statistics.median(values)
        cpu = CPU.pop(name, None)  # user + system of the process and its gits, per run
        print(
            f"{name:24} {med * 1000:7.0f}ms {p95(values) * 1000:7.0f}ms "
            f"{med / raw:6.2f}x {med / full:11.2f}x"
            + (f" {statistics.median(cpu) * 1000:9.0f}ms" if cpu else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", action="append", help="a repository with a work tree")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--before", help="another reviewq source tree to time alongside")
    parser.add_argument(
        "--only",
        choices=["cold-list"],
        help="time only this measure (and the baselines), e.g. the cold table's rounds",
    )
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    compileall.compile_dir(str(ROOT / "reviewq"), quiet=1)
    before = Path(args.before).resolve() if args.before else None
    if before is not None:
        compileall.compile_dir(str(before / "reviewq"), quiet=1)
    repos = [Path(r).resolve() for r in args.repo or []]
    if not repos:
        if AIDER_MIRROR.is_dir():
            aider = WORK / "aider"
            if not (aider / ".git").is_dir():
                subprocess.run(
                    ["git", "clone", "-q", str(AIDER_MIRROR), str(aider)],
                    check=False,
                    capture_output=True,
                )
            repos.append(aider)
        heavy = WORK / "history-6200-heavy"
        os.environ.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
        build_repo(heavy, 6200, "heavy")
        repos.append(heavy)
    home = WORK / "process-home"
    home.mkdir(parents=True, exist_ok=True)
    for repo in repos:
        bench(repo, rounds, home, before, {args.only} if args.only else None)


if __name__ == "__main__":
    main()
