"""`stats` reads the log's column cache in a thread while its modules load
(`workflow.table_prefetch`). The read is used only for the very log and cache `gather` reads,
unchanged since the read began; anything else, and `gather` reads for itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewq.store.log import ProvenanceLog
from reviewq.store.verdict_columns import CACHE_NAME, load_log_table, load_table_after_cache
from reviewq.workflow import table_prefetch
from tests.metrics_support import record_demo_verdicts
from tests.test_stats_after_append import _plain, _sha, _stats, _verdict, _without_inbox
from tests.verdict_kit import make_record


def _log_with_cache(repo_path: Path) -> tuple[Path, Path]:
    state = repo_path / ".git" / "reviewq"
    log = ProvenanceLog(state / "log.jsonl")
    log.append_many([make_record(i) for i in range(300)])
    load_log_table(log.path, state / CACHE_NAME)  # stored
    log.append(make_record(300))  # a short tail: the cache is read, the tail joined
    return log.path, state / CACHE_NAME


def _tables_equal(a, b) -> None:
    assert a[1] == b[1]
    for name, column in a[0].table.columns().items():
        assert (column == b[0].table.columns()[name]).all(), name
    assert a[0].table.labels() == b[0].table.labels() or list(a[0].table.changes) == list(
        b[0].table.changes
    )


def test_the_prefetched_table_is_the_plain_read(repo) -> None:
    repo.commit("base")
    log, cache = _log_with_cache(repo.path)
    table_prefetch.start(str(repo.path))
    taken = table_prefetch.take(log, cache)
    assert taken is not None and taken[0] is not None
    _tables_equal(taken[0], load_table_after_cache(log, cache))
    assert table_prefetch.take(log, cache) is None  # taken once


def test_a_verdict_after_the_read_began_is_not_missed(repo) -> None:
    repo.commit("base")
    log, cache = _log_with_cache(repo.path)
    table_prefetch.start(str(repo.path))
    table_prefetch.wait()
    ProvenanceLog(log).append(make_record(301, verdict="reject"))
    assert table_prefetch.take(log, cache) is None


def test_another_repositorys_read_is_not_taken(make_repo) -> None:
    a, b = make_repo("a"), make_repo("b")
    a.commit("base")
    b.commit("base")
    _log_with_cache(a.path)
    log_b, cache_b = _log_with_cache(b.path)
    table_prefetch.start(str(a.path))
    assert table_prefetch.take(log_b, cache_b) is None


def test_a_read_that_fails_is_not_taken(tmp_path: Path) -> None:
    table_prefetch.start(str(tmp_path))  # not a repository: the thread's Git.open raises
    log = tmp_path / ".git" / "reviewq" / "log.jsonl"
    assert table_prefetch.take(log, log.with_name(CACHE_NAME)) is None


def test_stats_takes_the_read_and_its_figures_are_the_plain_ones(
    demo_repo: Path, cli, monkeypatch
) -> None:
    record_demo_verdicts(_without_inbox(demo_repo))
    _stats(cli, demo_repo)  # the summary and the column cache are stored
    log = demo_repo / ".git" / "reviewq" / "log.jsonl"
    # Enough records that one more is a short tail (read through the cache, not stored).
    ProvenanceLog(log).append_many([make_record(1000 + i) for i in range(300)])
    _stats(cli, demo_repo)
    _verdict(demo_repo, _sha(demo_repo, "Use constant-time"), 1, "reject")
    taken: list[bool] = []
    real = table_prefetch.take

    def spy(log_path, cache_path):
        got = real(log_path, cache_path)
        if cache_path is not None:
            taken.append(got is not None and got[0] is not None)
        return got

    monkeypatch.setattr(table_prefetch, "take", spy)
    fast = _stats(cli, demo_repo)
    assert taken == [True]
    monkeypatch.setattr(table_prefetch, "take", real)
    assert fast == _plain(cli, demo_repo)
    assert json.dumps(fast)  # plain data


@pytest.fixture(autouse=True)
def _no_prefetch_left():
    yield
    table_prefetch.take(Path("/nonexistent"), None)  # joined, dropped


@pytest.mark.parametrize(
    ("words", "started"),
    [
        (["stats", "--json"], True),
        (["--repo", "{repo}", "stats"], True),
        (["--repo={repo}", "stats", "--by", "day"], True),
        (["stats", "--repos", "a", "b"], False),
        (["stats", "--log", "other.jsonl"], False),
        (["stats", "--repo", "{repo}"], False),  # left to the command (it knows --repo then)
        (["report", "stats"], False),
        (["--repo=", "stats"], False),
    ],
)
def test_which_command_lines_start_the_read_early(repo, words, started, monkeypatch) -> None:
    repo.commit("base")
    monkeypatch.chdir(repo.path)
    table_prefetch.start_for_argv([w.format(repo=repo.path) for w in words])
    assert table_prefetch.pending() is started
    table_prefetch.discard()
    assert not table_prefetch.pending()


def test_stats_started_early_reads_once(demo_repo: Path, cli, monkeypatch) -> None:
    """`cli.main` starts the read; the command does not start a second one."""
    starts: list[object] = []
    real = table_prefetch.start
    monkeypatch.setattr(table_prefetch, "start", lambda repo: (starts.append(repo), real(repo)))
    assert cli("--repo", str(demo_repo), "stats", "--json").returncode == 0
    assert starts == [str(demo_repo)]
    assert not table_prefetch.pending()


#: In a fresh interpreter: `set_up_numpy` (or nothing), numpy imported, then numpy's huge-page
#: marking and OpenBLAS's thread setting as they came out, printed.
NUMPY_AFTER = """
import os, sys
if sys.argv[1] == "numpy first":
    import numpy
