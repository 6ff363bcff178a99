"""The fast diff reader and the row model built on it say exactly what the plain parse says.

`sources/diffs._fast_rows` finds and checks hunks with C-level scans of the text and leaves
their rows to be built on first access (`core/lazy_hunk.LazyHunk`); `tui/diff/model` counts,
measures and lays out hunks without building those rows. On generated diffs (awkward lines,
several files and hunks, missing newlines at the end, and damaged variants that must fall back
or be refused) the parse, the model's numbers and every row of both layouts equal what unidiff's
full parse and the plain model give (issue 18).
"""

from __future__ import annotations

import difflib
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.lazy_hunk import LazyHunk, line_count, text_width
from reviewq.sources import diffs
from reviewq.sources.diffs import BrokenDiff, parse_unified_diff
from reviewq.tui.diff.model import DiffModel

pytestmark = pytest.mark.property

AWKWARD = [
    "",
    " ",
    "x = 1",
    "\tindented",
    "trailing ",
    "carriage\r",
    "+ plus",
    "- minus",
    "@@ -1,2 +1,2 @@ fake header",
    "\\ No newline at end of file",
    "diff --git a/x b/x",
    "--- a/fake",
    "+++ b/fake",
    "sep\x0bar\x1cors\u2028",
    "naïve café ✓ 漢字",
]
lines = st.lists(
    st.one_of(
        st.sampled_from(AWKWARD),
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"),
            max_size=12,
        ),
    ),
    max_size=30,
)


@st.composite
def file_diff(draw, index: int) -> str:
    """One file's git-style diff of two random versions (maybe without a final newline)."""
    old, new = draw(lines), draw(lines)
    old_end, new_end = draw(st.booleans()), draw(st.booleans())
    a = [line + "\n" for line in old]
    b = [line + "\n" for line in new]
    if a and not old_end:
        a[-1] = a[-1][:-1]
    if b and not new_end:
        b[-1] = b[-1][:-1]
    context = draw(st.integers(0, 3))
    body = []
    for row in difflib.unified_diff(a, b, n=context):
        if row.startswith(("---", "+++")):
            continue
        if not row.endswith("\n"):  # difflib's rows of a side without a final newline
            row += "\n\\ No newline at end of file\n"
        body.append(row)
    path = f"dir/file{index}.py"
    head = f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
    if not body:
        return head + "old mode 100644\nnew mode 100755\n"
    return head + f"--- a/{path}\n+++ b/{path}\n" + "".join(body)


@st.composite
def patches(draw) -> bytes:
    count = draw(st.integers(1, 4))
    text = "".join(draw(file_diff(i)) for i in range(count))
    damage = draw(st.sampled_from(["none", "none", "strip", "drop", "count", "junk"]))
    rows = text.split("\n")
    if damage != "none" and len(rows) > 6:
        at = draw(st.integers(5, len(rows) - 1))
        if damage == "strip" and rows[at].startswith(" "):
            rows[at] = rows[at][1:]  # a context row whose space a tool stripped
        elif damage == "drop":
            del rows[at]
        elif damage == "count":
            rows = [r.replace(" +1,", " +2,", 1) if r.startswith("@@") else r for r in rows]
        elif damage == "junk":
            rows.insert(at, "?junk")
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    return "\n".join(rows).encode(encoding, "replace")


@contextmanager
def plain_reader():
    """unidiff's full parse for every file, as before the fast reader."""
    real = diffs._fast_rows
    diffs._fast_rows = lambda body, patch: None
    try:
        yield
    finally:
        diffs._fast_rows = real


def _parse(data: bytes):
    try:
        return parse_unified_diff(data), None
    except BrokenDiff as exc:
        return None, str(exc)


def _model_facts(diff) -> tuple:
    """Everything the viewer reads of a model before it draws a row."""
    model = DiffModel(diff)
    facts = [
        model.max_text_width,
        model.number_width,
        model.hunks_total,
        sorted(model.collapsed),
        [(info.collapse_reason, info.notes) for info in model.infos],
        [(fd.additions, fd.deletions) for fd in diff.files],
        [[(line_count(h), text_width(h)) for h in fd.hunks] for fd in diff.files],
    ]
    for split in (False, True):
        layout = model.layout(split)
        facts.append((list(layout.rows), layout.file_rows, layout.hunk_rows))
        for f, fd in enumerate(diff.files):
            for h, hunk in enumerate(fd.hunks):
                rows = [layout.row_of_line(f, h, i) for i in range(len(hunk.lines))]
                facts.append((f, h, rows))
    return tuple(facts)


