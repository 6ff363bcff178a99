"""The diff as rows on a screen: pure data, no Textual, so it is fast to build and easy to test.

`DiffModel` wraps a parsed `Diff` with what the viewer needs: why a file starts collapsed, which
removed line pairs with which added line (for the side-by-side layout and word highlights), the
search, and which hunks the reviewer has actually had on screen. `layout()` flattens it into rows
(`Row` tuples, one per screen line) for the unified or the side-by-side view; a 50,000-line diff
becomes 50,000 small tuples in a few tens of milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import repeat
from typing import NamedTuple

from reviewq.core.generated import is_generated
from reviewq.core.lazy_hunk import line_count, text_width
from reviewq.core.model import Diff, DiffLine, FileDiff
from reviewq.core.risk import is_lockfile

#: A file with more changed lines than this starts collapsed (a key expands it).
HUGE_FILE_LINES = 3000
_WORD = re.compile(r"\w+|\s+|[^\w\s]")


class Row(NamedTuple):
    """One screen line. `a`/`b` are line indexes in hunk `hunk` of file `file` (-1: none).

    Unified rows use `a` only. Side-by-side rows put the old side in `a` and the new side in `b`.
    With long lines wrapped, a line takes several rows: `part` counts them (0: its first).
    A `CTX` row is an unchanged line of the file shown around hunk `hunk` at the reviewer's
    request (not part of the diff): `a` is its index in that hunk's extra lines, `b` is `ABOVE`
    or `BELOW` (`DiffModel.context_line`).
    """

    kind: int
    file: int
    hunk: int
    a: int
    b: int
    part: int = 0


FILE, NOTE, HUNK, LINE, GAP, CTX = range(6)
_new_tuple = tuple.__new__
#: Lines of the file's new side a press of the "more context" key adds above and below a hunk.
CONTEXT_STEP = 10
#: `Row.b` of an extra context row: above its hunk (before the header) or below it.
ABOVE, BELOW = 0, 1


@dataclass(slots=True)
class FileInfo:
    """What the viewer decides about one file before drawing it."""

    collapse_reason: str | None  # lockfile | generated | large | None
    notes: list[str] = field(default_factory=list)  # binary, mode change, rename, truncated
    language: str | None = None


def classify(fd: FileDiff) -> FileInfo:
    """Why a file starts collapsed, and the one-line notes drawn under its header."""
    notes: list[str] = []
    if fd.is_binary:
        notes.append("binary file: contents not shown")
    if fd.truncated:
        notes.append(
            f"diff too large to show: +{fd.additions} -{fd.deletions} lines (read it with git)"
        )
    if fd.status == "renamed" and fd.old_path:
        sim = f" ({fd.similarity}% similar)" if fd.similarity is not None else ""
        notes.append(f"renamed from {fd.old_path}{sim}")
    elif fd.status == "copied" and fd.old_path:
        notes.append(f"copied from {fd.old_path}")
    if fd.mode_changed:
        notes.append(f"mode {fd.old_mode} -> {fd.new_mode}")
    elif fd.status == "added" and fd.new_mode == "100755":
        notes.append("new executable file (mode 100755)")
    if fd.encoding != "utf-8":
        notes.append(f"not UTF-8: shown as {fd.encoding}")
    if not fd.hunks and not notes and not fd.is_binary:
        notes.append("no content change" if fd.status != "added" else "empty file")
    reason = None
    if fd.hunks:
        if is_lockfile(fd.path):
            reason = "lockfile"
        elif is_generated(fd):
            reason = "generated"
        elif fd.additions + fd.deletions > HUGE_FILE_LINES:
            reason = "large"
    return FileInfo(reason, notes)


def pair_lines(lines: list[DiffLine]) -> dict[int, int]:
    """Removed line index -> added line index for each run of '-' lines followed by '+' lines.

    The i-th removed line of a run pairs with the i-th added line after it; the rest stand alone.
    This is what side-by-side rows and word highlighting both use.
    """
    pairs: dict[int, int] = {}
    i, n = 0, len(lines)
    while i < n:
        if lines[i].kind != "-":
            i += 1
            continue
        start = i
        while i < n and lines[i].kind == "-":
            i += 1
        removed = range(start, i)
        while i < n and lines[i].kind == "\\":
            i += 1
        plus_start = i
        while i < n and lines[i].kind == "+":
            i += 1
        for old, new in zip(removed, range(plus_start, i)):
            pairs[old] = new
    return pairs


def word_spans(old: str, new: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]] | None:
    """Changed word ranges (start, end) in `old` and in `new`, or None when the lines share too
    little for word highlights to help (the whole line is then the change)."""
    if old == new:
        return [], []
    a = _WORD.findall(old)
    b = _WORD.findall(new)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    blocks = matcher.get_matching_blocks()
    # Similarity by the characters of shared words: shared spaces alone do not make two
    # lines "the same line, edited".
    shared = sum(len(t) for i, _, n in blocks for t in a[i : i + n] if not t.isspace())
    total = sum(len(t) for t in a if not t.isspace()) + sum(len(t) for t in b if not t.isspace())
    if total and 2 * shared / total < 0.3:
        return None
    a_off = _offsets(a)
    b_off = _offsets(b)
    old_spans: list[tuple[int, int]] = []
    new_spans: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            _add_span(old_spans, a_off[i1], a_off[i2])
        if j2 > j1:
            _add_span(new_spans, b_off[j1], b_off[j2])
    return old_spans, new_spans


def _offsets(tokens: list[str]) -> list[int]:
    out = [0]
    for token in tokens:
        out.append(out[-1] + len(token))
    return out


def _add_span(spans: list[tuple[int, int]], start: int, end: int) -> None:
    if spans and spans[-1][1] == start:
        spans[-1] = (spans[-1][0], end)
    else:
        spans.append((start, end))


class Layout:
    """The rows of one layout (unified or side by side) with the indexes navigation needs."""

    def __init__(
        self,
        rows: list[Row],
        split: bool,
        file_rows: list[int],
        hunk_rows: list[int],
        wrapped: bool = False,
    ):
        self.rows = rows
        self.split = split
        #: Long lines wrap onto more rows (`Row.part`) instead of being cut at the edge.
        self.wrapped = wrapped
        #: First row (the header) of each file, by file index.
        self.file_rows = file_rows
        #: Header row of every visible hunk, ascending.
        self.hunk_rows = hunk_rows
        self._line_rows: dict[tuple[int, int], dict[int, int]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def file_at(self, row: int) -> int:
        if not self.rows:
            return -1
        row = max(0, min(row, len(self.rows) - 1))
        return self.rows[row].file

    def row_of_line(self, file: int, hunk: int, line: int) -> int | None:
        """The row showing line `line` of hunk `hunk` of `file` (None when it is collapsed)."""
        key = (file, hunk)
        index = self._line_rows.get(key)
        if index is None:
            index = {}
            start = self.file_rows[file] if 0 <= file < len(self.file_rows) else -1
            if start < 0:
                return None
            for y in range(start, len(self.rows)):
                row = self.rows[y]
                if row.file != file:
                    break
                if row.hunk == hunk and row.kind == LINE:
                    if row.a >= 0:
                        index.setdefault(row.a, y)
                    if row.b >= 0:
                        index.setdefault(row.b, y)
            self._line_rows[key] = index
        return index.get(line)


class DiffModel:
    """A parsed diff plus viewer state that outlives a layout: collapsed files and seen hunks."""

    def __init__(self, diff: Diff, infos: list[FileInfo] | None = None) -> None:
        self.diff = diff
        self.files = diff.files
        self.infos = infos if infos is not None else [classify(fd) for fd in diff.files]
        self.collapsed: set[int] = {
            i for i, info in enumerate(self.infos) if info.collapse_reason is not None
        }
        self._pairs: dict[tuple[int, int], dict[int, int]] = {}
        self._partners: dict[tuple[int, int], dict[int, int]] = {}
        self._seen: dict[tuple[int, int], bytearray] = {}
        self._viewed_hunks: set[tuple[int, int]] = set()
        #: The new side of a file, line by line (read on request, for extra context).
        self.file_lines: dict[int, list[str]] = {}
        #: (file, hunk) -> [lines shown above, lines shown below] beyond the diff's own context.
        self.extra: dict[tuple[int, int], list[int]] = {}
        self.max_text_width = self._measure()
        self.number_width = max(
            2,
            len(
                str(
                    max(
                        (
                            max(h.old_start + h.old_count, h.new_start + h.new_count)
                            for fd in diff.files
                            for h in fd.hunks
                        ),
                        default=1,
                    )
                )
            ),
        )

    def _measure(self) -> int:
        # from the diff text for hunks whose rows are not built yet (`LazyHunk`)
        longest = max((text_width(hunk) for fd in self.files for hunk in fd.hunks), default=0)
        # Tabs, wide characters and placeholders can make a line wider on screen; the view
        # widens itself when it draws such a line.
        return longest + 1

    # -- structure ----------------------------------------------------------------------------

    @property
    def hunks_total(self) -> int:
        return sum(len(fd.hunks) for fd in self.files)

    def pairs(self, file: int, hunk: int) -> dict[int, int]:
        key = (file, hunk)
        found = self._pairs.get(key)
        if found is None:
            found = self._pairs[key] = pair_lines(self.files[file].hunks[hunk].lines)
        return found

    def partner(self, file: int, hunk: int, line: int) -> int | None:
        """The line paired with `line` (either direction), for word highlights."""
        key = (file, hunk)
        both = self._partners.get(key)
        if both is None:
            pairs = self.pairs(file, hunk)
            both = dict(pairs)
            both.update({new: old for old, new in pairs.items()})
            self._partners[key] = both
        return both.get(line)

    def layout(self, split: bool, wrap: Callable[[DiffLine], int] | None = None) -> Layout:
        """The rows of the unified or side-by-side view; with `wrap` (how many screen lines a
        line's text takes) a long line is followed by its continuation rows."""
        rows: list[Row] = []
        append = rows.append
        if wrap is not None:
            add = rows.append
            files = self.files

            def append(row: Row) -> None:
                add(row)
                if row.kind == CTX:
                    parts = wrap(self.context_line(row.file, row.hunk, row.b, row.a))
                elif row.kind != LINE:
                    return
                else:
                    lines = files[row.file].hunks[row.hunk].lines
                    parts = max(
                        wrap(lines[row.a]) if row.a >= 0 else 1,
                        wrap(lines[row.b]) if row.b >= 0 else 1,
                    )
                for part in range(1, parts):
                    add(row._replace(part=part))

        file_rows: list[int] = []
        hunk_rows: list[int] = []
        for f, fd in enumerate(self.files):
            if f:
                append(Row(GAP, f, -1, -1, -1))
            file_rows.append(len(rows))
            append(Row(FILE, f, -1, -1, -1))
            info = self.infos[f]
            for n in range(len(info.notes)):
                append(Row(NOTE, f, n, -1, -1))
            if f in self.collapsed:
                append(Row(NOTE, f, -1, -1, -1))  # the "collapsed: press z" line
                continue
            for h, hunk in enumerate(fd.hunks):
                above, below = self.extra.get((f, h), (0, 0))
                for k in range(above):  # before the header: the file read on from above
                    append(Row(CTX, f, h, k, ABOVE))
                hunk_rows.append(len(rows))
                append(Row(HUNK, f, h, -1, -1))
                if split:
                    self._split_rows(f, h, append)
                elif wrap is None:
                    # one C-level pass (tuple.__new__ over zip) instead of a Row(...) call a
                    # line; the rows are the same `Row`s
                    n = line_count(hunk)
                    rows.extend(
                        map(_new_tuple, repeat(Row, n),
                            zip(repeat(LINE, n), repeat(f, n), repeat(h, n), range(n),
                                repeat(-1, n), repeat(0, n)))
                    )  # fmt: skip
                else:
                    for i in range(line_count(hunk)):
                        append(Row(LINE, f, h, i, -1))
                for k in range(below):
                    append(Row(CTX, f, h, k, BELOW))
        return Layout(rows, split, file_rows, hunk_rows, wrapped=wrap is not None)

    def _split_rows(self, f: int, h: int, append) -> None:
        lines = self.files[f].hunks[h].lines
        pairs = self.pairs(f, h)
        paired_new = set(pairs.values())
        i, n = 0, len(lines)
        while i < n:
            kind = lines[i].kind
            if kind == " ":
                append(Row(LINE, f, h, i, i))
                i += 1
            elif kind == "-":
                # A run of removals, then its additions: pairs side by side, the rest alone.
                run_old = []
                while i < n and lines[i].kind in "-\\":
                    run_old.append(i)
                    i += 1
                run_new = []
                while i < n and lines[i].kind in "+\\":
                    run_new.append(i)
                    i += 1
                olds = [j for j in run_old if lines[j].kind == "-"]
                news = [j for j in run_new if lines[j].kind == "+"]
                for k in range(max(len(olds), len(news))):
                    old = olds[k] if k < len(olds) else -1
                    new = news[k] if k < len(news) else -1
                    append(Row(LINE, f, h, old, new))
                for j in run_old + run_new:
                    if lines[j].kind == "\\":
                        append(Row(LINE, f, h, j, -1))
            elif kind == "+":
                if i not in paired_new:
                    append(Row(LINE, f, h, -1, i))
                i += 1
            else:  # "\\ No newline at end of file"
                append(Row(LINE, f, h, i, -1))
                i += 1

    # -- more context around a hunk (the file's new side, read on request) --------------------

    def _new_span(self, file: int, hunk: int) -> tuple[int, int]:
        """First and last new-side line number a hunk covers (last < first: none, the hunk
        only removes lines after line `last`)."""
        h = self.files[file].hunks[hunk]
        first = h.new_start if h.new_count else h.new_start + 1
        return first, first + h.new_count - 1

    def _old_offset(self, file: int, hunk: int, side: int) -> int:
        """Old line number minus new line number for unchanged lines just above/below a hunk."""
        h = self.files[file].hunks[hunk]
        old_first = h.old_start if h.old_count else h.old_start + 1
        new_first, new_last = self._new_span(file, hunk)
        if side == ABOVE:
            return old_first - new_first
        return (old_first + h.old_count - 1) - new_last

    def context_room(self, file: int, hunk: int) -> tuple[int, int]:
        """How many more lines can be shown above and below a hunk: up to the neighbouring
        hunk (and what it shows already) or the file's ends. Needs `file_lines[file]`."""
        text = self.file_lines.get(file)
        if text is None:
            return 0, 0
        hunks = self.files[file].hunks
        first, last = self._new_span(file, hunk)
        above, below = self.extra.get((file, hunk), (0, 0))
        if hunk > 0:
            floor = self._new_span(file, hunk - 1)[1] + self.extra.get((file, hunk - 1), (0, 0))[1]
        else:
            floor = 0
        if hunk + 1 < len(hunks):
            ceiling = (
                self._new_span(file, hunk + 1)[0] - self.extra.get((file, hunk + 1), (0, 0))[0]
            )
        else:
            ceiling = len(text) + 1
        return max(0, first - above - 1 - floor), max(0, ceiling - (last + below) - 1)

    def expand_context(self, file: int, hunk: int, step: int = CONTEXT_STEP) -> tuple[int, int]:
        """Show up to `step` more lines above and below a hunk; (lines added above, below)."""
        room_above, room_below = self.context_room(file, hunk)
        more_above, more_below = min(step, room_above), min(step, room_below)
        if more_above or more_below:
            counts = self.extra.setdefault((file, hunk), [0, 0])
            counts[ABOVE] += more_above
            counts[BELOW] += more_below
            for side, count in ((ABOVE, more_above), (BELOW, more_below)):
                for k in range(count):
                    index = k if side == ABOVE else counts[BELOW] - 1 - k
                    width = len(self.context_line(file, hunk, side, index).text) + 1
                    self.max_text_width = max(self.max_text_width, width)
        return more_above, more_below

    def context_line(self, file: int, hunk: int, side: int, index: int) -> DiffLine:
        """Extra line `index` above (counted from the top) or below a hunk, as a context line."""
        first, last = self._new_span(file, hunk)
        if side == ABOVE:
            new_no = first - self.extra[(file, hunk)][ABOVE] + index
        else:
            new_no = last + 1 + index
        text = self.file_lines[file][new_no - 1]
        return DiffLine(" ", text, new_no + self._old_offset(file, hunk, side), new_no)

    def matches_new_side(self, file: int, lines: list[str]) -> bool:
        """Does `lines` (a file's text) hold every new-side line of the file's hunks where the
        diff says? (Guards against reading some other version of the file.)"""
        for hunk in self.files[file].hunks:
            for line in hunk.lines:
                if line.new_no is None:
                    continue
                if line.new_no > len(lines) or lines[line.new_no - 1] != line.text:
                    return False
        return True

    # -- what the reviewer has seen -----------------------------------------------------------

    def mark_seen(self, layout: Layout, start: int, end: int) -> None:
        """Rows [start, end) were on screen: count their lines towards their hunks."""
        rows = layout.rows
        for y in range(max(0, start), min(end, len(rows))):
            row = rows[y]
            if row.kind != LINE:
                continue
            key = (row.file, row.hunk)
            if key in self._viewed_hunks:
                continue
            seen = self._seen.get(key)
            if seen is None:
                seen = self._seen[key] = bytearray(len(self.files[row.file].hunks[row.hunk].lines))
            if row.a >= 0:
                seen[row.a] = 1
            if row.b >= 0:
                seen[row.b] = 1
            if all(seen):
                self._viewed_hunks.add(key)
                del self._seen[key]

    @property
    def hunks_viewed(self) -> int:
        return len(self._viewed_hunks)

    def viewed_hunks(self) -> list[tuple[int, int]]:
        """(file, hunk) of every hunk seen in full, for a draft."""
        return sorted(self._viewed_hunks)

    def restore_viewed(self, hunks) -> None:
        """Hunks seen on an earlier visit to the same diff (ignores ones that do not exist)."""
        for file, hunk in hunks:
            if 0 <= file < len(self.files) and 0 <= hunk < len(self.files[file].hunks):
                self._viewed_hunks.add((file, hunk))
                self._seen.pop((file, hunk), None)

    def file_hunks_viewed(self, file: int) -> int:
        return sum(1 for f, _ in self._viewed_hunks if f == file)

    # -- search -------------------------------------------------------------------------------

    def search(self, pattern: re.Pattern[str], display: callable) -> list[tuple[int, int, int]]:
        """(file, hunk, line) of every line whose displayed text matches `pattern`."""
        hits: list[tuple[int, int, int]] = []
        for f, fd in enumerate(self.files):
            for h, hunk in enumerate(fd.hunks):
                for i, line in enumerate(hunk.lines):
                    if pattern.search(display(line.text)):
                        hits.append((f, h, i))
        return hits


def compile_search(text: str) -> re.Pattern[str] | None:
    """Literal search, smart case: case-insensitive unless the query has a capital letter."""
    if not text:
        return None
    flags = 0 if any(ch.isupper() for ch in text) else re.IGNORECASE
    return re.compile(re.escape(text), flags)
