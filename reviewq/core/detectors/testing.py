"""Changes that make tests say less: deleted test files, removed or skipped tests, and weakened
assertions (fewer of them, trivially true ones, strict comparisons loosened, checks commented out).

An agent asked to "make CI green" has an easy way out; these rules make it visible.
"""

from __future__ import annotations

import re

from reviewq.core.detectors.base import (
    CODE_LANGS,
    Line,
    Scope,
    file_finding,
    language_of,
    line_finding,
    rule,
)
from reviewq.core.model import FileDiff, Finding, Hunk
from reviewq.core.risk import is_test_path

DELETED = rule("test-deleted", "error", "tests", "test file deleted")
REMOVED = rule("tests-removed", "warning", "tests", "test cases removed")
SKIPPED = rule("test-skipped", "warning", "tests", "test skipped or focused")
WEAKENED = rule("assertion-weakened", "warning", "tests", "assertion weakened")

_TEST_DEF = re.compile(
    r"^\s*(?:async\s+)?def\s+test\w*\s*\(|^\s*(?:it|test)(?:\.\w+)?\s*\(\s*[\"'`]|^func\s+Test\w*\s*\(|"
    r"@Test\b|^\s*fn\s+test_\w*\s*\("
)
_ASSERT = re.compile(
    r"\bassert\w*\b|\bexpect\s*\(|\bself\.assert\w+\(|\bt\.(?:Error|Fatal|Fail)\w*\(|"
    r"\brequire\.\w+\(|\bassert\.\w+\(|\.should\b|pytest\.raises\(|\bassertThat\("
)
_STRICT = re.compile(
    r"==|assert(?:Equal|Equals|In|Raises|CountEqual|DictEqual|ListEqual|AlmostEqual)\b|"
    r"\.to(?:Equal|StrictEqual|Be|Match|Contain|HaveBeenCalledWith|Throw)\(|"
    r"assert_called_(?:once_)?with|\.equal\(|\.deepEqual\(|pytest\.raises\(\w+Error"
)
_WEAK = re.compile(
    r"is not None\b|assertIsNotNone\(|\.toBeTruthy\(|\.toBeDefined\(|assertTrue\(\s*\w+\s*\)|"
    r"^\s*assert\s+[\w.]+\s*$|\.ok\(\s*[\w.]+\s*\)|pytest\.raises\(\s*(?:Exception|BaseException)\b|"
    r"\.not\.toThrow\(|assert\s+\w+\s*(?:or|\|\|)\s*True"
)
_TRIVIAL = re.compile(
    r"^\s*assert\s+(?:True|1|not\s+False|\w+\s+or\s+True)\s*(?:#.*)?$|assertTrue\(\s*True\s*\)|"
    r"expect\(\s*true\s*\)\.toBe(?:Truthy)?\(\s*(?:true)?\s*\)|assert\.ok\(\s*true\s*\)|"
    r"assertEqual\(\s*(\w+)\s*,\s*\1\s*\)"
)
_COMMENTED_ASSERT = re.compile(
    r"^\s*(?:#|//)\s*(?:assert|expect\s*\(|self\.assert|t\.(?:Error|Fatal))"
)
_SKIP = re.compile(
    r"@pytest\.mark\.(?:skip|skipif|xfail)\b|\bpytest\.(?:skip|xfail)\s*\(|@unittest\.skip\w*|"
    r"\bself\.skipTest\(|\b(?:it|describe|test|context)\.(?:skip|only|todo)\s*\(|"
    r"\bx(?:it|describe|test)\s*\(|\bf(?:it|describe)\s*\(|\bt\.Skip(?:f|Now)?\(|"
    r"@(?:Disabled|Ignore)\b|--deselect\b|\s-k\s+[\"']?not\b"
)
#: Skips that usually depend on the environment (a missing tool, another OS): worth a note.
_CONDITIONAL_SKIP = re.compile(
    r"skipif|\bpytest\.skip\s*\(|skipTest\(|\bt\.Skip(?:f|Now)?\(|xfail|skipUnless|skipIf"
)


