"""`reviewq sync`: a bare remote, several clones recording verdicts at once, nothing lost.

- `test_three_clones_record_and_sync_at_once` runs by default (about 30 s): three clones each
  record verdicts on the same four commits while syncing, all at the same time.
- `test_five_clones_many_rounds` (slow) is the heavier variant.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reviewq.sources.gitcmd import Git
from reviewq.store.notes_log import NOTES_REF, read_verdict_notes
from reviewq.store.sync import sync_notes, tracking_ref
from tests.verdict_kit import ai_commit

VERDICTS = ["approve", "reject", "changes", "escalate"]


def reviewq(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewq", "--repo", str(path), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def notes_lines(path: Path) -> list[str]:
    """Every line of every note on refs/notes/reviewq (duplicates would show here)."""
    git = Git(path)
    out = []
    for _target, line in read_verdict_notes(git, keep_lines=True).lines or []:
        out.append(line.decode())
    return out


def setup_team(make_repo, tmp_path: Path, clones: int, commits: int):
    remote = make_repo("remote.git", bare=True)
    seed = make_repo("seed")
    shas = [
        ai_commit(seed, f"change {i}", files={f"f{i}.py": f"x = {i}\n"}) for i in range(commits)
    ]
    seed.git("remote", "add", "origin", str(remote.path))
    seed.git("push", "-q", "origin", "main")
    paths = []
    for k in range(clones):
        path = tmp_path / f"clone{k}"
        subprocess.run(["git", "clone", "-q", str(remote.path), str(path)], check=True)
        subprocess.run(["git", "config", "user.name", f"Reviewer {k}"], cwd=path, check=True)
        subprocess.run(["git", "config", "user.email", f"r{k}@example.com"], cwd=path, check=True)
        paths.append(path)
    return remote, shas, paths


def run_all(jobs) -> list:
    results: list = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def work(i: int) -> None:
        start.wait()
        results[i] = jobs[i]()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def team_round(paths: list[Path], shas: list[str], rounds_of_verdicts: int) -> list[str]:
    """Every clone, at once: for each commit record a verdict, then sync; returns verdict ids."""

    def clone_job(k: int, path: Path):
        def job() -> list[str]:
            ids = []
            for r in range(rounds_of_verdicts):
                for i, sha in enumerate(shas):
                    out = reviewq(
                        path, "verdict", sha, VERDICTS[(i + k + r) % 4], "--note", "n", "--json"
                    )
                    assert out.returncode == 0, out.stderr
                    ids.append(json.loads(out.stdout)["id"])
                synced = reviewq(path, "sync")
                assert synced.returncode == 0, synced.stderr
            return ids

        return job

    return [i for ids in run_all([clone_job(k, p) for k, p in enumerate(paths)]) for i in ids]


def settle(paths: list[Path]) -> list[dict]:
    """Everyone syncs at once, twice: the first round brings every verdict to the remote, the
    second brings the remote's to everyone."""
    reports = []
    for _ in range(2):
        outs = run_all([lambda p=p: reviewq(p, "sync", "--json") for p in paths])
        for out in outs:
            assert out.returncode == 0, out.stderr
            reports.append(json.loads(out.stdout))
    return reports


def assert_everyone_has_everything_once(remote: Path, paths: list[Path], ids: list[str]) -> None:
    assert len(ids) == len(set(ids))
    for path in [*paths, remote]:
        lines = notes_lines(path)
        seen = collections.Counter(json.loads(line)["id"] for line in lines)
        assert set(seen) == set(ids), path
        assert all(n == 1 for n in seen.values()), f"{path}: a verdict appears twice"
    for path in paths:
        logged = reviewq(path, "log", "--json")
        assert sorted(json.loads(line)["id"] for line in logged.stdout.splitlines()) == sorted(ids)
        verify = reviewq(path, "log", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.slow
def test_three_clones_record_and_sync_at_once(make_repo, tmp_path: Path) -> None:
    remote, shas, paths = setup_team(make_repo, tmp_path, clones=3, commits=4)
    ids = team_round(paths, shas, rounds_of_verdicts=1)
    assert len(ids) == 12
    settle(paths)
    assert_everyone_has_everything_once(remote.path, paths, ids)
    # The notes carry patch-ids and the reviewers' own identities.
    records = read_verdict_notes(Git(remote.path)).records
    assert {r["reviewer"]["email"] for r in records} == {f"r{k}@example.com" for k in range(3)}
    assert all(r["patch_id"] for r in records)


@pytest.mark.slow
def test_five_clones_many_rounds(make_repo, tmp_path: Path) -> None:
    remote, shas, paths = setup_team(make_repo, tmp_path, clones=5, commits=4)
    ids = team_round(paths, shas, rounds_of_verdicts=3)
    assert len(ids) == 60
    reports = settle(paths)
    assert_everyone_has_everything_once(remote.path, paths, ids)
    print("sync attempts:", [r["attempts"] for r in reports])


def test_push_refused_by_a_racing_pusher_is_retried(make_repo, tmp_path: Path) -> None:
    """Someone else's push lands between our fetch and our push: ours is refused, we fetch,
    merge and push again, and both verdicts survive."""
    remote, shas, (a, b) = setup_team(make_repo, tmp_path, clones=2, commits=1)
    assert reviewq(a, "verdict", shas[0], "approve").returncode == 0
    assert reviewq(a, "sync").returncode == 0
    assert reviewq(a, "verdict", shas[0], "escalate", "--note", "n").returncode == 0
    # B's pre-push hook lets A push first: after B fetched and merged, before B's push lands.
    marker = tmp_path / "raced"
    hook = b / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        f'if [ ! -e "{marker}" ]; then\n'
        f'  touch "{marker}"\n'
        f'  git -C "{a}" push -q origin {NOTES_REF}:{NOTES_REF} >/dev/null 2>&1\n'
        "fi\n"
        "exit 0\n"
    )
    hook.chmod(0o755)
    assert reviewq(b, "verdict", shas[0], "reject").returncode == 0
    waits: list[float] = []
    result = sync_notes(Git(b), "origin", b / ".git" / "reviewq" / "notes.lock", sleep=waits.append)
    assert marker.exists()
    assert result.attempts == 2 and result.pushed and len(waits) == 1
    assert len(result.rejected) == 1
    verdicts = sorted(r["verdict"] for r in read_verdict_notes(Git(remote.path)).records)
    assert verdicts == ["approve", "escalate", "reject"]
    assert (
        Git(b).text(["rev-parse", tracking_ref("origin")]).strip()
        == Git(b).text(["rev-parse", NOTES_REF]).strip()
    )


