"""Critiques as data: which critic may judge which author, what a critique's findings are worth,
and the summary fields every critic fills the same way.

Pure functions over `Diff` and `Finding`: the family guard (a critic must not share the author's
family), verification of each finding against the real hunks (a quote not on the new side, or a
range outside every hunk, is *unverified* and never shown as fact), cache keys, and the summary,
effort, tests and security fields of the offline critic.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from reviewq.core.detectors.base import RULES, SEVERITY_ORDER
from reviewq.core.model import Diff, FileDiff, Finding
from reviewq.core.pace import pause
from reviewq.core.risk import is_lockfile, is_test_path

#: Families that say nothing about a model's lineage: never "the same" as anything.
_NOT_A_LINEAGE = frozenset({"unknown", "other"})


# -- what a critic reads -----------------------------------------------------------------------


@dataclass(frozen=True)
class CritiqueInput:
    """Everything a critic may read about one change, already gathered by the shell.

    `old_texts`/`new_texts` hold whole file contents where the shell could read them (keyed by
    the old and new path); critics that need only the diff ignore them.
    """

    change_id: str
    sha: str | None
    message: str
    prompt: str | None
    prompt_source: str | None
    author_family: str
    diff: Diff
    old_texts: Mapping[str, str] = field(default_factory=dict)
    new_texts: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def diff_digest(self) -> str:
        return diff_hash(self.diff)

    @cached_property
    def input_key(self) -> str:
        """The diff and the request it is judged against (intent checks read the prompt)."""
        return f"{self.diff_digest[:32]}:{text_hash(self.prompt)}"


# -- identity of what was critiqued ------------------------------------------------------------


def diff_hash(diff: Diff) -> str:
    """sha256 over each file's path, status and diff text hash: equal diffs, equal hash."""
    h = hashlib.sha256()
    for f in diff.files:
        h.update(f"{f.path}\0{f.old_path or ''}\0{f.status}\0{f.content_hash}\n".encode())
    return h.hexdigest()


def text_hash(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:16]


def cache_key(input_key: str, critic: str, model: str | None, prompt_version: str) -> str:
    """What a cached critique is valid for: the diff and the request it is judged against
    (`CritiqueInput.input_key`), the critic, its model and the critic's prompt/rules version."""
    return f"{input_key}:{critic}:{model or '-'}:{prompt_version}"


# -- the family guard --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FamilyDecision:
    allowed: bool
    #: True when critic and author are known to share a family.
    same_family: bool
    #: One sentence for the reviewer (and the record): why this critic may or may not judge.
    note: str


def check_family(
    author_family: str, critic_family: str, *, allow_same_family: bool = False
) -> FamilyDecision:
    """May a critic of `critic_family` judge a change by `author_family`?

    LLM judges favour their own family's output (Panickssery et al. 2024), so the same family is
    refused unless explicitly allowed, and an allowed exception is recorded. An unknown author
    family cannot be compared: any critic may run, and the critique says so.
    """
    if author_family in _NOT_A_LINEAGE:
        return FamilyDecision(
            True,
            False,
            f"author family {author_family}: any critic is allowed, but a shared blind spot "
            "cannot be ruled out",
        )
    if critic_family in _NOT_A_LINEAGE:
        return FamilyDecision(
            True,
            False,
            f"critic family {critic_family}: could not confirm it differs from the author's "
            f"({author_family}); set the critic's family in [critic] to be sure",
        )
    if critic_family != author_family:
        return FamilyDecision(
            True, False, f"critic family {critic_family} differs from author {author_family}"
        )
    if allow_same_family:
        return FamilyDecision(
            True,
            True,
            f"same family ({critic_family}) as the author, explicitly allowed: expect shared "
            "blind spots",
        )
    return FamilyDecision(
        False,
        True,
        f"critic family {critic_family} is the author's own family",
    )


# -- verification against the hunks ------------------------------------------------------------

_WS = re.compile(r"\s+")
#: A model quoting our rendered diff may copy its line-number column and +/- marker.
_RENDER_PREFIX = re.compile(r"^\s*\d*\s*[+ -]?\|?\s?")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _quote_lines(quote: str, strip_prefix: bool) -> list[str]:
    lines = []
    for raw in quote.replace("\r\n", "\n").split("\n"):
        text = _RENDER_PREFIX.sub("", raw, count=1) if strip_prefix else raw
        if _norm(text):
            lines.append(_norm(text))
    return lines


Blocks = list[list[tuple[int, str]]]


class _Rows:
    """Each file's normalised rows, built once for all the findings checked against a diff
    (normalising every row again for each finding made a critique of 10,000 findings on a
    50,000-line diff take minutes)."""

    def __init__(self) -> None:
        self._new: dict[int, Blocks] = {}
        self._old: dict[int, Blocks] = {}

    def new(self, f: FileDiff) -> Blocks:
        found = self._new.get(id(f))
        if found is None:
            found = self._new[id(f)] = _new_rows(f)
        return found

    def old(self, f: FileDiff) -> Blocks:
        found = self._old.get(id(f))
        if found is None:
            found = self._old[id(f)] = _old_rows(f)
        return found


