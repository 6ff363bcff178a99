"""Properties: the metric columns' fast first build gives what parsing every record gives.

The column cache's builder (`store.verdict_columns`) reads the log in byte blocks, decodes only
the fields the metrics read (msgspec), checks each line's own hash in C-level loops, builds the
table from field columns and, for a large log, splits it into byte ranges built by forked
processes. The plain path parses every line whole (`parse_line`), keeps the lines that hash to
their own `hash` (`line_hash_matches`) and builds `VerdictTable.from_records` of the dicts.
On generated logs both must give the same columns, id for id and key for key, whatever the
block size, the records per block and the ranges: with records in the writer's form and
records that are not (fields in another order, JSON escapes and spaces, a key twice, a field
missing, numbers where strings belong and integers past 2**53, objects that are not), edited
lines, lines that are not objects, a torn tail; and a cache caught up across appends of such
records, or rebuilt when the prefix it covers was cut or edited.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.jsonio import parse_line
from reviewq.core.metrics import VerdictTable
from reviewq.core.verdict import line_hash_matches, record_line, seal
from reviewq.store import log_verify, verdict_columns
from reviewq.store.verdict_columns import LogColumns, load_log_table
from tests.properties.strategies import at_most, io_examples, scratch_dir, verdict_records
from tests.properties.test_log_fast_paths_properties import _rows

pytestmark = pytest.mark.property

#: How a line is written: the writer's form, or one of the forms a reader must survive.
FORMS = [
    "canonical",
    "shuffled",  # fields in another order, hash member first or in the middle
    "escaped",  # every non-ASCII character and "/" as JSON escapes, spaces after separators
    "twice",  # the verdict given twice (the last one counts, for every parser)
    "missing",  # a field the metrics read left out
    "odd_types",  # numbers where strings belong, an integer past 2**64, objects that are not
    "edited",  # changed after it was sealed: its hash no longer matches
    "not_object",  # a JSON array
]


def _sealed_text(record: dict, form: str, rng: random.Random) -> bytes:
    """`record` (sealed) written in `form`, its hash recomputed over what is written so that
    the line still hashes to its own `hash` (except `edited`)."""
    if form == "canonical":
        return record_line(record).rstrip(b"\n")
    if form == "not_object":
        return b"[1,2,3]"
    body = {k: v for k, v in record.items() if k != "hash"}
    if form == "missing":
        for name in rng.sample(["verdict", "at", "reviewer", "sha", "change_id", "agent"], 2):
            body.pop(name, None)
    if form == "odd_types":
        body["change_id"] = rng.choice([2**64 + 1, 7, 1.5, None, ""])
        body["lines_changed"] = rng.choice([2**70, 3, -1, "12", True])
        body["reviewer"] = rng.choice(["someone", [1], None])
        body["critique"] = rng.choice([[], "none", 9007199254740993])
        body["sha"] = rng.choice([5, None, "", "abc"])
    keys = list(body)
    if form in ("shuffled", "escaped", "twice"):
        rng.shuffle(keys)
    if form == "escaped":
        text = json.dumps({k: body[k] for k in keys}, ensure_ascii=True).replace("/", "\\/")
    else:
        text = json.dumps({k: body[k] for k in keys}, separators=(",", ":"), ensure_ascii=False)
    if form == "twice":
        first = json.dumps(rng.choice(["approve", "reject", 1]))
        text = '{"verdict":' + first + "," + text[1:]
    if form == "edited" and '"approve"' in text:
        digest = hashlib.sha256(text.replace('"approve"', '"reject"', 1).encode()).hexdigest()
    else:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    member = f'"hash":"{digest}"'
    if form == "edited" and '"approve"' not in text:
        member = f'"hash":"{"0" * 64}"'
    if rng.random() < 0.5 and form != "canonical":
        return ("{" + member + "," + text[1:]).encode("utf-8", "surrogatepass")
    return (text[:-1] + "," + member + "}").encode("utf-8", "surrogatepass")


def _log_lines(records: list[dict], forms: list[str], seed: int, prev: str) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i, record in enumerate(records):
        sealed = seal(record, prev)
        prev = sealed["hash"]
        out.append(_sealed_text(sealed, forms[i % len(forms)], rng) + b"\n")
    return out


def _reference(path: Path) -> tuple[LogColumns, dict]:
    """Every line parsed whole; the intact ones as dicts into `VerdictTable.from_records`;
    keys and ids by the rule spelled out (`_metric_part`, the reader every other path joins)."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    lines = data[:end].split(b"\n")[:-1]
    records, starts, at = [], [], 0
    for line in lines:
        records.append(parse_line(line))
        starts.append(at)
        at += len(line) + 1
    columns = verdict_columns._metric_part(records, starts, [x + b"\n" for x in lines])
    intact = [r for r, x in zip(records, lines) if type(r) is dict and line_hash_matches(x, r)]
    assert _rows(columns.table) == _rows(VerdictTable.from_records(intact))
    last = records[-1] if records else None
    meta = {
        "end": end,
        "lines": len(lines),
        "last_hash": str(last.get("hash")) if type(last) is dict and last.get("hash") else None,
    }
    return columns, meta


