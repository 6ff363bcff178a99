"""The diff's and the critique's data (`reviewq.core.model`'s `DiffLine`, `Hunk`, `FileDiff`,
`Diff`, `Finding`, `Critique`), made when first asked for: a scan uses none of them, and making
six dataclasses is milliseconds of every command's start. Import them from `reviewq.core.model`
(its module `__getattr__` loads this file); their `__module__` is `reviewq.core.model`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reviewq.core.model import DiffStats


@dataclass(slots=True)
class DiffLine:
    """One row of a hunk. `kind` is '+', '-', ' ' or '\\' (no newline at end of file)."""

    __module__ = "reviewq.core.model"

    kind: str
    text: str
    old_no: int | None
    new_no: int | None


@dataclass(slots=True)
class Hunk:
    __module__ = "reviewq.core.model"

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def header(self) -> str:
        tail = f" {self.section}" if self.section else ""
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@{tail}"

    @property
    def additions(self) -> int:
        return sum(1 for line in self.lines if line.kind == "+")

    @property
    def deletions(self) -> int:
        return sum(1 for line in self.lines if line.kind == "-")

    def new_range(self) -> tuple[int, int]:
        """Inclusive new-side line range this hunk covers (empty hunks give (start, start-1))."""
        return self.new_start, self.new_start + self.new_count - 1


@dataclass(slots=True)
class FileDiff:
    """One file of a diff. `status` is added, deleted, modified, renamed or copied."""

    __module__ = "reviewq.core.model"

    path: str
    old_path: str | None
    status: str
    hunks: list[Hunk] = field(default_factory=list)
    is_binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    #: 'utf-8', or the fallback used when the file's diff was not valid UTF-8.
    encoding: str = "utf-8"
    #: True when the file's diff was larger than the reader keeps; hunks hold a prefix.
    truncated: bool = False
    #: sha256 of the file's diff text: a "viewed" mark keyed by it resets when the file changes.
    content_hash: str = ""
    #: (additions, deletions) counted without keeping rows, for truncated files.
    counted: tuple[int, int] | None = None

    def is_named(self, path: str | None) -> bool:
        """Whether `path` names this file: its new path, or its old one when it was renamed (a
        critic may cite either)."""
        return path is not None and path in (self.path, self.old_path)

    @property
    def additions(self) -> int:
        if self.counted is not None:
            return self.counted[0]
        return sum(h.additions for h in self.hunks)

    @property
    def deletions(self) -> int:
        if self.counted is not None:
            return self.counted[1]
        return sum(h.deletions for h in self.hunks)

    @property
    def mode_changed(self) -> bool:
        return bool(self.old_mode and self.new_mode and self.old_mode != self.new_mode)


@dataclass(slots=True)
class Diff:
    __module__ = "reviewq.core.model"

    files: list[FileDiff] = field(default_factory=list)

    @property
    def stats(self) -> DiffStats:
        return DiffStats(
            files=len(self.files),
            additions=sum(f.additions for f in self.files),
            deletions=sum(f.deletions for f in self.files),
            binary_files=sum(1 for f in self.files if f.is_binary),
        )

    @property
    def hunk_count(self) -> int:
        return sum(len(f.hunks) for f in self.files)

    def file(self, path: str) -> FileDiff | None:
        for f in self.files:
            if f.path == path:
                return f
        return None


# --------------------------------------------------------------------------------------------
# Critiques


@dataclass(slots=True)
class Finding:
    """One observation about a change, anchored to new-side lines where it can be.

    `quote` is verbatim new-side text; `verified` says the quote was found inside a hunk of the
    diff at the cited lines (CONTRACT), and `verification` says why or why not, in words.
    """

    __module__ = "reviewq.core.model"

    file: str | None
    start_line: int | None
    end_line: int | None
    severity: str
    label: str
    rule: str
    body: str
    quote: str = ""
    verified: bool = False
    verification: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "severity": self.severity,
            "label": self.label,
            "rule": self.rule,
            "body": self.body,
            "quote": self.quote,
            "verified": self.verified,
            "verification": self.verification,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            file=data.get("file"),
            start_line=data.get("start_line"),
            end_line=data.get("end_line"),
            severity=str(data.get("severity", "note")),
            label=str(data.get("label", "")),
            rule=str(data.get("rule", "")),
            body=str(data.get("body", "")),
            quote=str(data.get("quote") or ""),
            verified=bool(data.get("verified", False)),
            verification=str(data.get("verification") or ""),
        )


@dataclass(slots=True)
class Critique:
    """A critic's reading of one change (CONTRACT: the `critique --json` record).

    `sha` is None for an inbox patch (no commit yet); `change_id` is always set. `family_check`
    records the family guard's decision in words; `notes` say what the reviewer should know about
    the run itself (ruff unavailable, files not sent to a model, parts split by budget).
    """

    __module__ = "reviewq.core.model"

    sha: str | None
    critic: str
    family: str
    model: str | None
    author_family: str
    same_family_allowed: bool
    summary: str
    security_concerns: str
    tests_present: bool
    effort: int
    rationale: str
    findings: list[Finding] = field(default_factory=list)
    #: Files the critic did not read (token budget, never-send list), by name.
    skipped_files: list[str] = field(default_factory=list)
    prompt_version: str = "1"
    change_id: str = ""
    family_check: str = ""
    notes: list[str] = field(default_factory=list)
    #: When the critique was made (RFC 3339), set by the shell that ran it.
    created_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "sha": self.sha,
            "critic": self.critic,
            "family": self.family,
            "model": self.model,
            "author_family": self.author_family,
            "same_family_allowed": self.same_family_allowed,
            "summary": self.summary,
            "security_concerns": self.security_concerns,
            "tests_present": self.tests_present,
            "effort": self.effort,
            "rationale": self.rationale,
            "findings": [f.to_json() for f in self.findings],
            "skipped_files": list(self.skipped_files),
            "prompt_version": self.prompt_version,
            "change_id": self.change_id,
            "family_check": self.family_check,
            "notes": list(self.notes),
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Critique:
        return cls(
            sha=data.get("sha"),
            critic=str(data.get("critic", "")),
            family=str(data.get("family", "unknown")),
            model=data.get("model"),
            author_family=str(data.get("author_family", "unknown")),
            same_family_allowed=bool(data.get("same_family_allowed", False)),
            summary=str(data.get("summary", "")),
            security_concerns=str(data.get("security_concerns", "")),
            tests_present=bool(data.get("tests_present", False)),
            effort=int(data.get("effort", 1)),
            rationale=str(data.get("rationale", "")),
            findings=[Finding.from_json(f) for f in data.get("findings", [])],
            skipped_files=list(data.get("skipped_files", [])),
            prompt_version=str(data.get("prompt_version", "1")),
            change_id=str(data.get("change_id") or data.get("sha") or ""),
            family_check=str(data.get("family_check") or ""),
            notes=[str(n) for n in data.get("notes", [])],
            created_at=data.get("created_at"),
        )
