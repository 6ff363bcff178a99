"""`reviewq pull`: a bare remote with agent branches, pull/merge-request refs and notes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXED_NOW, Repo

CLAUDE = ("Claude", "noreply@anthropic.com")
COPILOT = ("Copilot", "198982749+Copilot@users.noreply.github.com")
DEVIN = (
    "devin-ai-integration[bot]",
    "158243242+devin-ai-integration[bot]@users.noreply.github.com",
)
CURSOR = ("Cursor Agent", "cursoragent@cursor.com")
#: Later than every commit the fixtures make: main's own AI history is out of the window, so
#: the queue is exactly the unmerged work.
WINDOW = f'[scope]\nmain_since = "{FIXED_NOW.isoformat()}"\n'


def claude(subject: str) -> str:
    return f"{subject}\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


class Host:
    """The hosting side: a work repository whose refs are mirrored into a bare `origin`."""

    def __init__(self, make_repo) -> None:
        self.work = make_repo("host-work")
        self.bare = make_repo("origin.git", bare=True)
        self.bare.git("symbolic-ref", "HEAD", "refs/heads/main")

    def publish(self) -> None:
        self.work.git("push", "-q", "--mirror", str(self.bare.path))

    def on(self, branch: str, *, start: str = "main") -> None:
        self.work.git("checkout", "-q", "-B", branch, start)


@pytest.fixture
def host(make_repo):
    """main (a human base and an old AI commit), a merged Codex branch, an unmerged Copilot
    branch, a human branch, GitHub PR refs (one from a fork, one merged), a GitLab MR ref, two
    Gerrit patch sets, and review + prompt notes."""
    h = Host(make_repo)
    w = h.work
    w.commit("Initial service")
    w.commit(claude("Old AI work on main"), author=CLAUDE)
    h.on("codex/merged")
    merged = w.commit("Fix rounding\n\nCo-authored-by: Codex <noreply@openai.com>\n")
    w.git("checkout", "-q", "main")
    w.git("merge", "-q", "--no-ff", "-m", "Merge codex/merged", "codex/merged")
    h.on("copilot/fix-totals")
    copilot1 = w.commit("Fix order totals", author=COPILOT)
    copilot2 = w.commit("Add a test for totals", author=COPILOT)
    h.on("dana/topic")
    w.commit("Dana's refactor")
    h.on("fork-work")
    fork = w.commit("Speed up export", author=CURSOR)
    h.on("mr-work")
    devin = w.commit("Paginate the orders list", author=DEVIN)
    h.on("gerrit-work")
    ps1 = w.commit(claude("Cache prices (patch set 1)"), author=CLAUDE)
    w.git("checkout", "-q", "main")
    h.on("gerrit-work-2")
    ps2 = w.commit(claude("Cache prices"), author=CLAUDE)
    w.git("checkout", "-q", "main")
    # Review refs exist only on the host; the work branches behind some of them do not.
    w.git("update-ref", "refs/pull/12/head", fork)
    w.git("update-ref", "refs/pull/9/head", merged)
    w.git("update-ref", "refs/pull/15/head", copilot2)
    w.git("update-ref", "refs/merge-requests/4/head", devin)
    w.git("update-ref", "refs/changes/01/1001/1", ps1)
    w.git("update-ref", "refs/changes/01/1001/2", ps2)
    for b in ("fork-work", "mr-work", "gerrit-work", "gerrit-work-2"):
        w.git("branch", "-D", b)
    w.note(
        "refs/notes/reviewq-prompt",
        copilot2,
        json.dumps({"v": 1, "prompt": "Add a regression test for order totals."}),
    )
    h.publish()
    h.shas = {"copilot1": copilot1, "copilot2": copilot2, "fork": fork, "devin": devin}
    return h


@pytest.fixture
def reviewer(make_repo, host):
    """A reviewer's repository that knows the remote but has fetched nothing yet."""
    r = make_repo("reviewer")
    r.git("remote", "add", "origin", str(host.bare.path))
    r.write(".reviewq.toml", WINDOW)
    return r


def queue(cli, repo) -> list[dict]:
    proc = cli("queue", "--json", cwd=getattr(repo, "path", repo))
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def where(records) -> set[tuple[str, str, bool]]:
    return {(r["subject"], r["location"], r["merged"]) for r in records}