def _same(fast: LogColumns, plain: LogColumns) -> None:
    assert _rows(fast.table) == _rows(plain.table)
    # The change ids themselves, each once, in the same order (a figure counts changes by
    # their codes: one id numbered twice would be two changes).
    assert list(fast.table.changes) == list(plain.table.changes)
    assert fast.table.invalid == plain.table.invalid
    assert fast.ids.tolist() == plain.ids.tolist()
    assert np.array_equal(fast.keys, plain.keys)
    assert np.array_equal(fast.key_lines, plain.key_lines)


def _patched(block: int, workers: int):
    """Small blocks and forced ranges, so a few records cross every boundary."""
    stack = [
        mock.patch.object(verdict_columns, "BLOCK_BYTES", block),
        mock.patch.object(verdict_columns, "PARALLEL_BYTES", 0),
        mock.patch.object(log_verify, "workers_for", lambda size: workers),
    ]
    return stack


def _built_under(patches: list, path: Path, chunk: int):
    """`_metric_columns_after` of the whole log at `path` (one range per `chunk` bytes) with
    `patches` in force (`_patched`, plus whatever a test adds)."""
    for p in patches:
        p.start()
    try:
        return verdict_columns._metric_columns_after(path, 0, path.stat().st_size, 1, chunk)
    finally:
        for p in patches:
            p.stop()


forms = st.lists(st.sampled_from(FORMS), min_size=1, max_size=6)


@io_examples(15, 60)
@given(
    st.lists(verdict_records(), min_size=1, max_size=14),
    forms,
    st.integers(0, 2**32),
    st.integers(64, 4096),
    st.integers(1, 7),
    st.integers(1, 3),
    st.booleans(),
)
def test_first_build_equals_parsing_every_record(
    records: list[dict],
    kinds: list[str],
    seed: int,
    block: int,
    chunk: int,
    workers: int,
    torn: bool,
) -> None:
    with scratch_dir() as tmp:
        path = Path(tmp) / "log.jsonl"
        data = b"".join(_log_lines(records, kinds, seed, "0" * 64))
        path.write_bytes(data + (b'{"verdict":"approve","ha' if torn else b""))
        plain, meta = _reference(path)
        patches = _patched(block, workers)
        built = _built_under(patches, path, chunk)
        assert built is not None
        _same(built.columns, plain)
        assert (built.end, built.lines, built.last_hash) == (
            meta["end"],
            meta["lines"],
            meta["last_hash"],
        )


@io_examples(10, 40)
@given(
    st.lists(verdict_records(), min_size=1, max_size=8),
    st.lists(st.lists(verdict_records(), min_size=1, max_size=3), min_size=1, max_size=3),
    forms,
    st.integers(0, 2**32),
    st.sampled_from(["append", "cut", "edit_last", "replace"]),
)
def test_cache_caught_up_or_rebuilt_equals_parsing_every_record(
    first: list[dict], batches: list[list[dict]], kinds: list[str], seed: int, damage: str
) -> None:
    """Appends of odd records are joined to the cache; a prefix that changed under the cache
    (cut short, its last cached record edited, the log replaced) makes it rebuilt."""
    with scratch_dir() as tmp:
        path, cache = Path(tmp) / "log.jsonl", Path(tmp) / "cols.npz"
        lines = _log_lines(first, kinds, seed, "0" * 64)
        path.write_bytes(b"".join(lines))
        load_log_table(path, cache)  # stored: the cache covers `first`
        if damage == "cut":
            path.write_bytes(b"".join(lines[:-1]))
        elif damage == "edit_last":
            last = lines[-1]
            # Same length, one byte changed: a reader that trusted the cache would not see it.
            edited = last.replace(b'"', b"'", 1) if last.count(b'"') else last
            path.write_bytes(b"".join([*lines[:-1], edited]))
        elif damage == "replace":
            path.write_bytes(
                b"".join(_log_lines(list(reversed(first)), ["canonical"], seed, "1" * 64))
            )
        prev = "f" * 64
        for batch in batches:
            with open(path, "ab") as fh:
                fh.write(b"".join(_log_lines(batch, kinds, seed + 1, prev)))
            try:
                plain, _meta = _reference(path)
            except ValueError:
                # An edited last line that is no longer JSON: every reader stops there.
                with pytest.raises(verdict_columns.LogError):
                    load_log_table(path, cache)
                return
            _same(load_log_table(path, cache), plain)


