"""Real history check: replay real public commits and scan them, next to raw `git log`.

This machine cannot clone from the network, so the real histories come from
../shared/data/real-commits: each repository's sampled commits (real messages, identities and
dates) are replayed in date order into a repository of their own with `git fast-import`. Diffs
are synthetic (one line per commit); markers, identities and message shapes are real.

Prints, per repository: commits, AI-authored found, by agent / family / role, prompts found,
scan time next to raw `git log` of the same fields.

Run: .venv/bin/python benchmarks/real_history.py
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.context import Context  # noqa: E402
from reviewq.sources.git_log import log_args  # noqa: E402
from reviewq.workflow.scan import scan_history  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "real-commits"
WORK = ROOT / "benchmarks" / ".work" / "real"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    return env


def _stamp(iso: str) -> str:
    when = datetime.fromisoformat(iso)
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def replay(jsonl: Path, target: Path) -> int:
    rows = [json.loads(line) for line in jsonl.read_text().splitlines() if line]
    rows.sort(key=lambda r: datetime.fromisoformat(r["committer_date"]))
    if (target / ".git").is_dir():
        return len(rows)
    target.mkdir(parents=True)
    env = _env()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=target, check=True, env=env)
    stream = []
    for i, r in enumerate(rows):
        msg = r["message"].encode("utf-8")
        body = f"{r['sha']}\n".encode()
        stream += [
            b"commit refs/heads/main\n",
            f"mark :{i + 1}\n".encode(),
            f"author {r['author_name']} <{r['author_email']}> {_stamp(r['author_date'])}\n".encode(),
            f"committer {r['committer_name']} <{r['committer_email']}> "
            f"{_stamp(r['committer_date'])}\n".encode(),
            f"data {len(msg)}\n".encode() + msg + b"\n",
            f"from :{i}\n".encode() if i else b"",
            f"M 100644 inline replay/{i % 50}.txt\ndata {len(body)}\n".encode() + body + b"\n",
        ]
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=target, input=b"".join(stream), check=True, env=env
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=target, check=True, env=env)
    return len(rows)


def main() -> None:
    os.environ.update(_env())
    for jsonl in sorted(DATA.glob("*.jsonl")):
        name = jsonl.stem
        target = WORK / name
        count = replay(jsonl, target)
        start = time.perf_counter()
        subprocess.run(["git", *log_args(["HEAD"])], cwd=target, capture_output=True, check=True)
        raw = time.perf_counter() - start
        ctx = Context.open(target)
        start = time.perf_counter()
        result = scan_history(ctx, use_cache=False)
        scan = time.perf_counter() - start
        ctx.close()
        changes = result.changes
        agents = collections.Counter(c.authorship.agent for c in changes)
        families = collections.Counter(c.authorship.family for c in changes)
        roles = collections.Counter(c.authorship.role for c in changes)
        models = collections.Counter(c.authorship.model for c in changes if c.authorship.model)
        prompted = sum(1 for c in changes if c.authorship.prompted_by)
        print(f"== {name}: {count} commits replayed, {len(changes)} AI-authored")
        print(
            f"   scan {scan * 1000:.1f} ms vs raw git log {raw * 1000:.1f} ms ({scan / raw:.2f}x)"
        )
        print(f"   agents:   {dict(agents.most_common())}")
        print(f"   families: {dict(families.most_common())}")
        print(f"   roles:    {dict(roles)}; with a prompter named: {prompted}")
        print(f"   models:   {dict(models.most_common(6))}")


if __name__ == "__main__":
    main()
