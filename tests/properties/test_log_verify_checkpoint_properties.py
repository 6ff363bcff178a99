"""Property: `log verify` with its checkpoint reports exactly what the plain full pass reports.

On random logs (hex and other ids, signed and unsigned records, records in the notes ref with
the same or another content), verified once (a checkpoint is written), grown by appends
(verified again: the checkpoint moves forward) and then damaged at random anywhere, under the
checkpoint or after it: the report with the checkpoint equals the report of the full pass
(`checkpoint=False`, what `log verify --full` runs): same verdict, same first bad line, same
findings, counts and warnings. Small segments and read chunks make the checkpoint's digests and
the ranges cut the log in many places.
"""

from __future__ import annotations

import os
import random
from array import array
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from reviewq.core.verdict import SIG_GOOD, SignatureCheck, record_line, seal
from reviewq.store import log_checkpoint, log_verify
from reviewq.store.log import Head, ProvenanceLog
from tests.properties.strategies import at_most, io_examples, scratch_dir, verdict_records

pytestmark = pytest.mark.property


def _checker(records: list[dict]) -> list[SignatureCheck]:
    return [
        SignatureCheck(SIG_GOOD if r["signature"].startswith("good") else "bad", "checked")
        for r in records
    ]


def _report(path: Path, notes, checkpoint: bool, workers: int) -> dict:
    report = ProvenanceLog(path).verify(
        check_signatures=_checker, notes=notes, workers=workers, checkpoint=checkpoint
    )
    out = asdict(report)
    out["notes_in_log"] = sorted(out["notes_in_log"])
    return out


def _same(path: Path, notes, workers: int) -> None:
    full = _report(path, notes, False, workers)
    assert _report(path, notes, True, workers) == full
    assert _report(path, None, True, 1) == _report(path, None, False, 1)


def _append(path: Path, records: list[dict], prev: str) -> tuple[list[dict], str]:
    sealed_all = []
    data = b""
    for record in records:
        sealed = seal(record, prev)
        prev = sealed["hash"]
        sealed_all.append(sealed)
        data += record_line(sealed)
    with open(path, "ab") as fh:
        fh.write(data)
    size = path.stat().st_size
    count = len(path.read_bytes().splitlines())
    ProvenanceLog(path)._write_head(Head(count, size, prev))
    return sealed_all, prev


damages = st.sampled_from(
    ["edit", "edit_longer", "delete", "swap", "not_json", "garbage_line", "truncate_mid",
     "truncate_line", "insert_copy", "space", "none"]
)  # fmt: skip