@at_most(200)
@given(st.lists(st.binary(max_size=80) | st.sampled_from([b"", b"{}", b'{"hash":1}']), max_size=8))
def test_hash_check_in_bulk_equals_line_hash_matches(lines: list[bytes]) -> None:
    """`_intact_rows` keeps exactly the lines `line_hash_matches` keeps, including lines whose
    member sits first, appears twice, or names a hash of another length."""
    rng = random.Random(len(lines))
    made, hashes = [], []
    for raw in lines:
        text = raw.decode("utf-8", "replace").replace('"', "").replace("\\", "")
        body = json.dumps({"x": text, "y": rng.randint(0, 3)}, separators=(",", ":"))
        digest = hashlib.sha256(body.encode()).hexdigest()
        value = rng.choice([digest, digest[:63], "z" * 64, digest.upper()])
        member = f'"hash":"{value}"'
        line = rng.choice(
            [
                body[:-1] + "," + member + "}",
                "{" + member + "," + body[1:],
                body[:-1] + "," + member + "," + member + "}",
                body,
            ]
        ).encode()
        made.append(line)
        hashes.append(rng.choice([value, value, None, 5]))
    records = [{"hash": h} if h is not None or rng.random() < 0.5 else [h] for h in hashes]
    expected = [
        i
        for i, (x, r) in enumerate(zip(made, records))
        if type(r) is dict and line_hash_matches(x, r)
    ]
    assert verdict_columns._intact_rows(records, made) == expected


def test_a_line_that_is_not_json_is_named_by_its_number_in_the_whole_log(tmp_path: Path):
    """Split into ranges or not, the error names the line as one pass would."""
    records = [seal({"id": str(i), "verdict": "approve"}, "0" * 64) for i in range(12)]
    lines = [record_line(r) for r in records]
    lines[9] = b"{not json\n"
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(lines))
    patches = _patched(64, 3)
    for p in patches:
        p.start()
    try:
        with pytest.raises(verdict_columns.LogError, match="line 10 is not valid JSON"):
            verdict_columns._metric_columns_after(path, 0, path.stat().st_size, 1, 2)
    finally:
        for p in patches:
            p.stop()


@at_most(30)
@given(
    st.lists(
        st.text(max_size=6) | st.sampled_from(["a\nb", "\n", "", "é"]) | st.integers(),
        min_size=1,
        max_size=6,
    )
)
def test_change_ids_stored_and_loaded_back_exactly(change_ids: list) -> None:
    """The cache keeps change ids as lines of text when it can (none holds a newline, all are
    strings) and as JSON otherwise: loaded back, the columns are the ones it stored."""
    with scratch_dir() as tmp:
        path, cache = Path(tmp) / "log.jsonl", Path(tmp) / "cols.npz"
        records = [
            {"id": f"r{i}", "verdict": "approve", "change_id": c, "at": "2026-01-01T00:00:00Z"}
            for i, c in enumerate(change_ids)
        ]
        lines, prev = [], "0" * 64
        for record in records:
            sealed = seal(record, prev)
            prev = sealed["hash"]
            text = json.dumps(sealed, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
            lines.append(text.encode("utf-8", "surrogatepass") + b"\n")
        path.write_bytes(b"".join(lines))
        stored = load_log_table(path, cache)
        assert cache.exists()
        loaded = load_log_table(path, cache)
        assert loaded.table.changes == stored.table.changes
        _same(loaded, _reference(path)[0])
