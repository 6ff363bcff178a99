"""The log's key index: the queue reads only the verdicts about its changes, and gets exactly
what a full read would give it (benchmarks/bench_tui_load.py has the figures at 1,000,000)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reviewq.context import Context
from reviewq.core.metrics import VerdictTable
from reviewq.store.log import ProvenanceLog, read_records
from reviewq.store.verdict_columns import key_fingerprint, load_log_table, records_about
from reviewq.tui.services import Services
from reviewq.workflow.recording import load_verdicts, load_verdicts_about, verdict_keys
from tests.conftest import FIXED_NOW, Repo
from tests.verdict_kit import ai_commit, make_record


def _log(tmp_path: Path, n: int, **kw) -> ProvenanceLog:
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append_many([make_record(i, **kw) for i in range(n)])
    return log


def test_records_about_equals_a_filtered_full_read(tmp_path: Path) -> None:
    log = _log(tmp_path, 40)
    cache = tmp_path / "cols.npz"
    everything = read_records(log.path)
    for wanted in ({f"{3:040x}"}, {f"{10 + 7:040x}", f"{25:040x}"}, {"nothing"}, set()):
        expected = [
            r for r in everything if wanted & {r.get("sha"), r.get("patch_id"), r.get("change_id")}
        ]
        assert records_about(log.path, cache, wanted) == expected  # builds the cache
        assert records_about(log.path, cache, wanted) == expected  # reads through it
        assert records_about(log.path, None, wanted) == expected  # no cache: full read


def test_the_index_follows_a_growing_log_and_a_replaced_one(tmp_path: Path) -> None:
    log = _log(tmp_path, 5)
    cache = tmp_path / "cols.npz"
    sha = f"{100:040x}"
    assert records_about(log.path, cache, {sha}) == []
    log.append(make_record(100))  # appended after the cache was written
    assert [r["sha"] for r in records_about(log.path, cache, {sha})] == [sha]
    # A log rewritten from scratch (its last record is another one): the index is rebuilt.
    log.path.unlink()
    log.head_path.unlink()
    fresh = _log(tmp_path, 3, note="new log")
    assert records_about(fresh.path, cache, {sha}) == []
    assert [r["note"] for r in records_about(fresh.path, cache, {f"{1:040x}"})] == ["new log"]


def test_colliding_fingerprints_are_told_apart_by_the_keys_themselves(tmp_path: Path) -> None:
    # Two keys with the same first 16 hex digits share a fingerprint.
    a, b = "abcdef0123456789" + "a" * 24, "abcdef0123456789" + "b" * 24
    assert key_fingerprint(a) == key_fingerprint(b)
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append_many([make_record(0, sha=a, change_id=a), make_record(1, sha=b, change_id=b)])
    cache = tmp_path / "cols.npz"
    assert len(load_log_table(log.path, cache).lines_about([a])) == 2  # both candidates
    assert [r["sha"] for r in records_about(log.path, cache, {a})] == [a]
    # Keys that are not hex ids (inbox change ids) are hashed instead.
    assert key_fingerprint("inbox:1234") != key_fingerprint("inbox:1235")


def test_chunked_columns_equal_one_read(tmp_path: Path) -> None:
    log = _log(tmp_path, 11)
    whole = load_log_table(log.path, None)
    chunked = load_log_table(log.path, None, chunk=3)
    fresh = VerdictTable.from_records(read_records(log.path))
    for table in (whole.table, chunked.table):
        assert len(table) == len(fresh) == 11
        assert np.array_equal(table.epoch, fresh.epoch)
        assert [table.changes[c] for c in table.change] == [fresh.changes[c] for c in fresh.change]
    assert np.array_equal(whole.keys, chunked.keys)
    assert np.array_equal(np.sort(whole.key_lines), np.sort(chunked.key_lines))
    assert np.array_equal(whole.ids, chunked.ids)


def test_the_queue_reads_the_verdicts_about_its_changes_from_log_and_notes(repo: Repo, cli) -> None:
    base = repo.commit("Base\n")
    shas = [ai_commit(repo, f"change {i}") for i in range(4)]
    for sha, verdict in zip(shas[:3], ("approve", "escalate", "reject")):
        assert cli("--repo", str(repo.path), "verdict", sha, verdict, "--note", "n").returncode == 0
    # A rebased copy of the first change: its verdict matches by patch-id.
    repo.git("checkout", "-q", "-b", "copy", base)
    repo.commit("elsewhere", files={"other.txt": "x\n"})
    repo.git("cherry-pick", shas[0])
    copy = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "main")
    ctx = Context.open(repo.path)
    try:
        from reviewq.workflow.scan import scan_history

        changes = scan_history(ctx, ["main", "copy"]).changes
        about = load_verdicts_about(ctx, changes)
        assert about == load_verdicts(ctx)  # every verdict is about one of these changes
        copy_change = next(c for c in changes if c.sha == copy)
        (by_patch_id,) = load_verdicts_about(ctx, [copy_change])
        assert by_patch_id["sha"] == shas[0]
        assert load_verdicts_about(ctx, [c for c in changes if c.sha == shas[3]]) == []
        assert copy in verdict_keys(ctx, [copy_change])
        # Only in the notes (another clone's verdict, this log never saw it): still found.
        ctx.log_path.unlink()
        ctx.log_path.with_name("log.jsonl.head").unlink()
        assert {r["sha"] for r in load_verdicts_about(ctx, changes)} == set(shas[:3])
    finally:
        ctx.close()


def test_progress_counts_today_and_keeps_the_latest_verdict_per_change(repo: Repo, cli) -> None:
    shas = [ai_commit(repo, f"change {i}") for i in range(3)]
    for sha, verdict in ((shas[0], "escalate"), (shas[1], "approve"), (shas[0], "approve")):
        assert cli("--repo", str(repo.path), "verdict", sha, verdict, "--note", "n").returncode == 0
    ctx = Context.open(repo.path)
    try:
        from datetime import datetime

        services = Services(ctx, now=lambda: datetime.now().astimezone())
        count, mine = services.my_progress()
        assert count == 3
        assert mine == {shas[0]: "approve", shas[1]: "approve"}
        tomorrow = Services(ctx, now=lambda: FIXED_NOW.replace(year=2100))
        assert tomorrow.my_progress()[0] == 0
    finally:
        ctx.close()