def _damage(data: bytes, kind: str, where: int) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines or kind == "none":
        return data
    i = where % len(lines)
    line = lines[i]
    if kind == "edit":
        lines[i] = line.replace(b'"v":1', b'"v":2', 1)
    elif kind == "edit_longer":
        lines[i] = line.replace(b'"v":1', b'"v":12', 1)
    elif kind == "delete":
        del lines[i]
    elif kind == "swap" and len(lines) > 1:
        j = (i + 1) % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "not_json":
        lines[i] = line[: len(line) // 2] + b"\n"
    elif kind == "garbage_line":
        lines[i] = b"[1,2]\n"
    elif kind == "truncate_mid":
        return b"".join(lines[:i]) + line[: len(line) // 2]
    elif kind == "truncate_line":
        return b"".join(lines[:i])
    elif kind == "insert_copy":
        lines.insert(i, line)
    elif kind == "join":
        lines[i] = line[:-1] + b"x"
    elif kind == "space":
        lines[i] = line.replace(b":", b": ", 1)
    return b"".join(lines)


@io_examples(8, 30)
@given(
    st.lists(verdict_records(), min_size=1, max_size=10),
    st.lists(verdict_records(), max_size=6),
    st.lists(st.tuples(damages, st.integers(0, 40)), min_size=1, max_size=2),
    st.sets(st.integers(0, 15), max_size=5),
    st.sets(st.integers(0, 15), max_size=3),
    st.sets(st.integers(0, 15), max_size=2),
    st.integers(1, 3),
    st.integers(40, 3000),
)
def test_verify_with_a_checkpoint_reports_what_the_full_pass_reports(
    first: list[dict],
    later: list[dict],
    damage: list[tuple[str, int]],
    in_notes: set[int],
    signed: set[int],
    odd_ids: set[int],
    workers: int,
    segment: int,
) -> None:
    saved = (log_verify.SEGMENT, log_verify._CHUNK, log_verify.REFRESH_BYTES)
    log_verify.SEGMENT, log_verify._CHUNK, log_verify.REFRESH_BYTES = segment, 97, 0
    try:
        with scratch_dir() as tmp:
            path = Path(tmp) / "log.jsonl"
            records = []
            for i, record in enumerate(first + later):
                if i in odd_ids:
                    record = {**record, "id": f"odd-{i}"}
                if i in signed:
                    record = {**record, "signature": "good-sig" if i % 2 else "forged"}
                records.append(record)
            sealed, prev = _append(path, records[: len(first)], "0" * 64)
            notes_of = {}
            _same(path, None, workers)  # writes the checkpoint
            more, prev = _append(path, records[len(first) :], prev)
            sealed += more
            for i in in_notes:
                if i < len(sealed):
                    copy = dict(sealed[i])
                    if i % 3 == 1:
                        copy["note"] = "changed on the other side"
                    notes_of[copy["id"]] = copy
            notes = notes_of or None
            _same(path, notes, workers)  # moves the checkpoint forward
            data = path.read_bytes()
            for kind, where in damage:
                data = _damage(data, kind, where)
            path.write_bytes(data)
            _same(path, notes, workers)
            _same(path, notes, workers)  # and again, after whatever the last run wrote
    finally:
        log_verify.SEGMENT, log_verify._CHUNK, log_verify.REFRESH_BYTES = saved


# -- the checkpoint's id table, built in bulk, against one entry at a time -----------------------

#: Ids near the bulk path's edges: 32 hex digits (with zero and 0xff bytes), upper case, 31 or
#: 33 characters, whitespace (`bytes.fromhex` skips it), non-ASCII, not a string at all.
table_ids = st.one_of(
    st.text(alphabet="0f", min_size=32, max_size=32),
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
    st.text(alphabet="0123456789abcdefABCDEF ", min_size=31, max_size=33),
    st.text(alphabet="0a\u00e9\u0660", min_size=32, max_size=32),
    st.sampled_from(["0" * 32, "f" * 32, "0" * 31 + "1", "none", ""]),
    st.none(),
)


def _plain_table(ids, offsets, bases):
    """The table as the per-line code built it: `id_key` per line, sorted by (id, line)."""
    rows, odd = [], []
    for part, base in zip(ids, bases):
        for i, rid in enumerate(part):
            key = str(rid)
            packed = log_checkpoint.id_key(key)
            at = offsets[(base + i)]
            length = offsets[base + i + 1] - at - 1
            if packed is None:
                odd.append((key, base + i, at, length))
            else:
                rows.append((packed, base + i, at, length))
    rows.sort(key=lambda r: (r[0], r[1]))
    return b"".join(log_checkpoint.ENTRY.pack(*r) for r in rows), odd


@example([["a" * 31, "b" * 33, "c" * 32]], random.Random(1))  # lengths summing to 32 each
@example([["0" * 32, "f" * 32] * 20, ["0" * 32] * 30], random.Random(2))  # same ids: line order
@at_most(3_000)  # 37 s of the thorough run at 10,000
@given(st.lists(st.lists(table_ids, max_size=12), min_size=1, max_size=4), st.randoms())
def test_the_bulk_id_table_is_the_one_entry_at_a_time_table(parts, rnd) -> None:
    """Ranges' tables (`index_entries` of their ids packed a batch at a time, as `check_range`
    builds them) joined by `sort_entries` are the table of one entry per line, sorted by id and
    then line."""
    offsets = [rnd.randint(0, 50)]
    for _ in range(sum(map(len, parts))):
        offsets.append(offsets[-1] + rnd.randint(1, 900))
    bases, tables, odd = [], [], []
    base = 0
    for part in parts:
        packed, at = [], 0
        while at < len(part) or not packed:
            step = rnd.randint(0, 5)
            packed.append(log_checkpoint.pack_ids(part[at : at + step]))
            at += step
        lengths = array(
            "Q", (offsets[base + i + 1] - offsets[base + i] - 1 for i in range(len(part)))
        )
        entries, part_odd = log_checkpoint.index_entries(packed, lengths, offsets[base])
        tables.append((entries, base))
        odd.extend((key, base + i, at, n) for key, i, at, n in part_odd)
        bases.append(base)
        base += len(part)
    assert (log_checkpoint.sort_entries(tables), odd) == _plain_table(parts, offsets, bases)


# -- a log written to while the pass that writes the checkpoint reads it -------------------------


@io_examples(8, 30)
@given(
    st.lists(verdict_records(), min_size=2, max_size=12),
    st.lists(st.tuples(damages | st.just("join"), st.integers(0, 40)), min_size=1, max_size=2),
    st.integers(-1, 6),
    st.lists(verdict_records(), max_size=2),
    st.integers(1, 2),
    st.integers(40, 3000),
)
def test_a_log_written_to_during_the_pass_gets_no_checkpoint_for_unchecked_bytes(
    records: list[dict],
    damage: list[tuple[str, int]],
    when: int,
    later: list[dict],
    workers: int,
    segment: int,
) -> None:
    """A writer damages the log while the run that writes the checkpoint reads it: after the
    run took the log's size (`when` -1) or after the parent's range read its `when`-th batch
    ("join" overwrites a newline: same length, one line fewer). Then it appends records
    chained to the log's last record as it was. Whatever the racing run wrote, the next runs
    with their checkpoint report what the full pass reports on the log as it is now: no
    checkpoint vouches for bytes no pass checked."""
    saved = (log_verify.SEGMENT, log_verify._CHUNK, log_verify.REFRESH_BYTES)
    log_verify.SEGMENT, log_verify._CHUNK, log_verify.REFRESH_BYTES = segment, 97, 0
    real_all, real_batches = log_verify.check_all, log_verify._batches
    parent = os.getpid()
    try:
        with scratch_dir() as tmp:
            path = Path(tmp) / "log.jsonl"
            _, last = _append(path, records, "0" * 64)

            def hit() -> None:
                data = path.read_bytes()
                for kind, where in damage:
                    data = _damage(data, kind, where)
                path.write_bytes(data)

            def check_all(*args, **kw):
                if when < 0:
                    hit()
                return real_all(*args, **kw)

            def batches(*args, **kw):
                for n, batch in enumerate(real_batches(*args, **kw)):
                    yield batch
                    if n == when and os.getpid() == parent:
                        hit()

            log_verify.check_all, log_verify._batches = check_all, batches
            try:
                _report(path, None, True, workers)  # the racing run (writes a checkpoint or not)
            finally:
                log_verify.check_all, log_verify._batches = real_all, real_batches
            _append(path, later, last)
            _same(path, None, workers)
            _same(path, None, workers)
    finally:
        log_verify.SEGMENT, log_verify._CHUNK, log_verify.REFRESH_BYTES = saved
