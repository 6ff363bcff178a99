"""`store.notes_history`: every line the notes ref ever held, cached by tip and read incrementally."""

from __future__ import annotations

from pathlib import Path

from reviewq.sources.gitcmd import Git
from reviewq.store.notes_history import history_lines, read_notes_history
from reviewq.store.notes_log import NOTES_REF
from tests.conftest import Repo
from tests.test_gate import ANA, BEN, CODEX, record


def test_the_history_is_cached_by_tip_and_read_incrementally(repo: Repo, tmp_path: Path) -> None:
    repo.commit("Adopt reviewq", files={".reviewq.toml": "[policy]\napprovals = 1\n"})
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha, "reject", reviewer=BEN)
    record(repo, sha, reviewer=ANA)
    git, cache = Git(repo.path), tmp_path / "history.json"
    first = read_notes_history(git, cache_path=cache)
    assert first.commits_read == 2 and len(first.records) == 2
    again = read_notes_history(git, cache_path=cache)
    assert again.commits_read == 0  # the tip did not move: one file read
    assert again.records == first.records and again.appeared == first.appeared
    # A notes commit deleting the rejection: read alone, and the rejection is still there.
    lines = repo.git("notes", "--ref=reviewq", "show", sha).splitlines()
    repo.note(NOTES_REF, sha, "\n".join(line for line in lines if '"reject"' not in line) + "\n")
    later = read_notes_history(git, cache_path=cache)
    assert later.commits_read == 1
    assert sorted(r["verdict"] for r in later.records) == ["approve", "reject"]
    cold = read_notes_history(git)  # no cache: the same answer
    assert cold.commits_read == 3
    assert sorted(map(str, cold.records)) == sorted(map(str, later.records))
    assert cold.appeared == later.appeared


def test_first_appearance_is_monotone_along_the_history(repo: Repo) -> None:
    """A notes commit cannot appear before its parent, whatever its committer time says."""
    sha = repo.commit("Add a helper" + CODEX)
    git = Git(repo.path)
    repo.git(
        "notes", "--ref=reviewq", "add", "-m", "one", sha,
        env={"GIT_COMMITTER_DATE": "2026-11-20T12:00:00+00:00"},
    )  # fmt: skip
    repo.git(
        "notes", "--ref=reviewq", "append", "-m", "two", sha,
        env={"GIT_COMMITTER_DATE": "2020-01-01T00:00:00+00:00"},
    )  # fmt: skip
    _, lines, _ = history_lines(git)
    when = {h.line: h.appeared for h in lines}
    assert when[b"two"] >= when[b"one"]