from reviewq.workflow.table_prefetch import set_up_numpy
if sys.argv[1] != "nothing":
    set_up_numpy()
from reviewq import heap
switch = heap._huge_page_switch()
print(switch(False) if switch else "no switch", os.environ.get("OPENBLAS_NUM_THREADS"))
"""


def _numpy_after(how: str, **env: str) -> str:
    import os
    import subprocess
    import sys

    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NUMPY_MADVISE_HUGEPAGE", "OPENBLAS_NUM_THREADS")
    }
    done = subprocess.run(
        [sys.executable, "-c", NUMPY_AFTER, how],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **env},
    )
    return done.stdout.strip()


def test_stats_and_report_set_numpy_up_without_huge_pages_unless_told_otherwise() -> None:
    """Before numpy is imported: no array marked for huge pages and one OpenBLAS thread; a
    user's own NUMPY_MADVISE_HUGEPAGE or OPENBLAS_NUM_THREADS stands; a numpy imported
    already (an embedding program's) is left as it is."""
    default = _numpy_after("nothing")
    if default.startswith("no switch") or default.startswith("False"):
        pytest.skip(f"numpy marks no array for huge pages here ({default})")
    assert default == "True None"
    assert _numpy_after("set up") == "False 1"
    assert _numpy_after("set up", NUMPY_MADVISE_HUGEPAGE="1", OPENBLAS_NUM_THREADS="2") == "True 2"
    assert _numpy_after("numpy first") == "True None"


@pytest.mark.parametrize("command", ["stats", "report"])
def test_the_figures_commands_set_numpy_up_first(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stats` and `report` call `set_up_numpy` before they read anything."""
    import argparse
    import importlib

    calls = []

    class Stop(Exception):
        pass

    def set_up() -> None:
        calls.append("set up")
        raise Stop

    monkeypatch.setattr(table_prefetch, "set_up_numpy", set_up)
    module = importlib.import_module(f"reviewq.commands.{command}")
    with pytest.raises(Stop):
        module.run(argparse.Namespace(last=10, repos=None, log=None, repo=None), None)
    assert calls == ["set up"]
