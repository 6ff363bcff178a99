"""Faults in the spine: git dying mid-scan, broken side records, a corrupted cache."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import Repo, run_reviewq

AI = "\n\nCo-authored-by: Codex <noreply@openai.com>"


def _failing_git(tmp_path: Path, after_bytes: int) -> dict[str, str]:
    """A `git` on PATH that dies after `after_bytes` of `git log` output, like a corrupt pack."""
    real = shutil.which("git")
    assert real
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "git"
    script.write_text(
        "#!/bin/sh\n"
        'case " $* " in\n'
        f'  *" log "*"-z"*) "{real}" "$@" | head -c {after_bytes}; '
        'echo "fatal: packed object is corrupt" >&2; exit 128;;\n'
        "esac\n"
        f'exec "{real}" "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}


def test_git_failing_mid_scan_is_one_line_and_caches_nothing(repo: Repo, tmp_path: Path) -> None:
    for i in range(40):
        repo.commit(f"change {i}" + AI)
    env = _failing_git(tmp_path, after_bytes=2000)
    result = run_reviewq("scan", "--json", cwd=repo.path, env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["reviewq: git log: packed object is corrupt"]
    # The partial pass was not cached: a healthy git sees every commit.
    healthy = run_reviewq("scan", "--json", cwd=repo.path)
    assert healthy.returncode == 0
    assert len(healthy.stdout.splitlines()) == 40


def test_unreadable_side_record_refs_are_skipped(repo: Repo) -> None:
    sha = repo.commit("AI" + AI)
    blob = repo.git("hash-object", "-w", "--stdin", input="not a notes tree")
    repo.git("update-ref", "refs/notes/ai", blob)  # a notes ref that is not a commit
    repo.git("update-ref", "refs/notes/reviewq-prompt", blob)
    result = run_reviewq("scan", "--json", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sha"] == sha


def test_a_cache_that_cannot_be_written_is_no_cache(repo: Repo) -> None:
    # A directory where the cache file should be: reading and replacing it both fail (this works
    # even as root, where a read-only mode would not stop the write).
    sha = repo.commit("AI" + AI)
    (repo.path / ".git" / "reviewq" / "cache.json").mkdir(parents=True)
    for _ in range(2):
        result = run_reviewq("scan", "--json", cwd=repo.path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["sha"] == sha


def test_cache_of_another_version_is_replaced(repo: Repo) -> None:
    sha = repo.commit("AI" + AI)
    cache = repo.path / ".git" / "reviewq" / "cache.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(json.dumps({"_meta": {"1": {"version": 999}}, "scan": {}}))
    result = run_reviewq("scan", "--json", cwd=repo.path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["sha"] == sha
    assert json.loads(cache.read_text())["_meta"]["1"]["version"] != 999


def test_a_failed_replace_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """Caches, column stores and reports are replaced whole (`reviewq.files.replace_file`)."""
    from reviewq.files import replace_file

    target = tmp_path / "cache.json"
    target.write_bytes(b"old")

    def torn(fh) -> None:
        fh.write(b"half of the new")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        replace_file(target, torn, prefix=".cache-")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]
    replace_file(target, lambda fh: fh.write(b"new"), prefix=".cache-")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]


@pytest.mark.parametrize("value", [{"a": "\udcff x"}, {"n": 2**70}, {"é": "ü", "l": [1.5, None]}])
def test_store_json_round_trips_what_orjson_refuses(value) -> None:
    """The cache is written with orjson; a lone surrogate (from a hostile sidecar) or a huge
    integer falls back to json, escaped, and reads back the same."""
    from reviewq.core.jsonio import dump_json, parse_line

    assert parse_line(dump_json(value)) == value
