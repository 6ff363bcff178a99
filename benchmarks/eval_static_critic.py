"""The offline critic's recall and false positives on its evaluation set, per rule.

    .venv/bin/python benchmarks/eval_static_critic.py [--verbose]

The set lives in tests/critic_eval/cases (small diffs with planted issues, and clean ones);
tests/test_critic_eval.py holds the floors. Recall counts (case, expected rule) pairs found;
a false positive is any finding on a clean case; "extra" are rules reported on a planted case
that did not ask for them (often true, like an auth file's "access-control-changed").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.critics.static import StaticCritic  # noqa: E402
from tests.critic_eval.harness import evaluate, load_cases  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true", help="list every finding on clean cases")
    args = parser.parse_args()
    cases = load_cases()
    start = time.perf_counter()
    report = evaluate(StaticCritic(), cases)
    elapsed = time.perf_counter() - start
    print(
        f"cases: {report.planted} planted, {report.clean} clean "
        f"({elapsed * 1000 / len(cases):.1f} ms per case)"
    )
    print(f"recall: {report.found}/{report.expected} = {report.recall:.1%}")
    print(
        f"false positives: {report.clean_findings} finding(s) on "
        f"{len(report.clean_cases_flagged)}/{report.clean} clean case(s)"
    )
    print(f"extra rules on planted cases: {len(report.extra)}")
    print()
    print(f"{'rule':28} {'expected':>8} {'found':>6} {'recall':>7} {'FP':>4} {'extra':>6}")
    for rule_id in sorted(report.rules):
        s = report.rules[rule_id]
        recall = f"{s.found / s.expected:.0%}" if s.expected else "-"
        print(
            f"{rule_id:28} {s.expected:>8} {s.found:>6} {recall:>7} {s.false_positives:>4} {s.extra:>6}"
        )
    if report.missed:
        print("\nmissed:")
        for name, rule_id in report.missed:
            print(f"  {name}: {rule_id}")
    if report.extra:
        print("\nextra:")
        for name, rule_id in report.extra:
            print(f"  {name}: {rule_id}")
    if args.verbose or report.clean_cases_flagged:
        for name in report.clean_cases_flagged:
            for f in report.critiques[name].findings:
                print(f"  FP {name}: {f.rule} {f.file}:{f.start_line} {f.quote[:80]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
