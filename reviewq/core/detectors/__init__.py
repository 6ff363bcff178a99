"""The offline critic's rules: pure text analysis of a diff, its prompt and its message.

`run(scope)` applies every detector and returns findings in a stable order (file, line, rule).
Each detector module registers its rules in `base.RULES`, so the evaluation can report per rule.
"""

from __future__ import annotations

from reviewq.core.detectors import (
    dangerous,
    injection,
    intent,
    secrets,
    sensitive,
    testing,
    unicode,
)
from reviewq.core.detectors.base import RULES, SEVERITY_ORDER, RuleInfo, Scope
from reviewq.core.model import Finding
from reviewq.core.pace import pause

#: Bump when a rule changes, so cached static critiques are recomputed.
RULES_VERSION = "2026.11.1"

DETECTORS = (
    secrets.detect,
    dangerous.detect,
    testing.detect,
    sensitive.detect,
    unicode.detect,
    injection.detect,
    intent.detect,
)


def sort_key(f: Finding) -> tuple:
    return (
        f.file is not None,
        f.file or "",
        f.start_line if f.start_line is not None else -1,
        -SEVERITY_ORDER.get(f.severity, 0),
        f.rule,
    )


def run(scope: Scope) -> list[Finding]:
    findings: list[Finding] = []
    for detector in DETECTORS:
        pause()
        findings.extend(detector(scope))
    return sorted(findings, key=sort_key)


__all__ = ["RULES", "RULES_VERSION", "RuleInfo", "Scope", "run", "sort_key"]
