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
from reviewq.core.rationale import subject_rationale
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
        rationale = subject_rationale(subject)
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
    """One finding per concern and statement: where ruff and a rule agree (same rule id, same
    file, the rule's line inside ruff's statement), the rule's text stays and ruff's code is
    named in it."""
    out = list(own)
    for f in ruff:
        mine = next(
            (
                o
                for o in own
                if o.rule == f.rule
                and o.file == f.file
                and o.start_line is not None
                and f.start_line is not None
                # ruff marks where a call starts; the rule, the argument that makes it risky.
                and f.start_line <= o.start_line <= max(f.end_line or 0, f.start_line + 10)
            ),
            None,
        )
        if mine is None:
            out.append(f)
            continue
        code = f.body.rsplit("(ruff ", 1)[-1].rstrip(")")
        if "ruff" not in mine.body:
            mine.body += f" (also ruff {code})"
    return out
