"""Units of review: building the queue of a repository with 500 unit refs, next to raw git.

Builds (once, under benchmarks/.work/) with `git fast-import` a main history of `--commits`
commits (a quarter AI-authored) and `--units` unit refs forked from points along main: agent
branches of 1-4 commits (70 % AI, the rest human commits on the branch), a third of them with
a `refs/pull/N/head` at the same tip (the unit is the pull request), some stacked, and pull
requests of their own. Nothing is merged back: every ref is unmerged work.

Measured in one run, each `--repeat` times (median and p95 of wall time):

- raw: `git for-each-ref` of every ref plus one `git log` (sha, parents, author, subject and
  body) of every unit tip not on main: what any tool must read to list the refs' commits;
- queue cold: `reviewq.workflow.units.build_units` with an empty cache (scope scan, detection,
  membership, grouping into units, policy);
- queue warm: the same in a new `Context` with the cache on disk (what each `reviewq queue`
  after the first costs);
- `reviewq queue --json` as a whole process, cold (state dir removed) and warm: what a user
  waits for, interpreter start-up and printing included.

The machine may be shared: compare the ratios, and read the load average printed with them.
Run: .venv/bin/python benchmarks/bench_units.py [--quick] [--commits N] [--units U] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.context import Context  # noqa: E402
from reviewq.workflow.units import build_units  # noqa: E402

WORK = ROOT / "benchmarks" / ".work"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HUMAN = b"Ada Lovelace <ada@example.com>"
CLAUDE = b"Claude <noreply@anthropic.com>"
TRAILER = b"\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
        }
    )
    return env


def git(path: Path, *args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=path, input=input, capture_output=True, check=True, env=_env()
    ).stdout


def build_repo(path: Path, commits: int, units: int, seed: int = 16) -> None:
    rng = random.Random(seed)
    out: list[bytes] = []
    mark = 0
    t0 = int((NOW - timedelta(days=60)).timestamp())

    def commit(ref: str, ai: bool, i: int, frm: int | None) -> int:
        nonlocal mark
        mark += 1
        who = CLAUDE if ai else HUMAN
        when = f"{t0 + i * 60} +0000".encode()
        msg = f"change {mark}".encode() + (TRAILER if ai else b"\n")
        body = f"{mark}\n".encode()
        out.append(f"commit {ref}\nmark :{mark}\n".encode())
        out.append(b"author " + who + b" " + when + b"\ncommitter " + who + b" " + when + b"\n")
        out.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if frm is not None:
            out.append(f"from :{frm}\n".encode())
        out.append(f"M 100644 inline f{mark % 97}.txt\ndata {len(body)}\n".encode() + body + b"\n")
        return mark

    fork_at = sorted(rng.choices(range(commits // 2, commits), k=units))
    main_tip = None
    tips: list[int] = []
    made = prs = f = 0
    for i in range(commits):
        main_tip = commit("refs/heads/main", rng.random() < 0.25, i, main_tip)
        while made < units and f < len(fork_at) and fork_at[f] == i:
            f += 1
            base = rng.choice(tips) if tips and rng.random() < 0.1 else main_tip
            own_pr = rng.random() < 0.2
            ref = f"refs/heads/agent/u{made}" if not own_pr else f"refs/heads/tmp/u{made}"
            tip = base
            for _ in range(rng.randint(1, 4)):
                tip = commit(ref, rng.random() < 0.7, i, tip)
            tips.append(tip)
            made += 0 if own_pr else 1
            if made < units and (own_pr or rng.random() < 0.33):
                prs += 1
                out.append(f"reset refs/pull/{prs}/head\nfrom :{tip}\n\n".encode())
                made += 1
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "fast-import", "--quiet", "--force", input=b"".join(out))
    git(path, "reset", "-q", "--hard", "main")
    # A pull request whose branch is not here (`tmp/*`): the PR ref alone holds it.
    for line in git(path, "for-each-ref", "--format=%(refname)", "refs/heads/tmp").split():
        git(path, "update-ref", "-d", line.decode())


def stats(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def raw_git(path: Path) -> int:
    refs = git(path, "for-each-ref", "--format=%(refname)%00%(objectname)").decode().splitlines()
    tips = sorted({line.split("\0")[1] for line in refs if not line.startswith("refs/heads/main")})
    out = git(
        path,
        "log",
        "--format=%H%x00%P%x00%an%x00%ae%x00%s%x00%B%x1e",
        "--stdin",
        input=("\n".join([*tips, "^main"]) + "\n").encode(),
    )
    return out.count(b"\x1e")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="2,000 commits, 3 repeats")
    ap.add_argument("--commits", type=int, default=None)
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=None)
    args = ap.parse_args()
    commits = args.commits or (2000 if args.quick else 10000)
    repeat = args.repeat or (3 if args.quick else 7)
    path = WORK / f"units-{commits}-{args.units}"
    if not path.exists():
        build_repo(path, commits, args.units)
    refs = git(path, "for-each-ref", "--format=%(refname)").decode().split()
    unit_refs = [r for r in refs if r != "refs/heads/main"]
    cache = path / ".git" / "reviewq"
    now = datetime.now(UTC)

    config = path / ".reviewq.toml"
    config.unlink(missing_ok=True)
    rows = measure(path, cache, now, repeat)
    # The same refs with main's own AI commits out of scope (`main_since` after them): what the
    # units themselves cost, next to the same raw read.
    config.write_text('[scope]\nmain_since = "1 days"\n', encoding="utf-8")
    only = measure(path, cache, now, repeat)
    config.unlink()
    print(
        f"repository: {commits} commits on main ({rows[1]} AI), {len(unit_refs)} unit refs "
        f"({sum(r.startswith('refs/pull/') for r in unit_refs)} pull requests), "
        f"{rows[2]} unmerged commits; {rows[3]} units of unmerged work"
    )
    print(f"repeats: {repeat}")
    print(f"{'':46}{'median':>10}{'p95':>10}{'x raw':>8}")
    table = [
        ("raw for-each-ref + git log", *rows[0][0]),
        ("queue build, cold cache", *rows[0][1]),
        ("queue build, warm cache", *rows[0][2]),
        ("`reviewq queue --json` process, cold", *rows[0][3]),
        ("`reviewq queue --json` process, warm", *rows[0][4]),
        ("raw for-each-ref + git log (again)", *only[0][0]),
        ("queue, main's AI commits out of scope, cold", *only[0][1]),
        ("queue, main's AI commits out of scope, warm", *only[0][2]),
    ]
    for i, (name, med, p95) in enumerate(table):
        base = table[0][1] if i < 5 else table[5][1]
        print(f"{name:46}{med * 1000:>8.0f}ms{p95 * 1000:>8.0f}ms{med / base:>8.1f}")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def measure(path: Path, cache: Path, now: datetime, repeat: int):
    raw_times, cold_times, warm_times, proc_cold, proc_warm = [], [], [], [], []
    exe = Path(sys.executable).with_name("reviewq")
    commits_read = units_found = main_ai = 0
    for _ in range(repeat):
        start = time.perf_counter()
        commits_read = raw_git(path)
        raw_times.append(time.perf_counter() - start)

        shutil.rmtree(cache, ignore_errors=True)
        ctx = Context.open(path)
        start = time.perf_counter()
        queue = build_units(ctx, now)
        cold_times.append(time.perf_counter() - start)
        ctx.close()
        units_found = sum(1 for u in queue.units.values() if u.kind != "commit")
        main_ai = sum(1 for u in queue.units.values() if u.kind == "commit")

        ctx = Context.open(path)
        start = time.perf_counter()
        build_units(ctx, now)
        warm_times.append(time.perf_counter() - start)
        ctx.close()

        shutil.rmtree(cache, ignore_errors=True)
        for times in (proc_cold, proc_warm):
            start = time.perf_counter()
            subprocess.run(
                [exe, "queue", "--json"], cwd=path, stdout=subprocess.DEVNULL, check=True
            )
            times.append(time.perf_counter() - start)
    return (
        (
            stats(raw_times),
            stats(cold_times),
            stats(warm_times),
            stats(proc_cold),
            stats(proc_warm),
        ),
        main_ai,
        commits_read,
        units_found,
    )


if __name__ == "__main__":
    main()
