"""The row model: layouts, pairing, word highlights, folding reasons, seen hunks, search."""

from __future__ import annotations

from reviewq.sources.diffs import parse_unified_diff
from reviewq.tui.diff.model import (
    FILE,
    GAP,
    HUNK,
    LINE,
    NOTE,
    DiffModel,
    compile_search,
    pair_lines,
    word_spans,
)

PATCH = b"""diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,4 +1,5 @@ def main():
 import os
-x = compute(1, 2)
-y = 3
+x = compute(1, 20)
+y = 3
+z = 4
 print(x)
@@ -10,2 +11,2 @@
-old = True
+new = True
 end
diff --git a/package-lock.json b/package-lock.json
--- a/package-lock.json
+++ b/package-lock.json
@@ -1,1 +1,1 @@
-{"v": 1}
+{"v": 2}
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..1111111
Binary files /dev/null and b/logo.png differ
diff --git a/gen/api_pb2.py b/gen/api_pb2.py
--- a/gen/api_pb2.py
+++ b/gen/api_pb2.py
@@ -1 +1 @@
-a = 1
+a = 2
"""


def model() -> DiffModel:
    return DiffModel(parse_unified_diff(PATCH))


def test_unified_rows_follow_files_and_hunks():
    m = model()
    layout = m.layout(split=False)
    kinds = [r.kind for r in layout.rows]
    # app.py: header, hunk, 7 lines, hunk, 3 lines
    assert kinds[:13] == [FILE, HUNK] + [LINE] * 7 + [HUNK] + [LINE] * 3
    assert layout.file_rows[0] == 0
    assert [layout.rows[y].kind for y in layout.hunk_rows] == [HUNK, HUNK]
    # the lockfile and the generated file start folded, the binary file has a note
    assert m.infos[1].collapse_reason == "lockfile"
    assert m.infos[3].collapse_reason == "generated"
    assert m.infos[2].notes == ["binary file: contents not shown"]
    assert m.collapsed == {1, 3}
    assert GAP in kinds and NOTE in kinds


def test_split_rows_pair_removed_with_added_lines():
    m = model()
    layout = m.layout(split=True)
    rows = [r for r in layout.rows if r.kind == LINE and r.file == 0 and r.hunk == 0]
    lines = m.files[0].hunks[0].lines
    shown = [
        (lines[r.a].text if r.a >= 0 else None, lines[r.b].text if r.b >= 0 else None) for r in rows
    ]
    assert shown == [
        ("import os", "import os"),
        ("x = compute(1, 2)", "x = compute(1, 20)"),
        ("y = 3", "y = 3"),
        (None, "z = 4"),
        ("print(x)", "print(x)"),
    ]


def test_rows_of_lines_map_back_in_both_layouts():
    m = model()
    for split in (False, True):
        layout = m.layout(split)
        row = layout.row_of_line(0, 0, 3)  # "+x = compute(1, 20)"
        assert row is not None
        r = layout.rows[row]
        assert 3 in (r.a, r.b)


def test_pairing_and_word_spans():
    m = model()
    lines = m.files[0].hunks[0].lines
    assert pair_lines(lines) == {1: 3, 2: 4}
    old, new = word_spans("x = compute(1, 2)", "x = compute(1, 20)")
    assert ["x = compute(1, 2)"[s:e] for s, e in old] == ["2"]
    assert ["x = compute(1, 20)"[s:e] for s, e in new] == ["20"]
    assert word_spans("alpha beta gamma", "completely different words here!") is None


def test_hunks_count_as_seen_only_when_every_line_was_on_screen():
    m = model()
    layout = m.layout(False)
    first_hunk = layout.hunk_rows[0]
    m.mark_seen(layout, 0, first_hunk + 4)  # part of the first hunk
    assert m.hunks_viewed == 0
    m.mark_seen(layout, first_hunk + 4, first_hunk + 9)
    assert m.hunks_viewed == 1
    assert m.file_hunks_viewed(0) == 1
    assert m.hunks_total == 4  # folded files still count: they were not seen


def test_search_is_literal_and_smart_case():
    m = model()
    hits = m.search(compile_search("COMPUTE(1"), lambda t: t)
    assert hits == []
    hits = m.search(compile_search("compute(1"), lambda t: t)
    assert [(f, h, i) for f, h, i in hits] == [(0, 0, 1), (0, 0, 3)]
    assert compile_search("") is None
    assert compile_search("a.b").search("axb") is None


def test_large_files_fold_and_new_executables_are_noted():
    body = "".join(f"+line {i}\n" for i in range(3500))
    patch = (
        "diff --git a/big.txt b/big.txt\nnew file mode 100755\n--- /dev/null\n+++ b/big.txt\n"
        f"@@ -0,0 +1,3500 @@\n{body}"
    ).encode()
    m = DiffModel(parse_unified_diff(patch))
    assert m.infos[0].collapse_reason == "large"
    assert "new executable file" in m.infos[0].notes[0]
    layout = m.layout(False)
    assert len(layout.rows) == 3  # header, note, folded line
    m.collapsed.clear()
    assert len(m.layout(False).rows) == 3 + 1 + 3500 - 1
