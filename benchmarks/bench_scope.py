"""Queue scope speed: many agent branches and pull requests, and the cost of live refresh.

Builds (once, under benchmarks/.work/) a repository with `git fast-import`: a main history of
`--commits` commits (a quarter AI-authored), `--branches` agent branches of 1-3 commits forked
from points along main (half of them merged back, a third with a `refs/pull/N/head`, some
stacked on another branch). Then prints medians of:

- the scope scan cold (empty cache), next to `scan HEAD` cold (main only: what the queue read
  before scopes) and a raw `git log --all` of the same fields (the floor);
- the scope scan of unchanged refs (cache), after one new commit on one branch, after a new ref
  at a known commit (relabel only), and after a merge into main;
- membership: the one `rev-list --topo-order --parents` pass against `for-each-ref --contains`
  per unmerged AI commit (measured on a sample, extrapolated);
- live refresh: `QueueSource.changed()` with nothing moved (the poll), and `poll()` after one
  new branch commit (fingerprint + incremental queue).

Run: .venv/bin/python benchmarks/bench_scope.py [--commits N] [--branches B] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
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
from reviewq.core.scope import DEFAULT_SCOPE  # noqa: E402
from reviewq.sources.git_log import log_args  # noqa: E402
from reviewq.sources.refs import membership, read_snapshot, scope_view  # noqa: E402
from reviewq.workflow.queue import QueueSource  # noqa: E402
from reviewq.workflow.scan import scan_history, scan_scope  # noqa: E402

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


def git(path: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=path, input=input, capture_output=True, check=True, env=_env()
    ).stdout.decode()


def build_repo(path: Path, commits: int, branches: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    out: list[bytes] = []
    mark = 0
    t0 = int((NOW - timedelta(days=400)).timestamp())

    def commit(ref: str, ai: bool, i: int, frm: int | None = None, merge: int | None = None):
        nonlocal mark
        mark += 1
        who = CLAUDE if ai else HUMAN
        when = f"{t0 + i * 600} +0000".encode()
        msg = f"change {mark}".encode() + (TRAILER if ai else b"\n")
        body = f"{mark}\n".encode()
        out.append(f"commit {ref}\nmark :{mark}\n".encode())
        out.append(b"author " + who + b" " + when + b"\ncommitter " + who + b" " + when + b"\n")
        out.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if frm is not None:
            out.append(f"from :{frm}\n".encode())
        if merge is not None:
            out.append(f"merge :{merge}\n".encode())
        out.append(f"M 100644 inline f{mark % 64}.txt\ndata {len(body)}\n".encode() + body + b"\n")
        return mark

    fork_at = sorted(rng.sample(range(1, commits), min(branches, commits - 1)))
    main_tip = None
    tips: dict[int, int] = {}
    b = 0
    prs = 0
    for i in range(commits):
        main_tip = commit("refs/heads/main", rng.random() < 0.25, i, frm=main_tip)
        while b < len(fork_at) and fork_at[b] == i:
            base = main_tip
            if tips and rng.random() < 0.1:  # stacked on an earlier branch
                base = tips[rng.choice(list(tips))]
            ref = f"refs/heads/agent/b{b}"
            tip = base
            for _ in range(rng.randint(1, 3)):
                tip = commit(ref, rng.random() < 0.7, i, frm=tip)
            tips[b] = tip
            if rng.random() < 0.33:
                prs += 1
                out.append(f"reset refs/pull/{prs}/head\nfrom :{tip}\n\n".encode())
            if rng.random() < 0.5 and base == main_tip:
                main_tip = commit("refs/heads/main", False, i, frm=main_tip, merge=tip)
            b += 1
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "fast-import", "--quiet", input=b"".join(out))
    git(path, "reset", "-q", "--hard", "main")


def _cpu() -> float:
    """CPU seconds of this process and its finished children (git): steadier than wall time
    on a busy machine, and what the scan costs regardless of other load."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


CPU: dict[int, float] = {}


