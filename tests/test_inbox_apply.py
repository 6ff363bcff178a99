"""`reviewq apply`: an inbox patch becomes commits on a branch the user names, or nothing moves."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import Repo

PATCH = "agent-inbox/0001-add-order-cancellation.patch"


def inbox_id(cli, repo_path) -> str:
    proc = cli("queue", "--json", cwd=repo_path)
    assert proc.returncode == 0, proc.stderr
    ids = [json.loads(line)["id"] for line in proc.stdout.splitlines()]
    return next(i for i in ids if i.startswith("inbox:"))


def git(path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def state(path) -> dict:
    """Everything `apply` must leave alone when it fails."""
    return {
        "refs": git(path, "for-each-ref", "refs/heads"),
        "head": git(path, "symbolic-ref", "-q", "HEAD"),
        "status": git(path, "status", "--porcelain"),
        "worktrees": git(path, "worktree", "list", "--porcelain"),
        "am": (path / ".git" / "rebase-apply").exists(),
    }


def test_apply_creates_the_branch_and_the_item_moves_from_inbox_to_branch(cli, demo_repo):
    ident = inbox_id(cli, demo_repo)
    before = state(demo_repo)
    proc = cli("apply", ident, "--branch", "codex/cancel", "--create", "--json", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["branch"] == "codex/cancel" and result["created"] is True
    (sha,) = result["commits"]
    # The user's checkout did not move; the new branch starts at main.
    after = state(demo_repo)
    assert after["head"] == before["head"] == "refs/heads/main"
    assert git(demo_repo, "rev-parse", f"{sha}^") == git(demo_repo, "rev-parse", "main")
    assert git(demo_repo, "log", "-1", "--format=%an <%ae>|%s", sha) == (
        "Codex <noreply@openai.com>|Add order cancellation"
    )
    # Same patch-id as the inbox item: a verdict on the patch matches the commit.
    show = subprocess.run(["git", "show", sha], cwd=demo_repo, capture_output=True, check=True)
    pid = subprocess.run(
        ["git", "patch-id", "--stable"], input=show.stdout, capture_output=True, check=True
    ).stdout.split()[0]
    assert f"inbox:{pid.decode()}" == ident
    note = json.loads(git(demo_repo, "notes", "--ref=reviewq-prompt", "show", sha))
    assert note["agent"] == "codex" and note["model"] == "gpt-5-codex"
    assert note["patch_id"] == ident.removeprefix("inbox:")
    assert note["prompt"].startswith("Add a way to cancel an order")
    # The patch is archived, not deleted; the queue now has the commit on its branch.
    assert not (demo_repo / PATCH).exists()
    assert (demo_repo / "agent-inbox/applied/0001-add-order-cancellation.patch").is_file()
    assert (demo_repo / "agent-inbox/applied/0001-add-order-cancellation.json").is_file()
    records = {
        r["id"]: r
        for r in map(json.loads, cli("queue", "--json", cwd=demo_repo).stdout.splitlines())
    }
    assert ident not in records
    assert records[sha]["location"] == "codex/cancel"
    assert records[sha]["agent"] == "codex" and records[sha]["merged"] is False
    assert records[sha]["prompt"].startswith("Add a way to cancel an order")


def test_apply_in_place_on_the_checked_out_branch(cli, demo_repo):
    main_before = git(demo_repo, "rev-parse", "main")
    proc = cli("apply", PATCH.split("/")[-1], "--branch", "main", "--keep", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    assert "applied 1 patch to main" in proc.stdout
    assert git(demo_repo, "rev-parse", "main^") == main_before
    assert "def cancel" in (demo_repo / "orders/repository.py").read_text()
    assert git(demo_repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert (demo_repo / PATCH).is_file()  # --keep


def test_dirty_checkout_is_refused(cli, demo_repo):
    (demo_repo / "orders/repository.py").write_text("# local edit\n")
    before = state(demo_repo)
    proc = cli("apply", inbox_id(cli, demo_repo), "--branch", "main", cwd=demo_repo)
    assert proc.returncode == 2
    assert "uncommitted changes; commit or stash them first" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert state(demo_repo) == before


@pytest.mark.parametrize("branch", ["main", "elsewhere"])
def test_a_patch_that_does_not_apply_changes_nothing(cli, demo_repo, branch):
    # The code the patch expects is gone on both branches.
    (demo_repo / "orders/repository.py").write_text("class OrderStore:\n    pass\n")
    git(demo_repo, "commit", "-qam", "Rewrite the store")
    git(demo_repo, "branch", "elsewhere")
    ident = inbox_id(cli, demo_repo)
    before = state(demo_repo)
    proc = cli("apply", ident, "--branch", branch, cwd=demo_repo)
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"reviewq: the patch does not apply to {branch} (")
    assert "nothing was changed" in lines[0]
    assert state(demo_repo) == before
    assert (demo_repo / PATCH).is_file()


def test_plain_diff_with_sidecar_and_a_series(cli, repo):
    repo.commit("base", files={"app.py": "x = 1\n"})
    repo.write(".reviewq.toml", 'inbox = "inbox"\n')
    repo.write(".gitignore", "inbox/\n.reviewq.toml\n")
    repo.git("add", ".gitignore")
    repo.git("commit", "-qm", "ignore")
    repo.write(
        "inbox/bump.diff",
        "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n",
    )
    repo.write(
        "inbox/bump.json",
        json.dumps(
            {
                "agent": "claude-code",
                "model": "claude-sonnet-4-5",
                "prompt": "Bump x.",
                "prompted_by": "Lee Park <lee@example.com>",
            }
        ),
    )
    series = "".join(
        f"From {'0' * 40} Mon Sep 17 00:00:00 2001\nFrom: Codex <noreply@openai.com>\n"
        f"Date: Thu, 19 Nov 2026 10:0{i}:00 +0000\nSubject: [PATCH {i}/2] Step {i}\n\n---\n"
        f"diff --git a/s{i}.txt b/s{i}.txt\nnew file mode 100644\n--- /dev/null\n"
        f"+++ b/s{i}.txt\n@@ -0,0 +1 @@\n+step {i}\n"
        for i in (1, 2)
    )
    repo.write("inbox/series.mbox", series)
    items = [json.loads(x) for x in subprocess_lines(repo, "queue", "--json")]
    # The series is one item (a unit) listing its two patches, oldest first.
    series = [i for i in items if i.get("location", "").startswith("inbox/series")]
    assert len(series) == 1 and series[0]["unit"]["kind"] == "inbox"
    series_ids = series[0]["commits"]
    bump = next(i for i in items if i.get("location") == "inbox/bump.diff")
    assert len(series_ids) == 2
    # One patch of a series alone is refused; the file applies whole, in order.
    proc = run(repo, "apply", series_ids[1], "--branch", "main")
    assert proc.returncode == 2 and "holds a series of 2 patches" in proc.stderr
    proc = run(repo, "apply", "inbox/series.mbox", "--branch", "codex/steps", "--create", "--json")
    assert proc.returncode == 0, proc.stderr
    commits = json.loads(proc.stdout)["commits"]
    assert [git(repo.path, "log", "-1", "--format=%s", c) for c in commits] == ["Step 1", "Step 2"]
    # The bare diff gets the sidecar's person as author and the sidecar's agent in its note.
    proc = run(repo, "apply", "bump.diff", "--branch", "main", "--json")
    assert proc.returncode == 0, proc.stderr
    (sha,) = json.loads(proc.stdout)["commits"]
    assert git(repo.path, "log", "-1", "--format=%an <%ae>", sha) == "Lee Park <lee@example.com>"
    queued = {json.loads(x)["id"]: json.loads(x) for x in subprocess_lines(repo, "queue", "--json")}
    assert queued[sha]["agent"] == "claude-code"
    assert queued[sha]["model"] == bump["model"] == "claude-sonnet-4-5"
    assert queued[sha]["prompt"] == "Bump x."
    assert not any(i.startswith("inbox:") for i in queued)


def test_refusals_are_one_line(cli, demo_repo, tmp_path):
    ident = inbox_id(cli, demo_repo)
    cases = [
        (["--branch", "nope"], "branch 'nope' does not exist; pass --create"),
        (["--branch", "x", "--from", "main"], "--from only makes sense with --create"),
        (["--branch", "bad..name", "--create"], "'bad..name' is not a valid branch name"),
    ]
    for extra, message in cases:
        proc = cli("apply", ident, *extra, cwd=demo_repo)
        assert proc.returncode == 2 and message in proc.stderr, (extra, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1
    proc = cli("apply", "inbox:ffff", "--branch", "main", cwd=demo_repo)
    assert proc.returncode == 2 and "no inbox patch matches 'inbox:ffff'" in proc.stderr
    # A branch checked out in another worktree is not moved under it.
    git(demo_repo, "worktree", "add", "-q", str(tmp_path / "other"), "claude/export-retry")
    proc = cli("apply", ident, "--branch", "claude/export-retry", cwd=demo_repo)
    assert proc.returncode == 2 and "is checked out in" in proc.stderr


def run(repo: Repo, *args: str):
    from tests.conftest import run_reviewq

    return run_reviewq(*args, cwd=repo.path)


def subprocess_lines(repo: Repo, *args: str) -> list[str]:
    proc = run(repo, *args)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_approve_then_apply_the_commit_is_settled_by_its_patch_id(cli, demo_repo):
    ident = inbox_id(cli, demo_repo)
    proc = cli("verdict", ident, "approve", "--note", "fine", "--seconds", "60", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    proc = cli("apply", ident, "--branch", "codex/cancel", "--create", "--json", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["verdicts"] == ["approve"]
    (sha,) = result["commits"]
    ids = [
        json.loads(line)["id"] for line in cli("queue", "--json", cwd=demo_repo).stdout.splitlines()
    ]
    assert sha not in ids and ident not in ids  # one review, not two


def test_apply_without_a_verdict_says_the_commit_is_queued(cli, demo_repo):
    ident = inbox_id(cli, demo_repo)
    proc = cli("apply", ident, "--branch", "codex/cancel", "--create", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    assert "applied without a verdict; the new commits are in the queue" in proc.stderr
