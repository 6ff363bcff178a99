"""Printing data for people (aligned tables) and for scripts (JSON Lines)."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from reviewq.core.text import BIDI_CONTROLS, INVISIBLES, has_hidden, one_line

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

#: What JSON may carry raw but a terminal would act on or hide: DEL and C1 controls, bidi and
#: invisible characters, line separators, and lone surrogates (which cannot even be written as
#: UTF-8). json.dumps escapes only U+0000-U+001F. Outside strings JSON is ASCII, so each of
#: these is inside a string, where \\uXXXX is the same value to every JSON parser.
#: Compiled on the first JSON line (`_json_unsafe`): a table prints none.
_JSON_UNSAFE = (
    "[\x7f-\x9f\u2028\u2029\ud800-\udfff" + "".join(sorted(BIDI_CONTROLS | INVISIBLES)) + "]"
)
_json_unsafe: re.Pattern[str] | None = None


#: `json.dumps(obj, ensure_ascii=False)` without making an encoder per call (the same text).
_encode = json.JSONEncoder(ensure_ascii=False).encode


def json_line(obj: Any) -> str:
    """`obj` as one line of JSON that is safe to print to a terminal."""
    global _json_unsafe
    text = _encode(obj)
    unsafe = _json_unsafe
    if unsafe is None:
        unsafe = _json_unsafe = re.compile(_JSON_UNSAFE)
    if unsafe.search(text) is None:
        return text
    return unsafe.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit_json(obj: Any, out: TextIO | None = None) -> None:
    """One JSON object per line (the contract's JSON Lines)."""
    (out or sys.stdout).write(json_line(obj) + "\n")


def emit_jsonl(objs: Iterable[Any], out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    for obj in objs:
        stream.write(json_line(obj) + "\n")


def terminal_columns(fallback: int) -> int:
    """`shutil.get_terminal_size((fallback, ...)).columns`, the same steps (COLUMNS when it is a
    positive number, else the terminal of `sys.__stdout__`, else `fallback`), without importing
    `shutil` (with bz2, lzma and zlib: ~3 ms of a cold scan's table)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return fallback
    return size.columns or fallback


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    flex: int | None = None,
    out: TextIO | None = None,
    fit: bool = True,
    caps: Mapping[int, int] | None = None,
    min_flex: int = 0,
    shrink: Sequence[int] = (),
) -> None:
    """Aligned columns; the `flex` column (default: the last) absorbs what the terminal lacks.

    `fit=False` never cuts a cell (a gate's reasons must be read whole, in any CI log width).
    `caps` limits columns that matter less than the flex one (a location can be 70 characters
    long; a subject cut to `feat: …` says nothing): column index -> most characters shown.
    `min_flex`: the flex column keeps this many characters (or its longest cell) even when
    the line then runs past the terminal's width, unless the `shrink` columns, in that order,
    give up width for it (down to 8 characters or their header).

    Every cell goes through `one_line`: a commit subject cannot move the cursor or recolour
    the terminal.
    """
    stream = out or sys.stdout
    cells = [list(map(str, row)) for row in rows]
    # One search over every cell (joined by a space, which `one_line` keeps) decides whether
    # any of them needs `one_line` at all: thousands of clean rows cost one pass.
    # `isprintable` first: a C pass that is False for every character `one_line` replaces
    # (controls, format and separator characters, surrogates), newlines and tabs included.
    flat = " ".join(map(" ".join, cells))
    if not flat.isprintable() and (has_hidden(flat) or "\n" in flat or "\t" in flat):
        cells = [[one_line(c) for c in row] for row in cells]
    heads = [str(h) for h in headers]
    widths = [len(h) for h in heads]
    # Every row as long as the header (the usual table): counted in one C pass.
    even = set(map(len, cells)) <= {len(heads)}
    if cells and even:  # column by column
        widths = [
            max(width, *map(len, column)) for width, column in zip(widths, zip(*cells), strict=True)
        ]
    else:
        for row in cells:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
    if fit and caps:
        for i, cap in caps.items():
            widths[i] = min(widths[i], max(cap, len(heads[i])))
    flex = len(heads) - 1 if flex is None else flex
    total = terminal_columns(160)
    if fit and shrink:
        want = min(widths[flex], max(min_flex, len(heads[flex])))
        over = sum(widths) + 2 * (len(widths) - 1) - widths[flex] + want - total
        for i in shrink:
            give = max(0, min(over, widths[i] - max(8, len(heads[i]))))
            widths[i] -= give
            over -= give
    fixed = sum(w for i, w in enumerate(widths) if i != flex) + 2 * (len(widths) - 1)
    if fit:
        floor = max(len(heads[flex]), min(widths[flex], min_flex))
        widths[flex] = max(floor, min(widths[flex], total - fixed))

    def fmt(row: Sequence[str]) -> str:
        parts = [
            cell if len(cell) <= width else cell[: max(0, width - 1)] + "…"
            for cell, width in zip(row, widths, strict=False)
        ]
        padded = [cell.ljust(width) for cell, width in zip(parts[:-1], widths, strict=False)]
        return "  ".join([*padded, *parts[-1:]]).rstrip()

    every = (heads, *cells)
    if not widths or not even:
        stream.write("".join([fmt(row) + "\n" for row in every]))
        return
    # Column by column: `fmt` of every row, without a call and three lists per row (a scan's
    # table has thousands). A cut cell is `width` long already (its padding adds nothing).
    columns = [
        [cell.ljust(width) for cell in column]
        if max(map(len, column)) <= width  # nothing to cut (a column is as wide as its cells)
        else [
            cell.ljust(width) if len(cell) <= width else cell[: max(0, width - 1)] + "…"
            for cell in column
        ]
        for column, width in zip(zip(*every), widths[:-1], strict=False)
    ]
    width = widths[-1]
    columns.append(
        [
            cell if len(cell) <= width else cell[: max(0, width - 1)] + "…"
            for cell in [row[-1] for row in every]
        ]
    )
    stream.write("".join(["  ".join(line).rstrip() + "\n" for line in zip(*columns)]))


#: A log at least this large takes seconds to read into a column cache the first time.
LARGE_LOG_BYTES = 64 * 1024 * 1024


@contextmanager
def column_build_notice(out: TextIO | None = None) -> Iterator[None]:
    """Say once, on stderr, when a large log is read into a column cache (the first read after
    an upgrade or a rebuilt log takes seconds; silence would look like a hang). The TUI shows
    its own note instead (`tui/screens/queue.py`)."""
    # start-up: the column caches bring numpy; most commands print without them
    from reviewq.store.verdict_columns import BUILD_PROGRESS

    said = False

    def progress(_done: int, total: int) -> None:
        nonlocal said
        if not said and total >= LARGE_LOG_BYTES:
            said = True
            print(
                f"reviewq: reading {total / 2**20:,.0f} MiB of the provenance log into its column "
                "cache, once (later reads take a fraction of a second)",
                file=out or sys.stderr,
                flush=True,
            )

    token = BUILD_PROGRESS.set(progress)
    try:
        yield
    finally:
        BUILD_PROGRESS.reset(token)
