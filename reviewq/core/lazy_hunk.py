"""A hunk whose rows are read from the diff text only when someone asks for them.

Opening a 56,000-line change used to build 56,000 `DiffLine` objects before the first screen
could be drawn, though a screen shows fifty. `LazyHunk` is a `Hunk` (same fields, equal to the
`Hunk` the plain parse gives, pickles and copies as one) that keeps the hunk's text and its
counts, and builds `lines` on first access. What a viewer needs of every hunk at open, its
length, its added and removed counts and its widest line, it answers from the text with C-level
string scans (`line_count`, `text_width`, `additions`, `deletions`).

Only a reader that has checked the text builds one (`reviewq.sources.diffs`): every row starts
with ' ', '+', '-' or is exactly the "no newline" marker, the counts agree with the header and
the text ends with a newline, so `lines` is the plain parse's rows by construction.
"""

from __future__ import annotations

from reviewq.core.model import DiffLine, Hunk

#: The slot holding a built `lines` list (the dataclass field), under the property below.
_LINES = Hunk.__dict__["lines"]
NO_NEWLINE = "\\ No newline at end of file"


class LazyHunk(Hunk):
    __slots__ = ("_added", "_count", "_removed", "_text")

    def __init__(
        self,
        old_start: int,
        old_count: int,
        new_start: int,
        new_count: int,
        section: str,
        lines: list[DiffLine] | None = None,
    ) -> None:
        # The dataclass signature (`dataclasses.replace`, unpickling): an eager hunk.
        super().__init__(old_start, old_count, new_start, new_count, section, lines or [])
        self._text = None

    @classmethod
    def of_text(
        cls,
        old_start: int,
        old_count: int,
        new_start: int,
        new_count: int,
        section: str,
        text: str,
        count: int,
        added: int,
        removed: int,
    ) -> LazyHunk:
        """A hunk over `text` (its rows, each ending in a newline), rows not built yet."""
        hunk = cls.__new__(cls)
        hunk.old_start, hunk.old_count = old_start, old_count
        hunk.new_start, hunk.new_count = new_start, new_count
        hunk.section = section
        hunk._text = text
        hunk._count, hunk._added, hunk._removed = count, added, removed
        return hunk

    @property
    def built(self) -> bool:
        """Whether `lines` has been built (or was given)."""
        try:
            _LINES.__get__(self, LazyHunk)
        except AttributeError:
            return False
        return True

    @property  # type: ignore[override]
    def lines(self) -> list[DiffLine]:
        try:
            return _LINES.__get__(self, LazyHunk)
        except AttributeError:
            pass
        rows: list[DiffLine] = []
        append = rows.append
        old_no, new_no = self.old_start, self.new_start
        for line in self._text.split("\n")[:-1]:
            kind = line[0]
            if kind == " ":
                append(DiffLine(" ", line[1:], old_no, new_no))
                old_no += 1
                new_no += 1
            elif kind == "+":
                append(DiffLine("+", line[1:], None, new_no))
                new_no += 1
            elif kind == "-":
                append(DiffLine("-", line[1:], old_no, None))
                old_no += 1
            else:  # the "no newline at end of file" marker (checked by the reader)
                append(DiffLine("\\", line[1:], None, None))
        _LINES.__set__(self, rows)
        self._text = None  # the rows hold it now
        return rows

    @lines.setter
    def lines(self, value: list[DiffLine]) -> None:
        _LINES.__set__(self, value)

    @property
    def additions(self) -> int:
        if self.built:
            return sum(1 for line in self.lines if line.kind == "+")
        return self._added

    @property
    def deletions(self) -> int:
        if self.built:
            return sum(1 for line in self.lines if line.kind == "-")
        return self._removed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hunk):
            return NotImplemented
        return (
            self.old_start,
            self.old_count,
            self.new_start,
            self.new_count,
            self.section,
            self.lines,
        ) == (
            other.old_start,
            other.old_count,
            other.new_start,
            other.new_count,
            other.section,
            other.lines,
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        """Pickled as it stands: a hunk whose rows are not built yet travels as its text (the
        TUI sends whole diffs to a worker process; building 56,000 rows to pickle them would
        hold the interpreter for the reviewer's keys), a built one as its rows."""
        if self.built:
            fields = (self.old_start, self.old_count, self.new_start, self.new_count)
            return (LazyHunk, (*fields, self.section, self.lines))
        return (
            LazyHunk.of_text,
            (
                self.old_start,
                self.old_count,
                self.new_start,
                self.new_count,
                self.section,
                self._text,
                self._count,
                self._added,
                self._removed,
            ),
        )


def line_count(hunk: Hunk) -> int:
    """len(hunk.lines), without building the rows of a lazy hunk."""
    if type(hunk) is LazyHunk and not hunk.built:
        return hunk._count
    return len(hunk.lines)


def text_width(hunk: Hunk) -> int:
    """The longest row text of a hunk in characters (0 for none), without building rows."""
    if type(hunk) is LazyHunk and not hunk.built:
        if not hunk._count:
            return 0
        # every row is its sign, its text and a newline
        return max(map(len, hunk._text.split("\n"))) - 1
    return max((len(line.text) for line in hunk.lines), default=0)
