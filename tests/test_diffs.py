"""Diffs from real commits: binary, renames, modes, merges, empty commits, encodings, sizes."""

from __future__ import annotations

import json

import pytest

from reviewq.sources import diffs
from reviewq.sources.diffs import BrokenDiff, parse_unified_diff, read_commit_diff
from reviewq.sources.git_log import commit_stats
from reviewq.sources.gitcmd import Git
from tests.conftest import Repo, run_reviewq

AI = "\n\nCo-authored-by: Codex <noreply@openai.com>"


def test_binary_rename_mode_and_encoding(repo: Repo) -> None:
    repo.commit(
        "base", files={"a.txt": "one\ntwo\n", "run.sh": "echo hi\n", "img.bin": b"\x00\x01"}
    )
    repo.git("mv", "a.txt", "b.txt")
    repo.write("b.txt", "one\ntwo\nthree\n")
    (repo.path / "run.sh").chmod(0o755)
    repo.write("img.bin", b"\x00\x02\xff")
    repo.write("latin.txt", "caf\xe9\n".encode("latin-1"))
    sha = repo.commit("mixed change" + AI, files={})
    diff = read_commit_diff(Git(repo.path), sha)
    by_path = {f.path: f for f in diff.files}
    assert by_path["b.txt"].status == "renamed" and by_path["b.txt"].old_path == "a.txt"
    assert by_path["b.txt"].additions == 1
    assert by_path["run.sh"].old_mode == "100644" and by_path["run.sh"].new_mode == "100755"
    assert by_path["run.sh"].mode_changed
    assert by_path["img.bin"].is_binary
    assert by_path["latin.txt"].encoding == "latin-1"
    assert by_path["latin.txt"].hunks[0].lines[0].text == "café"
    stats, files = commit_stats(Git(repo.path), [sha])[sha]
    assert stats == diff.stats
    statuses = {f.path: f.status for f in files}
    assert statuses == {"b.txt": "R", "run.sh": "M", "img.bin": "M", "latin.txt": "A"}


