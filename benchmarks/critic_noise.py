"""False alarms of the static critic and the risk score on real history.

Runs the offline critic on the newest N commits of a repository (a public one: the search
tool's `fetch` gives a git directory; clone it locally first, `git clone -q GITDIR /tmp/x`)
and the risk score on each. Real merged commits are taken as clean: every critical or high
finding is a candidate false alarm, printed so a person can judge it. Prints findings per 100
changes by rule and severity, and how many changes the risk score calls high.

Run: .venv/bin/python benchmarks/critic_noise.py REPO [-n 200]
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewq.context import Context  # noqa: E402
from reviewq.core.model import Authorship, Change, DiffStats  # noqa: E402
from reviewq.core.risk import assess  # noqa: E402
from reviewq.critics.static import StaticCritic  # noqa: E402
from reviewq.sources.git_log import commit_stats  # noqa: E402
from reviewq.workflow.critiquing import critique_input  # noqa: E402
from reviewq.workflow.lookup import lookup  # noqa: E402


def as_change(ctx: Context, found) -> Change:
    """Every commit as if an agent had made it: the critic reads all of them."""
    if found.change is not None:
        return found.change
    sha = found.commit.sha
    stats, files = commit_stats(ctx.git, [sha]).get(sha, (DiffStats(), ()))
    authorship = Authorship("other", None, "unknown", "primary", "low", ())
    return Change(id=sha, commit=found.commit, authorship=authorship, stats=stats, files=files)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--show", action="store_true", help="print every critical/high finding")
    args = parser.parse_args()
    shas = subprocess.run(
        ["git", "-C", args.repo, "rev-list", "--no-merges", f"--max-count={args.n}", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ctx = Context.open(Path(args.repo))
    critic = StaticCritic()
    by_rule: collections.Counter[tuple[str, str]] = collections.Counter()
    flagged = 0
    risk_high = 0
    done = 0
    for sha in shas:
        try:
            change = as_change(ctx, lookup(ctx, sha))
            critique = critic.review(critique_input(ctx, change))
        except Exception as exc:  # a commit the reader cannot take: say so, go on
            print(f"skip {sha[:10]}: {exc}", file=sys.stderr)
            continue
        done += 1
        serious = [f for f in critique.findings if f.severity in ("critical", "high")]
        if serious:
            flagged += 1
        for f in critique.findings:
            by_rule[(f.rule, f.severity)] += 1
            if args.show and f.severity in ("critical", "high"):
                print(
                    f"  {sha[:10]} {f.severity} {f.rule} {f.file}:{f.start_line} {f.quote[:70]!r}"
                )
        risk = assess(change)
        if risk.level == "high":
            risk_high += 1
            if args.show:
                print(f"  {sha[:10]} risk high {risk.score}: {'; '.join(risk.reasons)}")
    per100 = 100.0 / max(done, 1)
    print(f"{args.repo}: {done} changes")
    print(f"  changes with a critical/high finding: {flagged} ({flagged * per100:.1f} per 100)")
    print(f"  changes the risk score calls high: {risk_high} ({risk_high * per100:.1f} per 100)")
    for (rule, severity), count in sorted(by_rule.items(), key=lambda kv: -kv[1]):
        print(f"  {rule:32} {severity:9} {count:4}  ({count * per100:.1f} per 100)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
