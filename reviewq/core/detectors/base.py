"""What every offline detector shares: the rule registry, the lines it reads, finding builders.

A detector is a pure function `Scope -> list[Finding]`. It reads the diff's rows (added lines for
line rules, file statuses for file rules), the originating prompt and the commit message, and
reports only what the change introduced: a finding always sits on an added line, or describes a
whole file or the whole change.
"""

from __future__ import annotations

import io
import re
import tokenize
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath

from reviewq.core.model import Diff, FileDiff, Finding
from reviewq.core.risk import is_lockfile, is_test_path

SEVERITY_ORDER = {"note": 0, "warning": 1, "error": 2, "critical": 3}
#: Rules read this much of a row. Minified and generated files have rows of 70,000 characters,
#: where some patterns cost quadratic time; known key formats still scan the whole row.
MAX_LINE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One rule: its id (what findings carry), default severity, label and a one-line title."""

    id: str
    severity: str
    label: str
    title: str


#: Every rule the offline critic can report, by id (the evaluation reports per rule).
RULES: dict[str, RuleInfo] = {}


def rule(rule_id: str, severity: str, label: str, title: str) -> RuleInfo:
    info = RuleInfo(rule_id, severity, label, title)
    RULES[rule_id] = info
    return info


_LANG_BY_SUFFIX = {
    ".py": "python",
    ".pyi": "python",
    ".js": "js",
    ".jsx": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".ts": "js",
    ".tsx": "js",
    ".mts": "js",
    ".cts": "js",
    ".go": "go",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".ksh": "shell",
    ".ps1": "shell",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".md": "doc",
    ".markdown": "doc",
    ".rst": "doc",
    ".txt": "doc",
    ".adoc": "doc",
    ".svg": "doc",
    ".ini": "env",
    ".cfg": "env",
    ".conf": "env",
    ".properties": "env",
    ".toml": "toml",
    ".json": "json",
}
_LANG_BY_NAME = {
    "dockerfile": "shell",
    "makefile": "shell",
    "gnumakefile": "shell",
    "jenkinsfile": "shell",
    "procfile": "shell",
}


def language_of(path: str) -> str:
    """A coarse language for choosing rules: python, js, go, shell, yaml, doc, env, ... or other."""
    p = PurePosixPath(path)
    name = p.name.lower()
    if name in _LANG_BY_NAME or name.startswith("dockerfile") or name.endswith(".dockerfile"):
        return _LANG_BY_NAME.get(name, "shell")
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    return _LANG_BY_SUFFIX.get(p.suffix.lower(), "other")


#: Languages whose lines are program text (patterns for code apply); docs and data are not.
CODE_LANGS = frozenset({"python", "js", "go", "shell", "yaml", "other"})

_COMMENT = {
    "python": re.compile(r"^\s*#"),
    "shell": re.compile(r"^\s*#"),
    "yaml": re.compile(r"^\s*#"),
    "env": re.compile(r"^\s*[#;]"),
    "toml": re.compile(r"^\s*#"),
    "js": re.compile(r"^\s*(//|/\*|\*)"),
    "go": re.compile(r"^\s*(//|/\*|\*)"),
}


@dataclass(frozen=True, slots=True)
class Line:
    """One added row of the diff, with what rules need to know about where it sits."""

    path: str
    no: int
    text: str
    lang: str
    in_test: bool
    comment: bool
    #: The whole row is inside a multi-line string (a docstring, a template): data, not code.
    in_string: bool = False
    #: The whole row when `text` had to be cut at MAX_LINE_CHARS, else None.
    full: str | None = None


@dataclass
class AddedText:
    """A file's added rows joined into one text, so a rule scans a file in one regex call
    (per-line calls cost more than the matching itself on a large diff)."""

    rows: list[Line]
    text: str
    starts: list[int]

    @classmethod
    def of(cls, rows: list[Line]) -> AddedText:
        starts, pos = [], 0
        for row in rows:
            starts.append(pos)
            pos += len(row.text) + 1
        return cls(rows, "\n".join(r.text for r in rows), starts)

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    def has_any(self, words: tuple[str, ...]) -> bool:
        """Cheap pre-check: does the text contain any of these lower-case substrings?"""
        low = self.lower
        return any(w in low for w in words)

    def row_at(self, offset: int) -> Line:
        return self.rows[bisect_right(self.starts, offset) - 1]

    def matches(self, regex: re.Pattern[str]) -> Iterator[tuple[Line, re.Match[str]]]:
        """(row, match) for every match; a match belongs to the row it starts on."""
        if not self.rows:
            return
        for m in regex.finditer(self.text):
            yield self.row_at(m.start()), m


@dataclass
class Scope:
    """What the offline critic reads: the diff, the request and the commit message.

    `new_texts` holds whole new-side file contents where the shell could read them (Python files,
    for ruff and `ast`); detectors that need only rows ignore it.
    """

    diff: Diff
    prompt: str | None = None
    message: str = ""
    new_texts: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def added(self) -> dict[str, list[Line]]:
        """path -> added lines, in order (binary and truncated files have none)."""
        out: dict[str, list[Line]] = {}
        for f in self.diff.files:
            text = self.new_texts.get(f.path)
            inside = (
                python_string_lines(text) if text and language_of(f.path) == "python" else set()
            )
            out[f.path] = list(_added_lines(f, inside))
        return out

    @cached_property
    def texts(self) -> dict[str, AddedText]:
        return {path: AddedText.of(rows) for path, rows in self.added.items() if rows}

    def lines(self) -> Iterator[Line]:
        for rows in self.added.values():
            yield from rows

    @cached_property
    def changed_lines(self) -> int:
        return sum(f.additions + f.deletions for f in self.diff.files if not is_lockfile(f.path))


def python_string_lines(text: str) -> set[int]:
    """Line numbers lying inside a multi-line Python string (a docstring, a template).

    The first line counts only when nothing but the quotes starts it (a docstring); otherwise
    it holds code before the quotes. Text that does not tokenize gives what was found before
    the error.
    """
    if '"""' not in text and "'''" not in text:
        return set()
    lines: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                first = tok.start[0] + (0 if not tok.line[: tok.start[1]].strip() else 1)
                lines.update(range(first, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return lines


def _added_lines(f: FileDiff, inside_strings: set[int] = frozenset()) -> Iterator[Line]:  # type: ignore[assignment]
    lang = language_of(f.path)
    in_test = is_test_path(f.path)
    comment = _COMMENT.get(lang)
    for hunk in f.hunks:
        for row in hunk.lines:
            if row.kind == "+" and row.new_no is not None:
                long = len(row.text) > MAX_LINE_CHARS
                yield Line(
                    f.path,
                    row.new_no,
                    row.text[:MAX_LINE_CHARS] if long else row.text,
                    lang,
                    in_test,
                    bool(comment and comment.match(row.text)),
                    row.new_no in inside_strings,
                    row.text if long else None,
                )


_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|`[^`\n]*`")


def strip_strings(text: str) -> str:
    """`text` with the contents of one-line string literals emptied: rules about identifiers
    and control flow must not fire on prose or data inside quotes."""
    return _STRING.sub('""', text)


def lowered(severity: str) -> str:
    """One step less severe (a risky pattern inside a test is usually a fixture)."""
    order = list(SEVERITY_ORDER)
    return order[max(0, SEVERITY_ORDER[severity] - 1)]


def line_finding(
    info: RuleInfo,
    line: Line,
    body: str,
    *,
    severity: str | None = None,
    end: int | None = None,
    quote: str | None = None,
) -> Finding:
    sev = severity or info.severity
    if line.in_test and severity is None and info.label == "security":
        sev = lowered(sev)
    return Finding(
        file=line.path,
        start_line=line.no,
        end_line=end or line.no,
        severity=sev,
        label=info.label,
        rule=info.id,
        body=body,
        quote=(quote if quote is not None else line.text.strip())[:300],
    )


def file_finding(
    info: RuleInfo, path: str | None, body: str, *, severity: str | None = None
) -> Finding:
    """A finding about a whole file (or, with `path=None`, about the whole change)."""
    return Finding(
        file=path,
        start_line=None,
        end_line=None,
        severity=severity or info.severity,
        label=info.label,
        rule=info.id,
        body=body,
    )