@given(patches())
def test_the_fast_reader_and_model_equal_the_plain_ones(data: bytes) -> None:
    fast, fast_error = _parse(data)
    with plain_reader():
        plain, plain_error = _parse(data)
    assert fast_error == plain_error
    if fast is None:
        return
    # The model first, while the fast parse's rows are still unbuilt: what it counts and
    # lays out from the text must be what the built rows say.
    assert _model_facts(fast) == _model_facts(plain)
    assert fast == plain
    # and every row, line numbers included, field by field
    for fd_fast, fd_plain in zip(fast.files, plain.files, strict=True):
        assert [h.header for h in fd_fast.hunks] == [h.header for h in fd_plain.hunks]
        for h_fast, h_plain in zip(fd_fast.hunks, fd_plain.hunks, strict=True):
            assert [(r.kind, r.text, r.old_no, r.new_no) for r in h_fast.lines] == [
                (r.kind, r.text, r.old_no, r.new_no) for r in h_plain.lines
            ]


@given(patches())
def test_counts_before_and_after_the_rows_are_built(data: bytes) -> None:
    diff, _ = _parse(data)
    if diff is None:
        return
    for fd in diff.files:
        for hunk in fd.hunks:
            before = (hunk.additions, hunk.deletions, line_count(hunk), text_width(hunk))
            built = hunk.lines
            assert before == (
                sum(r.kind == "+" for r in built),
                sum(r.kind == "-" for r in built),
                len(built),
                max((len(r.text) for r in built), default=0),
            )


def test_ordinary_git_hunks_are_read_lazily() -> None:
    """Not a fallback in disguise: an ordinary diff's hunks are lazy, unbuilt after the model
    and its layout, and built on first access."""
    data = (
        b"diff --git a/a.py b/a.py\nindex 1111111..2222222 100644\n--- a/a.py\n+++ b/a.py\n"
        b"@@ -1,3 +1,3 @@ def f():\n one\n-two\n+TWO\n three\n"
        b"@@ -10,2 +10,3 @@\n ten\n+new\n eleven\n"
    )
    diff = parse_unified_diff(data)
    hunks = diff.files[0].hunks
    assert all(type(h) is LazyHunk for h in hunks)
    model = DiffModel(diff)
    model.layout(False)
    assert not hunks[1].built  # (the first hunk's first rows may say "generated file")
    assert [(r.kind, r.old_no, r.new_no) for r in hunks[1].lines] == [
        (" ", 10, 10),
        ("+", None, 11),
        (" ", 11, 12),
    ]
    assert hunks[1].built


@pytest.mark.parametrize(
    "body",
    [
        # a row that looks like a hunk header where the first header's counts say it is a row
        b"@@ -1,3 +1,3 @@\n one\n@@ -2 +2 @@\n-two\n+TWO\n",
        # a fake header whose counts make the text read as two well-formed hunks
        b"@@ -1,1 +1,1 @@\n-a\n+b\n@@ -9,1 +9,1 @@\n-c\n+d\n",
        # a marker that is not exactly git's "no newline" line
        b"@@ -1 +1 @@\n-a\n\\ No newline at end of file (really)\n+b\n",
        # two markers in a row, and a marker first
        b"@@ -1 +1 @@\n\\ No newline at end of file\n-a\n+b\n\\ No newline at end of file\n",
        # a row of no kind between hunks
        b"@@ -1 +1 @@\n-a\n+b\njunk\n@@ -5 +5 @@\n-c\n+d\n",
        # a header with counts of zero on both sides
        b"@@ -0,0 +0,0 @@\n",
    ],
)
def test_crafted_hunks_read_as_the_plain_parse_reads_them(body: bytes) -> None:
    """Rows crafted to make the fast reader and unidiff disagree (a row shown that the critic,
    the gate's hunk counts or the verdict's diff hash would not see, or the reverse): both
    give the same diff or both refuse it."""
    data = b"diff --git a/a.txt b/a.txt\nindex 1111111..2222222 100644\n--- a/a.txt\n+++ b/a.txt\n"
    fast, fast_error = _parse(data + body)
    with plain_reader():
        plain, plain_error = _parse(data + body)
    assert fast_error == plain_error
    assert fast == plain
