"""The log as record columns, cached: every field of every record, read back exactly, kept up
with appends, rebuilt when the log is replaced, and what `reviewq log --since` reads.

benchmarks/bench_log.py has the figures at 1,000,000 records.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewq.context import Context
from reviewq.core import record_columns
from reviewq.core.verdict import record_order
from reviewq.store.log import ProvenanceLog, read_records
from reviewq.store.verdict_columns import RECORDS_CACHE_NAME, load_log_records
from reviewq.workflow.recording import load_verdicts, load_verdicts_since
from tests.verdict_kit import ai_commit, make_record


def _log(tmp_path: Path, n: int, start: int = 0, **kw) -> ProvenanceLog:
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append_many([make_record(i, **kw) for i in range(start, start + n)])
    return log


def _same(a: list, b: list) -> bool:
    """Equal, types and key order included (1, 1.0 and true are different records)."""
    return json.dumps(a) == json.dumps(b)


@pytest.fixture
def built_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records each `RecordColumns.build` call was given."""
    sizes: list[int] = []
    original = record_columns.RecordColumns.build.__func__

    def counting(cls, records, lines):
        sizes.append(len(records))
        return original(cls, records, lines)

    monkeypatch.setattr(record_columns.RecordColumns, "build", classmethod(counting))
    return sizes


def test_every_record_comes_back_and_the_cache_is_used(tmp_path: Path, built_rows) -> None:
    log = _log(tmp_path, 25)
    cache = tmp_path / RECORDS_CACHE_NAME
    table = load_log_records(log.path, cache)
    assert cache.exists() and len(table.raw_rows) == 0  # reviewq's own records: all columns
    assert _same(table.rows(), read_records(log.path))
    assert built_rows == [25]
    again = load_log_records(log.path, cache)
    assert built_rows == [25]  # nothing parsed: the cache covers the whole log
    assert _same(again.rows(), read_records(log.path))


def test_appended_records_are_the_only_ones_parsed(tmp_path: Path, built_rows) -> None:
    log = _log(tmp_path, 10)
    cache = tmp_path / RECORDS_CACHE_NAME
    load_log_records(log.path, cache)
    log.append_many([make_record(i, note="later") for i in range(10, 13)])
    table = load_log_records(log.path, cache)
    assert built_rows == [10, 3]
    assert _same(table.rows(), read_records(log.path))
    assert load_log_records(log.path, cache, chunk=4).n == 13