def test_first_sync_to_a_remote_without_notes(make_repo, tmp_path: Path) -> None:
    _remote, shas, (a,) = setup_team(make_repo, tmp_path, clones=1, commits=2)
    nothing = reviewq(a, "sync", "--json")
    assert nothing.returncode == 0, nothing.stderr
    assert json.loads(nothing.stdout) == {
        "remote": "origin",
        "attempts": 1,
        "fetched": 0,
        "pushed": False,
        "records": 0,
        "repaired": 0,
    }
    reviewq(a, "verdict", shas[0], "approve")
    out = reviewq(a, "sync")
    assert out.returncode == 0
    assert out.stdout.startswith("synced refs/notes/reviewq with origin: 0 new verdict(s)")
    assert "pushed" in out.stdout
    again = json.loads(reviewq(a, "sync", "--json").stdout)
    assert again["pushed"] is False and again["records"] == 1


def test_bare_mirror_queue_after_sync(make_repo, tmp_path: Path) -> None:
    remote, shas, (a,) = setup_team(make_repo, tmp_path, clones=1, commits=3)
    reviewq(a, "verdict", shas[0], "approve")
    reviewq(a, "verdict", shas[1], "escalate", "--note", "n")
    assert reviewq(a, "sync").returncode == 0
    mirror = tmp_path / "ci-mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(remote.path), str(mirror)], check=True)
    out = reviewq(mirror, "queue", "--json")
    assert out.returncode == 0, out.stderr
    assert sorted(json.loads(line)["sha"] for line in out.stdout.splitlines()) == sorted(shas[1:])


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("none", ["sync"], "no remote to sync with"),
        ("origin", ["sync", "upstream"], "no remote named 'upstream'"),
        ("broken", ["sync"], "could not fetch review notes from 'origin'"),
        ("two", ["sync"], "several remotes"),
    ],
)
def test_sync_bad_remote_is_one_line_exit_2(repo, setup, args, message, tmp_path) -> None:
    sha = ai_commit(repo, "change")
    if setup in ("origin", "two"):
        repo.git("remote", "add", "origin" if setup == "origin" else "a", str(tmp_path))
    if setup == "two":
        repo.git("remote", "add", "b", str(tmp_path))
    if setup == "broken":
        repo.git("remote", "add", "origin", str(tmp_path / "gone.git"))
    assert reviewq(repo.path, "verdict", sha, "approve").returncode == 0
    out = reviewq(repo.path, *args)
    assert out.returncode == 2, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    # Nothing recorded was lost.
    assert len(reviewq(repo.path, "log", "--json", "--local").stdout.splitlines()) == 1


def test_default_remote_follows_the_branch(make_repo, tmp_path: Path) -> None:
    remote, shas, (a,) = setup_team(make_repo, tmp_path, clones=1, commits=1)
    other = make_repo("other.git", bare=True)
    subprocess.run(["git", "remote", "add", "backup", str(other.path)], cwd=a, check=True)
    subprocess.run(["git", "config", "branch.main.remote", "backup"], cwd=a, check=True)
    reviewq(a, "verdict", shas[0], "approve")
    out = reviewq(a, "sync")
    assert out.returncode == 0 and "with backup" in out.stdout
    assert read_verdict_notes(Git(other.path)).records
    assert not read_verdict_notes(Git(remote.path)).records


class RacingGit(Git):
    """A `Git` whose first `ls-remote` lets another clone's first push land just before it."""

    def __init__(self, path: Path, racer: Path) -> None:
        super().__init__(path)
        self.racer = racer
        self.raced = False

    def text(self, args, **kwargs) -> str:  # type: ignore[override]
        if args[:1] == ["ls-remote"] and not self.raced:
            self.raced = True
            pushed = reviewq(self.racer, "sync")
            assert pushed.returncode == 0, pushed.stderr
        return super().text(args, **kwargs)


def test_first_notes_pushed_between_failed_fetch_and_ls_remote(make_repo, tmp_path: Path) -> None:
    """The race CI met with five clones: our fetch finds no notes ref, another clone's first push
    lands, and our `ls-remote` then sees the ref. That is no failure: fetch again and go on."""
    remote, shas, (a, b) = setup_team(make_repo, tmp_path, clones=2, commits=1)
    assert reviewq(a, "verdict", shas[0], "approve").returncode == 0
    assert reviewq(b, "verdict", shas[0], "reject").returncode == 0
    git = RacingGit(b, racer=a)
    result = sync_notes(git, "origin", b / ".git" / "reviewq" / "notes.lock", sleep=lambda _: None)
    assert git.raced and result.pushed and result.fetched == 1
    verdicts = sorted(r["verdict"] for r in read_verdict_notes(Git(remote.path)).records)
    assert verdicts == ["approve", "reject"]
