"""Linking commits to agent sessions: 5,000 AI-authored commits against 500 Claude Code session
files, next to reading those files once.

Builds (once, under benchmarks/.work/) a repository of N commits with `git fast-import`, each
with a Claude trailer and one changed file, and S session files in a private HOME, each covering
N/S consecutive commits the way a session makes them: the request, an edit, a test run with its
output, then `git commit` (every other commit prints git's summary line: an exact link; the rest
commit quietly: a strong link from the window and the edited files). Padding text makes the files
the size of real transcripts (tool output dominates them).

Prints:
- reading the files once: bytes read, and bytes read + every line parsed as JSON (the floor);
- the cold index: every file parsed into sessions and cached (the first command that needs them);
- the warm index: stat every file, load the index (every later command);
- linking all N commits on a warm index (relevant sessions loaded, `link_commits`), and the
  same question again (the links kept for unchanged session files and the same commits);
- `reviewq scan --json` warm, with and without sessions; `reviewq show REV` warm.

Run: .venv/bin/python benchmarks/bench_sessions.py [--commits N] [--sessions S] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
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
from reviewq.core.jsonio import parse_line  # noqa: E402
from reviewq.sources.sessions.index import SessionIndex, cache_dir  # noqa: E402
from reviewq.sources.sessions.stores import discover  # noqa: E402
from reviewq.workflow.scan import scan_history  # noqa: E402
from reviewq.workflow.session_prompts import session_links  # noqa: E402
from tests.session_kit import ClaudeSession  # noqa: E402

WORK = ROOT / "benchmarks" / ".work"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PAD = "x" * 4000  # a test run's output, a file read: what makes transcripts large


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "CLAUDE_", "CODEX_"))}
    env.update(
        {
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
        }
    )
    return env


def when(i: int) -> datetime:
    return T0 + timedelta(minutes=10 * i)


def build(repo: Path, home: Path, commits: int, sessions: int) -> None:
    if repo.exists():
        shutil.rmtree(repo)
    if home.exists():
        shutil.rmtree(home)
    repo.mkdir(parents=True)
    home.mkdir(parents=True)
    env = _env(home)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    stream = []
    for i in range(commits):
        ts = int(when(i).timestamp())
        msg = f"Change {i}\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n".encode()
        body = f"value = {i}\n".encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"mark :{i + 1}\n".encode())
        stream.append(f"author Ada <ada@example.com> {ts} +0000\n".encode())
        stream.append(f"committer Ada <ada@example.com> {ts} +0000\n".encode())
        stream.append(f"data {len(msg)}\n".encode() + msg)
        if i:
            stream.append(f"from :{i}\n".encode())
        stream.append(f"M 100644 inline src/f{i % 200}.py\ndata {len(body)}\n".encode() + body)
    subprocess.run(
        ["git", "fast-import", "--quiet"], input=b"".join(stream), cwd=repo, check=True, env=env
    )
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=repo, check=True, env=env)
    shas = (
        subprocess.run(
            ["git", "rev-list", "--reverse", "HEAD"],
            cwd=repo,
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()
    )
    per = max(1, commits // sessions)
    root = repo.resolve()
    for s in range(sessions):
        sid = f"{s:08x}-0000-4000-8000-000000000000"
        session = ClaudeSession(sid, root)
        for i in range(s * per, min(commits, (s + 1) * per)):
            t = when(i) - timedelta(minutes=5)
            session.user(t, f"Request {i}: change value {i}")
            session.edit(t + timedelta(minutes=1), root / f"src/f{i % 200}.py")
            session.bash(t + timedelta(minutes=2), "pytest -q", f"{PAD}\n5 passed in 0.2s")
            session.say(t + timedelta(minutes=3), f"Changed value {i}. {PAD[:800]}")
            if i % 2:
                out = f"[main {shas[i][:7]}] Change {i}\n 1 file changed"
                session.bash(when(i), f"git commit -am 'Change {i}'", out)
            else:
                session.bash(when(i), f"git commit -q -am 'Change {i}'", "")
        session.write(home)


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=5000)
    ap.add_argument("--sessions", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    repo = WORK / f"sessions-{args.commits}"
    home = WORK / f"sessions-home-{args.commits}-{args.sessions}"
    t = time.perf_counter()
    build(repo, home, args.commits, args.sessions)
    print(
        f"built {args.commits} commits, {args.sessions} sessions in {time.perf_counter() - t:.1f}s"
    )
    env = _env(home)
    os.environ.clear()
    os.environ.update(env)
    roots = [str(repo.resolve())]
    files = [f.path for f in discover(env, roots)]
    size = sum(p.stat().st_size for p in files)
    print(f"session files: {len(files)}, {size / 1e6:.1f} MB")

    read, _ = timed(lambda: [p.read_bytes() for p in files], args.repeat)

    def read_parse():
        return [[parse_line(x) for x in p.read_bytes().splitlines() if x] for p in files]

    parsed, _ = timed(read_parse, args.repeat)
    print(f"read the files once:                 {read * 1000:8.1f} ms")
    print(f"read + parse every line as JSON:     {parsed * 1000:8.1f} ms")

    def cold():
        shutil.rmtree(cache_dir(env), ignore_errors=True)
        index = SessionIndex(cache_dir(env))
        return index.refresh(discover(env, roots))

    cold_t, summaries = timed(cold, args.repeat)
    print(
        f"cold index (parse all, cache):       {cold_t * 1000:8.1f} ms  ({len(summaries)} sessions)"
    )
    warm_t, _ = timed(
        lambda: SessionIndex(cache_dir(env)).refresh(discover(env, roots)), args.repeat
    )
    print(f"warm index (stat all, load index):   {warm_t * 1000:8.1f} ms")

    ctx = Context.open(repo)
    changes = scan_history(ctx, None).changes

    def fresh_link():
        for stale in cache_dir(env).glob("links-*.json"):
            stale.unlink()
        return session_links(ctx, changes)

    link_t, links = timed(fresh_link, args.repeat)
    kinds = {}
    for link in links.values():
        kinds[link.kind] = kinds.get(link.kind, 0) + 1
    print(
        f"link {len(changes)} commits (warm index): {link_t * 1000:8.1f} ms  "
        f"linked {len(links)}: {kinds}"
    )
    again_t, _ = timed(lambda: session_links(ctx, changes), args.repeat)
    print(f"the same, links kept from before:    {again_t * 1000:8.1f} ms")
    ctx.close()

    def cli(*a: str) -> float:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-P", "-m", "reviewq", *a],
            cwd=repo,
            env={**env, "PYTHONPATH": str(ROOT)},
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start

    cli("scan", "--json")
    with_s = statistics.median(cli("scan", "--json") for _ in range(args.repeat))
    without = statistics.median(cli("scan", "--json", "--no-sessions") for _ in range(args.repeat))
    mid = subprocess.run(
        ["git", "rev-parse", f"HEAD~{args.commits // 2}"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    show = statistics.median(cli("show", mid, "--json") for _ in range(args.repeat))
    print(f"`scan --json` warm, with sessions:   {with_s * 1000:8.1f} ms")
    print(f"`scan --json` warm, --no-sessions:   {without * 1000:8.1f} ms")
    print(f"`show REV --json` warm:              {show * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
