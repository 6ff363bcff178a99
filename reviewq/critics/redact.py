"""Secrets never leave the machine: what a model critic may send, and what it may not.

Before any network call the diff, the prompt and the commit message pass through the offline
critic's secret detectors; every hit is replaced by a numbered placeholder
(`[REDACTED-3:secret-aws-access-key]`). Files matching the never-send globs are dropped whole and
listed by name. The placeholders' originals stay in a local map, so a model's quote of a redacted
line can still be verified against the real diff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from reviewq.core.detectors.base import language_of
from reviewq.core.detectors.secrets import BARE_LANGS, may_contain_secret, scan_lines
from reviewq.core.model import Diff, DiffLine, FileDiff, Hunk

_PLACEHOLDER = re.compile(r"\[REDACTED-(\d+):[\w-]+\]")


@dataclass
class Redactor:
    """Replaces secrets with numbered placeholders and remembers the originals (locally)."""

    originals: dict[int, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.originals)

    def lines(self, lines: Sequence[str], *, bare: bool = False) -> list[str]:
        if not may_contain_secret("\n".join(lines)):
            return list(lines)
        out = []
        for text, hits in zip(lines, scan_lines(lines, bare=bare)):
            for hit in sorted(hits, key=lambda h: -h.start):
                n = len(self.originals) + 1
                self.originals[n] = text[hit.start : hit.end]
                text = f"{text[: hit.start]}[REDACTED-{n}:{hit.rule}]{text[hit.end :]}"
            out.append(text)
        return out

    def text(self, text: str | None) -> str | None:
        if text is None:
            return None
        return "\n".join(self.lines(text.split("\n"), bare=True))

    def restore(self, text: str) -> str:
        """A model's quote with our placeholders put back to the original text."""
        return _PLACEHOLDER.sub(lambda m: self.originals.get(int(m.group(1)), m.group(0)), text)

    def file(self, fd: FileDiff) -> FileDiff:
        """A copy of `fd` whose rows carry no secrets (key blocks followed across rows)."""
        rows = [r for h in fd.hunks for r in h.lines]
        texts = self.lines([r.text for r in rows], bare=language_of(fd.path) in BARE_LANGS)
        if all(t is r.text or t == r.text for t, r in zip(texts, rows)):
            return fd
        it = iter(texts)
        hunks = [
            Hunk(
                h.old_start,
                h.old_count,
                h.new_start,
                h.new_count,
                h.section,
                [DiffLine(r.kind, next(it), r.old_no, r.new_no) for r in h.lines],
            )
            for h in fd.hunks
        ]
        return replace(fd, hunks=hunks)


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """gitignore-like globs: `*` within a segment, `**` across segments, no slash = any dir."""
    pat = pattern.strip().lstrip("/")
    anchored = "/" in pattern.strip().rstrip("/")
    out = []
    i = 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pat.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out)
    if pat.endswith("/"):
        body += ".*"
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$")


def never_send(path: str, globs: Iterable[str]) -> bool:
    return any(_glob_regex(g).match(path) for g in globs)


@dataclass
class Outgoing:
    """What may leave the machine for one critique, and what was held back."""

    diff: Diff
    prompt: str | None
    message: str
    held_back: list[str]
    redactor: Redactor


def prepare_outgoing(
    diff: Diff, prompt: str | None, message: str, globs: Sequence[str]
) -> Outgoing:
    """The redacted diff, prompt and message, with never-send files dropped (named only)."""
    redactor = Redactor()
    kept: list[FileDiff] = []
    held: list[str] = []
    for fd in diff.files:
        if any(never_send(p, globs) for p in (fd.path, fd.old_path) if p):
            held.append(fd.path)
            continue
        kept.append(redactor.file(fd))
    return Outgoing(
        diff=Diff(kept),
        prompt=redactor.text(prompt),
        message=redactor.text(message) or "",
        held_back=held,
        redactor=redactor,
    )
