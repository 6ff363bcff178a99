"""Issue 14: nobody with push access gets around the gate. Each attack drives the real CLI on a
real repository: an approval carried to a commit that behaves differently, a change hiding its
own diff, a shallow clone hiding commits, the reviewer's identity, and policy changes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reviewq.context import Context
from tests.conftest import Repo, run_reviewq

CODEX = "\n\nCo-authored-by: Codex <noreply@openai.com>\n"
ANA = ("Ana Lima", "ana@example.com")
BEN = ("Ben Cho", "ben@example.com")
SAFE_PATH = {"PYTHONSAFEPATH": "1"}

POLICY = "[policy]\napprovals = 1\n"


def gate(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_reviewq("gate", *args, cwd=path, env=SAFE_PATH)


def gate_json(path: Path, *args: str) -> dict:
    result = gate(path, "--json", *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return json.loads(result.stdout)


def as_reviewer(repo: Repo, who: tuple[str, str]) -> None:
    repo.git("config", "user.name", who[0])
    repo.git("config", "user.email", who[1])


def approve(repo: Repo, rev: str, *extra: str, who: tuple[str, str] = ANA) -> dict:
    """`reviewq verdict REV approve` as a reviewer runs it."""
    as_reviewer(repo, who)
    result = run_reviewq(
        "verdict", rev, "approve", "--seconds", "600", "--json", *extra, cwd=repo.path
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def amend(repo: Repo, files: dict[str, str | bytes]) -> str:
    for rel, content in files.items():
        repo.write(rel, content)
    repo.git("add", "-A")
    repo.git(
        "commit",
        "--amend",
        "-q",
        "--no-edit",
        "--allow-empty",
        env={"GIT_COMMITTER_DATE": "2026-11-21T10:00:00+00:00"},
    )
    return repo.git("rev-parse", "HEAD")


@pytest.fixture
def based(repo: Repo) -> Repo:
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY, "README.md": "orders\n"})
    repo.git("tag", "base")
    return repo


# -- 1. an approval must not carry over to a commit that behaves differently ------------------

CHECK = "def allowed(user):\n    if user.admin:\n        return True\n    return False\n"
#: The same lines but one: `return True` moved out of its `if` (whitespace only to patch-id --stable).
CHECK_MOVED = "def allowed(user):\n    if user.admin:\n        return True\nreturn False\n"
CHECK_OPEN = "def allowed(user):\n    if user.admin:\n        pass\n    return True\n"
CHECK_OPEN_WS = "def allowed(user):\n    if user.admin:\n        pass\n        return True\n"


@pytest.mark.parametrize(
    ("approved", "amended"),
    [
        pytest.param({"auth.py": CHECK_OPEN_WS}, {"auth.py": CHECK_OPEN}, id="python-indent"),
        pytest.param(
            {"clean.sh": "rm -rf /tmp/x\n"}, {"clean.sh": "rm -rf / tmp/x\n"}, id="shell-word"
        ),
        pytest.param({"m.py": "x = 1\n"}, {"m.py": "x=1\n"}, id="whitespace-removed"),
        pytest.param({"run.sh": "echo hi\n"}, {"run.sh": "echo hi \n"}, id="trailing-space"),
    ],
)
def test_an_approval_does_not_carry_over_a_whitespace_change(
    based: Repo, approved: dict, amended: dict
) -> None:
    repo = based
    sha = repo.commit("Add a check" + CODEX, files=approved)
    approve(repo, sha)
    assert gate(repo.path, "base..HEAD").returncode == 0
    new = amend(repo, amended)
    # Same stable patch-id: the whitespace-blind identity the old gate matched on.
    stable = [
        repo.git("patch-id", "--stable", input=repo.git("show", rev) + "\n").split()[0]
        for rev in (sha, new)
    ]
    assert stable[0] == stable[1]
    result = gate_json(repo.path, "base..HEAD")
    assert result["passed"] is False
    (commit,) = result["commits"]
    assert commit["sha"] == new and commit["approved_by"] == []


def test_a_byte_identical_rebase_keeps_its_approval(based: Repo) -> None:
    repo = based
    sha = repo.commit("Add a check" + CODEX, files={"auth.py": CHECK})
    approve(repo, sha)
    # main moves on under it; the change is rebased onto the new base, its lines unchanged.
    repo.git("checkout", "-q", "-b", "upstream", "base")
    repo.commit("Unrelated", files={"README.md": "orders\nmore\n"})
    repo.git("checkout", "-q", "main")
    repo.git("rebase", "-q", "upstream")
    assert repo.git("rev-parse", "HEAD") != sha
    result = gate_json(repo.path, "base..HEAD")
    ai = [c for c in result["commits"]]
    assert len(ai) == 1 and ai[0]["passed"] is True, ai
    # ... and the moved-`return` amend of it does not.
    amend(repo, {"auth.py": CHECK_MOVED})
    assert gate(repo.path, "base..HEAD").returncode == 1


def test_a_mode_or_submodule_pointer_change_does_not_keep_the_approval(based: Repo) -> None:
    repo = based
    sha = repo.commit("Add a script" + CODEX, files={"run.sh": "echo hi\n"})
    approve(repo, sha)
    (repo.path / "run.sh").chmod(0o755)
    amend(repo, {})
    assert gate(repo.path, "base..HEAD").returncode == 1

    # A submodule pointer (gitlink) moved in the amended commit: another tree, another content.
    repo.git("reset", "-q", "--hard", sha)
    one = "1" * 40
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{one},vendor/lib")
    repo.git("commit", "--amend", "-q", "--no-edit")
    linked = repo.git("rev-parse", "HEAD")
    approve(repo, linked)
    repo.git("update-index", "--cacheinfo", f"160000,{'2' * 40},vendor/lib")
    repo.git("commit", "--amend", "-q", "--no-edit")
    assert gate(repo.path, "base..HEAD").returncode == 1


def test_signed_approvals_do_not_carry_over_a_whitespace_change(based: Repo, tmp_path) -> None:
    from tests.verdict_kit import allowed_line, keygen

    repo = based
    key = keygen(tmp_path / "keys", "ana")
    policy = (
        '[log]\nallowed_signers = ".github/allowed_signers"\n\n'
        "[policy]\napprovals = 1\nsigned_approvals = true\n"
    )
    repo.commit(
        "Sign reviews",
        files={".reviewq.toml": policy, ".github/allowed_signers": allowed_line(ANA[1], key)},
    )
    repo.git("tag", "-f", "base")
    sha = repo.commit("Add a cleanup" + CODEX, files={"clean.sh": "rm -rf /tmp/x\n"})
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    assert approve(repo, sha)["signature"]
    assert gate(repo.path, "base..HEAD").returncode == 0
    amend(repo, {"clean.sh": "rm -rf / tmp/x\n"})
    result = gate_json(repo.path, "base..HEAD")
    assert result["passed"] is False and result["commits"][0]["approved_by"] == []


def test_a_record_from_before_content_ids_counts_for_its_own_sha_only(based: Repo) -> None:
    """Records already in logs carry only the stable patch-id: it matches nothing but the sha."""
    from reviewq.changes import lookup
    from reviewq.core.model import Identity
    from reviewq.core.verdict import CritiqueState, new_record
    from reviewq.store.log import ProvenanceLog
    from reviewq.verdicts import patch_ids

    repo = based
    sha = repo.commit("Add a cleanup" + CODEX, files={"clean.sh": "rm -rf /tmp/x\n"})
    ctx = Context.open(repo.path)
    try:
        change = lookup(ctx, sha).change
        assert change is not None
        old = new_record(
            record_id="0" * 32,
            sha=sha,
            change_id=sha,
            patch_id=patch_ids(ctx, [sha])[sha],
            verdict="approve",
            reviewer=Identity(*ANA),
            at="2026-11-20T12:00:00.000+01:00",
            active_seconds=600,
            wall_seconds=600,
            lines_changed=1,
            hunks_total=1,
            hunks_viewed=1,
            critique=CritiqueState("static", "rules", None, True),
            author_family="openai",
        )
        assert "content_id" not in old
        ProvenanceLog(ctx.log_path).append(old)
    finally:
        ctx.close()
    assert run_reviewq("log", "rebuild", "--to-notes", cwd=repo.path).returncode == 0
    assert gate(repo.path, "base..HEAD").returncode == 0  # its own commit: by sha
    amend(repo, {"clean.sh": "rm -rf / tmp/x\n"})
    assert gate(repo.path, "base..HEAD").returncode == 1


# -- 9. a shallow clone must not hide commits -------------------------------------------------


def shallow_clone(origin: Repo, target: Path, depth: int, *refs: str) -> Repo:
    """A CI checkout: only `depth` commits of each ref fetched."""
    clone = Repo(target)
    clone.git("checkout", "-q", "--orphan", "ci")
    for ref in refs:
        # Tags (the base) as CI fetches them: the one commit.
        deep = depth if ref.startswith("refs/heads/") else 1
        clone.git("fetch", "-q", f"--depth={deep}", f"file://{origin.path}", f"+{ref}:{ref}")
    clone.git("checkout", "-q", "main")
    return clone


def test_a_shallow_clone_cut_inside_the_range_fails_closed(repo: Repo, tmp_path: Path) -> None:
    repo.commit("Start", files={"README.md": "orders\n"})
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY})
    repo.git("tag", "base")
    repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    repo.commit("Human follow-up", files={"notes.txt": "n\n"})
    assert gate(repo.path, "base..main").returncode == 1  # the full history: unreviewed

    clone = shallow_clone(repo, tmp_path / "ci", 1, "refs/heads/main", "refs/tags/base")
    assert clone.git("rev-parse", "--is-shallow-repository") == "true"
    result = gate(clone.path, "base..main")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "shallow clone" in result.stderr and "fetch-depth: 0" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    # JSON callers get the same answer.
    data = json.loads(gate(clone.path, "--json", "base..main").stdout)
    assert data["passed"] is False and data["exit_code"] == 2

    # Deep enough to reach the base: nothing is cut, the gate judges the range.
    deep = shallow_clone(repo, tmp_path / "ci-deep", 3, "refs/heads/main", "refs/tags/base")
    assert deep.git("rev-parse", "--is-shallow-repository") == "true"
    result = gate(deep.path, "base..main")
    assert result.returncode == 1 and "approvals" in result.stdout, result.stderr
