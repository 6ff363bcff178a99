"""The local log file: appends, head, torn tails, failures that must lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reviewq.core.verdict import GENESIS, content_digest, signing_payload
from reviewq.store.log import Head, LogError, ProvenanceLog, read_records
from tests.verdict_kit import make_record, raw_lines, write_log

ROOT = Path(__file__).resolve().parent.parent


def test_append_chains_fsyncs_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "state" / "log.jsonl"
    stored = write_log(path, [make_record(i) for i in range(3)])
    assert stored[0]["prev"] == GENESIS
    assert stored[1]["prev"] == stored[0]["hash"]
    assert read_records(path) == stored
    assert list(ProvenanceLog(path).iter_records()) == stored
    head = ProvenanceLog(path).read_head()
    assert head == Head(3, path.stat().st_size, stored[-1]["hash"])
    assert ProvenanceLog(path).verify().failed() is False


def test_missing_log_reads_as_empty(tmp_path: Path) -> None:
    log = ProvenanceLog(tmp_path / "none.jsonl")
    assert log.records() == [] and list(log.iter_records()) == []
    report = log.verify()
    assert not report.failed() and "nothing to verify" in report.warnings[0]


def test_sign_runs_on_the_content_digest(tmp_path: Path) -> None:
    seen = []

    def sign(payload: bytes) -> str:
        seen.append(payload)
        return "SIG"

    record = make_record(1)
    stored = ProvenanceLog(tmp_path / "log.jsonl").append(record, sign=sign)
    assert seen == [signing_payload(record)] == [content_digest(stored).encode()]
    assert stored["signature"] == "SIG"


def test_append_many_is_one_write(tmp_path: Path) -> None:
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append(make_record(0))
    stored = log.append_many([make_record(i) for i in range(1, 5)])
    assert [r["id"] for r in log.records()] == [f"rec-{i:06d}" for i in range(5)]
    assert stored[0]["prev"] == log.records()[0]["hash"]
    assert log.read_head().records == 5  # type: ignore[union-attr]
    assert log.append_many([]) == []


def test_unacknowledged_torn_tail_is_cut_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i) for i in range(2)])
    with open(path, "ab") as fh:  # a writer died mid-line, before its fsync returned
        fh.write(b'{"active_seconds":1.0,"ag')
    assert len(read_records(path)) == 2  # readers never see it
    report = ProvenanceLog(path).verify()
    assert not report.failed() and "never acknowledged" in report.warnings[0]
    ProvenanceLog(path).append(make_record(2))
    assert [r["id"] for r in read_records(path)] == ["rec-000000", "rec-000001", "rec-000002"]
    assert b'"ag' in (tmp_path / "log.jsonl.torn").read_bytes()
    assert not ProvenanceLog(path).verify().failed()


def test_records_written_after_a_stale_head_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = ProvenanceLog(path)
    write_log(path, [make_record(i) for i in range(2)])
    stale = (tmp_path / "log.jsonl.head").read_bytes()
    log.append(make_record(2))
    (tmp_path / "log.jsonl.head").write_bytes(stale)  # died after fsync, before the head
    assert not log.verify().failed()
    log.append(make_record(3))
    assert log.read_head().records == 4  # type: ignore[union-attr]
    assert not log.verify().failed()


def test_missing_head_is_a_warning_and_is_recreated(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i) for i in range(3)])
    (tmp_path / "log.jsonl.head").unlink()
    report = ProvenanceLog(path).verify()
    assert not report.failed() and "no head file" in report.warnings[0]
    ProvenanceLog(path).append(make_record(3))
    assert ProvenanceLog(path).read_head().records == 4  # type: ignore[union-attr]


def test_torn_head_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(0)])
    head = tmp_path / "log.jsonl.head"
    head.write_bytes(head.read_bytes()[:40])
    assert ProvenanceLog(path).read_head() is None
    ProvenanceLog(path).append(make_record(1))
    assert ProvenanceLog(path).read_head().records == 2  # type: ignore[union-attr]


def test_append_refuses_a_truncated_log(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i) for i in range(3)])
    lines = raw_lines(path)
    path.write_bytes(b"".join(lines[:2]))
    before = path.read_bytes()
    with pytest.raises(LogError, match="truncated"):
        ProvenanceLog(path).append(make_record(3))
    assert path.read_bytes() == before


def test_append_refuses_a_rewritten_last_record(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i) for i in range(2)])
    lines = raw_lines(path)
    other = json.loads(lines[1])
    other["hash"] = "f" * 64
    lines[1] = (json.dumps(other, sort_keys=True, separators=(",", ":")) + "\n").encode()
    path.write_bytes(b"".join(lines))
    with pytest.raises(LogError, match="rewritten"):
        ProvenanceLog(path).append(make_record(2))


def test_unparseable_line_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i) for i in range(3)])
    lines = raw_lines(path)
    lines[1] = b"not json\n"
    path.write_bytes(b"".join(lines))
    with pytest.raises(LogError, match="line 2 is not a JSON record"):
        ProvenanceLog(path).records()
    with pytest.raises(LogError, match="line 2"):
        list(ProvenanceLog(path).iter_records())


def test_unwritable_log_location_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LogError, match="cannot open the log lock"):
        ProvenanceLog(blocker / "log.jsonl").append(make_record(0))


_FULL_DISK_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, sys.argv[1] + "/tests")
    from verdict_kit import make_record
    from reviewq.store.log import LogError, ProvenanceLog
    log = ProvenanceLog(sys.argv[2])
    # The file may not grow past its current size plus a few bytes: a full disk, portably.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = log.path.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, size + 100))
    try:
        log.append(make_record(99, note="x" * 500))
    except LogError as exc:
        print(json.dumps({"error": exc.message}))
    else:
        print(json.dumps({"error": None}))
    """
)


def test_full_disk_records_nothing_and_leaves_no_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i) for i in range(2)])
    before = path.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-c", _FULL_DISK_CHILD, str(ROOT), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    error = json.loads(proc.stdout)["error"]
    assert error is not None and "nothing was recorded" in error and "File too large" in error
    assert path.read_bytes() == before  # the partial line was taken back
    ProvenanceLog(path).append(make_record(2))
    assert not ProvenanceLog(path).verify().failed()


def test_lock_file_and_log_are_separate(tmp_path: Path) -> None:
    log = ProvenanceLog(tmp_path / "log.jsonl")
    with log.locked():
        assert log.lock_path.exists()
    assert os.path.basename(log.lock_path) == "log.jsonl.lock"


def test_deleted_log_with_its_head_left_is_truncation(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i) for i in range(2)])
    path.unlink()
    report = ProvenanceLog(path).verify()
    assert report.failed() and report.tail is not None and "file is gone" in report.tail.problem
    with pytest.raises(LogError, match="truncated"):
        ProvenanceLog(path).append(make_record(2))