def _new_rows(f: FileDiff) -> Blocks:
    """Per hunk, its new-side rows (added and context) as (line number, normalised text)."""
    return [
        [(r.new_no, _norm(r.text)) for r in h.lines if r.kind in "+ " and r.new_no is not None]
        for h in f.hunks
    ]


def _old_rows(f: FileDiff) -> Blocks:
    return [
        [(r.old_no, _norm(r.text)) for r in h.lines if r.kind in "- " and r.old_no is not None]
        for h in f.hunks
    ]


def find_quote(blocks: list[list[tuple[int, str]]], quote: str) -> list[tuple[int, int]]:
    """Where `quote` appears (line ranges), matching consecutive rows of one hunk.

    Whitespace is normalised and the first and last quoted lines may be partial, because models
    quote fragments; middle lines must match whole.
    """
    for strip in (False, True):
        wanted = _quote_lines(quote, strip)
        if not wanted:
            return []
        found: list[tuple[int, int]] = []
        n = len(wanted)
        first = wanted[0]
        for rows in blocks:
            if n == 1:
                found.extend((number, number) for number, text in rows if first in text)
                continue
            for i in range(len(rows) - n + 1):
                if not rows[i][1].endswith(first):
                    continue
                window = rows[i : i + n]
                ok = True
                for j in range(1, n):
                    text, want = window[j][1], wanted[j]
                    ok = text.startswith(want) if j == n - 1 else text == want
                    if not ok:
                        break
                if ok:
                    found.append((window[0][0], window[-1][0]))
        if found:
            return found
    return []


def _overlaps(a: tuple[int, int], b: tuple[int, int], slack: int = 0) -> bool:
    return a[0] <= b[1] + slack and b[0] <= a[1] + slack


def verify_finding(
    diff: Diff, finding: Finding, *, trust_uncited: bool = False, rows: _Rows | None = None
) -> Finding:
    """The finding with `verified` and `verification` set (lines filled in from the quote).

    `trust_uncited` is for critics whose uncited findings are computed from the diff itself (the
    offline rules: "this change deletes a test file"); a model's claim with nothing to check is
    never shown as fact. `rows` shares normalised rows between the findings of one diff.
    """
    rows = rows if rows is not None else _Rows()
    quote = finding.quote or ""
    if finding.file is None:
        if quote.strip():
            for f in diff.files:
                spots = find_quote(rows.new(f), quote)
                if spots:
                    return replace(
                        finding,
                        verified=True,
                        verification=f"quote found in {f.path} at {_span(spots[0])}",
                    )
            return replace(finding, verified=False, verification="quote not found in the diff")
        return replace(
            finding,
            verified=trust_uncited,
            verification="about the whole change" + ("" if trust_uncited else "; nothing cited"),
        )
    fd = diff.file(finding.file)
    if fd is None:
        fd = next((f for f in diff.files if f.old_path == finding.file), None)
    if fd is None:
        return replace(finding, verified=False, verification="file is not part of this diff")
    start, end = finding.start_line, finding.end_line
    if start is not None and end is None:
        end = start
    if start is None and end is not None:
        start = end
    if start is not None and end is not None and end < start:
        start, end = end, start
    hunk_ranges = [(block[0][0], block[-1][0]) for block in rows.new(fd) if block]
    if fd.status == "deleted" or (start is None and not quote.strip()):
        if quote.strip():
            spots = find_quote(rows.old(fd), quote)
            ok = bool(spots)
            why = "quote found on the old side of a deleted file" if ok else "quote not found"
            if fd.status != "deleted" and ok:
                why = "quote is on removed lines only"
                ok = False
            return replace(finding, start_line=None, end_line=None, verified=ok, verification=why)
        return replace(
            finding,
            verified=trust_uncited,
            verification="about the whole file" + ("" if trust_uncited else "; nothing cited"),
        )
    if start is not None and end is not None and start < 1:
        return replace(finding, verified=False, verification=f"line {start} does not exist")
    in_hunk = start is None or any(
        _overlaps((start, end), r)
        for r in hunk_ranges  # type: ignore[arg-type]
    )
    if not quote.strip():
        if not in_hunk:
            return replace(
                finding, verified=False, verification=f"lines {start}-{end} are outside every hunk"
            )
        return replace(
            finding,
            verified=trust_uncited,
            verification="inside a hunk" + ("" if trust_uncited else "; no quote to check"),
        )
    spots = find_quote(rows.new(fd), quote)
    if not spots:
        removed = find_quote(rows.old(fd), quote)
        why = "quote is on removed lines, not the new side" if removed else "quote not found"
        if not in_hunk:
            why += f"; lines {start}-{end} are outside every hunk"
        return replace(finding, verified=False, verification=why)
    if start is None:
        s, e = spots[0]
        return replace(
            finding,
            start_line=s,
            end_line=e,
            verified=True,
            verification=f"quote at {_span((s, e))}",
        )
    if not in_hunk:
        return replace(
            finding,
            verified=False,
            verification=f"lines {start}-{end} are outside every hunk (the quote is at "
            f"{_span(spots[0])})",
        )
    near = [s for s in spots if _overlaps((start, end), s, slack=2)]  # type: ignore[arg-type]
    if not near:
        return replace(
            finding,
            verified=False,
            verification=f"quote is at {_span(spots[0])}, not at the cited {_span((start, end))}",
        )
    return replace(
        finding, start_line=start, end_line=end, verified=True, verification="quote found"
    )


