"""A repository at load: 10,000 pending AI-authored commits and a 1,000,000-record log.

Built quickly for benchmarks/bench_tui_load.py and the slow load test (tests/test_load_slow.py):

- `git fast-import` writes the history in one pass: `pending` AI-authored commits (rotating
  through the markers of five agents), `settled` AI-authored commits that already have an
  approval, and `human` commits, interleaved, each touching one small file;
- the provenance log is written directly (valid chain and head, canonical lines), like
  `bench_log.py` does: one approval per settled commit (with its real patch-id, as
  `record_verdict` would store it) and the rest on commits that are no longer in this history
  (years of verdicts on merged and rebased branches), by 40 reviewers, the benchmark's own
  reviewer among them;
- the settled commits' verdicts are also in `refs/notes/reviewq`, as `record_verdict` leaves them.

The result is cached under benchmarks/.work/ by its parameters; `--rebuild` makes it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from reviewq.core.verdict import GENESIS, canonical_json
from reviewq.store.log import Head, ProvenanceLog

ROOT = Path(__file__).resolve().parent.parent
#: REVIEWQ_BENCH_WORK moves the cache, so that worktrees can share one built fixture (copied).
WORK = Path(os.environ.get("REVIEWQ_BENCH_WORK") or ROOT / "benchmarks" / ".work")
TZ = timezone(timedelta(hours=1))
#: The clock the benchmark's app runs at; commits are spread over the 300 days before it.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)
REVIEWER = ("Bench Reviewer", "bench@acme.example")

AGENTS = [
    ("Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>", "anthropic"),
    ("Co-authored-by: Codex <noreply@openai.com>", "openai"),
    ("Made-with: Cursor", "unknown"),
    ("Co-authored-by: aider (gpt-4o) <aider@aider.chat>", "openai"),
    ("Assisted-by: Gemini:gemini-2.5-pro", "google"),
]
AREAS = ["orders", "billing", "auth", "search", "web", "ops", "tests", "docs"]


@dataclass(frozen=True)
class Fixture:
    path: Path
    log_path: Path
    pending: int
    settled: int
    human: int
    records: int
    build_seconds: float

    @property
    def git_env(self) -> dict[str, str]:
        """Git config isolated from the machine's (the benchmark's reviewer identity)."""
        return isolated_git_env(self.path.parent)


def isolated_git_env(home: Path) -> dict[str, str]:
    cfg = home / "gitconfig"
    if not cfg.exists():
        cfg.write_text(
            f"[user]\n\tname = {REVIEWER[0]}\n\temail = {REVIEWER[1]}\n"
            "[init]\n\tdefaultBranch = main\n[core]\n\tautocrlf = false\n"
        )
    return {
        "GIT_CONFIG_GLOBAL": str(cfg),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }


def _stamp(when: datetime) -> str:
    return f"{int(when.timestamp())} +0100"


def _commit_time(i: int, total: int) -> datetime:
    """When the i-th of `total` commits was made: evenly over the last 300 days."""
    return NOW - timedelta(days=300) + timedelta(days=300) / max(1, total) * i


def _fast_import_stream(pending: int, settled: int, human: int) -> tuple[bytes, list[str]]:
    """The history as a fast-import stream; returns it and the kind of each commit, in order."""
    total = pending + settled + human
    # Interleave: every kind spread over the whole history (7 pending, 2 settled, 1 human in 10).
    want = {"pending": pending, "settled": settled, "human": human}
    have = dict.fromkeys(want, 0)
    kinds: list[str] = []
    for i in range(total):
        slot = i % 10
        order = (
            ("pending", "settled", "human")
            if slot < 7
            else ("settled", "human", "pending")
            if slot < 9
            else ("human", "pending", "settled")
        )
        kind = next(k for k in order if have[k] < want[k])
        have[kind] += 1
        kinds.append(kind)
    out: list[bytes] = []
    for i, kind in enumerate(kinds):
        when = _commit_time(i, total)
        area = AREAS[i % len(AREAS)]
        path = f"{area}/module_{i % 500:03d}.py"
        body = f"def handler_{i}(request):\n    return {{'id': {i}, 'area': '{area}'}}\n"
        if kind == "human":
            author = ("Ada Lovelace", "ada@acme.example")
            message = f"{area}: tidy handler {i}\n"
        else:
            marker, _ = AGENTS[i % len(AGENTS)]
            author = ("Dana Reyes", "dana@acme.example")
            message = (
                f"{area}: add handler {i} for the {area} service\n\n"
                f"Generated for ticket ACME-{i}.\n\n{marker}\n"
            )
        data = body.encode()
        msg = message.encode()
        out.append(
            b"commit refs/heads/main\n"
            + f"mark :{i + 1}\n".encode()
            + f"author {author[0]} <{author[1]}> {_stamp(when)}\n".encode()
            + f"committer {author[0]} <{author[1]}> {_stamp(when)}\n".encode()
            + f"data {len(msg)}\n".encode()
            + msg
            + b"\n"
            + (f"from :{i}\n".encode() if i else b"")
            + f"M 100644 inline {path}\n".encode()
            + f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )
    return b"".join(out), kinds


def _git(path: Path, env: dict[str, str], *args: str, input: bytes | None = None) -> bytes:
    proc = subprocess.run(
        ["git", *args],
        cwd=path,
        input=input,
        capture_output=True,
        env={**os.environ, **env},
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:3])} failed: {proc.stderr.decode()[:400]}")
    return proc.stdout


def _patch_ids(path: Path, env: dict[str, str], shas: list[str]) -> dict[str, str]:
    """The patch-ids `record_verdict` stores (same plumbing as reviewq.workflow.recording)."""
    from reviewq.workflow.recording import _DIFF_TREE

    diff = _git(path, env, *_DIFF_TREE, input=("\n".join(shas) + "\n").encode())
    out = _git(path, env, "patch-id", "--stable", input=diff)
    found = {}
    for line in out.decode().splitlines():
        pid, sha = line.split()
        found[sha] = pid
    return found


class _Records:
    """Chained records from one canonical template with slots (fast: no json.dumps per record)."""

    FIELDS = ("id", "sha", "change_id", "patch_id", "verdict", "at", "name", "email")

    def __init__(self) -> None:
        template = {
            "v": 1,
            "id": "@id@",
            "sha": "@sha@",
            "change_id": "@change_id@",
            "patch_id": "@patch_id@",
            "verdict": "@verdict@",
            "reviewer": {"name": "@name@", "email": "@email@"},
            "co_reviewers": [],
            "at": "@at@",
            "active_seconds": 94.0,
            "wall_seconds": 130.0,
            "lines_changed": 2,
            "hunks_total": 1,
            "hunks_viewed": 1,
            "critique": {
                "critic": "static",
                "family": "rules",
                "model": None,
                "opened_before_verdict": True,
                "same_family_allowed": False,
            },
            "author_family": "anthropic",
            "agent": "claude-code",
            "model": "claude-opus-4.5",
            "domain": "default",
            "note": "looks right; tests cover the new branch",
            "checklist": [],
            "prev": "@prev@",
            "signature": None,
            "hash": "@hash@",
        }
        self.full = canonical_json(template)
        self.body = self.full.replace(',"hash":"@hash@"', "")

    def line(self, values: dict[str, str], prev: str) -> tuple[str, str]:
        body, full = self.body, self.full
        for key in self.FIELDS:
            body = body.replace(f"@{key}@", values[key])
            full = full.replace(f"@{key}@", values[key])
        body = body.replace("@prev@", prev)
        digest = hashlib.sha256(body.encode()).hexdigest()
        return full.replace("@prev@", prev).replace("@hash@", digest), digest


def _write_log(
    log_path: Path, settled: list[tuple[str, str, datetime]], total: int, today_mine: int = 12
) -> None:
    """`total` chained records: approvals of the settled commits, then the rest of the years."""
    gen = _Records()
    reviewers = [(f"Reviewer {i}", f"r{i}@acme.example") for i in range(39)] + [REVIEWER]
    start = NOW - timedelta(days=3 * 365)
    step = (NOW - timedelta(hours=6) - start) / max(1, total)
    prev = GENESIS
    log_path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(log_path, "wb") as fh:
        chunk: list[str] = []
        for i in range(total):
            committed = None
            if i < len(settled):
                sha, pid, committed = settled[i]
                verdict = "approve"
            else:
                sha = hashlib.sha1(f"gone-{i}".encode()).hexdigest()
                pid = hashlib.sha1(f"gone-patch-{i}".encode()).hexdigest()
                verdict = ("approve", "approve", "approve", "changes", "reject", "escalate")[i % 6]
            # The last few are the benchmark reviewer's own, today (the queue's progress line).
            mine = i >= total - today_mine
            name, email = REVIEWER if mine else reviewers[i % len(reviewers)]
            at = (
                (NOW - timedelta(minutes=today_mine - (i - (total - today_mine))))
                if mine
                else (start + step * i)
            )
            if committed is not None:  # approved an hour after the commit, never before it
                at = committed + timedelta(hours=1)
            values = {
                "id": f"{i:032x}",
                "sha": sha,
                "change_id": sha,
                "patch_id": pid,
                "verdict": verdict,
                "at": at.isoformat(timespec="milliseconds"),
                "name": name,
                "email": email,
            }
            line, prev = gen.line(values, prev)
            chunk.append(line)
            if len(chunk) >= 20_000:
                data = ("\n".join(chunk) + "\n").encode()
                fh.write(data)
                size += len(data)
                chunk = []
        if chunk:
            data = ("\n".join(chunk) + "\n").encode()
            fh.write(data)
            size += len(data)
        fh.flush()
        os.fsync(fh.fileno())
    ProvenanceLog(log_path)._write_head(Head(total, size, prev))


def _notes_for(path: Path, env: dict[str, str], log_path: Path, count: int) -> None:
    """The first `count` records (the settled commits' approvals) in refs/notes/reviewq."""
    lines = []
    with open(log_path, "rb") as fh:
        for _ in range(count):
            lines.append(fh.readline())
    stream = [
        b"commit refs/notes/reviewq\n",
        f"committer {REVIEWER[0]} <{REVIEWER[1]}> {_stamp(NOW)}\n".encode(),
        b"data 6\nnotes\n",
    ]
    for line in lines:
        record = json.loads(line)
        stream.append(f"N inline {record['sha']}\n".encode())
        stream.append(f"data {len(line)}\n".encode() + line + b"\n")
    _git(path, env, "fast-import", "--quiet", input=b"".join(stream))


def build(
    pending: int = 10_000,
    settled: int = 2_000,
    human: int = 2_000,
    records: int = 1_000_000,
    *,
    rebuild: bool = False,
    work: Path = WORK,
) -> Fixture:
    # v2: settled approvals are dated after their commits (a backdated one does not count).
    name = f"load-v2-{pending}-{settled}-{human}-{records}"
    base = work / name
    repo = base / "repo"
    log_path = repo / ".git" / "reviewq" / "log.jsonl"
    done = base / "built.json"
    if done.exists() and not rebuild:
        info = json.loads(done.read_text())
        return Fixture(repo, log_path, pending, settled, human, records, info["seconds"])
    shutil.rmtree(base, ignore_errors=True)
    repo.mkdir(parents=True)
    env = isolated_git_env(base)
    t0 = time.perf_counter()
    _git(repo, env, "init", "-q", "-b", "main")
    stream, kinds = _fast_import_stream(pending, settled, human)
    _git(repo, env, "fast-import", "--quiet", input=stream)
    _git(repo, env, "reset", "-q", "--hard", "main")
    shas = _git(repo, env, "rev-list", "--reverse", "main").decode().split()
    settled_at = {
        sha: _commit_time(i, len(kinds))
        for i, (sha, kind) in enumerate(zip(shas, kinds))
        if kind == "settled"
    }
    pids = _patch_ids(repo, env, list(settled_at))
    _write_log(log_path, [(s, pids[s], at) for s, at in settled_at.items()], records)
    _notes_for(repo, env, log_path, len(settled_at))
    seconds = time.perf_counter() - t0
    done.write_text(json.dumps({"seconds": seconds}))
    return Fixture(repo, log_path, pending, settled, human, records, seconds)
