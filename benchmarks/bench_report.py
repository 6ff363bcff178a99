"""Benchmark: `reviewq stats` and `reviewq report` on a large repository, cold and warm.

The report must not be slow on a large repository. This builds one (git fast-import, so it
takes seconds): N commits over two years, a share of them by agents with their real trailers,
and a provenance log with a verdict for most AI-authored commits. Then it runs the real CLI in
a subprocess, as a user would:

  cold   no caches: scan the history, size every commit, parse the log
  warm   the same command again: every cache answers
  grown  after 50 more commits and 50 more verdicts: the caches grow incrementally

    python benchmarks/bench_report.py [--commits 20000] [--repeat 3]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.core.model import Identity  # noqa: E402
from reviewq.core.verdict import GENESIS, CritiqueState, new_record, seal  # noqa: E402

TRAILERS = [
    ("claude-code", "anthropic", "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>"),
    ("aider", "unknown", "Co-authored-by: aider (gpt-5) <aider@aider.chat>"),
    ("cursor", "unknown", "Co-authored-by: Cursor <cursoragent@cursor.com>"),
]
START = datetime(2024, 11, 1, 9, 0, tzinfo=UTC)


def build(path: Path, commits: int, start_index: int = 0, seed: int = 5) -> list[tuple[str, int]]:
    """Append `commits` commits with fast-import; returns (mark time, AI trailer index or -1)."""
    rnd = random.Random(seed + start_index)
    if not path.exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    lines, made = [], []
    parent = "refs/heads/main" if start_index else None
    for i in range(start_index, start_index + commits):
        when = int((START + timedelta(minutes=50 * i)).timestamp())
        ai = rnd.randrange(len(TRAILERS)) if rnd.random() < 0.55 else -1
        message = f"Change {i}\n\n" + (TRAILERS[ai][2] + "\n" if ai >= 0 else "")
        body = "".join(f"line {i} {k}\n" for k in range(rnd.randint(1, 40)))
        data = message.encode()
        blob = body.encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(f"mark :{i + 1}\n".encode())
        lines.append(f"author Dev <dev@example.com> {when} +0100\n".encode())
        lines.append(f"committer Dev <dev@example.com> {when} +0100\n".encode())
        lines.append(f"data {len(data)}\n".encode() + data)
        if parent is not None and i == start_index:
            lines.append(b"from refs/heads/main^0\n")
        lines.append(f"M 100644 inline src/f{i % 400}.py\ndata {len(blob)}\n".encode() + blob)
        lines.append(b"\n")
        made.append((when, ai))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(lines), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, check=True)
    return made


def add_verdicts(path: Path, limit: int | None = None, seed: int = 9) -> int:
    """A verdict for three in four AI-authored commits, newest first, `limit` at most."""
    rnd = random.Random(seed)
    out = subprocess.run(
        ["git", "log", "--format=%H %ct%n%B%x00"], cwd=path, capture_output=True, check=True
    ).stdout.decode()
    log = path / ".git" / "reviewq" / "log.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    prev = GENESIS
    if log.exists() and log.stat().st_size:
        prev = json.loads(log.read_bytes().splitlines()[-1])["hash"]
    written = 0
    reviewers = [Identity(f"Reviewer {k}", f"r{k}@example.com") for k in range(8)]
    with open(log, "a", encoding="utf-8") as fh:
        for n, entry in enumerate(e for e in out.split("\0") if e.strip()):
            head, _, body = entry.strip().partition("\n")
            sha, when = head.split()
            trailer = next((t for t in TRAILERS if t[2] in body), None)
            if trailer is None or rnd.random() > 0.75:
                continue
            at = datetime.fromtimestamp(int(when) + rnd.randint(600, 90000), UTC)
            active = rnd.uniform(20, 900)
            rec = new_record(
                record_id=f"{sha[:12]}-{n}",
                sha=sha,
                change_id=sha,
                patch_id=None,
                verdict=rnd.choice(["approve"] * 6 + ["reject", "changes"]),
                reviewer=rnd.choice(reviewers),
                at=at.isoformat(timespec="seconds"),
                active_seconds=active,
                wall_seconds=active * 1.3,
                lines_changed=rnd.randint(1, 40),
                hunks_total=1,
                hunks_viewed=1,
                critique=CritiqueState("static", "rules", None, rnd.random() < 0.9),
                author_family=trailer[1],
                agent=trailer[0],
            )
            sealed = seal(rec, prev)
            prev = sealed["hash"]
            fh.write(json.dumps(sealed, separators=(",", ":")) + "\n")
            written += 1
            if limit is not None and written >= limit:
                break
    return written


def run(path: Path, *args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "reviewq", *args], cwd=path, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"reviewq {' '.join(args)} failed: {proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env_home = ROOT / "benchmarks" / ".work" / "home"
    env_home.mkdir(parents=True, exist_ok=True)
    (env_home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.com\n")
    os.environ.update(
        {
            "HOME": str(env_home),
            "GIT_CONFIG_GLOBAL": str(env_home / ".gitconfig"),
            "GIT_CONFIG_NOSYSTEM": "1",
        }
    )
    repo = ROOT / "benchmarks" / ".work" / f"big-{args.commits}"
    shutil.rmtree(repo, ignore_errors=True)
    t0 = time.perf_counter()
    build(repo, args.commits)
    verdicts = add_verdicts(repo)
    print(
        f"repository: {args.commits:,} commits, {verdicts:,} verdicts, built in "
        f"{time.perf_counter() - t0:.1f} s (not timed)"
    )
    state = repo / ".git" / "reviewq"
    for command in (["stats", "--json"], ["report", "--format", "html", "--out", "r.html"]):
        for cache in state.glob("*"):
            if cache.name != "log.jsonl":
                cache.unlink()
        cold = run(repo, *command)
        warm = statistics.median(run(repo, *command) for _ in range(args.repeat))
        print(
            f"{' '.join(command[:1]):7} cold {cold:6.2f} s   warm {warm:6.2f} s (median of {args.repeat})"
        )
    build(repo, 50, start_index=args.commits)
    add_verdicts(repo, limit=50, seed=99)
    grown = run(repo, "stats", "--json")
    print(f"stats   grown by 50 commits and about 50 verdicts: {grown:6.2f} s")
    startup = statistics.median(run(repo, "--version") for _ in range(args.repeat))
    print(f"startup {startup:6.2f} s (`reviewq --version`, for scale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
