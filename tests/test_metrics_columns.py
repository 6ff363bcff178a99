"""The column cache of the provenance log: each record parsed once, never a stale figure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reviewq.core.metrics import VerdictTable, compute_stats
from reviewq.core.verdict import GENESIS, record_line
from reviewq.store.log import LogError, ProvenanceLog, read_records
from reviewq.store.verdict_columns import load_log_table
from tests.metrics_support import ANN, BOB, record

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CET)


def append(log: ProvenanceLog, n: int, verdict: str = "approve", **kw) -> None:
    rec = record(n, verdict, f"2026-11-1{n % 9}T10:00:00+01:00", **kw)
    rec.pop("prev"), rec.pop("hash"), rec.pop("signature")
    log.append(rec)


def figures(table: VerdictTable) -> dict:
    return compute_stats(table, now=NOW).to_json()


@pytest.fixture
def log(tmp_path: Path) -> ProvenanceLog:
    log = ProvenanceLog(tmp_path / "log.jsonl")
    for n in range(1, 6):
        append(log, n, "reject" if n == 3 else "approve", reviewer=BOB if n % 2 else ANN)
    return log


def test_cached_columns_equal_a_fresh_read(log: ProvenanceLog, tmp_path: Path):
    cache = tmp_path / "cols.npz"
    cold = load_log_table(log.path, cache).table
    assert cache.is_file()
    warm = load_log_table(log.path, cache).table
    fresh = VerdictTable.from_records(read_records(log.path))
    assert figures(cold) == figures(warm) == figures(fresh)
    assert len(warm) == 5


def test_warm_read_does_not_parse_the_cached_part(log: ProvenanceLog, tmp_path: Path):
    cache = tmp_path / "cols.npz"
    load_log_table(log.path, cache)
    # Break the first record in place (same length): a parse would fail, the cache does not.
    data = log.path.read_bytes()
    first_end = data.index(b"\n")
    log.path.write_bytes(b"#" * first_end + data[first_end:])
    assert len(load_log_table(log.path, cache).table) == 5
    with pytest.raises(LogError, match="line 1 is not valid JSON"):
        load_log_table(log.path, None)


def test_appended_records_are_read_incrementally(log: ProvenanceLog, tmp_path: Path):
    cache = tmp_path / "cols.npz"
    load_log_table(log.path, cache)
    append(log, 6, "changes", agent="codex", family="openai")
    append(log, 7, "escalate")
    table = load_log_table(log.path, cache).table
    assert len(table) == 7
    assert figures(table) == figures(VerdictTable.from_records(read_records(log.path)))
    # a broken appended line is reported with its real line number
    with open(log.path, "ab") as fh:
        fh.write(b"{oops\n")
    with pytest.raises(LogError, match="line 8 is not valid JSON"):
        load_log_table(log.path, cache)


def test_a_replaced_or_truncated_log_is_read_again(log: ProvenanceLog, tmp_path: Path):
    cache = tmp_path / "cols.npz"
    load_log_table(log.path, cache)
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(b"".join(lines[:2]))
    assert len(load_log_table(log.path, cache).table) == 2
    other = ProvenanceLog(tmp_path / "other.jsonl")
    for n in range(1, 4):
        append(other, n, "reject")
    log.path.write_bytes(other.path.read_bytes())  # another log altogether
    table = load_log_table(log.path, cache).table
    assert (len(table), compute_stats(table, now=NOW).totals.reject) == (3, 3)


def test_a_torn_last_line_waits_for_its_newline(log: ProvenanceLog, tmp_path: Path):
    cache = tmp_path / "cols.npz"
    extra = record(9, "reject", "2026-11-19T10:00:00+01:00", prev=GENESIS)
    # As the writer stores it (canonical): a line that fails its own hash counts nowhere.
    line = record_line(extra).rstrip(b"\n")
    with open(log.path, "ab") as fh:
        fh.write(line[:40])
    assert len(load_log_table(log.path, cache).table) == 5
    with open(log.path, "ab") as fh:
        fh.write(line[40:] + b"\n")
    assert len(load_log_table(log.path, cache).table) == 6


def test_a_damaged_cache_is_rebuilt(log: ProvenanceLog, tmp_path: Path):
    cache = tmp_path / "cols.npz"
    cache.write_bytes(b"not a zip file")
    assert len(load_log_table(log.path, cache).table) == 5
    assert len(load_log_table(log.path, cache).table) == 5


def test_no_log_and_no_writable_cache(tmp_path: Path, log: ProvenanceLog):
    assert len(load_log_table(tmp_path / "missing.jsonl", tmp_path / "c.npz").table) == 0
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert len(load_log_table(log.path, blocker / "cols.npz").table) == 5


def test_log_ids_tell_records_from_elsewhere(log: ProvenanceLog, tmp_path: Path):
    cache = tmp_path / "cols.npz"
    ids = [r["id"] for r in read_records(log.path)]
    for path in (None, cache, cache):  # no cache, cold cache, warm cache
        local = load_log_table(log.path, path)
        assert local.lacks([ids[0], "someone-else", ids[-1], ""]).tolist() == [
            False,
            True,
            False,
            True,
        ]
    assert load_log_table(tmp_path / "missing.jsonl", None).lacks(["x"]).tolist() == [True]


def test_team_records_from_notes_count_once(demo_repo: Path, cli):
    """Records the notes ref shares are added to the local log's, one per id."""
    from reviewq.context import Context
    from reviewq.store.notes_log import add_records
    from tests.metrics_support import record_demo_verdicts

    local = record_demo_verdicts(demo_repo)
    ctx = Context.open(demo_repo)
    try:
        from reviewq.core.verdict import seal

        body = {k: v for k, v in local[0].items() if k not in ("prev", "hash", "signature")}
        # sealed, or the notes reader would leave it out as edited after it was written
        teammate = seal({**body, "id": "teammate-1", "verdict": "reject"}, local[-1]["hash"])
        add_records(ctx.git, [*local, teammate], ctx.state_dir / "notes.lock")
    finally:
        ctx.close()
    proc = cli("stats", "--json", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    import json

    totals = json.loads(proc.stdout)["totals"]
    assert (totals["verdicts"], totals["reject"]) == (12, 2)


def test_building_the_cache_reports_its_progress(log: ProvenanceLog, tmp_path: Path):
    """A front end hears (bytes read, bytes to read) per chunk while the cache is built or caught
    up (the TUI tells a reviewer why the first open of a huge log takes a while)."""
    from reviewq.store.verdict_columns import BUILD_PROGRESS

    cache = tmp_path / "cols.npz"
    heard: list[tuple[int, int]] = []
    size = log.path.stat().st_size
    token = BUILD_PROGRESS.set(lambda done, total: heard.append((done, total)))
    try:
        load_log_table(log.path, cache, chunk=2)  # 5 records: chunks of 2, 2 and 1
        assert [total for _, total in heard] == [size] * 3
        assert [done for done, _ in heard] == sorted(done for done, _ in heard)
        assert heard[-1][0] == size
        heard.clear()
        load_log_table(log.path, cache)  # warm: nothing to read, nothing to say
        assert heard == []
        append(log, 6)
        load_log_table(log.path, cache)  # caught up: only the new tail
        grown = log.path.stat().st_size
        assert heard == [(grown - size, grown - size)]
    finally:
        BUILD_PROGRESS.reset(token)
