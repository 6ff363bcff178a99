"""Attacks on the log's fast paths by someone with a local shell: what each one gets.

`log verify` trusts no file but the log and its head (no checkpoint): an edit anywhere fails it,
whichever core's byte range the edited line falls in, whatever the caches beside the log say.
The column caches are never the evidence for an edited record: a byte changed in a cache file
is caught by its checksum (CRC-32 per array and header) and the cache rebuilt from the log; an edit of a line the cache
already covers either moves the record the cache ends at (rebuilt, the edited line then counts
nowhere) or, at the same length, leaves the cache counting the record as it was written, never
as edited. A cache written anew, consistently, by the attacker is not detected by `stats`: that
takes the same shell as rewriting the log with recomputed hashes, which only signatures and the
team's notes ref catch (docs/provenance.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reviewq.core.jsonio import parse_line, parse_line_strictly
from reviewq.core.metrics import APPROVE, CHANGES
from reviewq.core.verdict import EDITED, has_canonical_form, line_hash_matches
from reviewq.store import log_verify
from reviewq.store.flat_arrays import open_arrays
from reviewq.store.log import ProvenanceLog
from reviewq.store.verdict_columns import CACHE_NAME, load_log_table
from tests.verdict_kit import make_record, raw_lines, rehashed, write_log


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    verdicts = ["approve", "changes", "reject", "approve", "changes", "approve"] * 4
    write_log(path, [make_record(i, verdict=v) for i, v in enumerate(verdicts)])
    return path


def _edit_line(path: Path, number: int, old: bytes, new: bytes) -> None:
    lines = raw_lines(path)
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("number", [1, 2, 8, 9, 12, 13, 24])
def test_an_edit_anywhere_fails_verify_on_every_split(
    log_path: Path, tmp_path: Path, number: int, workers: int
) -> None:
    load_log_table(log_path, tmp_path / CACHE_NAME)  # caches beside the log: not consulted
    _edit_line(log_path, number, b'"hunks_total":2', b'"hunks_total":3')
    report = ProvenanceLog(log_path).verify(workers=workers)
    assert report.failed() and report.chain is not None
    assert (report.chain.index, report.chain.problem) == (number, EDITED)


def test_the_ranges_really_split_the_log(log_path: Path) -> None:
    size = log_path.stat().st_size
    bounds = log_verify.split(log_path, size, 3)
    assert len(bounds) == 3 and bounds[0][0] == 0 and bounds[-1][1] == size
    data = log_path.read_bytes()
    assert all(data[a - 1 : a] == b"\n" for a, _ in bounds[1:])


def test_a_byte_changed_in_the_column_cache_is_caught_and_the_cache_rebuilt(
    log_path: Path, tmp_path: Path
) -> None:
    cache = tmp_path / CACHE_NAME
    plain = load_log_table(log_path, None).table
    load_log_table(log_path, cache)
    # Make every row an approval, in place, without touching anything else in the file.
    with open_arrays(cache) as data:
        at, size = data.span("verdict")
    assert size == len(plain.verdict)
    body = bytearray(cache.read_bytes())
    body[at : at + size] = bytes([APPROVE]) * size
    cache.write_bytes(bytes(body))
    again = load_log_table(log_path, cache).table
    assert np.array_equal(again.verdict, plain.verdict)
    assert int((again.verdict == APPROVE).sum()) == 12


def test_an_edited_line_already_cached_is_never_counted_as_edited(
    log_path: Path, tmp_path: Path
) -> None:
    cache = tmp_path / CACHE_NAME
    load_log_table(log_path, cache)
    # Same length, so the record the cache ends at stays where it was: "changes" -> "approve".
    _edit_line(log_path, 2, b'"verdict":"changes"', b'"verdict":"approve"')
    cached = load_log_table(log_path, cache).table
    plain = load_log_table(log_path, None).table
    # The plain read drops the edited line; the cache still counts it as it was written.
    assert int((plain.verdict == APPROVE).sum()) == int((cached.verdict == APPROVE).sum()) == 12
    assert int((cached.verdict == CHANGES).sum()) == int((plain.verdict == CHANGES).sum()) + 1
    assert ProvenanceLog(log_path).verify().chain.index == 2


def test_an_edit_that_moves_the_cached_end_rebuilds_the_cache(
    log_path: Path, tmp_path: Path
) -> None:
    cache = tmp_path / CACHE_NAME
    load_log_table(log_path, cache)
    _edit_line(log_path, 3, b'"verdict":"reject"', b'"verdict":"approve"')
    cached = load_log_table(log_path, cache).table
    plain = load_log_table(log_path, None).table
    assert np.array_equal(cached.verdict, plain.verdict) and len(cached) == 23
    assert int((cached.verdict == APPROVE).sum()) == 12


def test_cli_verify_checks_an_old_edit_after_many_runs_with_and_without_full(
    repo, cli, log_path: Path, monkeypatch
) -> None:
    repo.commit("base")
    monkeypatch.setattr(log_verify, "PARALLEL_BYTES", 1)  # the ranges path, on a small log
    args = ("--repo", str(repo.path), "--log", str(log_path), "log", "verify", "--no-signatures")
    for _ in range(2):
        assert cli(*args).returncode == 0
        assert cli(*args, "--full").returncode == 0
    _edit_line(log_path, 1, b'"lines_changed":10', b'"lines_changed":11')
    for extra in ((), ("--full",)):
        bad = cli(*args, *extra)
        assert bad.returncode == 1
        assert "record 1 (id rec-000000): content does not match its hash" in bad.stderr


@pytest.mark.parametrize(
    "last",
    [
        None,  # the record as appended
        b"not json at all",
        b"[1, 2, 3]",
        b'{"hash": 7, "prev": "x"}',
        b'{"hash": "' + b"a" * 64 + b'", "prev": "forged"}',
    ],
)
@pytest.mark.parametrize("head_line", [24, 23, 12])
def test_the_head_found_by_the_pass_is_the_one_a_second_read_finds(
    log_path: Path, last: bytes | None, head_line: int
) -> None:
    """`Range.at_head` at the last line read (taken from the pass itself) and anywhere else
    (read again) is what `_line_ending_at` finds, whatever the line at the head holds: the
    whole log as one range, and split in two at the head (then it ends the second range)."""
    lines = raw_lines(log_path)
    if last is not None:
        lines[head_line - 1] = last + b"\n"
        log_path.write_bytes(b"".join(lines))
    head_size = sum(map(len, lines[:head_line]))
    job = log_verify._Job(log_path, signatures=False, notes=None, head_size=head_size)
    for start, end in [(0, log_path.stat().st_size), *log_verify.split(log_path, head_size, 2)]:
        if start < head_size <= end:
            found = log_verify.check_range(job, start, end).at_head
            assert found == log_verify._line_ending_at(log_path, start, head_size)
            before = sum(1 for i in range(len(lines)) if sum(map(len, lines[: i + 1])) <= start)
            assert found is not None and found[0] == head_line - 1 - before


#: Forged lines whose own hash is right but which no writer of canonical lines writes.
NOT_JSON_FOR_US = {
    "not-utf8": b'"aa":"\xc0\x80",',  # an overlong form: msgspec skips it unread, json refuses
    "deep": b'"aa":' + b"[" * 5000 + b"]" * 5000 + b",",  # json's recursion, not a ValueError
}
NO_CANONICAL_FORM = {
    "nan": b'"aa":NaN,',
    "infinity": b'"aa":-Infinity,',
    "escaped-surrogate": b'"aa":"\\ud800",',
    "encoded-surrogate": b'"aa":"\xed\xa0\x80",',
}


@pytest.mark.parametrize("head", NOT_JSON_FOR_US.values(), ids=NOT_JSON_FOR_US.keys())
def test_a_forged_line_json_refuses_stops_stats_and_fails_verify_in_one_line(
    repo, cli, log_path: Path, head: bytes
) -> None:
    """Every reader refuses it as the plain read does: `stats` stops and names the line (the
    fast read used to count the overlong form, and the deep one crashed both), `log verify`
    names it as not JSON."""
    lines = raw_lines(log_path)
    lines[2] = rehashed(lines[2], head)
    log_path.write_bytes(b"".join(lines))
    repo.commit("base")
    args = ("--repo", str(repo.path), "--log", str(log_path))
    stats = cli(*args, "stats", "--json")
    assert stats.returncode == 2 and "Traceback" not in stats.stderr
    assert "line 3 is not valid JSON; run `reviewq log verify`" in stats.stderr
    verify = cli(*args, "log", "verify", "--no-signatures")
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    assert "record 3" in verify.stderr and "not a JSON record" in verify.stderr


@pytest.mark.parametrize("heads", [True, False], ids=["chain-fields-alone", "whole-lines"])
@pytest.mark.parametrize("head", NO_CANONICAL_FORM.values(), ids=NO_CANONICAL_FORM.keys())
def test_a_forged_line_with_no_canonical_form_counts_as_edited(
    log_path: Path, tmp_path: Path, head: bytes, heads: bool, monkeypatch
) -> None:
    """json reads NaN and lone surrogates, but a record holding one has no canonical form, so
    no hash is its own: `stats` leaves it out and `log verify` names it edited, on the
    one-pass and the split reads alike, with the notes ref holding its original or not."""
    monkeypatch.setattr(log_verify, "HEADS_BYTES", 0 if heads else 1 << 40)
    original = raw_lines(log_path)[2]
    lines = raw_lines(log_path)
    lines[2] = rehashed(lines[2], head)
    log_path.write_bytes(b"".join(lines))
    plain = load_log_table(log_path, None).table
    assert len(plain) == 23
    assert len(load_log_table(log_path, tmp_path / CACHE_NAME).table) == 23
    notes = {"rec-000002": parse_line(original)}
    for workers in (1, 2):
        for copies in (None, notes):
            report = ProvenanceLog(log_path).verify(workers=workers, notes=copies)
            assert (report.chain.index, report.chain.problem) == (3, EDITED)


@pytest.mark.parametrize("head", NO_CANONICAL_FORM.values(), ids=NO_CANONICAL_FORM.keys())
def test_the_strict_parser_reads_no_line_without_a_canonical_form(
    log_path: Path, head: bytes
) -> None:
    """Readers skip the canonical-form check for what orjson read (`strict`): that holds only
    while orjson refuses every such line, which this checks."""
    line = rehashed(raw_lines(log_path)[2], head).rstrip(b"\n")
    record, strict = parse_line_strictly(line)
    assert strict is False
    assert not has_canonical_form(line, record)
    assert not line_hash_matches(line, record)
