"""`output.print_table`'s fast path (one search over all cells, one write) against the plain
one (`one_line` on every cell, a line per write), on generated tables."""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewq.core.text import one_line
from reviewq.output import print_table


def plain_table(headers, rows, *, flex=None, fit=True, caps=None, min_flex=0, shrink=()) -> str:
    """The table as `print_table` printed it before its fast path (kept here as the oracle)."""
    stream = io.StringIO()
    cells = [[one_line(str(c)) for c in row] for row in rows]
    heads = [str(h) for h in headers]
    widths = [len(h) for h in heads]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    if fit and caps:
        for i, cap in caps.items():
            widths[i] = min(widths[i], max(cap, len(heads[i])))
    flex = len(heads) - 1 if flex is None else flex
    total = shutil.get_terminal_size((160, 40)).columns
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
        parts = []
        for i, cell in enumerate(row):
            cell = cell if len(cell) <= widths[i] else cell[: max(0, widths[i] - 1)] + "…"
            parts.append(cell.ljust(widths[i]) if i < len(row) - 1 else cell)
        return "  ".join(parts).rstrip()

    stream.write(fmt(heads) + "\n")
    for row in cells:
        stream.write(fmt(row) + "\n")
    return stream.getvalue()


cell = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="abc -+/?…", max_size=90),
    st.sampled_from(["\x1b[31mred", "a\nb", "tab\there", "\u202eevil", "\u200b", "ok", ""]),
    st.integers(),
)


@given(
    data=st.data(),
    columns=st.integers(min_value=1, max_value=6),
    fit=st.booleans(),
    min_flex=st.integers(min_value=0, max_value=60),
)
@settings(max_examples=300, deadline=None)
def test_the_fast_table_prints_what_the_plain_one_printed(data, columns, fit, min_flex) -> None:
    headers = data.draw(
        st.lists(st.text(min_size=1, max_size=8), min_size=columns, max_size=columns)
    )
    rows = data.draw(st.lists(st.lists(cell, min_size=columns, max_size=columns), max_size=12))
    caps = data.draw(st.dictionaries(st.integers(0, columns - 1), st.integers(0, 30), max_size=2))
    shrink = data.draw(st.lists(st.integers(0, columns - 1), max_size=2, unique=True))
    kw = {"fit": fit, "caps": caps, "min_flex": min_flex, "shrink": shrink}
    out = io.StringIO()
    print_table(headers, rows, out=out, **kw)
    assert out.getvalue() == plain_table(headers, rows, **kw)


@given(
    data=st.data(),
    columns=st.integers(min_value=1, max_value=5),
    width=st.integers(min_value=10, max_value=120),
)
@settings(max_examples=200, deadline=None)
def test_column_by_column_and_short_rows_print_what_the_plain_table_printed(
    data, columns, width
) -> None:
    """The column-by-column path (every row as long as the header) and the row-by-row one (a
    shorter row: its last cell is not padded) against the oracle, at any terminal width, with
    cells cut to widths down to 0 (caps)."""
    import os

    headers = data.draw(
        st.lists(st.text(min_size=1, max_size=8), min_size=columns, max_size=columns)
    )
    ragged = data.draw(st.booleans())
    rows = data.draw(
        st.lists(st.lists(cell, min_size=0 if ragged else columns, max_size=columns), max_size=12)
    )
    caps = data.draw(st.dictionaries(st.integers(0, columns - 1), st.integers(0, 3), max_size=2))
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        out = io.StringIO()
        print_table(headers, rows, out=out, caps=caps)
        assert out.getvalue() == plain_table(headers, rows, caps=caps)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
