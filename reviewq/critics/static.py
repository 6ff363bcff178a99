"""The offline critic, family `rules`: the embedded default. No network, no key.

It runs the pure detectors of `reviewq.core.detectors` (secrets, dangerous patterns, weakened
tests, CI and access-control changes, Trojan Source, prompt injection, intent against the prompt)
and ruff's security and bug rules on changed Python files, keeps findings on changed lines only,
verifies each against the hunks, and attaches the offline structural rationale.
"""

from __future__ import annotations

from collections.abc import Callable

from reviewq.core import detectors
from reviewq.core.critique import (
    CritiqueInput,
    review_effort,
    security_concerns,
    static_summary,
    tests_present,
    verify_findings,
)
from reviewq.core.detectors.base import Scope
from reviewq.core.model import Critique, Finding
from reviewq.core.rationale import build_rationale
from reviewq.critics.ruff import NO_RUFF, RuffResult, find_ruff, run_ruff


class StaticCritic:
    name = "static"
    family = "rules"
    model = None

    def __init__(
        self,
        *,
        ruff: Callable[..., RuffResult] = run_ruff,
        ruff_binary: Callable[[], str | None] = find_ruff,
    ) -> None:
        self._ruff = ruff
        self._binary = ruff_binary()
        # Whether ruff is there changes what the critique can find: part of the cache key.
        self.prompt_version = f"{detectors.RULES_VERSION}+{'ruff' if self._binary else 'noruff'}"

    def review(self, subject: CritiqueInput) -> Critique:
        scope = Scope(
            diff=subject.diff,
            prompt=subject.prompt,
            message=subject.message,
            new_texts=subject.new_texts,
        )
        findings = detectors.run(scope)
        notes: list[str] = []
        python = {
            path: text
            for path, text in subject.new_texts.items()
            if path.endswith((".py", ".pyi")) and path in scope.added
        }
        if python and self._binary is None:
            notes.append(NO_RUFF)
        elif python:
            added = {path: {row.no for row in scope.added[path]} for path in python}
            result = self._ruff(python, added, binary=self._binary)
            if result.problem:
                notes.append(result.problem)
            findings = _merge(findings, result.findings)
        findings = verify_findings(subject.diff, findings, trust_uncited=True)
        findings.sort(key=detectors.sort_key)
        rationale = build_rationale(
            subject.diff,
            message=subject.message,
            prompt=subject.prompt,
            prompt_source=subject.prompt_source,
            old_texts=subject.old_texts,
            new_texts=subject.new_texts,
        )
        return Critique(
            sha=subject.sha,
            critic=self.name,
            family=self.family,
            model=None,
            author_family=subject.author_family,
            same_family_allowed=False,
            summary=static_summary(subject.diff, findings),
            security_concerns=security_concerns(findings),
            tests_present=tests_present(subject.diff),
            effort=review_effort(subject.diff, findings),
            rationale=rationale.to_text(),
            findings=findings,
            notes=notes,
        )


def _merge(own: list[Finding], ruff: list[Finding]) -> list[Finding]:
    """One finding per (rule, file, line): where ruff and a rule agree, the rule's text stays
    and ruff's code is named in it."""
    by_key = {(f.rule, f.file, f.start_line): f for f in own}
    out = list(own)
    for f in ruff:
        key = (f.rule, f.file, f.start_line)
        if key in by_key:
            mine = by_key[key]
            code = f.body.rsplit("(ruff ", 1)[-1].rstrip(")")
            if "ruff" not in mine.body:
                mine.body += f" (also ruff {code})"
            continue
        by_key[key] = f
        out.append(f)
    return out