def test_a_short_tail_is_parsed_again_rather_than_the_cache_rewritten(
    tmp_path: Path, built_rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewq.store import verdict_columns

    monkeypatch.setattr(verdict_columns, "STORE_FRACTION", 0.25)
    log = _log(tmp_path, 20)
    cache = tmp_path / RECORDS_CACHE_NAME
    load_log_records(log.path, cache)
    written = cache.read_bytes()
    log.append(make_record(20))  # 1 record against 20 cached: under a quarter
    assert load_log_records(log.path, cache).n == 21
    assert load_log_records(log.path, cache).n == 21
    assert cache.read_bytes() == written and built_rows == [20, 1, 1]
    log.append_many([make_record(i) for i in range(21, 27)])  # 7 since: over a quarter
    assert load_log_records(log.path, cache).n == 27
    assert cache.read_bytes() != written and built_rows == [20, 1, 1, 7]
    table = load_log_records(log.path, cache)
    assert built_rows == [20, 1, 1, 7] and _same(table.rows(), read_records(log.path))


def test_a_replaced_log_or_a_damaged_cache_is_read_again(tmp_path: Path, built_rows) -> None:
    log = _log(tmp_path, 6)
    cache = tmp_path / RECORDS_CACHE_NAME
    load_log_records(log.path, cache)
    log.path.unlink()
    log.head_path.unlink()
    fresh = _log(tmp_path, 4, start=50, note="a new log")
    assert _same(load_log_records(fresh.path, cache).rows(), read_records(fresh.path))
    assert built_rows == [6, 4]
    cache.write_bytes(b"PK\x03\x04 not really a zip")
    assert _same(load_log_records(fresh.path, cache).rows(), read_records(fresh.path))
    assert built_rows == [6, 4, 4]


def test_a_torn_last_line_is_not_a_record(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    with open(log.path, "ab") as fh:
        fh.write(b'{"v":1,"id":"half-writ')  # a writer killed mid-line: never acknowledged
    table = load_log_records(log.path, tmp_path / RECORDS_CACHE_NAME)
    assert len(table) == 3 and _same(table.rows(), read_records(log.path))


def test_an_unwritable_cache_place_only_means_no_cache(tmp_path: Path) -> None:
    log = _log(tmp_path, 4)
    (tmp_path / "a-file").write_text("in the way")
    cache = tmp_path / "a-file" / RECORDS_CACHE_NAME  # its directory cannot be made
    assert _same(load_log_records(log.path, cache).rows(), read_records(log.path))
    assert _same(load_log_records(log.path, cache).rows(), read_records(log.path))


def test_log_since_equals_filtering_everything(repo, cli) -> None:
    """`log --since` reads the record columns; it must say exactly what filtering the full
    read says: the local log (a damaged one with a duplicated id too) and the notes ref."""
    sha = ai_commit(repo, "change")
    ctx = Context.open(repo.path)
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    stamps = [(base + timedelta(hours=7 * i)).isoformat(timespec="milliseconds") for i in range(30)]
    log = ProvenanceLog(ctx.log_path)
    log.append_many([make_record(i, sha=sha, at=at) for i, at in enumerate(stamps)])
    # The same id again, recorded later: the first copy wins everywhere.
    log.append(make_record(2, sha=sha, at=stamps[-1], note="copy"))
    assert cli("--repo", str(repo.path), "log", "rebuild", "--to-notes").returncode == 0
    # A teammate's verdict, only in the notes ref.
    theirs = ProvenanceLog(repo.path / "theirs.jsonl")
    theirs.append(make_record(99, sha=sha, at=stamps[25]))
    added = cli("--repo", str(repo.path), "--log", str(theirs.path), "log", "rebuild", "--to-notes")
    assert added.returncode == 0, added.stderr

    for since in ("2026-11-05T00:00:00Z", "2026-11-07T10:00:00Z", "2026-01-01", "2099-01-01"):
        cutoff = datetime.fromisoformat(since.replace("Z", "+00:00"))
        if cutoff.tzinfo is None:
            cutoff = cutoff.replace(tzinfo=UTC)  # git reads a bare date as local midnight
        for local in (False, True):
            flags = ["--local"] if local else []
            out = cli("--repo", str(repo.path), "log", "--json", "--since", since, *flags)
            assert out.returncode == 0, out.stderr
            got = [json.loads(line) for line in out.stdout.splitlines()]
            cut = float(ctx.git.text(["-c", f"x.y={since}", "config", "--type=expiry-date", "x.y"]))
            everything = load_verdicts(Context.open(repo.path), include_notes=not local)
            expected = [r for r in everything if record_order(r)[0] >= cut]
            assert _same(got, expected), since
            direct = load_verdicts_since(Context.open(repo.path), cut, include_notes=not local)
            assert _same(direct, expected)
    assert (ctx.state_dir / RECORDS_CACHE_NAME).exists()
    # An explicit --log is read as it is (no cache of ours beside it): the same answer.
    elsewhere = repo.path / "copy.jsonl"
    elsewhere.write_bytes(ctx.log_path.read_bytes())
    since = "2026-11-07T10:00:00Z"
    plain = cli("--repo", str(repo.path), "log", "--json", "--since", since, "--local")
    other = cli(
        "--repo",
        str(repo.path),
        "--log",
        str(elsewhere),
        "log",
        "--json",
        "--since",
        since,
        "--local",
    )
    assert other.returncode == 0 and other.stdout == plain.stdout != ""
    assert not list(repo.path.glob("*.npz"))
    some = cli("--repo", str(repo.path), "log", "--json", "--since", "2026-11-07T10:00:00Z")
    ids = [json.loads(line)["id"] for line in some.stdout.splitlines()]
    assert "rec-000002" not in ids and "rec-000099" in ids and len(ids) == len(set(ids))


def test_a_first_read_of_a_large_log_is_announced_once(
    repo, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewq import cli, output

    ctx = Context.open(repo.path)
    ProvenanceLog(ctx.log_path).append_many([make_record(i) for i in range(5)])
    monkeypatch.setattr(output, "LARGE_LOG_BYTES", 1)  # five records count as large here
    assert cli.main(["--repo", str(repo.path), "log", "--since", "2000-01-01", "--json"]) == 0
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1 and "into its column cache, once" in said[0]
    assert cli.main(["--repo", str(repo.path), "log", "--since", "2000-01-01", "--json"]) == 0
    assert capsys.readouterr().err == ""  # read from the cache: nothing to say