_SKIP_HINTS = (
    "skip",
    "xfail",
    ".only",
    ".todo",
    "xit",
    "xdescribe",
    "xtest",
    "fit",
    "fdescribe",
    "disabled",
    "ignore",
    "deselect",
    "-k",
)
_ASSERT_HINTS = ("assert", "expect", "t.error", "t.fatal")


def _is_comment(text: str, path: str) -> bool:
    return text.lstrip().startswith(("#", "//")) and language_of(path) != "doc"


def _hunk_anchor(f: FileDiff, hunk: Hunk) -> Line | None:
    """The row a hunk-level finding points at: its first added row, else its first new-side row."""
    rows = [r for r in hunk.lines if r.new_no is not None and r.kind in "+ "]
    row = next((r for r in rows if r.kind == "+"), rows[0] if rows else None)
    if row is None or row.new_no is None:
        return None
    return Line(f.path, row.new_no, row.text, language_of(f.path), True, False)


def _count(rows: list[str], pattern: re.Pattern[str], path: str) -> int:
    return sum(1 for t in rows if pattern.search(t) and not _is_comment(t, path))


def detect(scope: Scope) -> list[Finding]:
    out: list[Finding] = []
    for f in scope.diff.files:
        test_file = is_test_path(f.path) or bool(f.old_path and is_test_path(f.old_path))
        if f.status == "deleted" and test_file:
            removed = [r.text for h in f.hunks for r in h.lines if r.kind == "-"]
            cases = _count(removed, _TEST_DEF, f.path)
            detail = f" with {cases} test case(s)" if cases else ""
            out.append(
                file_finding(
                    DELETED,
                    f.path,
                    f"Deletes the test file {f.path}{detail} ({f.deletions} lines). What it "
                    "checked is no longer checked; ask why before accepting.",
                )
            )
            continue
        if not test_file or language_of(f.path) not in CODE_LANGS:
            continue  # snapshots and fixtures under tests/ are data
        for hunk in f.hunks:
            minus = [r.text for r in hunk.lines if r.kind == "-"]
            plus = [r.text for r in hunk.lines if r.kind == "+"]
            anchor = _hunk_anchor(f, hunk)
            gone = _count(minus, _TEST_DEF, f.path) - _count(plus, _TEST_DEF, f.path)
            if gone > 0 and anchor is not None:
                out.append(
                    line_finding(
                        REMOVED,
                        anchor,
                        f"Removes {gone} test case(s) from {f.path}.",
                        quote=anchor.text.strip(),
                    )
                )
            lost = _count(minus, _ASSERT, f.path) - _count(plus, _ASSERT, f.path)
            weakened = lost > 0 and gone <= 0
            why = f"removes {lost} assertion(s) without replacing them"
            if not weakened and any(_STRICT.search(t) for t in minus):
                for t in plus:
                    if _WEAK.search(t) and not _STRICT.search(t):
                        weakened, why = True, "replaces an exact check with a looser one"
                        break
            if weakened and anchor is not None:
                out.append(
                    line_finding(
                        WEAKENED,
                        anchor,
                        f"This hunk {why}; the test now accepts more than it did.",
                        quote=anchor.text.strip(),
                    )
                )
    for added in scope.texts.values():
        test_file = added.rows[0].in_test
        if added.rows[0].lang not in CODE_LANGS:
            continue  # tests are code; docs and data only talk about them
        if not added.has_any(_SKIP_HINTS) and not (test_file and added.has_any(_ASSERT_HINTS)):
            continue
        for line in added.rows:
            if _SKIP.search(line.text) and not line.comment:
                conditional = bool(_CONDITIONAL_SKIP.search(line.text))
                out.append(
                    line_finding(
                        SKIPPED,
                        line,
                        "Skips (or focuses, which skips the others) tests; a skipped test "
                        "passes without checking anything."
                        + (
                            " Check that the condition is about the environment."
                            if conditional
                            else ""
                        ),
                        severity="note" if conditional else None,
                    )
                )
            elif test_file and (_TRIVIAL.search(line.text) or _COMMENTED_ASSERT.search(line.text)):
                out.append(
                    line_finding(
                        WEAKENED,
                        line,
                        "An assertion that cannot fail (or one commented out) checks nothing.",
                    )
                )
    return _dedupe(out)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.rule, f.file, f.start_line)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