def _span(r: tuple[int, int]) -> str:
    return f"line {r[0]}" if r[0] == r[1] else f"lines {r[0]}-{r[1]}"


def verify_findings(
    diff: Diff, findings: Iterable[Finding], *, trust_uncited: bool = False
) -> list[Finding]:
    rows = _Rows()
    out = []
    for i, f in enumerate(findings):
        if i % 200 == 0:
            pause()
        out.append(verify_finding(diff, f, trust_uncited=trust_uncited, rows=rows))
    return out


# -- summary fields ----------------------------------------------------------------------------


def tests_present(diff: Diff) -> bool:
    """The change adds or changes test code (deleting a test file is not testing)."""
    return any(is_test_path(f.path) and f.additions > 0 for f in diff.files)


def _shape(text: str) -> str:
    return re.sub(r"\d+(\.\d+)?", "0", re.sub(r"\"[^\"]*\"|'[^']*'", "s", text.strip()))


def effective_lines(diff: Diff) -> int:
    """Changed lines a person must read: lockfiles skipped, table-like runs counted lightly.

    A file whose added rows nearly all share one shape (a generated table) reads like a few
    rows, not hundreds.
    """
    total = 0
    for f in diff.files:
        if is_lockfile(f.path):
            continue
        added = [r.text for h in f.hunks for r in h.lines if r.kind == "+"]
        if len(added) >= 50:
            common = Counter(_shape(t) for t in added).most_common(1)[0][1]
            if common >= 0.8 * len(added):
                total += (len(added) - common) + common // 20 + f.deletions
                continue
        total += f.additions + f.deletions
    return total


def review_effort(diff: Diff, findings: Sequence[Finding] = ()) -> int:
    """1 (short and easy) .. 5 (long and hard), PR-Agent's scale, from size and severity."""
    lines = effective_lines(diff)
    effort = (
        1 if lines <= 15 else 2 if lines <= 60 else 3 if lines <= 200 else 4 if lines <= 500 else 5
    )
    if any(SEVERITY_ORDER.get(f.severity, 0) >= 2 for f in findings):
        effort += 1
    return max(1, min(5, effort))


def security_concerns(findings: Sequence[Finding]) -> str:
    """'No', or 'Header: text' for the most severe security finding plus how many more."""
    worst = sorted(
        (
            f
            for f in findings
            if f.label == "security" and f.verified and SEVERITY_ORDER.get(f.severity, 0) >= 1
        ),
        key=lambda f: -SEVERITY_ORDER.get(f.severity, 0),
    )
    if not worst:
        return "No"
    titles: list[str] = []
    for f in worst:
        title = RULES[f.rule].title if f.rule in RULES else f.rule
        if title not in titles:
            titles.append(title)
    head = worst[0]
    where = f" ({head.file}:{head.start_line})" if head.file and head.start_line else ""
    first = f"{titles[0][0].upper()}{titles[0][1:]}{where}"
    if len(titles) > 1:
        return f"{first}; also {', '.join(titles[1:4])}" + (
            f" and {len(titles) - 4} more" if len(titles) > 4 else ""
        )
    return first


def severity_counts(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    return ", ".join(
        f"{counts[s]} {s}" for s in sorted(counts, key=lambda s: -SEVERITY_ORDER.get(s, 0))
    )


def static_summary(diff: Diff, findings: Sequence[Finding]) -> str:
    stats = diff.stats
    size = f"{stats.files} file(s), +{stats.additions}/-{stats.deletions}"
    if not findings:
        return f"{size}. No offline rule matched the added lines."
    titles: list[str] = []
    for f in sorted(findings, key=lambda f: -SEVERITY_ORDER.get(f.severity, 0)):
        title = RULES[f.rule].title if f.rule in RULES else f.rule
        if title not in titles:
            titles.append(title)
    more = f" and {len(titles) - 6} more" if len(titles) > 6 else ""
    return (
        f"{size}. {len(findings)} finding(s) ({severity_counts(findings)}): "
        f"{'; '.join(titles[:6])}{more}."
    )
