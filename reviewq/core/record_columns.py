"""Verdict records as columns, every field kept: the whole log in memory without a dict each.

A million records parsed into dicts cost about 2 s for orjson's parse alone (results thrown
away) and 4-5 s kept: some thirty Python objects per record, each allocated and counted.
`RecordColumns` holds the same records in a few dozen arrays: each text field in one UTF-8 heap
with offsets, each small vocabulary (verdicts, families, reviewers, critique states) as codes
into its JSON texts, counts and seconds as numbers. Loaded from disk it is a handful of array
reads; a row becomes a dict only when someone asks for it (`row`, `rows`), and a whole field
is one list (`column`).

Exact, not approximate. A record goes into the columns only when it is in the contract's
canonical form: exactly the contract's fields, in sorted order (how `record_line` writes them),
each value of its column's type. Any other record (a later version's extra field, an integer
where seconds are a float, a foreign tool's line) keeps its line verbatim and is parsed when
asked for. So `row(i)` always equals what parsing the i-th line gives (tests/properties).

Pure: data in, data out; the cache that stores these arrays lives in `store.verdict_columns`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from reviewq.core import safejson
from reviewq.core.alloc import gc_paused
from reviewq.core.jsonio import dump_json, fast_dumps, parse_line
from reviewq.core.metrics import parse_instants

#: Free text, one heap per field (None kept apart from "").
TEXT_FIELDS = ("at", "change_id", "hash", "id", "note", "patch_id", "prev", "sha", "signature")
#: Few distinct values, any JSON (identities and critique states are small objects).
LABEL_FIELDS = (
    "agent",
    "author_family",
    "co_reviewers",
    "critique",
    "domain",
    "model",
    "reviewer",
    "v",
    "verdict",
)
INT_FIELDS = ("hunks_total", "hunks_viewed", "lines_changed")
FLOAT_FIELDS = ("active_seconds", "wall_seconds")
#: The contract's record fields in the order `record_line` writes them.
FIELDS = tuple(sorted(TEXT_FIELDS + LABEL_FIELDS + INT_FIELDS + FLOAT_FIELDS))

_ENCODING = ("utf-8", "surrogatepass")  # a lone surrogate (json lets one through) survives


@dataclass(frozen=True)
class _Text:
    blob: bytes
    offsets: np.ndarray  # int64, n + 1
    nulls: np.ndarray  # bool, n

    def values(self, idx: np.ndarray | None) -> list[str | None]:
        offsets, nulls = self.offsets, self.nulls
        if idx is None:
            starts, ends, none = offsets[:-1].tolist(), offsets[1:].tolist(), nulls.tolist()
        else:
            starts, ends = offsets[idx].tolist(), offsets[idx + 1].tolist()
            none = nulls[idx].tolist()
        blob, (codec, errors) = self.blob, _ENCODING
        return [
            None if z else blob[a:b].decode(codec, errors)
            for a, b, z in zip(starts, ends, none, strict=True)
        ]


@dataclass(frozen=True)
class _Labels:
    codes: np.ndarray  # int32, n
    texts: tuple[str, ...]  # JSON text of each distinct value

    @cached_property
    def parsed(self) -> tuple[list[Any], list[bool]]:
        """Each label's value, and whether it is an object or list (mutable: parsed per row)."""
        values = [parse_line(t) for t in self.texts]
        return values, [type(v) in (dict, list) for v in values]

    def values(self, idx: np.ndarray | None) -> list[Any]:
        codes = (self.codes if idx is None else self.codes[idx]).tolist()
        parsed, fresh = self.parsed
        if not any(fresh):
            return [parsed[c] for c in codes]
        # Objects and lists are parsed per row: a caller may change one row's reviewer.
        texts = self.texts
        return [parse_line(texts[c]) if fresh[c] else parsed[c] for c in codes]


