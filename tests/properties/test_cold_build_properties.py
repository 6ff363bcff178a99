"""Properties: the column cache's first build (issue 18, the cold `stats`) after its second
round of speed work gives what parsing every record gives.

- the hash chain checked a block at a time (`_all_intact`: the members to remove made as one
  array, the digests compared as one string) holds exactly when `line_hash_matches` holds for
  every line: a tampered line, a hash in capitals, the member twice, a missing hash, and two
  hashes of 63 and 65 characters (which join to the length of two right ones); a member
  first (not the writer's form) always leaves the block to the one-line-at-a-time check;
- the profiles numbered from the decoder's frozen structs (`_profile_codes`) give the table
  the plain way gives, with reviewer and critique objects whose members are odd, missing or
  equal without being the same (`1` and `true`, `false` and a missing name);
- ranges settled in their own processes (`_settle`) and joined (`_merge_settled`,
  `_joined_labels`) give the columns of one pass, with change ids shared across ranges, and
  change ids numbered exactly when their 64-bit hashes collide;
- the key index fingerprinted with numpy (`_array_fingerprints`) is `_fingerprints`'.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.metrics import VerdictTable
from reviewq.core.metrics.tables import _factorize
from reviewq.core.verdict import line_hash_matches
from reviewq.store import verdict_columns
from tests.properties.strategies import at_most, io_examples, scratch_dir, verdict_records
from tests.properties.test_log_fast_paths_properties import _rows
from tests.properties.test_stats_fast_paths_properties import (
    _built_under,
    _log_lines,
    _patched,
    _reference,
    _same,
)

pytestmark = pytest.mark.property

HOW = ["right", "right", "tampered", "capitals", "first", "twice", "none", "short_long"]


def _line(i: int, how: str) -> tuple[bytes, object]:
    """A line and the `hash` its record holds, written `how`."""
    body = json.dumps({"id": f"r{i}", "n": i}, separators=(",", ":"))
    digest = hashlib.sha256(body.encode()).hexdigest()
    value: object = digest
    if how == "tampered":
        body = body.replace(f'"n":{i}', f'"n":{i + 1}')
    elif how == "capitals":
        value = digest.upper()
    elif how == "none":
        value = None
    member = f'"hash":"{value}"'
    if how == "first":
        text = "{" + member + "," + body[1:]
    elif how == "twice":
        text = body[:-1] + "," + member + "," + member + "}"
    elif how == "none":
        text = body
    else:
        text = body[:-1] + "," + member + "}"
    return text.encode(), value


@at_most(300)
@given(st.lists(st.sampled_from(HOW), min_size=1, max_size=12))
def test_block_hash_check_holds_exactly_when_every_line_hashes_to_its_own(hows: list[str]):
    lines, hashes = [], []
    for i, how in enumerate(hows):
        if how == "short_long":
            # Two lines whose hashes are 63 and 65 characters: joined, the length of two
            # right ones. Each line holds the member of the hash the other window would be.
            a = json.dumps({"id": f"a{i}"}, separators=(",", ":"))
            b = json.dumps({"id": f"b{i}"}, separators=(",", ":"))
            da, db = hashlib.sha256(a.encode()).hexdigest(), hashlib.sha256(b.encode()).hexdigest()
            joined = da[:63] + (da[63] + db)
            for text, value, right in ((a, joined[:63], da), (b, joined[63:], db)):
                lines.append((text[:-1] + f',"hash":"{right}"' + "}").encode())
                hashes.append(value)
            continue
        line, value = _line(i, how)
        lines.append(line)
        hashes.append(value)
    expected = all(line_hash_matches(x, {"hash": h}) for x, h in zip(lines, hashes))
    fast = verdict_columns._all_intact(hashes, lines)
    if "first" in hows:
        # The member first is not where the writer puts it: not the bulk check's to decide
        # (the block goes `_intact_rows`' way), never a pass `line_hash_matches` refuses.
        assert not fast
    else:
        assert fast == expected
    if "short_long" in hows:
        assert not verdict_columns._all_intact(hashes, lines)


def test_a_block_of_right_lines_passes_and_one_tampered_line_fails_it():
    lines, hashes = zip(*(_line(i, "right") for i in range(50)))
    assert verdict_columns._all_intact(list(hashes), list(lines))
    bad = list(lines)
    bad[17] = bad[17].replace(b'"n":17', b'"n":18')
    assert not verdict_columns._all_intact(list(hashes), bad)


nested = st.one_of(
    st.just("absent"),
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "email": st.sampled_from(["r@x", "R@X ", "", None, 3]),
            "name": st.sampled_from(["R", "", None, True, False, 0]),
            "family": st.sampled_from(["openai", "", None, 5]),
            "opened_before_verdict": st.sampled_from([True, False, None, 1, 1.0, "true"]),
            "same_family_allowed": st.sampled_from([True, False, None, 0]),
            "other": st.just([1, {"a": 2}]),
        },
    ),
)


@io_examples(20, 80)
@given(
    st.lists(st.tuples(verdict_records(), nested, nested), min_size=1, max_size=10),
    st.integers(64, 2048),
    st.integers(1, 3),
)
def test_profiles_from_frozen_structs_give_the_plain_table(
    rows: list[tuple], block: int, workers: int
) -> None:
    records = []
    for record, reviewer, critique in rows:
        body = dict(record)
        for name, value in (("reviewer", reviewer), ("critique", critique)):
            if value == "absent":
                body.pop(name, None)
            else:
                body[name] = value
        records.append(body)
    with scratch_dir() as tmp:
        path = Path(tmp) / "log.jsonl"
        path.write_bytes(b"".join(_log_lines(records, ["canonical"], 0, "0" * 64)))
        plain, _meta = _reference(path)
        patches = _patched(block, workers)
        built = _built_under(patches, path, 4)
        assert built is not None
        _same(built.columns, plain)


def test_the_fast_way_is_taken_for_odd_but_hashable_profiles(tmp_path: Path) -> None:
    """`1` where `true` belongs, a name of `false`, a patch id or change id missing or empty:
    still the fast way, the plain table."""
    records = [
        {
            "id": f"{i:032x}",
            "verdict": "approve",
            "at": "2026-01-01T00:00:00+01:00",
            "sha": f"{i:040x}",
            "patch_id": [f"{i + 7:040x}", None][i % 2],
            "change_id": [f"{i % 3:040x}", None, ""][i % 3],
            "reviewer": [{"email": None, "name": False}, None][i % 2],
            "critique": [{"opened_before_verdict": 1}, {"opened_before_verdict": True}][i % 2],
            "active_seconds": 3,
            "lines_changed": 1,
            "hunks_total": 1,
            "hunks_viewed": 1,
        }
        for i in range(6)
    ]
    path = tmp_path / "log.jsonl"
    lines = _log_lines(records, ["canonical"], 0, "0" * 64)
    path.write_bytes(b"".join(lines))
    plain, _meta = _reference(path)
    offsets = np.cumsum([0] + [len(x) for x in lines[:-1]])
    fast = verdict_columns._fast_part([x.rstrip(b"\n") for x in lines], offsets)
    assert fast is not None
    _same(verdict_columns._finish(fast[0]), plain)


shared = st.sampled_from(["a" * 40, "inbox:1", "inbox:2", "d" * 17])


@io_examples(20, 80)
@given(
    st.lists(st.tuples(verdict_records(), shared), min_size=2, max_size=16),
    st.integers(64, 1024),
    st.integers(2, 3),
    st.booleans(),
)
def test_ranges_settled_apart_and_joined_equal_one_pass(
    rows: list[tuple], block: int, workers: int, collide: bool
) -> None:
    """Change ids shared across ranges; with every hash colliding, numbered exactly."""
    records = [{**record, "change_id": change} for record, change in rows]
    with scratch_dir() as tmp:
        path = Path(tmp) / "log.jsonl"
        path.write_bytes(b"".join(_log_lines(records, ["canonical"], 3, "0" * 64)))
        plain, _meta = _reference(path)
        patches = _patched(block, workers)
        if collide:
            patches.append(
                mock.patch.object(
                    verdict_columns, "_row_hashes", lambda a: np.zeros(len(a), dtype=np.uint64)
                )
            )
        built = _built_under(patches, path, 3)
        assert built is not None
        _same(built.columns, plain)


labels = st.lists(st.sampled_from(["a", "bb", "0" * 40, "f" * 40, "x" * 17, "y"]), max_size=12)


@at_most(200)
@given(
    labels | st.lists(st.sampled_from(["a", "bb", "0" * 40, "f" * 40, "x" * 17, "y"]), unique=True),
    st.sampled_from(["none", "all", "some"]),
)
def test_first_seen_hashed_gives_the_labels_hashes_and_their_order(
    values: list[str], collide: str
) -> None:
    """`_settle`'s change ids: each one's code in order of first appearance and the distinct
    ones (`_factorize`'s numbering), the hashes of the distinct ids as `_row_hashes` makes
    them, and their stable argsort, whether ids repeat, all differ, or share a hash."""
    row_hashes = verdict_columns._row_hashes

    def hashes(a: np.ndarray) -> np.ndarray:
        if collide == "all":
            return np.zeros(len(a), dtype=np.uint64)
        if collide == "some":
            return np.array([len(v) for v in a.tolist()], dtype=np.uint64)
        return row_hashes(a)

    array = np.array(values, dtype=np.bytes_) if values else np.zeros(0, dtype="S1")
    with mock.patch.object(verdict_columns, "_row_hashes", hashes):
        codes, labels, label_hashes, order = verdict_columns._first_seen_hashed(array)
    plain_codes, plain_labels = _factorize(array.tolist())
    assert codes.tolist() == plain_codes.tolist()
    assert labels.tolist() == plain_labels
    assert label_hashes.dtype == np.uint64
    assert label_hashes.tolist() == hashes(labels).tolist()
    assert order.tolist() == np.argsort(hashes(labels), kind="stable").tolist()


@at_most(200)
@given(st.lists(labels, min_size=1, max_size=4), st.sampled_from(["none", "all", "some"]))
def test_joined_labels_number_as_first_seen_of_all(parts: list[list[str]], collide: str):
    row_hashes = verdict_columns._row_hashes

    def hashes(a: np.ndarray) -> np.ndarray:
        if collide == "all":
            return np.zeros(len(a), dtype=np.uint64)
        if collide == "some":  # by length: "a" and "y" share one
            return np.array([len(v) for v in a.tolist()], dtype=np.uint64)
        return row_hashes(a)

    arrays = [np.array(p, dtype=np.bytes_) if p else np.zeros(0, dtype="S1") for p in parts]
    settled = [verdict_columns._first_seen(a) for a in arrays]
    codes, expected = verdict_columns._first_seen(np.concatenate(arrays))
    # Without the parts' orders, and with them (`_settle`'s: looked up in order).
    for ordered in (False, True):
        part_hashes = [hashes(d) for _, d in settled]
        orders = [np.argsort(h, kind="stable") for h in part_hashes] if ordered else None
        with mock.patch.object(verdict_columns, "_row_hashes", hashes):
            done, maps, done_hashes = verdict_columns._joined_labels(
                [d for _, d in settled], part_hashes, orders
            )
        assert done.tolist() == expected.tolist()
        assert len(done_hashes) == len(done)
        at = 0
        for (part_codes, _), numbers in zip(settled, maps):
            got = part_codes if numbers is None else numbers[part_codes]
            assert got.tolist() == codes[at : at + len(part_codes)].tolist()
            at += len(part_codes)


@at_most(200)
@given(
    st.lists(
        st.sampled_from(
            ["0123456789abcdef" * 2, "ABCDEF0123456789", "inbox:12", "x" * 20, "1" * 16]
        )
        | st.text("0123456789abcdefg", min_size=16, max_size=20),
        min_size=1,
        max_size=10,
    )
)
def test_fingerprints_of_an_array_are_the_key_fingerprints(values: list[str]) -> None:
    array = np.array(values, dtype=np.bytes_)
    expected = [verdict_columns.key_fingerprint(v) for v in values]
    every = np.ones(len(values), dtype=bool)
    assert verdict_columns._array_fingerprints(array, values, every).tolist() == expected
    odd = np.arange(len(values)) % 2 == 1
    assert verdict_columns._array_fingerprints(array, values, odd).tolist() == expected[1::2]


def test_the_settled_table_is_the_plain_table() -> None:
    """`VerdictTable.from_fields` with profile codes worked out gives `from_records`'."""
    records = [
        {"verdict": "approve", "at": "2026-01-01T00:00:00Z", "change_id": "c", "reviewer": None},
        {"verdict": "reject", "at": "2026-01-02T00:00:00Z", "change_id": "d", "domain": "x"},
    ]
    lines = [json.dumps(r, separators=(",", ":")).encode() for r in records]
    columns = verdict_columns._decoded(lines)
    assert columns is not None
    at = dict(zip(verdict_columns._DECODED, columns))
    codes = verdict_columns._profile_codes(
        list(zip(*(at[name] for name in verdict_columns._PROFILE_FIELDS)))
    )
    assert codes is not None
    from reviewq.core.metrics.tables import TABLE_FIELDS, fields_from_columns

    fields = fields_from_columns(columns[: len(TABLE_FIELDS)], profiles=[])
    table = VerdictTable.from_fields(fields, profile_codes=codes)
    assert _rows(table) == _rows(VerdictTable.from_records(records))


def test_a_change_id_in_two_ranges_whose_ids_differ_in_width_is_one_change(tmp_path: Path):
    """The second range's change ids are shorter than the first's: the same id, hashed at two
    widths, is still found (numbered once)."""
    base = {
        "verdict": "approve",
        "at": "2026-01-01T00:00:00+01:00",
        "reviewer": {"email": "r@x", "name": "R"},
        "active_seconds": 3,
        "lines_changed": 1,
        "hunks_total": 1,
        "hunks_viewed": 1,
    }
    changes = ["a" * 40, "inbox:1", "inbox:1", "inbox:1", "inbox:2", "inbox:1"]
    records = [
        {**base, "id": f"{i:032x}", "sha": f"{i:040x}", "patch_id": f"{i:040x}", "change_id": c}
        for i, c in enumerate(changes)
    ]
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(_log_lines(records, ["canonical"], 0, "0" * 64)))
    plain, _meta = _reference(path)
    patches = _patched(64, 2)
    built = _built_under(patches, path, 2)
    assert built is not None
    _same(built.columns, plain)
    assert list(built.columns.table.changes) == ["a" * 40, "inbox:1", "inbox:2"]


@at_most(200)
@given(
    st.lists(
        st.sampled_from(["0123456789abcdef" * 2, "f" * 32, "inbox:12", "x", ""])
        | st.text(st.characters(max_codepoint=127), max_size=6),
        min_size=1,
        max_size=8,
    )
)
def test_ascii_rows_cut_from_one_string_are_the_array_of_the_strings(values: list[str]) -> None:
    """`_ascii_array` (equal widths: one string encoded and cut into rows) and `_id_bytes`
    give `np.array(values, dtype=np.bytes_)`'s array: its width, its bytes, its values (a
    NUL or the empty string included), and the array can be written in place (sorted)."""
    plain = np.array(values, dtype=np.bytes_)
    for fast in (verdict_columns._ascii_array(values), verdict_columns._id_bytes(values)):
        assert fast.dtype == plain.dtype
        assert fast.tobytes() == plain.tobytes()
        assert fast.tolist() == plain.tolist()
        fast.sort()
    labels = verdict_columns._label_bytes(values)
    if labels is not None:
        assert labels.dtype == plain.dtype and labels.tobytes() == plain.tobytes()
