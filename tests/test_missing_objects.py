"""A repository that lacks objects (a partial clone offline, a lost loose object) never costs a scan.

Sizes the missing objects would give become *unknown* (never 0, never binary); the rest of the
commit and every other commit are counted; one warning line on stderr says how many and how to
fetch them; `show`, `queue`, `stats` say "size unknown"; the gate fails closed on a speed rule it
cannot evaluate. Everything runs through the real CLI on real repositories.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reviewq.sources.gitcmd import Git, GitError, command_name
from tests.conftest import Repo, run_reviewq

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
BIG = "".join(f"line {i} of a large generated file\n" for i in range(400))  # > 8 KiB
SAFE_PATH = {"PYTHONSAFEPATH": "1"}


def scan_json(path: Path, *args: str) -> tuple[dict[str, dict], str]:
    result = run_reviewq("scan", "--json", *args, cwd=path, env=SAFE_PATH)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {r["sha"]: r for r in records}, result.stderr


def history(repo: Repo) -> dict[str, str]:
    """A human commit, an AI commit touching a large and a small file, a small AI commit."""
    shas = {}
    shas["human"] = repo.commit("Start", files={"big.txt": BIG, "small.txt": "a\n"})
    shas["mixed"] = repo.commit(
        "Grow both files" + CLAUDE,
        files={"big.txt": BIG + "one more line\n", "small.txt": "a\nb\nc\n"},
    )
    shas["small"] = repo.commit("Tidy" + CLAUDE, files={"notes.md": "x\ny\n"})
    return shas


@pytest.fixture
def partial_clone(make_repo, tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    """A blob-size-filtered clone of a local repository whose origin then goes away (offline)."""
    src = make_repo("src")
    shas = history(src)
    src.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone.git"
    src.git("clone", "-q", "--bare", "--filter=blob:limit=4k", f"file://{src.path}", str(clone))
    gone = tmp_path / "src-offline"
    src.path.rename(gone)
    return clone, shas, gone


def test_a_partial_clone_scans_with_the_missing_sizes_unknown(partial_clone) -> None:
    clone, shas, _ = partial_clone
    # The raw size pass git would run fails here: the old code exited 2 and printed nothing.
    raw = Git(clone).succeeds(["log", "--numstat", "-M", "--format=%H"])
    assert not raw
    records, stderr = scan_json(clone)
    assert set(records) == {shas["mixed"], shas["small"]}
    mixed = records[shas["mixed"]]
    assert mixed["sizes"] == "partial"
    assert mixed["files"] == 2
    assert (mixed["additions"], mixed["deletions"]) == (2, 0)  # small.txt only: big.txt unknown
    small = records[shas["small"]]
    assert (small["sizes"], small["additions"]) == ("known", 2)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "sizes unknown for 1 file in 1 commit" in lines[0]
    assert "git fetch --refetch --no-filter origin" in lines[0]


def test_the_cached_scan_still_says_unknown_and_recovers_once_the_objects_are_back(
    partial_clone,
) -> None:
    clone, shas, gone = partial_clone
    scan_json(clone)
    again, stderr = scan_json(clone)  # from the cache: still unknown, still warned
    assert again[shas["mixed"]]["sizes"] == "partial"
    assert "sizes unknown" in stderr
    gone.rename(gone.parent / "src")  # back online: fetch what was left out
    Git(clone).run(["fetch", "-q", "--refetch", "--no-filter", "origin"])
    fetched, stderr = scan_json(clone)
    assert fetched[shas["mixed"]]["sizes"] == "known"
    assert fetched[shas["mixed"]]["additions"] == 3
    assert "sizes unknown" not in stderr


def test_show_and_queue_say_size_unknown(partial_clone) -> None:
    clone, shas, _ = partial_clone
    shown = run_reviewq("show", shas["mixed"], cwd=clone, env=SAFE_PATH)
    assert shown.returncode == 0, shown.stderr
    assert "big.txt  size unknown" in shown.stdout
    assert "size unknown for 1" in shown.stdout
    data = json.loads(run_reviewq("show", shas["mixed"], "--json", cwd=clone, env=SAFE_PATH).stdout)
    assert data["sizes"] == "partial" and data["diff"]["sizes"] == "partial"
    big = next(f for f in data["diff"]["file_list"] if f["path"] == "big.txt")
    assert big["size_unknown"] is True and big["additions"] is None and big["binary"] is None
    # The table counts sizes when asked (`--sizes`); otherwise it shows those already counted.
    scanned = run_reviewq("scan", "--sizes", cwd=clone, env=SAFE_PATH)
    assert "(size partly unknown)" in scanned.stdout
    stats = run_reviewq("stats", "--json", cwd=clone, env=SAFE_PATH)
    assert stats.returncode == 0, stats.stderr
    assert stats.stderr.count("sizes unknown") == 1


def delete_object(repo: Repo, oid: str) -> None:
    loose = repo.path / ".git" / "objects" / oid[:2] / oid[2:]
    assert loose.exists()
    loose.unlink()


@pytest.fixture
def lost_blob(repo: Repo) -> tuple[Repo, dict[str, str]]:
    shas = history(repo)
    oid = repo.git("rev-parse", f"{shas['mixed']}:big.txt")
    delete_object(repo, oid)
    return repo, shas


def test_a_deleted_loose_object_costs_only_its_file(lost_blob) -> None:
    repo, shas = lost_blob
    records, stderr = scan_json(repo.path)
    mixed = records[shas["mixed"]]
    assert mixed["sizes"] == "partial"
    assert (mixed["additions"], mixed["deletions"]) == (2, 0)
    assert records[shas["small"]]["sizes"] == "known"
    assert "sizes unknown for 1 file in 1 commit" in stderr
    assert "git fsck" in stderr  # no promisor remote: say how to find them


def test_a_commit_whose_blobs_are_all_missing_is_unknown_not_zero(repo: Repo) -> None:
    repo.commit("Start", files={"a.txt": "1\n"})
    sha = repo.commit("Change" + CLAUDE, files={"a.txt": "1\n2\n"})
    delete_object(repo, repo.git("rev-parse", f"{sha}:a.txt"))
    records, _ = scan_json(repo.path)
    assert records[sha]["sizes"] == "unknown"
    queue = run_reviewq("queue", cwd=repo.path, env=SAFE_PATH)
    assert queue.returncode == 0, queue.stderr
    assert "size unknown" in queue.stdout
    assert queue.stderr.count("sizes unknown") == 1


POLICY = "[policy]\napprovals = 1\nmin_seconds_per_100_lines = 60\n"


def test_the_gate_fails_closed_on_a_speed_rule_it_cannot_evaluate(repo: Repo) -> None:
    """Attack: a local shell deletes an object so the change looks small (or empty) and a quick
    approval passes the speed rule. The gate refuses instead, and says why."""
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY})
    repo.git("tag", "base")
    repo.commit("Start", files={"big.txt": BIG})
    sha = repo.commit("Grow" + CLAUDE, files={"big.txt": BIG + BIG})
    repo.git("config", "user.name", "Ana Lima")
    repo.git("config", "user.email", "ana@example.com")
    ok = run_reviewq("verdict", sha, "approve", "--seconds", "5", cwd=repo.path, env=SAFE_PATH)
    assert ok.returncode == 0, ok.stderr
    delete_object(repo, repo.git("rev-parse", f"{sha}:big.txt"))
    result = run_reviewq("gate", "--json", "base..HEAD", cwd=repo.path, env=SAFE_PATH)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "size-unknown" in result.stdout
    assert "speed rule" in result.stdout
    text = run_reviewq("gate", "base..HEAD", cwd=repo.path, env=SAFE_PATH)
    assert text.returncode == 1
    assert "size unknown" in text.stdout


def test_no_speed_rule_no_size_need(repo: Repo) -> None:
    repo.commit("Adopt reviewq", files={".reviewq.toml": "[policy]\napprovals = 1\n"})
    repo.git("tag", "base")
    repo.commit("Start", files={"big.txt": BIG})
    sha = repo.commit("Grow" + CLAUDE, files={"big.txt": BIG + BIG})
    delete_object(repo, repo.git("rev-parse", f"{sha}:big.txt"))
    result = run_reviewq("gate", "--json", "base..HEAD", cwd=repo.path, env=SAFE_PATH)
    assert result.returncode == 1
    assert "size-unknown" not in result.stdout  # it fails for want of approval only


def test_git_errors_name_the_command_not_its_config_option(repo: Repo) -> None:
    assert command_name(["-c", "core.quotepath=off", "log", "--raw"]) == "log"
    assert command_name(["-C", "x", "--no-pager", "show"]) == "show"
    repo.commit("Start")
    git = Git(repo.path)
    with pytest.raises(GitError) as caught:
        list(git.stream(["-c", "core.quotepath=off", "log", "--no-such-option"]))
    assert caught.value.message.startswith("git log:")
    with pytest.raises(GitError) as caught:
        git.run(["-c", "core.quotepath=off", "cat-file", "-p", "0" * 40])
    assert caught.value.message.startswith("git cat-file:")


def test_a_missing_tree_leaves_that_commit_unknown_and_the_rest_counted(repo: Repo) -> None:
    repo.commit("Start", files={"a.txt": "1\n"})
    lost = repo.commit("Lose a tree" + CLAUDE, files={"sub/b.txt": "1\n"})
    kept = repo.commit("Keep" + CLAUDE, files={"c.txt": "1\n2\n"})
    delete_object(repo, repo.git("rev-parse", f"{lost}:sub"))
    # git log itself still walks commits; only the size passes need the trees.
    records, stderr = scan_json(repo.path)
    assert records[kept]["sizes"] == "known" and records[kept]["additions"] == 2
    assert records[lost]["sizes"] == "unknown"
    assert "sizes unknown" in stderr


def test_scan_works_without_a_work_tree_copy(tmp_path: Path, make_repo) -> None:
    """A shallow-ish copy made by copying the object store still counts everything present."""
    src = make_repo("orig")
    shas = history(src)
    copy = tmp_path / "copy"
    shutil.copytree(src.path, copy)
    records, stderr = scan_json(copy)
    assert records[shas["mixed"]]["sizes"] == "known"
    assert "sizes unknown" not in stderr


def test_history_sizes_count_around_missing_objects_and_are_not_cached(
    repo: Repo, tmp_path: Path
) -> None:
    """`stats`' denominator: every commit is listed, the lost file's lines are not counted, and
    the short count is not kept, so the full count appears once the object is back."""
    from reviewq.sources.commit_sizes import CACHE_NAME, commit_sizes

    repo.commit("Start", files={"a.txt": "1\n", "b.txt": "x\n"})
    sha = repo.commit("Grow", files={"a.txt": "1\n2\n3\n", "b.txt": "x\ny\n"})
    oid = repo.git("rev-parse", f"{sha}:a.txt")
    content = repo.git("cat-file", "-p", oid) + "\n"
    delete_object(repo, oid)
    state = tmp_path / "state"
    state.mkdir()
    table = commit_sizes(Git(repo.path), state)
    assert len(table.sha) == 2
    assert dict(zip(table.sha, table.lines.tolist(), strict=True))[sha] == 1  # b.txt only
    assert not (state / CACHE_NAME).exists()
    repo.git("hash-object", "-w", "--stdin", input=content)
    table = commit_sizes(Git(repo.path), state)
    assert dict(zip(table.sha, table.lines.tolist(), strict=True))[sha] == 3
    assert (state / CACHE_NAME).exists()
