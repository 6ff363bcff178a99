"""Queue scope: `[scope]` parsing, which refs are main and work, where items live, the cache."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

import pytest

from reviewq.context import Context
from reviewq.core.config import ConfigError, parse_config
from reviewq.core.scope import (
    DEFAULT_SCOPE,
    Scope,
    fetch_refspecs,
    landed_reviews,
    latest_patchsets,
    parse_scope,
    ref_kind,
    review_number,
    scope_of,
    short_ref,
)
from reviewq.sources.refs import read_snapshot, scope_view
from reviewq.workflow.queue import pending_queue
from reviewq.workflow.scan import scan_scope
from tests.conftest import FIXED_NOW

CLAUDE = ("Claude", "noreply@anthropic.com")


def ai(subject: str) -> str:
    return f"{subject}\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


def open_ctx(repo) -> Context:
    return Context.open(repo.path)


def placed(result) -> dict[str, tuple]:
    """subject -> (location, merged, refs, kind) for every change of a scope scan."""
    return {
        c.commit.subject: (c.location, c.merged, c.refs, c.location_kind) for c in result.changes
    }


# -- config ----------------------------------------------------------------------------------


def test_defaults_when_the_table_is_absent():
    config = parse_config({})
    assert scope_of(config) == DEFAULT_SCOPE
    assert DEFAULT_SCOPE.includes("refs/heads/claude/x")
    assert DEFAULT_SCOPE.includes("refs/remotes/origin/pull/3")
    assert DEFAULT_SCOPE.includes("refs/pull/3/head")
    assert not DEFAULT_SCOPE.includes("refs/remotes/origin/HEAD")
    assert not DEFAULT_SCOPE.includes("refs/notes/reviewq")
    assert not DEFAULT_SCOPE.includes("refs/tags/v1")
    assert not DEFAULT_SCOPE.includes("refs/pull/3/merge")
    assert DEFAULT_SCOPE.main_cutoff(FIXED_NOW) is None


def test_parse_scope_reads_every_key():
    scope = parse_scope(
        {
            "include": ["claude/*", "origin/copilot/*"],
            "exclude": ["claude/wip-*"],
            "main": "trunk",
            "main_since": "2026-11-01",
            "remote": "upstream",
            "pull_refs": ["refs/pull/*/head"],
        }
    )
    assert scope.includes("refs/heads/claude/fix")
    assert not scope.includes("refs/heads/claude/wip-1")
    assert scope.includes("refs/remotes/origin/copilot/x")
    assert not scope.includes("refs/remotes/origin/claude/fix")  # short names keep the remote
    assert scope.main == "trunk" and scope.default_remote() == "upstream"
    assert scope.main_cutoff(FIXED_NOW) == datetime(2026, 11, 1, tzinfo=FIXED_NOW.tzinfo)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30 days", FIXED_NOW - timedelta(days=30)),
        ("2 weeks ago", FIXED_NOW - timedelta(weeks=2)),
        ("12 hours", FIXED_NOW - timedelta(hours=12)),
        (date(2026, 11, 2), datetime(2026, 11, 2, tzinfo=FIXED_NOW.tzinfo)),
        ("2026-11-03T09:00:00+00:00", datetime.fromisoformat("2026-11-03T09:00:00+00:00")),
        ("all", None),
    ],
)
def test_main_since_forms(value, expected):
    assert parse_scope({"main_since": value}).main_cutoff(FIXED_NOW) == expected


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"includes": ["x"]}, "scope: unknown key 'includes'"),
        ({"include": "refs/heads/*"}, "scope.include: expected an array"),
        ({"include": [""]}, "scope.include[0]: expected a non-empty string"),
        ({"main_since": "last tuesday"}, "scope.main_since: 'last tuesday' is not a date"),
        ({"pull_refs": ["refs/pull/*/*"]}, "scope.pull_refs[0]: 'refs/pull/*/*' must start"),
        ({"pull_refs": ["refs/heads/*"]}, "scope.pull_refs[0]: 'refs/heads/*' is a branch"),
        ({"pull_refs": ["refs/pull/*/head", "refs/pull/*"]}, "scope.pull_refs: two patterns"),
        ({"remote": "a b"}, "scope.remote: 'a b' is not a remote name"),
        ({"main": "--all"}, "scope.main: '--all' is not a branch name"),
    ],
)
def test_bad_scope_names_the_key(table, message):
    with pytest.raises(ConfigError) as err:
        parse_scope(table)
    assert str(err.value).startswith(message)


def test_malformed_scope_is_one_line_and_exit_2(repo, cli):
    repo.commit(ai("Add x"), author=CLAUDE)
    repo.write(".reviewq.toml", '[scope]\nmain_since = "soon"\n')
    proc = cli("queue", cwd=repo.path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "scope.main_since" in lines[0] and "fix the setting" in lines[0]


def test_ref_names_and_kinds():
    remotes = ["origin", "team/fork"]
    assert short_ref("refs/heads/claude/x") == "claude/x"
    assert short_ref("refs/remotes/origin/pull/3") == "origin/pull/3"
    assert ref_kind("refs/heads/pull/3", remotes) == "branch"
    assert ref_kind("refs/remotes/origin/pull/3", remotes) == "pull-request"
    assert ref_kind("refs/remotes/team/fork/pull/3", remotes) == "pull-request"
    assert ref_kind("refs/remotes/origin/pull/feature", remotes) == "remote-branch"
    assert ref_kind("refs/remotes/origin/merge-requests/4", remotes) == "merge-request"
    assert ref_kind("refs/remotes/origin/changes/34/1234/2", remotes) == "change"
    assert ref_kind("refs/pull/3/head") == "pull-request"
    assert ref_kind("refs/merge-requests/9/head") == "merge-request"
    assert ref_kind("refs/changes/34/1234/2") == "change"
    assert ref_kind("HEAD") == "head"


def test_only_the_latest_gerrit_patch_set_counts():
    refs = [
        "refs/remotes/origin/changes/34/1234/1",
        "refs/remotes/origin/changes/34/1234/2",
        "refs/remotes/origin/changes/34/1234/10",
        "refs/remotes/origin/changes/34/1234/meta",
        "refs/remotes/origin/changes/35/1235/1",
        "refs/heads/claude/x",
    ]
    assert latest_patchsets(refs) == {
        "refs/remotes/origin/changes/34/1234/10",
        "refs/remotes/origin/changes/35/1235/1",
        "refs/heads/claude/x",
    }


def test_fetch_refspecs_stay_in_remote_tracking_namespaces():
    specs = fetch_refspecs("origin", DEFAULT_SCOPE)
    assert specs == [
        "+refs/heads/*:refs/remotes/origin/*",
        "+refs/pull/*/head:refs/remotes/origin/pull/*",
        "+refs/merge-requests/*/head:refs/remotes/origin/merge-requests/*",
        "+refs/changes/*:refs/remotes/origin/changes/*",
    ]
    assert all(s.split(":")[1].startswith("refs/remotes/origin/") for s in specs)


# -- main branch ----------------------------------------------------------------------------


def test_main_is_found_from_origin_head_then_main_then_master(repo):
    repo.commit("base")
    git_ctx = open_ctx(repo)
    snap = read_snapshot(git_ctx.git)
    assert scope_view(snap, DEFAULT_SCOPE).main == "refs/heads/main"
    repo.git("branch", "-m", "main", "master")
    snap = read_snapshot(git_ctx.git)
    assert scope_view(snap, DEFAULT_SCOPE).main == "refs/heads/master"
    repo.git("branch", "-m", "master", "trunk")
    snap = read_snapshot(git_ctx.git)
    assert scope_view(snap, DEFAULT_SCOPE).main == "refs/heads/trunk"  # HEAD's branch
    repo.git("update-ref", "refs/remotes/origin/develop", "HEAD")
    repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/develop")
    view = scope_view(read_snapshot(git_ctx.git), DEFAULT_SCOPE, ["origin"])
    assert view.main == "refs/remotes/origin/develop"
    assert "refs/remotes/origin/HEAD" not in view.work
    assert "refs/heads/trunk" in view.work  # not main, so its unmerged commits are work


def test_configured_main_wins_and_a_wrong_one_is_one_line(repo, cli):
    repo.commit("base")
    repo.git("branch", "trunk")
    ctx = open_ctx(repo)
    view = scope_view(read_snapshot(ctx.git), Scope(main="trunk"))
    assert view.main == "refs/heads/trunk"
    assert set(view.mainline) == {"refs/heads/trunk"}
    repo.write(".reviewq.toml", '[scope]\nmain = "nope"\n')
    proc = cli("queue", cwd=repo.path)
    assert proc.returncode == 2
    assert "scope.main: 'nope' names no branch" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# -- scanning the scope --------------------------------------------------------------------


@pytest.fixture
def agent_repo(repo):
    """main with an AI commit, an unmerged agent branch (two commits), a stacked branch on it,
    a human branch, a merged agent branch and a pull-request ref."""
    repo.commit("base")
    repo.commit(ai("AI on main"), author=CLAUDE)
    repo.git("checkout", "-q", "-b", "claude/feature")
    repo.commit(ai("Feature step 1"), author=CLAUDE)
    repo.commit(ai("Feature step 2"), author=CLAUDE)
    repo.git("checkout", "-q", "-b", "claude/stacked")
    repo.commit(ai("Stacked on feature"), author=CLAUDE)
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "human/topic")
    repo.commit("A person's work")
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "codex/merged")
    repo.commit("Merged fix\n\nCo-authored-by: Codex <noreply@openai.com>\n")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge codex/merged", "codex/merged")
    repo.git("update-ref", "refs/pull/7/head", "claude/feature")
    return repo


def test_scope_scan_places_each_item(agent_repo):
    ctx = open_ctx(agent_repo)
    result = scan_scope(ctx, now=FIXED_NOW)
    got = placed(result)
    assert got == {
        "AI on main": ("main", True, ("main",), "main"),
        "Merged fix": ("main", True, ("main",), "main"),
        # the nearest ref names the place; every containing ref is listed, branches first
        "Feature step 2": (
            "claude/feature",
            False,
            ("claude/feature", "claude/stacked", "pull/7/head"),
            "branch",
        ),
        "Feature step 1": (
            "claude/feature",
            False,
            ("claude/feature", "claude/stacked", "pull/7/head"),
            "branch",
        ),
        "Stacked on feature": ("claude/stacked", False, ("claude/stacked",), "branch"),
    }
    assert not result.from_cache
    again = scan_scope(ctx, now=FIXED_NOW)
    assert again.from_cache and again.commits_read == 0
    assert placed(again) == got


def test_queue_json_says_where_each_item_lives(agent_repo, cli):
    agent_repo.write(".reviewq.toml", '[scope]\nmain_since = "2099-01-01"\n')
    proc = cli("queue", "--json", cwd=agent_repo.path)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    # One item per unit (issue 16): the feature's two commits are one item, named by its pull
    # request; the stacked branch holds only its own commit.
    assert sorted(
        (r["subject"], r["location"], r["merged"], r["unit"]["ref"], len(r["commits"]))
        for r in records
    ) == [
        ("Feature step 2", "claude/feature", False, "refs/pull/7/head", 2),
        ("Stacked on feature", "claude/stacked", False, "refs/heads/claude/stacked", 1),
    ]
    assert all(r["location_kind"] == "branch" for r in records)
    table = cli("queue", cwd=agent_repo.path)
    assert "claude/stacked" in table.stdout and "LOCATION" in table.stdout


def test_main_since_keeps_only_recent_main_commits(agent_repo):
    ctx = open_ctx(agent_repo)
    when = {c.commit.subject: c.commit.committed_at for c in scan_scope(ctx, now=FIXED_NOW).changes}
    cut = datetime.fromisoformat(when["Merged fix"])
    scope = Scope(since_date=cut)
    subjects = {c.commit.subject for c in scan_scope(ctx, scope, now=FIXED_NOW).changes}
    assert "AI on main" not in subjects and "Merged fix" in subjects
    assert "Feature step 1" in subjects  # unmerged work does not age out
    everything = Scope(since_span=timedelta(days=3650))
    subjects = {c.commit.subject for c in scan_scope(ctx, everything, now=FIXED_NOW).changes}
    assert {"AI on main", "Merged fix"} <= subjects


def test_unmerged_since_leaves_stale_work_out(agent_repo):
    ctx = open_ctx(agent_repo)
    when = {c.commit.subject: c.commit.committed_at for c in scan_scope(ctx, now=FIXED_NOW).changes}
    cut = datetime.fromisoformat(when["Feature step 2"])
    scope = Scope(unmerged_date=cut)
    subjects = {c.commit.subject for c in scan_scope(ctx, scope, now=FIXED_NOW).changes}
    assert "Feature step 1" not in subjects
    assert {"Feature step 2", "Stacked on feature", "AI on main"} <= subjects
    assert parse_scope({"unmerged_since": "60 days"}).unmerged_cutoff(FIXED_NOW) == (
        FIXED_NOW - timedelta(days=60)
    )
    assert DEFAULT_SCOPE.unmerged_cutoff(FIXED_NOW) is None


def test_a_merge_moves_items_to_main_and_remembers_the_branch(agent_repo):
    ctx = open_ctx(agent_repo)
    scan_scope(ctx, now=FIXED_NOW)
    agent_repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "claude/feature")
    result = scan_scope(ctx, now=FIXED_NOW)
    assert result.incremental
    by = {c.commit.subject: c for c in result.changes}
    assert by["Feature step 1"].merged is True
    assert by["Feature step 1"].location == "main"
    assert by["Feature step 1"].merged_from == "claude/feature"
    assert by["Stacked on feature"].merged is False
    # with a window that ends before the merged commits, a merge makes them leave
    recent = Scope(since_date=FIXED_NOW)
    subjects = {c.commit.subject for c in scan_scope(ctx, recent, now=FIXED_NOW).changes}
    assert subjects == {"Stacked on feature"}


def test_deleting_a_branch_drops_its_items_and_a_new_ref_relabels_without_rescan(agent_repo):
    ctx = open_ctx(agent_repo)
    scan_scope(ctx, now=FIXED_NOW)
    agent_repo.git("branch", "-D", "claude/stacked")
    result = scan_scope(ctx, now=FIXED_NOW)
    assert "Stacked on feature" not in placed(result)
    assert result.commits_read == 0
    agent_repo.git("branch", "review/feature", "claude/feature")
    result = scan_scope(ctx, now=FIXED_NOW)
    assert result.commits_read == 0  # known commits, new label
    assert placed(result)["Feature step 2"][2] == (
        "claude/feature",
        "review/feature",
        "pull/7/head",
    )


def test_a_detached_head_is_work(agent_repo):
    agent_repo.git("checkout", "-q", "--detach", "main")
    agent_repo.commit(ai("Detached experiment"), author=CLAUDE)
    ctx = open_ctx(agent_repo)
    got = placed(scan_scope(ctx, now=FIXED_NOW))
    assert got["Detached experiment"] == ("HEAD", False, ("HEAD",), "head")


def test_new_commit_on_a_branch_is_scanned_incrementally(agent_repo):
    ctx = open_ctx(agent_repo)
    first = scan_scope(ctx, now=FIXED_NOW)
    agent_repo.git("checkout", "-q", "claude/feature")
    agent_repo.commit(ai("Feature step 3"), author=CLAUDE)
    result = scan_scope(ctx, now=FIXED_NOW)
    assert result.incremental and result.commits_read == 1
    assert placed(result)["Feature step 3"][0] == "claude/feature"
    assert first.commits_read > result.commits_read


def test_pending_queue_is_the_scope_plus_the_inbox(agent_repo, tmp_path):
    (agent_repo.path / "inbox").mkdir()
    agent_repo.write(
        "inbox/fix.patch",
        "--- a/x.txt\n+++ b/x.txt\n@@ -0,0 +1 @@\n+hello\n",
    )
    agent_repo.write(".reviewq.toml", 'inbox = "inbox"\n[scope]\nmain_since = "2099-01-01"\n')
    items = pending_queue(open_ctx(agent_repo), now=FIXED_NOW)
    places = sorted((i.change.location, i.change.merged, len(i.unit.commits)) for i in items)
    assert places == [  # one item per unit: the feature's two commits are one
        ("claude/feature", False, 2),
        ("claude/stacked", False, 1),
        ("inbox/fix.patch", False, 1),
    ]


def _random_walk(repo, seed: int, steps: int) -> None:
    """Random ref moves; after each, the cached answer must equal a scan from scratch."""
    rng = random.Random(seed)
    repo.commit("base")
    ctx = open_ctx(repo)
    branches = ["main"]
    for step in range(steps):
        op = rng.choice(["commit", "commit", "branch", "merge", "delete", "reset", "rewind"])
        if op == "commit":
            b = rng.choice(branches)
            repo.git("checkout", "-q", b)
            human = rng.random() < 0.3
            repo.commit(
                f"step {step}" if human else ai(f"step {step}"),
                author=("Ada", "ada@example.com") if human else CLAUDE,
            )
        elif op == "branch":
            name = f"agent/b{step}"
            repo.git("branch", name, rng.choice(branches))
            branches.append(name)
        elif op == "merge" and len(branches) > 1:
            repo.git("checkout", "-q", "main")
            repo.git("merge", "-q", "--no-ff", "-m", f"merge {step}", rng.choice(branches[1:]))
        elif op == "delete" and len(branches) > 1:
            name = rng.choice(branches[1:])
            repo.git("checkout", "-q", "main")
            repo.git("branch", "-D", name)
            branches.remove(name)
        elif op == "reset" and len(branches) > 1:
            name = rng.choice(branches[1:])
            repo.git("checkout", "-q", "main")
            back = step % 2 and repo.git("rev-list", "--count", name) != "1"
            repo.git("branch", "-f", name, f"{name}~1" if back else "main")
        elif op == "rewind" and repo.git("rev-list", "--count", "main") != "1":
            repo.git("checkout", "-q", "main")
            repo.git("reset", "-q", "--hard", "main~1")  # main force-moved back
        cached = scan_scope(ctx, now=FIXED_NOW)
        fresh = scan_scope(ctx, now=FIXED_NOW, use_cache=False)
        assert sorted(placed(cached).items()) == sorted(placed(fresh).items()), (seed, step, op)


def test_incremental_scans_agree_with_full_scans(repo):
    _random_walk(repo, seed=7, steps=30)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 11))
def test_incremental_scans_agree_with_full_scans_long(make_repo, seed):
    _random_walk(make_repo(f"walk{seed}"), seed=seed, steps=60)


def test_a_bare_mirror_queues_the_scope_and_skips_the_absent_inbox(agent_repo, tmp_path, cli):
    agent_repo.write(".reviewq.toml", 'inbox = "agent-inbox"\n[scope]\nmain_since = "2099-01-01"\n')
    agent_repo.git("add", ".reviewq.toml")
    agent_repo.git("commit", "-qm", "settings")
    mirror = tmp_path / "mirror.git"
    agent_repo.git("clone", "-q", "--mirror", str(agent_repo.path), str(mirror))
    proc = cli("--repo", str(mirror), "queue", "--json")
    assert proc.returncode == 0, proc.stderr
    got = sorted(
        (r["location"], len(r["commits"])) for r in map(json.loads, proc.stdout.splitlines())
    )
    assert got == [("claude/feature", 2), ("claude/stacked", 1)]  # one item per unit
    # `scan --inbox DIR` names a folder explicitly: a missing one is still an error.
    proc = cli("scan", "--inbox", str(tmp_path / "nope"), cwd=agent_repo.path)
    assert proc.returncode == 2 and "no such folder" in proc.stderr


def test_landed_reviews_reads_what_github_and_gitlab_write_on_main() -> None:
    messages = [
        "Speed up export (#12)\n\n* Speed up export\n\nCo-authored-by: Cursor Agent <x>",
        "Merge pull request #5 from acme/claude/retry\n\nRetry exports",
        "Paginate the orders list\n\nSee merge request acme/shop!4",
        "Mention (#7) in the middle of a subject",  # not where GitHub puts it
        "Fix (#x)",
        "Body only\n\nFixes (#8)",  # only the subject counts for GitHub
    ]
    assert landed_reviews(messages) == {
        ("pull-request", 12),
        ("pull-request", 5),
        ("merge-request", 4),
    }


def test_review_number_of_each_review_ref_form() -> None:
    remotes = ["origin", "team/fork"]
    assert review_number("refs/remotes/origin/pull/12", remotes) == ("pull-request", 12)
    assert review_number("refs/remotes/team/fork/pull/3", remotes) == ("pull-request", 3)
    assert review_number("refs/pull/7/head") == ("pull-request", 7)
    assert review_number("refs/merge-requests/4/head") == ("merge-request", 4)
    assert review_number("refs/remotes/origin/merge-requests/9", remotes) == ("merge-request", 9)
    assert review_number("refs/changes/01/1001/2") is None  # Gerrit: no request number
    assert review_number("refs/heads/pull/12") is None
    assert review_number("refs/remotes/origin/pulled", remotes) is None


def test_landing_key_sees_copies_and_only_copies():
    from reviewq.core.scope import landing_key, rebased_copies

    files = [["a.py", "M", 3, 1, False, None, None], ["b.py", "A", 10, 0, False, None, None]]
    at = "2026-11-20T10:00:00+01:00"
    message = "Speed up export\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n"
    original = landing_key("Dev@Example.com", at, message, files)
    picked = landing_key(
        "dev@example.com", at, message + "\n(cherry picked from commit 0123abcd)\n", files[::-1]
    )
    assert original == picked  # cherry-pick -x's line, email case and file order do not count
    other_counts = landing_key("dev@example.com", at, message, [[*files[0][:2], 4, 1, False]])
    redone = landing_key("dev@example.com", "2026-11-21T10:00:00+01:00", message, files)
    assert other_counts != original and redone != original
    assert rebased_copies({"b1": original, "b2": redone}, {"m1": picked, "m2": "x"}) == {"b1": "m1"}
