"""The cold table as the README's install runs it: `pip install .` into its own venv, no editable
finder in the interpreter's start-up, next to raw `git log`, interleaved.

`bench_scan_process.py` times the development venv (`pip install -e`), whose start-up imports
pip's editable finder (with `pathlib`, `urllib.parse` and more: 13 ms more of `python -c pass`
on this machine). Users install with `pip install .` (README.md), so issue 18's cold-table
figure is taken here too. Each tree given is installed once into `benchmarks/.work/installed/`
(again when its files changed: the venv is keyed by a hash of the tree's `reviewq/`); each
round runs raw `git log` (the scan's own arguments) and then each install's `reviewq scan` with
the state dir removed. Prints the median, p95, ratio to raw and CPU (user + system of the
process and its gits) of each, with the load average.

Run: .venv/bin/python benchmarks/bench_scan_installed.py [--repo PATH] [--rounds 31]
     [--before DIR]
`--before DIR`: another reviewq source tree (e.g. `git worktree add --detach /tmp/old <commit>`).
Default repository: the heavy-AI history built from the real samples (6,200 commits, 2,108 AI),
each pass over the samples made distinct (`bench_scan.py --mix heavy-distinct`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scan import SAMPLES_FILE, WORK, build_repo  # noqa: E402
from benchmarks.bench_scan_process import child_env, run, state_dir  # noqa: E402
from reviewq.sources.git_log import log_args  # noqa: E402


def tree_key(tree: Path) -> str:
    """A hash of every file under the tree's `reviewq/` (names and bytes) and its pyproject."""
    digest = hashlib.sha256()
    for path in [*sorted((tree / "reviewq").rglob("*.py")), tree / "pyproject.toml"]:
        digest.update(str(path.relative_to(tree)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def installed(tree: Path) -> Path:
    """A venv with `pip install <tree>` (not editable), made once per content of the tree."""
    venv = WORK / "installed" / tree_key(tree)
    if not (venv / "bin" / "reviewq").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(tree)], check=True)
    # Bytecode compiled once, as pip leaves it, not timed.
    subprocess.run([str(venv / "bin" / "python"), "-c", "import reviewq.cli"], check=True)
    return venv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", help="a repository with a work tree")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--before", help="another reviewq source tree to time alongside")
    args = parser.parse_args()
    if args.repo:
        repo = Path(args.repo).resolve()
    else:
        # The heavy history without repeated messages (`bench_scan._distinct`): the cycled
        # one (`history-6200-heavy`, --repo) flatters any memo of message content.
        repo = WORK / "history-6200-heavy-distinct"
        os.environ.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
        build_repo(repo, 6200, "heavy-distinct")
    home = WORK / "process-home"
    home.mkdir(parents=True, exist_ok=True)
    env = child_env(home)
    trees = {"this": ROOT}
    if args.before:
        trees["before"] = Path(args.before).resolve()
    venvs = {name: installed(tree) for name, tree in trees.items()}
    state = state_dir(repo, env)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    commands = {"raw": ["git", *log_args([sha])]}
    commands.update({name: [str(venv / "bin" / "reviewq"), "scan"] for name, venv in venvs.items()})
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    loads = []
    names = list(commands)
    for round_ in range(args.rounds + 1):  # the first round warms the caches and is not counted
        # raw first, then the installs, their order swapped every round (no install always
        # runs right after git's own log).
        order = [names[0], *(names[1:] if round_ % 2 else names[:0:-1])]
        for name in order:
            shutil.rmtree(state, ignore_errors=True)
            took = run(commands[name], repo, env)
            wall[name].append(took)
            cpu[name].append(run.cpu)  # type: ignore[attr-defined]
        loads.append(os.getloadavg()[0])
    raw = statistics.median(wall["raw"][1:])
    print(f"{repo}: {args.rounds} rounds, 1-minute load {min(loads):.2f}-{max(loads):.2f}")
    marker = repo / ".git" / SAMPLES_FILE
    if marker.is_file():  # the synthetic history: built from which samples
        print(f"history of {marker.read_text().strip()}")
    # The host's speed drifts within minutes: besides the ratio of medians, the median of each
    # round's own ratio (to the raw log of that round, and of this install to the other).
    print(f"{'measure':<10} {'median':>8} {'p95':>8} {'/ raw':>7} {'paired':>7} {'cpu median':>11}")
    for name in commands:
        times = sorted(wall[name][1:])
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        paired = statistics.median(
            [t / r for t, r in zip(wall[name][1:], wall["raw"][1:], strict=True)]
        )
        print(
            f"{name:<10} {statistics.median(times) * 1000:6.0f}ms {p95 * 1000:6.0f}ms "
            f"{statistics.median(times) / raw:6.2f}x {paired:6.2f}x "
            f"{statistics.median(cpu[name][1:]) * 1000:9.0f}ms"
        )
    if "before" in wall:
        pairs = [t / b for t, b in zip(wall["this"][1:], wall["before"][1:], strict=True)]
        print(f"this / before, median of the rounds' own ratios: {statistics.median(pairs):.3f}")


if __name__ == "__main__":
    main()