@dataclass(frozen=True)
class RecordColumns:
    """`n` records: the canonical ones in columns, the others as their own lines."""

    n: int
    texts: dict[str, _Text]
    labels: dict[str, _Labels]
    numbers: dict[str, np.ndarray]  # int64 and float64 fields
    epoch: np.ndarray  # float64: `record_order`'s instant of every row (0.0 when none)
    raw_rows: np.ndarray  # int64, sorted: the rows kept as lines
    raw_blob: bytes
    raw_offsets: np.ndarray  # int64, len(raw_rows) + 1

    def __len__(self) -> int:
        return self.n

    # -- reading ----------------------------------------------------------------------------

    def row(self, i: int) -> Any:
        """The i-th record, as parsing its line gives it (a fresh dict)."""
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return self.rows(np.array([i % self.n], dtype=np.int64))[0]

    def rows(self, idx: Sequence[int] | np.ndarray | None = None) -> list[Any]:
        """The records at `idx` (every row when None), in that order."""
        sel = None if idx is None else np.asarray(idx, dtype=np.int64)
        count = self.n if sel is None else len(sel)
        if count == 0:
            return []
        with gc_paused():
            columns = [self._field(name, sel) for name in FIELDS]
            out: list[Any] = [dict(zip(FIELDS, values)) for values in zip(*columns)]
            for at, record in self._raw_among(sel):
                out[at] = record
        return out

    def column(self, name: str, idx: Sequence[int] | np.ndarray | None = None) -> list[Any]:
        """Field `name` of the rows at `idx` (every row when None); None where a record kept
        as a line lacks it or is not an object."""
        sel = None if idx is None else np.asarray(idx, dtype=np.int64)
        values = self._field(name, sel)
        for at, record in self._raw_among(sel):
            values[at] = record.get(name) if type(record) is dict else None
        return values

    def _field(self, name: str, sel: np.ndarray | None) -> list[Any]:
        if name in self.texts:
            return self.texts[name].values(sel)
        if name in self.labels:
            return self.labels[name].values(sel)
        if name in self.numbers:
            array = self.numbers[name]
            return (array if sel is None else array[sel]).tolist()
        raise KeyError(name)

    def _raw_among(self, sel: np.ndarray | None) -> list[tuple[int, Any]]:
        """(position in the selection, parsed record) of the selected rows kept as lines."""
        if not len(self.raw_rows):
            return []
        if sel is None:
            positions = self.raw_rows
            which = np.arange(len(self.raw_rows))
        else:
            at = np.searchsorted(self.raw_rows, sel)
            at_clipped = np.minimum(at, len(self.raw_rows) - 1)
            hit = self.raw_rows[at_clipped] == sel
            positions = np.nonzero(hit)[0]
            which = at_clipped[hit]
        offsets, blob = self.raw_offsets, self.raw_blob
        return [
            (p, parse_line(blob[offsets[w] : offsets[w + 1]]))
            for p, w in zip(positions.tolist(), which.tolist(), strict=True)
        ]

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def build(cls, records: Sequence[Any], lines: Sequence[bytes]) -> RecordColumns:
        """Columns of `records`, each parsed from the line beside it (kept for the odd ones)."""
        if len(records) != len(lines):
            raise ValueError("one line per record")
        with gc_paused():
            return cls._build(records, lines)

    @classmethod
    def _build(cls, records: Sequence[Any], lines: Sequence[bytes]) -> RecordColumns:
        n = len(records)
        if set(map(type, records)) <= {dict}:  # map() keeps these loops in C
            canonical = list(map(FIELDS.__eq__, map(tuple, records)))
        else:
            canonical = [type(r) is dict and tuple(r) == FIELDS for r in records]
        odd: set[int] = {i for i, ok in enumerate(canonical) if not ok}

        # One pass over the records, all fields at once: a million dicts are spread over
        # a gigabyte, and a pass per field would fetch each one from memory 23 times.
        blank = (None,) * len(FIELDS)
        if all(canonical):
            rows = list(map(tuple, map(dict.values, records)))
        else:
            rows = [tuple(r.values()) if ok else blank for r, ok in zip(records, canonical)]
        fields = dict(zip(FIELDS, map(list, zip(*rows)))) if rows else {key: [] for key in FIELDS}
        del rows
        texts = {name: _encode_text(fields[name], odd) for name in TEXT_FIELDS}
        labels = {name: _encode_labels(fields[name], odd) for name in LABEL_FIELDS}
        numbers = {name: _encode_numbers(fields[name], odd, int) for name in INT_FIELDS}
        numbers |= {name: _encode_numbers(fields[name], odd, float) for name in FLOAT_FIELDS}
        ats = (
            fields["at"] if not odd else [r.get("at") if type(r) is dict else None for r in records]
        )
        epoch, _offset, valid = parse_instants(ats)
        raw_rows = np.array(sorted(odd), dtype=np.int64)
        raw = [bytes(lines[i]).rstrip(b"\n") for i in raw_rows.tolist()]
        return cls(
            n=n,
            texts=texts,
            labels=labels,
            numbers=numbers,
            epoch=np.where(valid, epoch, 0.0),
            raw_rows=raw_rows,
            raw_blob=b"".join(raw),
            raw_offsets=_offsets(_lengths(raw)),
        )

    @classmethod
    def empty(cls) -> RecordColumns:
        return cls.build([], [])

    @classmethod
    def concat(cls, parts: Sequence[RecordColumns]) -> RecordColumns:
        """The rows of `parts`, one after the other."""
        parts = [p for p in parts if p.n] or list(parts[:1]) or [cls.empty()]
        if len(parts) == 1:
            return parts[0]
        starts = np.cumsum([0] + [p.n for p in parts[:-1]])
        texts = {}
        for name in TEXT_FIELDS:
            cols = [p.texts[name] for p in parts]
            texts[name] = _Text(
                b"".join(c.blob for c in cols),
                _join_offsets([c.offsets for c in cols]),
                np.concatenate([c.nulls for c in cols]),
            )
        labels = {}
        for name in LABEL_FIELDS:
            merged: dict[str, int] = {}
            codes = []
            for part in parts:
                col = part.labels[name]
                remap = np.array(
                    [merged.setdefault(t, len(merged)) for t in col.texts], dtype=np.int32
                )
                codes.append(remap[col.codes] if len(col.texts) else col.codes)
            labels[name] = _Labels(np.concatenate(codes), tuple(merged))
        return cls(
            n=sum(p.n for p in parts),
            texts=texts,
            labels=labels,
            numbers={
                name: np.concatenate([p.numbers[name] for p in parts])
                for name in INT_FIELDS + FLOAT_FIELDS
            },
            epoch=np.concatenate([p.epoch for p in parts]),
            raw_rows=np.concatenate(
                [p.raw_rows + start for p, start in zip(parts, starts.tolist(), strict=True)]
            ),
            raw_blob=b"".join(p.raw_blob for p in parts),
            raw_offsets=_join_offsets([p.raw_offsets for p in parts]),
        )

    # -- as plain arrays (the cache's file) ---------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays only (loadable with allow_pickle=False)."""
        out: dict[str, np.ndarray] = {
            "n": np.array([self.n], dtype=np.int64),
            "epoch": self.epoch,
            "raw_rows": self.raw_rows,
            "raw_blob": np.frombuffer(self.raw_blob, dtype=np.uint8),
            "raw_offsets": self.raw_offsets,
        }
        for name, col in self.texts.items():
            out[f"t_{name}_blob"] = np.frombuffer(col.blob, dtype=np.uint8)
            out[f"t_{name}_offsets"] = col.offsets
            out[f"t_{name}_nulls"] = col.nulls
        for name, col in self.labels.items():
            out[f"l_{name}_codes"] = col.codes
            out[f"l_{name}_texts"] = np.frombuffer(json.dumps(col.texts).encode(), np.uint8)
        for name, array in self.numbers.items():
            out[f"n_{name}"] = array
        return out

    @classmethod
    def from_arrays(cls, get: Callable[[str], np.ndarray]) -> RecordColumns:
        """The inverse of `to_arrays`; ValueError when the arrays do not fit together."""
        try:
            n = int(get("n")[0])
            texts = {
                name: _Text(
                    get(f"t_{name}_blob").tobytes(),
                    get(f"t_{name}_offsets").astype(np.int64, copy=False),
                    get(f"t_{name}_nulls").astype(bool, copy=False),
                )
                for name in TEXT_FIELDS
            }
            labels = {
                name: _Labels(
                    get(f"l_{name}_codes").astype(np.int32, copy=False),
                    tuple(safejson.loads(get(f"l_{name}_texts").tobytes())),
                )
                for name in LABEL_FIELDS
            }
            numbers = {name: get(f"n_{name}").astype(np.int64, copy=False) for name in INT_FIELDS}
            numbers |= {
                name: get(f"n_{name}").astype(np.float64, copy=False) for name in FLOAT_FIELDS
            }
            table = cls(
                n=n,
                texts=texts,
                labels=labels,
                numbers=numbers,
                epoch=get("epoch").astype(np.float64, copy=False),
                raw_rows=get("raw_rows").astype(np.int64, copy=False),
                raw_blob=get("raw_blob").tobytes(),
                raw_offsets=get("raw_offsets").astype(np.int64, copy=False),
            )
        except (KeyError, IndexError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not record columns: {exc}") from None
        table._check()
        return table

    def _check(self) -> None:
        n = self.n
        for col in self.texts.values():
            if len(col.offsets) != n + 1 or len(col.nulls) != n or col.offsets[-1] != len(col.blob):
                raise ValueError("a text column does not fit")
        for col in self.labels.values():
            if len(col.codes) != n or (
                n and not 0 <= int(col.codes.min()) <= int(col.codes.max()) < len(col.texts)
            ):
                raise ValueError("a label column does not fit")
        if any(len(a) != n for a in self.numbers.values()) or len(self.epoch) != n:
            raise ValueError("a number column does not fit")
        if len(self.raw_offsets) != len(self.raw_rows) + 1 or self.raw_offsets[-1] != len(
            self.raw_blob
        ):
            raise ValueError("the kept lines do not fit")
        if len(self.raw_rows) and not (self.raw_rows[0] >= 0 and self.raw_rows[-1] < n):
            raise ValueError("the kept lines do not fit")


# -- encoding helpers -------------------------------------------------------------------------


def _offsets(lengths: np.ndarray) -> np.ndarray:
    """Where each of the pieces of these lengths starts in their concatenation, and the end."""
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _lengths(chunks: Sequence[Any]) -> np.ndarray:
    return np.fromiter(map(len, chunks), dtype=np.int64, count=len(chunks))


def _join_offsets(parts: Sequence[np.ndarray]) -> np.ndarray:
    shifted, base = [parts[0]], int(parts[0][-1])
    for offsets in parts[1:]:
        shifted.append(offsets[1:] + base)
        base += int(offsets[-1])
    return np.concatenate(shifted)


def _encode_text(values: list[Any], odd: set[int]) -> _Text:
    """A heap of the strings; a value that is neither str nor None makes its row odd."""
    n = len(values)
    kinds = set(map(type, values))
    nulls = np.zeros(n, dtype=bool)
    if kinds - {str}:
        nulls = np.array([v is None for v in values], dtype=bool)
        if kinds - {str, type(None)}:
            odd.update(i for i, v in enumerate(values) if v is not None and type(v) is not str)
        values = [v if type(v) is str else "" for v in values]
    joined = "".join(values)
    blob = joined.encode(*_ENCODING)
    ascii_only = len(blob) == len(joined)  # ids, hashes, times: characters are bytes
    lengths = _lengths(values if ascii_only else [v.encode(*_ENCODING) for v in values])
    return _Text(blob, _offsets(lengths), nulls)


def _encode_labels(values: list[Any], odd: set[int]) -> _Labels:
    """Codes into the distinct values' JSON texts; a value whose text would not parse back
    to an equal value of the same types (a lone surrogate, a huge number) makes its row odd."""
    kinds = set(map(type, values)) - {type(None)}
    if kinds & {dict, list}:
        try:  # objects are told apart by their text
            keys: list[Any] = list(map(fast_dumps, values))
        except (TypeError, ValueError):
            keys = list(map(dump_json, values))
    elif len(kinds) > 1:
        keys = [(type(v), v) for v in values]  # 1, 1.0 and True are three labels
    else:
        keys = values
    distinct = dict.fromkeys(keys)
    texts: list[str] = []
    # A value per key (all values of a key are equal); plain values are their own keys.
    value_of = None if keys is values else dict(zip(keys, values))
    for key in list(distinct):
        text = _label_text(key if value_of is None else value_of[key])
        distinct[key] = -1 if text is None else len(texts)
        if text is not None:
            texts.append(text)
    codes = np.fromiter(map(distinct.__getitem__, keys), dtype=np.int32, count=len(keys))
    if len(texts) < len(distinct):
        odd.update(np.nonzero(codes < 0)[0].tolist())
        codes[codes < 0] = 0
    return _Labels(codes, tuple(texts))


def _label_text(value: Any) -> str | None:
    """The JSON text of a label, or None when it would not come back equal, types and all."""
    try:
        text = dump_json(value).decode("utf-8")
        back = parse_line(text)
    except (TypeError, ValueError):
        return None
    return text if _same(back, value) else None


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _encode_numbers(values: list[Any], odd: set[int], kind: type) -> np.ndarray:
    """`kind` (int or float) values as an array; any other value (None, a bool, an int where
    a float belongs, an int beyond 64 bits) makes its row odd."""
    dtype = np.int64 if kind is int else np.float64
    if set(map(type, values)) <= {kind}:
        try:
            return np.array(values, dtype=dtype)
        except OverflowError:
            pass  # an integer beyond 64 bits: found below
    low, high = -(2**63), 2**63
    good = [type(v) is kind and (kind is float or low <= v < high) for v in values]
    odd.update(i for i, ok in enumerate(good) if not ok)
    return np.array([v if ok else 0 for v, ok in zip(values, good, strict=True)], dtype=dtype)


__all__ = ["FIELDS", "RecordColumns"]