def timed(fn, repeat: int, setup=None) -> tuple[float, object]:
    """Median wall time; the median CPU time is kept in CPU[id(result)] for the table."""
    times, cpus, result = [], [], None
    for _ in range(repeat):
        if setup is not None:
            setup()
        start, cpu = time.perf_counter(), _cpu()
        result = fn()
        times.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
    wall = statistics.median(times)
    CPU[id(wall)] = statistics.median(cpus)
    return wall, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=13000)
    ap.add_argument("--branches", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    path = WORK / f"scope-{args.commits}-{args.branches}"
    if not path.exists():
        build_repo(path, args.commits, args.branches)
    cache = path / ".git" / "reviewq"

    def fresh_ctx() -> Context:
        return Context.open(path, env=_env())

    def clear() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    def scope_scan(ctx=None):
        ctx = ctx or fresh_ctx()
        try:
            return scan_scope(ctx, now=NOW)
        finally:
            ctx.close()

    def head_scan():
        ctx = fresh_ctx()
        try:
            return scan_history(ctx)
        finally:
            ctx.close()

    raw_log, _ = timed(
        lambda: subprocess.run(
            ["git", *log_args(["--all"])], cwd=path, capture_output=True, check=True, env=_env()
        ),
        args.repeat,
    )
    cold, result = timed(scope_scan, args.repeat, setup=clear)
    head_cold, _ = timed(head_scan, args.repeat, setup=clear)
    scope_scan()
    warm, warm_result = timed(scope_scan, args.repeat)
    assert warm_result.from_cache

    counter = iter(range(10**6))

    def new_branch_commit() -> None:
        n = next(counter)
        tip = git(path, "rev-parse", "agent/b7").strip()
        msg = f"bench step {n}".encode() + TRAILER
        sha = git(path, "commit-tree", f"{tip}^{{tree}}", "-p", tip, input=msg).strip()
        git(path, "update-ref", "refs/heads/agent/b7", sha)

    one_commit, inc = timed(scope_scan, args.repeat, setup=new_branch_commit)
    assert inc.commits_read == 1, inc.commits_read

    def new_ref() -> None:
        git(path, "branch", "-f", f"review/x{next(counter)}", "agent/b7")

    relabel, rel = timed(scope_scan, args.repeat, setup=new_ref)
    assert rel.commits_read == 0

    def merge_one() -> None:
        n = next(counter)
        name = f"agent/b{20 + n}"
        main = git(path, "rev-parse", "main").strip()
        tip = git(path, "rev-parse", name).strip()
        sha = git(
            path, "commit-tree", f"{main}^{{tree}}", "-p", main, "-p", tip, input=b"merge\n"
        ).strip()
        git(path, "update-ref", "refs/heads/main", sha)

    merged, _ = timed(scope_scan, args.repeat, setup=merge_one)

    # Membership: one pass against a `for-each-ref --contains` per unmerged AI commit.
    ctx = fresh_ctx()
    view = scope_view(read_snapshot(ctx.git), DEFAULT_SCOPE, ["origin"])
    unmerged_ai = [c.id for c in scope_scan().changes if not c.merged]
    one_pass, _ = timed(lambda: membership(ctx.git, view, unmerged_ai), args.repeat)
    sample = unmerged_ai[:20]

    def per_commit() -> None:
        for sha in sample:
            subprocess.run(
                ["git", "for-each-ref", "--contains", sha, "--format=%(refname)"],
                cwd=path,
                capture_output=True,
                check=True,
                env=_env(),
            )

    per_sample, _ = timed(per_commit, max(1, args.repeat // 2))
    per_all = per_sample / max(1, len(sample)) * len(unmerged_ai)

    # Live refresh.
    source = QueueSource(fresh_ctx(), now=lambda: NOW)
    source.poll()
    idle, _ = timed(source.changed, args.repeat * 4)
    assert not source.changed()
    poll_after, upd = timed(source.poll, args.repeat, setup=new_branch_commit)
    assert upd is not None and len(upd.added) == 1

    refs = len(view.work) + len(view.mainline)
    total = int(git(path, "rev-list", "--count", "--all"))
    print(
        f"repository: {path.name}: {total} commits, {refs} refs in scope, "
        f"{len(result.changes)} AI-authored in scope ({len(unmerged_ai)} unmerged)"
    )
    print(f"{'measure':52} {'wall':>10} {'cpu':>10} {'ratio (wall)':>16}")
    rows = [
        ("raw git log --all (scan format)", raw_log, ""),
        ("scan HEAD, cold (main only: the queue before scopes)", head_cold, ""),
        ("scope scan, cold", cold, f"{cold / raw_log:.2f}x raw log"),
        ("scope scan, refs unchanged (cache)", warm, f"{warm / cold:.3f}x cold"),
        ("scope scan, one new commit on a branch", one_commit, f"{one_commit / cold:.3f}x cold"),
        ("scope scan, new ref at a known commit (relabel)", relabel, f"{relabel / cold:.3f}x cold"),
        ("scope scan, a branch merged into main", merged, f"{merged / cold:.3f}x cold"),
        ("membership: one rev-list pass", one_pass, ""),
        (
            f"membership: for-each-ref --contains x {len(unmerged_ai)} (extrapolated)",
            per_all,
            f"{per_all / one_pass:.0f}x one pass",
        ),
        ("live: changed() with nothing moved (the poll)", idle, ""),
        ("live: poll() after one new branch commit", poll_after, f"{poll_after / cold:.3f}x cold"),
    ]
    for name, value, ratio in rows:
        cpu = CPU.get(id(value))
        cpu_text = f"{cpu * 1000:8.1f}ms" if cpu is not None else f"{'-':>10}"
        print(f"{name:52} {value * 1000:8.1f}ms {cpu_text} {ratio:>16}")


if __name__ == "__main__":
    main()
