"""`reviewq gate`: real repositories, real verdicts (log + notes ref), a bare CI clone, the demo.

The gate fails closed: every error is a non-zero exit with one line, never 0.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reviewq.context import Context
from reviewq.core.verdict import CritiqueState
from tests.conftest import Repo, run_reviewq

CODEX = "\n\nCo-authored-by: Codex <noreply@openai.com>\n"
ANA = ("Ana Lima", "ana@example.com")
BEN = ("Ben Cho", "ben@example.com")

POLICY = """
[policy]
approvals = 1

[[domains]]
name = "auth"
paths = ["auth/**"]
approvals = 2
second_family_critique = true
min_seconds_per_100_lines = 60
cooldown_hours = 24
checklist = ["threat model reviewed"]
"""


def record(
    repo: Repo,
    sha: str,
    verdict: str = "approve",
    *,
    reviewer: tuple[str, str] = ANA,
    seconds: float = 600,
    at: datetime | None = None,
    critic_family: str | None = "rules",
    checklist: tuple[str, ...] = (),
) -> dict:
    """A verdict through the verdict API, as the TUI and `reviewq verdict` record it."""
    from reviewq.workflow.lookup import lookup
    from reviewq.workflow.recording import record_verdict

    repo.git("config", "user.name", reviewer[0])
    repo.git("config", "user.email", reviewer[1])
    when = at or datetime.now().astimezone()
    # The notes commit is made at the same moment: the gate counts a cooldown from when a
    # record was first shared, so a record "made" in the past must be shared then too.
    with _environ({"GIT_COMMITTER_DATE": when.isoformat()} if at else {}):
        ctx = Context.open(repo.path)
        try:
            change = lookup(ctx, sha).change
            assert change is not None
            critique = CritiqueState("static", critic_family, None, True) if critic_family else None
            return record_verdict(
                ctx,
                change,
                verdict,
                active_seconds=seconds,
                wall_seconds=seconds,
                hunks_total=1,
                hunks_viewed=1,
                critique=critique,
                extra={"checklist": list(checklist)},
                clock=lambda: when,
            )
        finally:
            ctx.close()


@contextlib.contextmanager
def _environ(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


#: `python -m` puts the working directory first on sys.path, and a bare repository's git dir
#: holds reviewq's state dir `reviewq/`, which would shadow the package: run with -P semantics.
SAFE_PATH = {"PYTHONSAFEPATH": "1"}


def gate(repo_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_reviewq("gate", *args, cwd=repo_path, env=SAFE_PATH)


def gate_json(repo_path: Path, *args: str) -> dict:
    result = gate(repo_path, "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reviewq: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def policy_repo(repo: Repo) -> Repo:
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY, "README.md": "orders\n"})
    repo.git("tag", "base")
    return repo


# -- the gate's answer --------------------------------------------------------------------------


def test_the_gate_fails_before_the_reviews_and_passes_after_them(policy_repo: Repo) -> None:
    repo = policy_repo
    ai = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    human = repo.commit("Human change", files={"notes.txt": "n\n"})
    assert human

    before = gate(repo.path, "base..HEAD")
    assert before.returncode == 1, before.stderr
    assert ai[:12] in before.stdout
    assert "approvals: needs 1 more from distinct reviewers" in before.stdout
    assert "gate failed: 1 of 1 AI-authored commit in base..HEAD" in before.stdout

    record(repo, ai)
    after = gate(repo.path, "base..HEAD")
    assert after.returncode == 0, after.stdout + after.stderr
    assert after.stdout.startswith("gate passed: 1 AI-authored commit in base..HEAD meets")


def test_gate_json_names_each_commit_and_why(policy_repo: Repo) -> None:
    repo = policy_repo
    auth = repo.commit("Harden tokens" + CODEX, files={"auth/tokens.py": "t = 1\n"})
    other = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, other)
    data = gate_json(repo.path, "base..HEAD")
    assert data["passed"] is False and data["checked"] == 2 and data["failing"] == 1
    assert data["policy"]["rev"] == repo.git("rev-parse", "base")
    assert data["policy"]["chosen_as"] == "the base of the range"
    assert [d["name"] for d in data["policy"]["rules"]["domains"]] == ["auth"]
    by_sha = {c["sha"]: c for c in data["commits"]}
    assert by_sha[other]["passed"] is True
    assert by_sha[other]["approved_by"] == [{"name": ANA[0], "email": ANA[1]}]
    failing = by_sha[auth]
    assert failing["domains"] == ["auth"]
    codes = [n["code"] for n in failing["needs"]]
    assert codes == ["approvals", "second-family", "cooldown"]
    assert failing["requirements"]["approvals"] == 2


def test_the_prompter_and_quick_or_unticked_approvals_do_not_pass_the_gate(
    policy_repo: Repo,
) -> None:
    repo = policy_repo
    sha = repo.commit(
        "Harden tokens" + CODEX, author=ANA, files={"auth/tokens.py": "t = 1\n" * 100}
    )  # Ana committed Codex's work: she prompted it
    old = datetime.now().astimezone() - timedelta(hours=48)
    ticked = ("threat model reviewed",)
    record(repo, sha, reviewer=ANA, at=old, checklist=ticked)
    record(repo, sha, reviewer=BEN, at=old, seconds=5, checklist=ticked)
    record(repo, sha, reviewer=("Cy", "cy@example.com"), at=old)
    needs = [n["message"] for n in gate_json(repo.path, "base..HEAD")["commits"][0]["needs"]]
    assert any(
        "Ana Lima <ana@example.com>: the prompter's approval does not count" in n for n in needs
    )
    assert any("Ben Cho <ben@example.com>: too fast: 5s active" in n for n in needs)
    assert any(
        "Cy <cy@example.com>: checklist item 'threat model reviewed' not ticked" in n for n in needs
    )
    # Their next approvals, proper ones: with the critique and the checklist, slow enough.
    later = old + timedelta(minutes=5)
    record(repo, sha, reviewer=BEN, at=later, checklist=ticked)
    record(repo, sha, reviewer=("Cy", "cy@example.com"), at=later, checklist=ticked)
    assert gate(repo.path, "base..HEAD").returncode == 0


def test_a_same_family_critique_does_not_pass_a_second_family_domain(policy_repo: Repo) -> None:
    repo = policy_repo
    sha = repo.commit("Harden tokens" + CODEX, files={"auth/tokens.py": "t = 1\n"})
    old = datetime.now().astimezone() - timedelta(hours=48)
    for who in (ANA, BEN):
        record(
            repo,
            sha,
            reviewer=who,
            at=old,
            critic_family="openai",
            checklist=("threat model reviewed",),
        )
    result = gate_json(repo.path, "base..HEAD")
    assert [n["code"] for n in result["commits"][0]["needs"]] == ["second-family"]


def test_a_change_inside_its_cooldown_does_not_pass(policy_repo: Repo) -> None:
    repo = policy_repo
    sha = repo.commit("Harden tokens" + CODEX, files={"auth/tokens.py": "t = 1\n"})
    ticked = ("threat model reviewed",)
    first = datetime.now().astimezone() - timedelta(hours=2)
    record(repo, sha, reviewer=ANA, at=first, checklist=ticked)
    record(repo, sha, reviewer=BEN, checklist=ticked)
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 1
    until = (first + timedelta(hours=24)).isoformat(timespec="minutes")
    assert f"cooldown: in cooldown until {until}" in result.stdout
    later = (first + timedelta(hours=24, minutes=1)).isoformat(timespec="seconds")
    assert gate(repo.path, "base..HEAD", "--as-of", later).returncode == 0


def test_no_ai_commits_in_the_range_passes(policy_repo: Repo) -> None:
    policy_repo.commit("Human change", files={"notes.txt": "n\n"})
    result = gate(policy_repo.path, "base..HEAD")
    assert result.returncode == 0
    assert "no AI-authored commits in base..HEAD" in result.stdout


# -- the policy comes from the base -------------------------------------------------------------


def test_an_ai_commit_that_weakens_the_policy_does_not_pass(policy_repo: Repo) -> None:
    repo = policy_repo
    weaker = POLICY.replace("approvals = 2", "approvals = 1").replace(
        "second_family_critique = true", "second_family_critique = false"
    )
    sha = repo.commit(
        "Relax review rules" + CODEX,
        files={".reviewq.toml": weaker, "auth/tokens.py": "t = 1\n"},
    )
    # One approval, two days old, critique and checklist in order: enough under the weakened
    # policy, one short under the policy in force.
    old = datetime.now().astimezone() - timedelta(hours=48)
    record(repo, sha, at=old, checklist=("threat model reviewed",))
    result = gate_json(repo.path, "base..HEAD")
    assert result["passed"] is False
    commit = result["commits"][0]
    assert commit["requirements"]["approvals"] == 2  # the base's policy, not the head's
    assert [n["code"] for n in commit["needs"]] == ["approvals"]

    # Even without a base (`gate HEAD`: the default branch, whose policy the commit weakened),
    # a change to the policy is judged by the policy it replaces.
    parent = repo.git("rev-parse", "HEAD~1")[:7]
    head = gate_json(repo.path, "HEAD")
    assert head["policy"]["chosen_as"] == "the default branch (the range has no base)"
    assert head["passed"] is False
    weakening = head["commits"][0]
    assert weakening["domains"] == ["auth", "default", f"auth@{parent}", f"default@{parent}"]
    assert weakening["requirements"]["approvals"] == 2
    assert [n["code"] for n in weakening["needs"]] == ["approvals"]

    # With the second approval the old policy asked for, the change may pass.
    record(repo, sha, reviewer=BEN, at=old, checklist=("threat model reviewed",))
    assert gate(repo.path, "base..HEAD").returncode == 0
    assert gate(repo.path, "HEAD").returncode == 0


def test_detection_rules_come_from_the_base_too(repo: Repo) -> None:
    rules = '[[agents]]\nagent = "acme-bot"\nemail = "bot@acme.example"\n'
    repo.commit("Adopt reviewq", files={".reviewq.toml": rules})
    repo.git("tag", "base")
    repo.commit(
        "Quietly drop my rule",
        author=("Acme Bot", "bot@acme.example"),
        files={".reviewq.toml": "# nothing to see\n"},
    )
    result = gate_json(repo.path, "base..HEAD")
    assert result["checked"] == 1 and result["passed"] is False


def test_policy_from_an_explicit_revision_or_config(policy_repo: Repo, tmp_path: Path) -> None:
    repo = policy_repo
    repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    loose = tmp_path / "loose.toml"
    loose.write_text("[policy]\napprovals = 0\n")
    explicit = run_reviewq("--config", str(loose), "gate", "--json", "base..HEAD", cwd=repo.path)
    data = json.loads(explicit.stdout)
    assert data["policy"]["chosen_as"] == "--config"
    assert data["commits"][0]["passed"] is True
    # Nobody has reviewed anything, so there is no notes ref: the gate still fails closed.
    assert data["missing_notes"] == "refs/notes/reviewq" and explicit.returncode == 1
    data = gate_json(repo.path, "--policy-from", "base", "HEAD")
    assert data["policy"]["chosen_as"] == "--policy-from base"


def test_signed_approvals_are_checked_against_the_allowed_signers_of_the_base(
    repo: Repo, tmp_path: Path
) -> None:
    from tests.verdict_kit import allowed_line, keygen

    keys = tmp_path / "keys"
    ana, ben = keygen(keys, "ana"), keygen(keys, "ben")
    policy = '[log]\nallowed_signers = ".github/allowed_signers"\n\n[policy]\napprovals = 2\nsigned_approvals = true\n'
    repo.commit(
        "Adopt reviewq",
        files={".reviewq.toml": policy, ".github/allowed_signers": allowed_line(ANA[1], ana)},
    )
    repo.git("tag", "base")
    # The agent's change also lists Ben as a signer: the gate must not take its word for it.
    both = allowed_line(ANA[1], ana) + allowed_line(BEN[1], ben)
    sha = repo.commit(
        "Add a helper" + CODEX,
        files={"src/helper.py": "x = 1\n", ".github/allowed_signers": both},
    )
    repo.git("config", "gpg.format", "ssh")
    for who, key in ((ANA, ana), (BEN, ben)):
        repo.git("config", "user.signingkey", str(key))
        assert record(repo, sha, reviewer=who)["signature"]
    repo.git("config", "--unset", "user.signingkey")
    record(repo, sha, reviewer=("Cy", "cy@example.com"))
    result = gate_json(repo.path, "base..HEAD")
    (commit,) = result["commits"]
    assert commit["approved_by"] == [{"name": ANA[0], "email": ANA[1]}]
    messages = [n["message"] for n in commit["needs"]]
    assert any(
        "Ben Cho <ben@example.com>: not validly signed (unknown-signer" in m for m in messages
    )
    assert any("Cy <cy@example.com>: not validly signed (unsigned" in m for m in messages)


# -- fails closed ---------------------------------------------------------------------------------


def test_unknown_revisions_and_ambiguous_bases_are_bad_input(policy_repo: Repo) -> None:
    repo = policy_repo
    repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    assert "unknown revision" in one_error_line(gate(repo.path, "base..nope"), 2)
    repo.git("checkout", "-q", "-b", "other", "base")
    repo.commit("Elsewhere", files={"other.txt": "o\n"})
    repo.git("checkout", "-q", "main")
    line = one_error_line(gate(repo.path, "main", "^base", "^other"), 2)
    assert "--policy-from" in line
    bad = gate(repo.path, "--json", "nope..HEAD")
    assert bad.returncode == 2
    assert json.loads(bad.stdout) == {
        "passed": False,
        "error": bad.stderr.strip().removeprefix("reviewq: "),
        "exit_code": 2,
    }
    assert "RFC 3339" in one_error_line(gate(repo.path, "--as-of", "friday", "base..HEAD"), 2)


def test_a_malformed_policy_at_the_base_fails_closed(repo: Repo) -> None:
    repo.commit("Adopt reviewq", files={".reviewq.toml": "[policy]\napprovals = 'two'\n"})
    repo.git("tag", "base")
    repo.commit("Fix it" + CODEX, files={".reviewq.toml": "[policy]\napprovals = 0\n"})
    line = one_error_line(gate(repo.path, "base..HEAD"), 2)
    assert ".reviewq.toml: policy.approvals: expected a whole number" in line
    repo.commit("Adopt reviewq", files={".reviewq.toml": "[policy\n"})
    repo.git("tag", "-f", "base")
    repo.commit("AI" + CODEX, files={"a.py": "a\n"})
    assert "malformed TOML" in one_error_line(gate(repo.path, "base..HEAD"), 2)
    # Nested deeper than the parser goes (tomllib raises RecursionError): the same one line.
    deep = "[policy]\napprovals = " + "[" * 20_000 + "]" * 20_000 + "\n"
    repo.commit("Adopt reviewq", files={".reviewq.toml": deep})
    repo.git("tag", "-f", "base")
    repo.commit("AI again" + CODEX, files={"b.py": "b\n"})
    line = one_error_line(gate(repo.path, "base..HEAD"), 2)
    assert "malformed TOML (nested too deeply)" in line


def test_an_unreadable_log_fails_closed(policy_repo: Repo) -> None:
    repo = policy_repo
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha)
    log = repo.path / ".git" / "reviewq" / "log.jsonl"
    with log.open("ab") as fh:
        fh.write(b"{not json\n")
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 2, result.stdout
    assert "log" in result.stderr.lower()


def test_a_damaged_notes_ref_fails_closed(policy_repo: Repo) -> None:
    repo = policy_repo
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha)
    blob = repo.git("hash-object", "-w", "--stdin", input="not a notes commit\n")
    repo.git("update-ref", "refs/notes/reviewq", blob)
    line = one_error_line(gate(repo.path, "base..HEAD"), 2)
    assert "refs/notes/reviewq" in line


@pytest.mark.parametrize("damage", ["edited", "unreadable line"])
def test_a_tampered_or_unreadable_notes_line_fails_closed(policy_repo: Repo, damage: str) -> None:
    # A line the gate cannot trust could be someone's rejection: refuse to decide without it.
    repo = policy_repo
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha)
    text = repo.git("notes", "--ref=reviewq", "show", sha)
    if damage == "edited":
        text = text.replace(ANA[1], "someone-else@example.com")
    else:
        text += "\n{this is not json\n"
    repo.note("refs/notes/reviewq", sha, text)
    line = one_error_line(gate(repo.path, "base..HEAD"), 2)
    assert "refs/notes/reviewq holds" in line and "reviewq log verify" in line


def test_missing_notes_fail_closed_in_a_bare_clone(policy_repo: Repo, make_repo) -> None:
    repo = policy_repo
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha)
    bare = make_repo("ci.git", bare=True)
    bare.git(
        "fetch", "-q", str(repo.path), "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"
    )
    line = one_error_line(gate(bare.path, "base..main"), 1)
    assert "refs/notes/reviewq is missing" in line and "git fetch" in line
    bare.git("fetch", "-q", str(repo.path), "+refs/notes/*:refs/notes/*")
    result = gate(bare.path, "base..main")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bare_clone_sees_a_rebased_copy_approved_by_patch_id(policy_repo: Repo) -> None:
    repo = policy_repo
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha)
    repo.git("commit", "--amend", "-q", "--no-edit", "--date=2026-11-21T10:00:00+00:00")
    assert repo.git("rev-parse", "HEAD") != sha
    assert gate(repo.path, "base..HEAD").returncode == 0


# -- the demo -----------------------------------------------------------------------------------


def test_the_demo_policy_gate_fails_before_reviews_and_passes_after(demo_repo: Path) -> None:
    git = Repo.__new__(Repo)
    git.path = demo_repo
    retry = "main..claude/export-retry"
    before = gate(demo_repo, retry)
    assert before.returncode == 1
    assert "approvals: needs 1 more from distinct reviewers" in before.stdout
    # Sam owns velocity: his approval does not count.
    reviewer(demo_repo, "Sam Okafor", "sam@acme.example")
    assert verdict(demo_repo, "claude/export-retry", "approve", "--seconds", "60").returncode == 0
    assert "velocity owners of default may not approve" in gate(demo_repo, retry).stdout
    reviewer(demo_repo, "Dana Reyes", "dana@acme.example")
    assert verdict(demo_repo, "claude/export-retry", "approve", "--seconds", "60").returncode == 0
    after = gate(demo_repo, retry)
    assert after.returncode == 0, after.stdout

    # The constant-time change touches auth: two reviewers who did not prompt it, each with the
    # checklist ticked and the (static, second-family) critique shown first, then ten days.
    auth = subprocess.run(
        ["git", "log", "--format=%H", "--grep=constant-time", "main"],
        cwd=demo_repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    span = f"{auth}~1..{auth}"
    needs = [n["code"] for n in gate_json(demo_repo, span)["commits"][0]["needs"]]
    assert needs == ["approvals", "second-family", "cooldown"]
    assert run_reviewq("critique", auth, cwd=demo_repo, env=SAFE_PATH).returncode == 0
    checks = [
        "--check",
        "threat model reviewed",
        "--check",
        "no secrets or override tokens in code",
    ]
    reviewer(demo_repo, "Sam Okafor", "sam@acme.example")  # he prompted it (prompt note)
    assert verdict(demo_repo, auth, "approve", "--seconds", "300", *checks).returncode == 0
    for name, email in (("Dana Reyes", "dana@acme.example"), ("Lee Park", "lee@acme.example")):
        reviewer(demo_repo, name, email)
        assert verdict(demo_repo, auth, "approve", "--seconds", "180", *checks).returncode == 0
    held = gate_json(demo_repo, span)["commits"][0]
    assert [n["code"] for n in held["needs"]] == ["cooldown", "prompter"]
    later = datetime.fromisoformat(held["ready_at"]) + timedelta(minutes=1)
    assert gate(demo_repo, "--as-of", later.isoformat(), span).returncode == 0

    # The risky Devin commit touches auth and CI: the checklists of both, the static critic
    # (its author's family is unknown), and the longest cooldown.
    risky = gate_json(demo_repo, "main~4..main")
    devin = next(c for c in risky["commits"] if c["agent"] == "devin")
    assert devin["domains"] == ["auth", "ci"]
    assert devin["requirements"]["cooldown_hours"] == 240
    assert devin["requirements"]["checklist"] == [
        "threat model reviewed",
        "no secrets or override tokens in code",
        "no new permissions or untrusted checkouts",
    ]


def test_verdict_check_ticks_items_of_the_changes_checklist(policy_repo: Repo) -> None:
    repo = policy_repo
    sha = repo.commit("Harden tokens" + CODEX, files={"auth/tokens.py": "t = 1\n"})
    typo = verdict(repo.path, sha, "approve", "--check", "thret model reviewed")
    assert "not on the checklist of auth" in one_error_line(typo, 2)
    assert repo.git("notes", "--ref=reviewq", "list") == ""  # nothing recorded
    quiet = verdict(repo.path, sha, "approve", "--seconds", "90")
    assert "will not count until every checklist item is ticked" in quiet.stderr
    ticked = verdict(repo.path, sha, "approve", "--check", "Threat  model Reviewed", "--json")
    assert ticked.returncode == 0, ticked.stderr
    stored = json.loads(ticked.stdout)
    assert stored["checklist"] == ["threat model reviewed"]
    assert stored["domain"] == "auth"


def reviewer(path: Path, name: str, email: str) -> None:
    subprocess.run(["git", "config", "user.name", name], cwd=path, check=True)
    subprocess.run(["git", "config", "user.email", email], cwd=path, check=True)


def verdict(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_reviewq("verdict", *args, cwd=path, env=SAFE_PATH)


# -- the GitHub Actions example -----------------------------------------------------------------

WORKFLOW = Path(__file__).resolve().parent.parent / "docs" / "github-actions-gate.yml"


def workflow_step(name: str) -> str:
    """The `run:` script of the step called `name` (the YAML is plain enough to slice)."""
    text = WORKFLOW.read_text()
    start = text.index(f"- name: {name}")
    block = text[start:].split("\n      - ", 1)[0]
    script = block.split("run: |\n", 1)[1] if "run: |\n" in block else block.split("run: ", 1)[1]
    return "\n".join(
        line[10:] if line.startswith(" " * 10) else line for line in script.splitlines()
    )


def test_the_workflow_fetches_notes_then_gates_the_pull_request_range(
    policy_repo: Repo, make_repo, tmp_path: Path
) -> None:
    repo = policy_repo
    base = repo.git("rev-parse", "HEAD")
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    origin = make_repo("origin.git", bare=True)
    repo.git("push", "-q", str(origin.path), "main", "refs/notes/*:refs/notes/*")
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", str(origin.path), str(ci)], check=True)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "reviewq").write_text(f'#!/bin/sh\nexec "{sys.executable}" -P -m reviewq "$@"\n')
    (shim / "reviewq").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shim}:{os.environ['PATH']}",
        "EVENT": "pull_request",
        "PR_BASE": base,
        "PR_HEAD": sha,
        "PUSH_BEFORE": "",
        "PUSH_AFTER": sha,
        "DEFAULT_BRANCH": "main",
    }

    def run_steps() -> subprocess.CompletedProcess[str]:
        script = workflow_step("Fetch review notes") + "\n" + workflow_step("Gate the range")
        return subprocess.run(["sh", "-c", script], cwd=ci, env=env, capture_output=True, text=True)

    missing = run_steps()  # nobody has reviewed, so the remote has no verdict notes yet
    assert missing.returncode == 1, missing.stderr
    assert "refs/notes/reviewq is missing" in missing.stderr
    record(repo, sha, "reject")
    repo.git("push", "-q", str(origin.path), "refs/notes/*:refs/notes/*")
    failing = run_steps()
    assert failing.returncode == 1, failing.stderr
    assert sha[:12] in failing.stdout and "rejected: by Ana Lima" in failing.stdout
    record(repo, sha)
    repo.git("push", "-q", str(origin.path), "refs/notes/*:refs/notes/*")
    passing = run_steps()
    assert passing.returncode == 0, passing.stdout + passing.stderr
    # A push event, and a new branch (before = zeros), gate the same commits.
    env.update({"EVENT": "push", "PUSH_BEFORE": base})
    assert run_steps().returncode == 0
    env.update({"PUSH_BEFORE": "0" * 40})
    assert run_steps().returncode == 0
    assert re.search(r"gate passed", run_steps().stdout)
