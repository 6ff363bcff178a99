"""The offline critic against its evaluation set: planted issues found, clean changes left alone.

The floors are set a little under what the critic achieves today, so a rule change that loses
recall or adds noise fails here; `benchmarks/eval_static_critic.py` prints the per-rule figures.
"""

from __future__ import annotations

import pytest

from reviewq.core.detectors import RULES
from reviewq.critics.static import StaticCritic
from tests.critic_eval.harness import load_cases

RECALL_FLOOR = 0.95
CLEAN_FINDINGS_CEILING = 1


@pytest.fixture(scope="module")
def report():
    from tests.critic_eval.harness import evaluate

    return evaluate(StaticCritic(), load_cases())


def test_the_set_is_large_enough_and_well_formed() -> None:
    cases = load_cases()
    planted = [c for c in cases if not c.clean]
    clean = [c for c in cases if c.clean]
    assert len(planted) >= 30 and len(clean) >= 15
    for case in planted:
        unknown = set(case.expect) - set(RULES)
        assert not unknown, f"{case.name} expects unregistered rules {unknown}"
    # Every line-level rule the set relies on is exercised by at least one planted case.
    assert len({r for c in planted for r in c.expect}) >= 35


def test_recall_floor(report) -> None:
    assert report.recall >= RECALL_FLOOR, f"missed: {report.missed}"


def test_false_positive_ceiling_on_clean_changes(report) -> None:
    assert report.clean_findings <= CLEAN_FINDINGS_CEILING, report.clean_cases_flagged


def test_every_finding_in_the_set_is_verified_against_its_diff(report) -> None:
    for name, critique in report.critiques.items():
        for f in critique.findings:
            assert f.verified, (name, f.rule, f.verification)
