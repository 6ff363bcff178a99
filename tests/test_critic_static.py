"""The offline critic on real repositories: the demo's risky commits, ruff, caching."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reviewq.context import Context
from reviewq.critics.ruff import RuffResult, run_ruff
from reviewq.critics.static import StaticCritic
from reviewq.workflow.critiquing import (
    cached_critique,
    critique_change,
    critique_input,
    get_critique,
)
from reviewq.workflow.lookup import lookup
from tests.critic_eval.demo_changes import CURRENCY, DEVIN, EXPORT, change


@pytest.fixture
def ctx(demo_repo: Path):
    context = Context.open(demo_repo)
    yield context
    context.close()


def test_risky_devin_commit_gets_every_planted_issue(ctx: Context) -> None:
    critique = get_critique(ctx, change(ctx, DEVIN))
    assert (critique.critic, critique.family, critique.model) == ("static", "rules", None)
    assert critique.author_family == "unknown" and "unknown" in critique.family_check
    by_rule: dict[str, list] = {}
    for f in critique.findings:
        assert f.verified, (f.rule, f.verification)
        by_rule.setdefault(f.rule, []).append(f)
    injection = by_rule["prompt-injection"]
    assert {(f.file, f.start_line) for f in injection} == {
        ("orders/auth.py", 19),
        ("orders/auth.py", 20),
    }
    assert all(f.severity == "critical" for f in injection)
    assert "access-control-changed" in by_rule and "auth-bypass" in by_rule
    workflow = ".github/workflows/tests.yml"
    for rule_id, quote in [
        ("ci-pull-request-target", "pull_request_target"),
        ("ci-write-all-permissions", "permissions: write-all"),
        ("curl-pipe-shell", "| sh"),
        ("ci-check-weakened", "|| true"),
    ]:
        (f,) = by_rule[rule_id]
        assert f.file == workflow and quote in f.quote
    assert "ci-workflow-changed" in by_rule
    (deleted,) = by_rule["test-deleted"]
    assert deleted.file == "tests/test_auth.py" and deleted.start_line is None
    (default,) = by_rule["default-credential"]
    assert "letmein" in default.quote and default.file == "orders/auth.py"
    assert critique.security_concerns.startswith(("Untrusted", "Text that", "Authentication"))
    assert not critique.tests_present
    assert (
        "ADMIN_OVERRIDE" in critique.rationale
        and "removed function test_round_trip" in critique.rationale
    )


def test_csv_export_shell_true_is_found_by_the_rule_and_ruff(ctx: Context) -> None:
    critique = get_critique(ctx, change(ctx, EXPORT))
    (f,) = [f for f in critique.findings if f.rule == "subprocess-shell"]
    assert (f.file, f.start_line, f.verified) == ("orders/export.py", 18, True)
    assert "shell=True" in f.quote and "ruff S602" in f.body
    assert critique.author_family == "openai"
    assert "reflected in the change: csv, export, gzip" in critique.rationale


def test_without_ruff_the_own_rules_still_run_and_the_critique_says_so(ctx: Context) -> None:
    subject = critique_input(ctx, change(ctx, EXPORT))
    critic = StaticCritic(ruff_binary=lambda: None)
    assert critic.prompt_version.endswith("+noruff")
    critique = critic.review(subject)
    assert any(f.rule == "subprocess-shell" for f in critique.findings)
    assert any("ruff is not installed" in n for n in critique.notes)


def test_a_failing_ruff_is_reported_not_fatal(ctx: Context) -> None:
    def broken(args, **kw):
        return subprocess.CompletedProcess(args, 2, "", "error: something broke\n")

    subject = critique_input(ctx, change(ctx, EXPORT))
    critic = StaticCritic(
        ruff=lambda files, added, binary: run_ruff(files, added, binary="ruff", runner=broken)
    )
    critique = critic.review(subject)
    assert any("ruff failed (error: something broke)" in n for n in critique.notes)
    assert any(f.rule == "subprocess-shell" for f in critique.findings)


def test_ruff_keeps_only_findings_on_added_lines(repo) -> None:
    old = "def load(x):\n    return eval(x)\n"
    repo.commit("base", files={"m.py": old})
    sha = repo.commit(
        "add\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        files={
            "m.py": old + "\n\ndef add(item, items=[]):\n    items.append(item)\n    return items\n"
        },
    )
    context = Context.open(repo.path)
    try:
        critique = get_critique(context, lookup(context, sha).change)
    finally:
        context.close()
    rules = {(f.rule, f.start_line) for f in critique.findings}
    assert ("ruff-B006", 5) in rules
    assert not any(r == "code-eval" for r, _ in rules)  # line 2 was already there


def test_ruff_and_the_rule_on_one_multi_line_call_are_one_finding(repo) -> None:
    sha = repo.commit(
        "run\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        files={"r.py": "import subprocess\n\nsubprocess.run(\n    cmd,\n    shell=True,\n)\n"},
    )
    context = Context.open(repo.path)
    try:
        critique = get_critique(context, lookup(context, sha).change)
    finally:
        context.close()
    (f,) = [f for f in critique.findings if f.rule == "subprocess-shell"]
    assert f.start_line == 5 and "also ruff S602" in f.body


def test_run_ruff_without_a_binary_or_files() -> None:
    assert run_ruff({}, {}) == RuffResult()
    absent = run_ruff({"a.py": "eval(x)\n"}, {"a.py": {1}}, find=lambda: None)
    assert absent.problem and "not installed" in absent.problem
    missing = run_ruff({"a.py": "eval(x)\n"}, {"a.py": {1}}, binary="/nonexistent/ruff")
    assert missing.problem and "could not run" in missing.problem


def test_second_call_is_served_from_the_cache_and_refresh_reruns(ctx: Context, now) -> None:
    c = change(ctx, EXPORT)
    first, cached = critique_change(ctx, c, clock=lambda: now)
    assert not cached and first.created_at == now.isoformat(timespec="seconds")
    second, cached = critique_change(ctx, c)
    assert cached and second == first
    assert cached_critique(ctx, c) == first
    _, cached = critique_change(ctx, c, refresh=True)
    assert not cached


def test_attaching_a_prompt_invalidates_the_cached_critique(ctx: Context) -> None:
    c = change(ctx, DEVIN)
    critique_change(ctx, c)
    assert cached_critique(ctx, c) is not None
    from dataclasses import replace

    from reviewq.core.model import Prompt

    prompted = replace(c, prompt=Prompt("Let support engineers debug customer sessions.", "note"))
    assert cached_critique(ctx, prompted) is None
    critique, cached = critique_change(ctx, prompted)
    assert not cached
    assert any(
        f.rule == "intent-unmentioned-files" and f.file == ".github/workflows/tests.yml"
        for f in critique.findings
    )


def test_inbox_patch_is_critiqued_with_the_patch_applied_to_head(ctx: Context) -> None:
    from reviewq.workflow.scan import scan_inbox

    (patch,) = scan_inbox(ctx)
    subject = critique_input(ctx, patch)
    assert "def cancel" in subject.new_texts["orders/repository.py"]
    critique = get_critique(ctx, patch)
    assert critique.sha is None and critique.change_id == patch.id
    assert "added method OrderStore.cancel" in critique.rationale


def test_large_table_commit_is_quiet_and_light(ctx: Context) -> None:
    critique = get_critique(ctx, change(ctx, CURRENCY))
    assert critique.findings == []
    assert critique.effort <= 3


def test_an_inline_noqa_does_not_hide_a_finding_from_the_reviewer(repo) -> None:
    sha = repo.commit(
        "load\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        files={
            "l.py": "import pickle\n\n\ndef load(b):\n    return pickle.loads(b)  # noqa: S301\n"
        },
    )
    context = Context.open(repo.path)
    try:
        critique = get_critique(context, lookup(context, sha).change)
    finally:
        context.close()
    rules = {f.rule for f in critique.findings}
    assert {"unsafe-deserialization", "lint-suppressed"} <= rules
    (f,) = [f for f in critique.findings if f.rule == "unsafe-deserialization"]
    assert "also ruff S301" in f.body