# One item per unit (issue 16): "Fix order totals" is the first commit of the branch's unit,
# whose tip is "Add a test for totals".
UNMERGED = {
    ("Add a test for totals", "origin/copilot/fix-totals", False),
    ("Speed up export", "origin/pull/12", False),
    ("Paginate the orders list", "origin/merge-requests/4", False),
    ("Cache prices", "origin/changes/01/1001/2", False),
}


def test_pull_brings_in_exactly_the_unmerged_ai_work(cli, reviewer, host):
    assert queue(cli, reviewer) == []
    proc = cli("pull", "--json", cwd=reviewer.path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["remote"] == "origin"
    assert "origin/pull/12" in report["refs"]["new"]
    assert "origin/merge-requests/4" in report["refs"]["new"]
    assert "origin/changes/01/1001/1" in report["refs"]["new"]
    assert where(report["new"]) == UNMERGED
    assert report["pending"] == len(UNMERGED)
    assert {n["ref"]: n["status"] for n in report["notes"]} == {
        "refs/notes/reviewq-prompt": "created"
    }
    records = queue(cli, reviewer)
    assert where(records) == UNMERGED  # not the human branch, not the merged PR, not patch set 1
    by_subject = {r["subject"]: r for r in records}
    assert by_subject["Add a test for totals"]["refs"] == [
        "origin/copilot/fix-totals",
        "origin/pull/15",
    ]
    assert (
        by_subject["Add a test for totals"]["prompt"] == "Add a regression test for order totals."
    )
    assert by_subject["Speed up export"]["location_kind"] == "pull-request"
    assert by_subject["Paginate the orders list"]["location_kind"] == "merge-request"
    assert by_subject["Cache prices"]["location_kind"] == "change"
    # origin/HEAD was set, so main is the remote's main
    assert reviewer.git("symbolic-ref", "refs/remotes/origin/HEAD") == "refs/remotes/origin/main"

    again = cli("pull", cwd=reviewer.path)
    assert again.returncode == 0, again.stderr
    assert "nothing new in the queue" in again.stdout


def test_a_merge_on_the_remote_makes_items_leave(cli, reviewer, host):
    assert cli("pull", cwd=reviewer.path).returncode == 0
    host.work.git("checkout", "-q", "main")
    host.work.git("merge", "-q", "--no-ff", "-m", "Merge totals", "copilot/fix-totals")
    host.publish()
    proc = cli("pull", "--json", cwd=reviewer.path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    # The branch's unit (its tip's subject) left; both commits are main's now.
    assert {r["subject"] for r in report["left"]} == {"Add a test for totals"}
    assert report["new"] == []
    assert "origin/main" in report["refs"]["updated"]
    left = UNMERGED - {
        ("Fix order totals", "origin/copilot/fix-totals", False),
        ("Add a test for totals", "origin/copilot/fix-totals", False),
    }
    assert where(queue(cli, reviewer)) == left

    # Without a window, merged AI work stays in the queue, marked merged, until a verdict.
    reviewer.write(".reviewq.toml", "")
    records = {r["subject"]: r for r in queue(cli, reviewer)}
    assert records["Fix order totals"]["merged"] is True
    assert records["Fix order totals"]["location"] == "origin/main"
    assert records["Old AI work on main"]["merged"] is True


def test_a_verdict_recorded_elsewhere_settles_the_item_after_pull(cli, reviewer, host):
    assert cli("pull", cwd=reviewer.path).returncode == 0
    proc = cli("verdict", host.shas["fork"], "approve", cwd=host.work.path)
    assert proc.returncode == 0, proc.stderr
    host.publish()
    proc = cli("pull", "--json", cwd=reviewer.path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [r["subject"] for r in report["left"]] == ["Speed up export"]
    assert {n["ref"]: n["status"] for n in report["notes"]}["refs/notes/reviewq"] == "created"
    assert "Speed up export" not in {r["subject"] for r in queue(cli, reviewer)}
    # `sync` sees the same tracking ref `pull` updated: nothing to fetch twice, nothing lost.
    proc = cli("sync", cwd=reviewer.path)
    assert proc.returncode == 0, proc.stderr


def test_new_agent_work_is_reported_and_human_output_lists_it(cli, reviewer, host):
    assert cli("pull", cwd=reviewer.path).returncode == 0
    host.on("claude/retry")
    host.work.commit(claude("Retry exports"), author=CLAUDE)
    host.work.git("update-ref", "refs/pull/16/head", "claude/retry")
    host.work.git("checkout", "-q", "main")
    host.publish()
    proc = cli("pull", cwd=reviewer.path)
    assert proc.returncode == 0, proc.stderr
    assert "1 new in the queue:" in proc.stdout
    assert "origin/claude/retry" in proc.stdout and "Retry exports" in proc.stdout
    assert "refs 2 new" in proc.stdout


def test_pull_never_moves_local_branches_and_merges_notes(cli, tmp_path, host):
    host.work.git("clone", "-q", str(host.bare.path), str(tmp_path / "clone"))
    clone = Repo(tmp_path / "clone")  # re-init of an existing clone is harmless
    clone.write(".reviewq.toml", WINDOW)
    # The reviewer has the agent branch checked out with a commit of their own on it, and
    # a verdict of their own on the commit a teammate reviewed on the host.
    clone.git("checkout", "-q", "copilot/fix-totals")
    mine = clone.commit("Reviewer tweak")
    copilot1 = host.shas["copilot1"]
    verdict = cli("verdict", copilot1, "approve", "--note", "mine", cwd=clone.path)
    assert verdict.returncode == 0, verdict.stderr
    verdict = cli("verdict", copilot1, "changes", "--note", "theirs", cwd=host.work.path)
    assert verdict.returncode == 0, verdict.stderr
    clone.note(
        "refs/notes/reviewq-prompt",
        host.shas["copilot2"],
        json.dumps({"v": 1, "prompt": "My own wording of the prompt."}),
    )
    # The agent force-pushes its branch on the host.
    host.on("copilot/fix-totals", start="main")
    host.work.commit("Redo totals", author=COPILOT)
    host.work.git("checkout", "-q", "main")
    host.publish()
    local_refs = clone.git("for-each-ref", "refs/heads", "refs/tags")
    proc = cli("pull", "--json", cwd=clone.path)
    assert proc.returncode == 0, proc.stderr
    assert clone.git("for-each-ref", "refs/heads", "refs/tags") == local_refs
    assert clone.git("rev-parse", "copilot/fix-totals") == mine
    assert clone.git("status", "--porcelain", "--untracked-files=no") == ""
    assert "origin/copilot/fix-totals" in json.loads(proc.stdout)["refs"]["updated"]
    review = clone.git("notes", "--ref=reviewq", "show", copilot1)
    notes = [json.loads(line) for line in review.splitlines()]
    assert sorted(n["note"] for n in notes) == ["mine", "theirs"]  # both records kept
    prompt = clone.git("notes", "--ref=reviewq-prompt", "show", host.shas["copilot2"])
    assert "My own wording" in prompt  # ours wins where both wrote
    statuses = {n["ref"]: n["status"] for n in json.loads(proc.stdout)["notes"]}
    assert statuses["refs/notes/reviewq"] == "merged"
    # The force-pushed remote branch's new commit is queued; the old commits still live on
    # the local branch and in the pull request (the nearest ref names the place).
    records = {r["subject"]: r for r in queue(cli, clone)}
    assert records["Redo totals"]["location"] == "origin/copilot/fix-totals"
    assert records["Add a test for totals"]["location"] == "origin/pull/15"
    assert records["Add a test for totals"]["refs"] == ["copilot/fix-totals", "origin/pull/15"]
    assert "Fix order totals" not in records  # settled by the verdicts


def test_pull_errors_are_one_line(cli, make_repo, reviewer):
    lonely = make_repo("lonely")
    proc = cli("pull", cwd=lonely.path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "reviewq: no remote named 'origin'; pass REMOTE or add one with `git remote add origin URL`"
    )
    proc = cli("pull", "upstream", cwd=reviewer.path)
    assert proc.returncode == 2 and "(remotes here: origin)" in proc.stderr
    reviewer.git("remote", "add", "broken", str(reviewer.path.parent / "missing.git"))
    proc = cli("pull", "broken", cwd=reviewer.path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reviewq: cannot fetch from 'broken'")


def test_a_bare_mirror_can_pull(cli, make_repo, host):
    mirror = make_repo("mirror.git", bare=True)
    mirror.git("remote", "add", "origin", str(host.bare.path))
    proc = cli("--config", str(_window_file(mirror)), "pull", "--json", cwd=mirror.path)
    assert proc.returncode == 0, proc.stderr
    assert where(json.loads(proc.stdout)["new"]) == UNMERGED
    assert mirror.git("for-each-ref", "refs/heads") == ""


def _window_file(repo):
    path = repo.path.parent / f"{repo.path.name}.toml"
    path.write_text(WINDOW)
    return path


def test_demo_pull_brings_in_the_copilot_pull_request(cli, demo_repo):
    before = queue(cli, demo_repo)
    assert ("Retry failed exports with backoff", "claude/export-retry", False) in where(before)
    proc = cli("pull", "--json", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert where(report["new"]) == {
        ("Compress exports without a shell", "origin/copilot/safe-gzip", False)
    }
    (item,) = report["new"]
    assert item["refs"] == ["origin/copilot/safe-gzip", "origin/pull/7"]
    assert item["agent"] == "copilot"
    assert len(queue(cli, demo_repo)) == len(before) + 1


def test_a_squash_merged_pull_request_leaves_the_queue(cli, reviewer, host):
    """GitHub keeps `refs/pull/N/head` of a squash-merged pull request forever and main never
    holds its commits; the squash commit's subject `Title (#N)` says it landed. GitLab's
    `See merge request group/project!N` line does the same for a merge request."""
    assert cli("pull", cwd=reviewer.path).returncode == 0
    w = host.work
    w.git("checkout", "-q", "main")
    w.commit("Speed up export (#13)")  # another pull request: #12 stays
    host.publish()
    assert where(json.loads(cli("pull", "--json", cwd=reviewer.path).stdout)["left"]) == set()
    assert where(queue(cli, reviewer)) == UNMERGED

    w.commit("Speed up export (#12)\n\n* Speed up export\n")
    w.commit("Paginate the orders list\n\nSee merge request acme/shop!4\n")
    host.publish()
    proc = cli("pull", "--json", cwd=reviewer.path)
    assert proc.returncode == 0, proc.stderr
    left = {r["subject"] for r in json.loads(proc.stdout)["left"]}
    assert left == {"Speed up export", "Paginate the orders list"}
    assert where(queue(cli, reviewer)) == UNMERGED - {
        ("Speed up export", "origin/pull/12", False),
        ("Paginate the orders list", "origin/merge-requests/4", False),
    }
    # A scan from a cold cache answers the same (the answer is also cached with the scan).
    cache = reviewer.path / ".git" / "reviewq"
    for name in ("cache.json", "state.json"):
        (cache / name).unlink(missing_ok=True)
    assert "Speed up export" not in {r["subject"] for r in queue(cli, reviewer)}


def test_a_rebase_merged_pull_request_leaves_the_queue(cli, reviewer, host):
    """GitHub's "Rebase and merge" (like a cherry-pick) puts a copy of each commit on main: a
    new committer and date, the same author, author date, message and changes. The copy on
    main is the item and says where it came from; the request's original leaves the queue.
    A copy whose changes differ (a conflict resolved on the way) does not count as landed."""
    from datetime import timedelta

    assert cli("pull", cwd=reviewer.path).returncode == 0
    w = host.work
    w.git("checkout", "-q", "main")
    github = {
        "GIT_COMMITTER_NAME": "GitHub",
        "GIT_COMMITTER_EMAIL": "noreply@github.com",
        "GIT_COMMITTER_DATE": (FIXED_NOW + timedelta(hours=1)).isoformat(),
    }
    w.git("cherry-pick", "-x", host.shas["fork"], env=github)
    # The merge request's commit lands changed: another line in its file.
    w.git("cherry-pick", "--no-commit", host.shas["devin"])
    changed = next(p for p in w.git("diff", "--cached", "--name-only").split() if p)
    (w.path / changed).write_text((w.path / changed).read_text() + "resolved by hand\n")
    w.git("add", "-A")
    w.git("commit", "-q", "-C", host.shas["devin"], env=github)
    host.publish()
    proc = cli("pull", "--json", cwd=reviewer.path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert where(report["left"]) == {("Speed up export", "origin/pull/12", False)}
    records = queue(cli, reviewer)
    assert where(records) == UNMERGED - {("Speed up export", "origin/pull/12", False)} | {
        ("Speed up export", "origin/main", True),
        ("Paginate the orders list", "origin/main", True),
    }
    landed = next(r for r in records if r["subject"] == "Speed up export")
    assert landed["merged_from"] == "origin/pull/12"
    # A scan from a cold cache answers the same.
    (reviewer.path / ".git" / "reviewq" / "cache.json").unlink()
    assert where(queue(cli, reviewer)) == where(records)
