"""Crash safety and concurrency of the local log, with real processes and real SIGKILLs.

- `test_kill_writers_at_random_points`: kills of real writer processes (two at a time, so
  some die holding the lock while the other waits). Afterwards `verify` passes, every record
  whose append returned is present, and nothing is duplicated. 40 kills in the default suite,
  220 (about 25 s) in the slow one.
- `test_concurrent_writers_lose_nothing`: six processes append at once.
- `test_kill_cli_verdicts` (slow): kills `reviewq verdict` itself, then repairs the notes ref.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reviewq.store.log import ProvenanceLog
from tests.verdict_kit import ai_commit

ROOT = Path(__file__).resolve().parent.parent

WRITER = textwrap.dedent(
    """
    import sys, time
    root, path, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    go = sys.argv[4] if len(sys.argv) > 4 else None
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 10**9
    sys.path[:0] = [root, root + "/tests"]
    from verdict_kit import make_record
    from reviewq.store.log import ProvenanceLog
    log = ProvenanceLog(path)
    print("ready", flush=True)
    if go:
        import os
        while not os.path.exists(go):
            time.sleep(0.001)
    for i in range(count):
        log.append(make_record(i, record_id=f"{tag}-{i}", note="n" * (i % 300)))
        # Acknowledged: append returned, so the record was fsynced.
        sys.stdout.write(f"ack {tag}-{i}\\n")
        sys.stdout.flush()
    """
)


def spawn(path: Path, tag: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ROOT), str(path), tag, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def acks(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.startswith("ack ")]


@pytest.mark.parametrize(
    "rounds", [20, pytest.param(110, marks=pytest.mark.slow)], ids=["40-kills", "220-kills"]
)
def test_kill_writers_at_random_points(tmp_path: Path, rounds: int) -> None:
    path = tmp_path / "log.jsonl"
    rng = random.Random(20261120 + rounds)
    acknowledged: list[str] = []
    kills = 0
    killed_mid_run = 0
    for round_ in range(rounds):
        writers = [spawn(path, f"w{round_}-{k}") for k in range(2)]
        for w in writers:
            assert w.stdout is not None
            assert w.stdout.readline().strip() == "ready", w.stderr.read() if w.stderr else ""
        for w in rng.sample(writers, len(writers)):
            time.sleep(rng.uniform(0, 0.012))
            w.send_signal(signal.SIGKILL)
            out, err = w.communicate()
            assert w.returncode == -signal.SIGKILL, err
            kills += 1
            done = acks(out)
            killed_mid_run += bool(done)
            acknowledged += done
    assert kills == 2 * rounds
    assert killed_mid_run > kills // 3  # most kills landed inside the append loop

    log = ProvenanceLog(path)
    report = log.verify()
    assert not report.failed(), (report.chain, report.tail)
    ids = [r["id"] for r in log.records()]
    assert len(ids) == len(set(ids)), "a record was written twice"
    missing = set(acknowledged) - set(ids)
    assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
    # One more append after all that carnage is clean and chained.
    log.append(log.records()[-1] | {"id": "after"})
    assert not log.verify().failed()


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    go = tmp_path / "go"
    writers = [spawn(path, f"p{k}", str(go), "40") for k in range(6)]
    for w in writers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    go.touch()
    acknowledged = []
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
        acknowledged += acks(out)
    assert len(acknowledged) == 240
    log = ProvenanceLog(path)
    records = log.records()
    assert sorted(r["id"] for r in records) == sorted(acknowledged)
    assert not log.verify().failed()
    assert log.read_head().records == 240  # type: ignore[union-attr]
    # The processes really interleaved (the lock, not luck, kept the chain whole).
    order = [r["id"].split("-")[0] for r in records]
    switches = sum(1 for a, b in itertools.pairwise(order) if a != b)
    assert switches > 5


@pytest.mark.slow
def test_kill_cli_verdicts(repo, cli) -> None:
    """Kill `reviewq verdict` at random points (log, then notes): the log stays whole, every
    verdict that reported success is there, and `log rebuild --to-notes` completes the notes."""
    shas = [ai_commit(repo, f"change {i}") for i in range(5)]
    rng = random.Random(7)

    def start(i: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reviewq",
                "--repo",
                str(repo.path),
                "verdict",
                shas[i % 5],
                rng.choice(["approve", "reject", "changes", "escalate"]),
                "--note",  # `changes` and `escalate` need one
                f"verdict {i}",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # Kill points are drawn against how long one verdict takes on this machine (a faster
    # machine must not turn the test into "nothing was killed").
    began = time.monotonic()
    first = start(0)
    out, err = first.communicate()
    whole = time.monotonic() - began
    assert first.returncode == 0, err
    acknowledged = [json.loads(out)["id"]]
    killed = 0
    for i in range(1, 61):
        proc = start(i)
        time.sleep(rng.uniform(0.2, 1.1) * whole)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        if proc.returncode == 0:
            acknowledged.append(json.loads(out)["id"])
        else:
            killed += 1
    assert killed >= 20 and acknowledged  # both outcomes happened
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    log = ProvenanceLog(log_path)
    assert not log.verify().failed()
    ids = collections.Counter(r["id"] for r in log.records())
    assert all(n == 1 for n in ids.values())
    assert set(acknowledged) <= set(ids)
    # A kill inside `git notes add` can leave git's own ref lock behind; git asks the user to
    # remove it, and so do we.
    for lock in (repo.path / ".git" / "refs" / "notes").glob("*.lock"):
        os.unlink(lock)
    rebuilt = cli("--repo", str(repo.path), "log", "rebuild", "--to-notes")
    assert rebuilt.returncode == 0, rebuilt.stderr
    verify = cli("--repo", str(repo.path), "log", "verify", "--json")
    assert verify.returncode == 0, verify.stdout
    assert "not in the notes ref" not in verify.stdout