def test_show_reports_every_kind(repo: Repo) -> None:
    repo.commit("base", files={"a.txt": "one\n", "img.bin": b"\x00\x01"})
    repo.git("mv", "a.txt", "b.txt")
    repo.write("img.bin", b"\x00\x03")
    sha = repo.commit("rename and binary" + AI, files={})
    result = run_reviewq("show", sha, cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert "from a.txt" in result.stdout and "binary" in result.stdout
    data = json.loads(run_reviewq("show", sha, "--json", cwd=repo.path).stdout)
    assert data["agent"] == "codex" and data["diff"]["binary_files"] == 1


def test_merge_commit_counts_against_first_parent(repo: Repo) -> None:
    repo.commit("base", files={"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature work", files={"f.txt": "1\n2\n3\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main work", files={"m.txt": "x\n"})
    repo.git("merge", "-q", "--no-ff", "feature", "-m", "Merge feature" + AI)
    sha = repo.git("rev-parse", "HEAD")
    diff = read_commit_diff(Git(repo.path), sha)
    assert [f.path for f in diff.files] == ["f.txt"] and diff.stats.additions == 3
    stats, _ = commit_stats(Git(repo.path), [sha])[sha]
    assert stats.additions == 3 and stats.files == 1
    data = json.loads(run_reviewq("show", sha, "--json", cwd=repo.path).stdout)
    assert data["diff"]["against"] == "first parent"


def test_empty_and_root_commits(repo: Repo) -> None:
    root = repo.commit("root" + AI, files={"a.txt": "a\n"})
    empty = repo.commit("empty" + AI, files={})
    git = Git(repo.path)
    assert read_commit_diff(git, root).stats.additions == 1
    assert read_commit_diff(git, empty).files == []
    stats = commit_stats(git, [root, empty])
    assert stats[empty][0].files == 0 and stats[root][0].additions == 1
    records = [
        json.loads(x) for x in run_reviewq("scan", "--json", cwd=repo.path).stdout.split("\n") if x
    ]
    assert {r["sha"]: r["files"] for r in records} == {root: 1, empty: 0}


def test_line_separators_inside_lines_do_not_split_rows(repo: Repo) -> None:
    content = "a\u2028b\r\nc\x1cd\x0be\x85f\n"
    repo.commit("base", files={"w.txt": "start\n"})
    sha = repo.commit("weird" + AI, files={"w.txt": "start\n" + content})
    diff = read_commit_diff(Git(repo.path), sha)
    added = [line.text for line in diff.files[0].hunks[0].lines if line.kind == "+"]
    assert added == ["a\u2028b\r", "c\x1cd\x0be\x85f"]


def test_paths_with_spaces_and_unicode(repo: Repo) -> None:
    sha = repo.commit("names" + AI, files={"dir with space/naïve file.txt": "x\n"})
    diff = read_commit_diff(Git(repo.path), sha)
    assert diff.files[0].path == "dir with space/naïve file.txt"


def test_very_large_file_keeps_counts_not_rows(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "".join(f"line {i}\n" for i in range(20000))
    sha = repo.commit("big" + AI, files={"big.txt": big, "small.txt": "s\n"})
    monkeypatch.setattr(diffs, "MAX_FILE_BYTES", 50_000)
    diff = read_commit_diff(Git(repo.path), sha)
    by_path = {f.path: f for f in diff.files}
    assert by_path["big.txt"].truncated and by_path["big.txt"].hunks == []
    assert by_path["big.txt"].additions == 20000
    assert not by_path["small.txt"].truncated and by_path["small.txt"].additions == 1


def test_broken_diff_is_one_clear_error() -> None:
    broken = b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n"
    with pytest.raises(BrokenDiff) as exc:
        parse_unified_diff(broken, source="x.patch")
    assert "broken diff in x.patch" in exc.value.message
    assert "\n" not in exc.value.message


def test_plain_unified_diff_without_git_header() -> None:
    text = b"--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-old\n+new\n same\n"
    diff = parse_unified_diff(text)
    assert diff.files[0].path == "x.py" and diff.stats.additions == 1


def test_content_hash_changes_with_the_file(repo: Repo) -> None:
    repo.commit("base", files={"a.txt": "1\n", "b.txt": "1\n"})
    one = repo.commit("one" + AI, files={"a.txt": "2\n", "b.txt": "2\n"})
    two = repo.commit("two" + AI, files={"a.txt": "3\n", "b.txt": "3\n"})
    git = Git(repo.path)
    first, second = read_commit_diff(git, one), read_commit_diff(git, two)
    assert first.files[0].content_hash != second.files[0].content_hash
    assert read_commit_diff(git, one).files[0].content_hash == first.files[0].content_hash


def test_one_runner_reads_a_commits_diff_once(repo: Repo) -> None:
    """The review screen, the critic and the rationale of one change share one parse (issue
    18): the same runner and commit id give the same `Diff`; a name that may move does not."""
    repo.commit("base", files={"a.py": "x = 1\n"})
    first = repo.commit("one" + AI, files={"a.py": "x = 2\n"})
    git = Git(repo.path)
    diff = read_commit_diff(git, first)
    assert read_commit_diff(git, first) is diff
    assert read_commit_diff(Git(repo.path), first) == diff  # another runner reads its own
    assert read_commit_diff(Git(repo.path), first) is not diff
    head = read_commit_diff(git, "HEAD")
    assert head == diff and head is not diff
    second = repo.commit("two" + AI, files={"a.py": "x = 3\n"})
    # HEAD moved: read again, not the parse of the commit it named before
    assert read_commit_diff(git, "HEAD").files[0].hunks[0].lines[-1].text == "x = 3"
    assert read_commit_diff(git, second) != diff
