"""Tampering with the log: every kind is caught and the first bad record is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.store.log import ProvenanceLog
from tests.verdict_kit import make_record, raw_lines, rechain, write_log


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    write_log(path, [make_record(i, note=f"note {i}") for i in range(6)])
    return path


def verify(path: Path):
    return ProvenanceLog(path).verify()


def test_intact_log_verifies(log_path: Path) -> None:
    report = verify(log_path)
    assert not report.failed() and report.records == 6 and report.warnings == []


def test_edited_byte(log_path: Path) -> None:
    lines = raw_lines(log_path)
    lines[2] = lines[2].replace(b'"verdict":"approve"', b'"verdict":"reject"')
    log_path.write_bytes(b"".join(lines))
    report = verify(log_path)
    assert report.failed()
    assert report.chain is not None
    assert (report.chain.index, report.chain.record_id) == (3, "rec-000002")
    assert "edited" in report.chain.problem


def test_edit_a_parser_would_not_notice(log_path: Path) -> None:
    lines = raw_lines(log_path)
    lines[4] = lines[4].replace(b'"note":"note 4"', b'"note": "note 4"')
    log_path.write_bytes(b"".join(lines))
    report = verify(log_path)
    assert report.chain is not None and report.chain.index == 5


def test_deleted_record(log_path: Path) -> None:
    lines = raw_lines(log_path)
    del lines[1]
    log_path.write_bytes(b"".join(lines))
    report = verify(log_path)
    assert report.chain is not None and report.chain.index == 2
    assert report.chain.record_id == "rec-000002"
    assert "removed, reordered" in report.chain.problem


def test_reordered_records(log_path: Path) -> None:
    lines = raw_lines(log_path)
    lines[3], lines[4] = lines[4], lines[3]
    log_path.write_bytes(b"".join(lines))
    report = verify(log_path)
    assert report.chain is not None and report.chain.index == 4


def test_truncated_at_a_record_boundary(log_path: Path) -> None:
    lines = raw_lines(log_path)
    log_path.write_bytes(b"".join(lines[:4]))
    report = verify(log_path)
    assert report.chain is None  # the chain of what is left is fine...
    assert report.tail is not None and report.tail.index == 5  # ...but records 5+ are gone
    assert "truncated" in report.tail.problem and report.failed()


def test_truncated_mid_record(log_path: Path) -> None:
    data = log_path.read_bytes()
    log_path.write_bytes(data[: len(data) - 100])
    report = verify(log_path)
    assert report.tail is not None and report.tail.index == 6
    assert "middle of this record" in report.tail.problem


def test_forged_record_with_recomputed_chain_is_caught_by_the_head(log_path: Path) -> None:
    """Rewriting the chain but not the head: the last acknowledged record is not there."""
    records = [json.loads(line) for line in raw_lines(log_path)]
    records[5]["verdict"] = "reject"
    head = (log_path.parent / "log.jsonl.head").read_bytes()
    rechain(log_path, records)
    (log_path.parent / "log.jsonl.head").write_bytes(head)
    report = verify(log_path)
    assert report.chain is None
    assert report.tail is not None and "rewritten" in report.tail.problem


def test_inserted_record(log_path: Path) -> None:
    lines = raw_lines(log_path)
    lines.insert(3, lines[3])
    log_path.write_bytes(b"".join(lines))
    report = verify(log_path)
    assert report.chain is not None and report.chain.index == 5


def test_garbage_line(log_path: Path) -> None:
    lines = raw_lines(log_path)
    lines[0] = b"\x00\x01 not json\n"
    log_path.write_bytes(b"".join(lines))
    report = verify(log_path)
    assert report.chain is not None and report.chain.index == 1
    assert "not a JSON record" in report.chain.problem


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(min_value=0, max_value=10**6), flip=st.integers(1, 255))
def test_any_changed_byte_anywhere_fails_verify(tmp_path: Path, position: int, flip: int) -> None:
    path = tmp_path / f"log-{position}-{flip}.jsonl"
    write_log(path, [make_record(i) for i in range(3)])
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= flip
    path.write_bytes(bytes(data))
    assert verify(path).failed()


def test_cli_verify_exits_1_and_names_the_record(repo, cli, log_path: Path) -> None:
    repo.commit("base")
    ok = cli("--repo", str(repo.path), "--log", str(log_path), "log", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "6 record(s); chain intact; end intact" in ok.stdout

    lines = raw_lines(log_path)
    lines[2] = lines[2].replace(b'"lines_changed":10', b'"lines_changed":11')
    log_path.write_bytes(b"".join(lines))
    bad = cli("--repo", str(repo.path), "--log", str(log_path), "log", "verify")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "reviewq: log verify: record 3 (id rec-000002): content does not match its hash (edited)"
    ]
    assert "CHAIN BROKEN" in bad.stdout and bad.stdout.strip().endswith("FAILED")
    as_json = cli("--repo", str(repo.path), "--log", str(log_path), "log", "verify", "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["chain"] == {
        "record": 3,
        "id": "rec-000002",
        "problem": "content does not match its hash (edited)",
    }


def test_cli_verify_reports_truncation(repo, cli, log_path: Path) -> None:
    repo.commit("base")
    lines = raw_lines(log_path)
    log_path.write_bytes(b"".join(lines[:3]))
    bad = cli("--repo", str(repo.path), "--log", str(log_path), "log", "verify")
    assert bad.returncode == 1
    assert "record 4: missing, and any after it" in bad.stderr
    assert "TRUNCATED" in bad.stdout
