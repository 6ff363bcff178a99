"""JSON Lines in and out: orjson where it can, the stdlib where orjson refuses.

Pure functions over bytes, shared by the log, the notes ref, the caches and the column tables,
so every reader parses a record the same way.
"""

from __future__ import annotations

import json

from reviewq.core import safejson

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:  # orjson parses a large log about three times faster; json is the fallback.
    import orjson as _orjson
except ImportError:  # pragma: no cover - orjson is a dependency, but stay usable without it
    _orjson = None


#: The fastest parser at hand, for bulk reads that retry a refused batch with `parse_line`
#: (orjson refuses huge integers and lone surrogates; both raise ValueError).
fast_loads = _orjson.loads if _orjson is not None else json.loads
#: Does `fast_loads` refuse every line whose record has no canonical form (NaN, infinities,
#: lone surrogates escaped or encoded, bytes that are not UTF-8)? orjson does; json does not.
STRICT_FAST_LOADS = _orjson is not None


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


#: Compact JSON bytes as fast as possible, for bulk work that retries a refused batch with
#: `dump_json` (orjson refuses huge integers and lone surrogates with TypeError).
fast_dumps = _orjson.dumps if _orjson is not None else _stdlib_dumps


def parse_line(line: bytes) -> Any:
    """One stored line -> its JSON value (ValueError when it is not JSON, or is nested deeper
    than the parser goes: no line reviewq writes, and a reader must not crash on one)."""
    return parse_line_strictly(line)[0]


def parse_line_strictly(line: bytes) -> tuple[Any, bool]:
    """`parse_line(line)`, and whether a strict parser read it (orjson, `STRICT_FAST_LOADS`:
    then the value has a canonical form, and `line_hash_matches(..., strict=True)` need not
    look for NaN or lone surrogates)."""
    if _orjson is not None:
        try:
            return _orjson.loads(line), True
        except _orjson.JSONDecodeError:
            pass  # json accepts a few things orjson refuses (huge integers); let it decide
    return safejson.loads(line), False


def strict_utf8(lines: list[bytes]) -> bool:
    """Is every line ASCII, or UTF-8 with no overlong form and no encoded surrogate? A schema
    decoder (msgspec) does not check the bytes of the strings it skips, and `parse_line`
    accepts encoded surrogates (json's `surrogatepass`): on lines like these all three accept
    the same lines and read the same values; any other line goes the plain way."""
    if all(map(bytes.isascii, lines)):
        return True
    try:
        for line in lines:
            if not line.isascii():
                line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (orjson when it can encode the value, else json: same text)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value)
        except TypeError:
            pass  # a huge integer, a non-string key or a lone surrogate: json can say it
    # ASCII-escaped, so a lone surrogate (which UTF-8 cannot carry) survives the round trip.
    return json.dumps(value, separators=(",", ":")).encode("ascii")


__all__ = [
    "STRICT_FAST_LOADS",
    "dump_json",
    "fast_dumps",
    "fast_loads",
    "parse_line",
    "parse_line_strictly",
    "strict_utf8",
]
