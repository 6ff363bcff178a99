"""The scan's typed state and the `Scanner` a front end keeps (real repositories)."""

from __future__ import annotations

import shutil

from reviewq.context import Context
from reviewq.core.config import Config
from reviewq.workflow.scan import (
    Scanner,
    ScopeState,
    StoredChange,
    changes_from_state,
    load_states,
    scan_history,
)
from reviewq.workflow.scan_answer import FOLDER
from tests.conftest import FIXED_NOW, Repo, run_reviewq
from tests.test_scan_answer import CLAUDE, varied


def test_stored_changes_round_trip_by_name(repo: Repo) -> None:
    shas = varied(repo)
    ctx = Context.open(repo.path)
    changes = scan_history(ctx, use_cache=False).changes
    stored = [StoredChange.of(c) for c in changes]
    by_sha = {s.sha: s for s in stored}
    rename = by_sha[shas["rename"]]
    assert rename.files[0][1] == "R" and rename.files[0][5] == "a.py"
    assert rename.sizes == "known" and rename.committed_at
    # As the cache holds them: JSON lists, read back by name.
    again = changes_from_state(load_states([list(s) for s in stored]))
    assert again == changes
    ctx.close()


def test_the_cached_scan_is_the_plain_scan(repo: Repo) -> None:
    varied(repo)
    plain = run_reviewq("scan", "--json", "--no-cache", cwd=repo.path).stdout
    assert run_reviewq("scan", "--json", cwd=repo.path).stdout == plain  # scanned, stored
    shutil.rmtree(repo.path / ".git" / "reviewq" / FOLDER)
    assert run_reviewq("scan", "--json", cwd=repo.path).stdout == plain  # from the cache
    repo.commit("One more" + CLAUDE)
    shutil.rmtree(repo.path / ".git" / "reviewq" / FOLDER)
    plain = run_reviewq("scan", "--json", "--no-cache", cwd=repo.path).stdout
    assert run_reviewq("scan", "--json", cwd=repo.path).stdout == plain  # incremental


def test_a_kept_scanner_decodes_only_what_is_new(repo: Repo) -> None:
    varied(repo)
    ctx = Context.open(repo.path)
    kept = Scanner(ctx)
    first = {c.id: c for c in kept.scope(now=FIXED_NOW).changes}
    second = {c.id: c for c in kept.scope(now=FIXED_NOW).changes}
    assert first and all(second[k] is first[k] for k in first)
    other = {c.id: c for c in Scanner(ctx).scope(now=FIXED_NOW).changes}
    assert all(other[k] is not first[k] and other[k] == first[k] for k in first)
    new = repo.commit("Later" + CLAUDE)
    third = {c.id: c for c in kept.scope(now=FIXED_NOW).changes}
    assert new in third and all(third[k] is first[k] for k in first)
    ctx.close()


def test_the_scope_state_survives_the_cache(repo: Repo) -> None:
    varied(repo)
    ctx = Context.open(repo.path)
    Scanner(ctx).scope(now=FIXED_NOW)
    (_, data), *_ = ctx.cache.items("scope")
    state = ScopeState.load(data)
    assert state is not None and state.main and state.main_tips
    assert all(isinstance(s, StoredChange) for s in state.main.values())
    assert ScopeState.load({**data, "v": -1}) is None
    assert ScopeState.load({**data, "main": {"x": [1, 2]}}) is None  # another layout: rescanned
    ctx.close()


def test_a_scanner_warns_of_unknown_sizes_once(make_repo, tmp_path, capsys) -> None:
    src = make_repo("src")
    big = "".join(f"line {i} of a large generated file\n" for i in range(400))
    src.commit("Start", files={"big.txt": big})
    src.commit("Grow" + CLAUDE, files={"big.txt": big + "more\n"})
    src.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone.git"
    src.git("clone", "-q", "--bare", "--filter=blob:limit=4k", f"file://{src.path}", str(clone))
    shutil.rmtree(src.path)
    ctx = Context.open(clone)
    scanner = Scanner(ctx)
    for _ in range(2):
        scanner.warn_unknown_sizes(scanner.history().changes)
    assert capsys.readouterr().err.count("sizes unknown") == 1
    ctx.close()


def test_a_context_under_other_settings_shares_the_cache_handle(repo: Repo) -> None:
    repo.commit("base")
    ctx = Context.open(repo.path)
    other = ctx.with_config(Config(origin=None))
    assert other.cache is ctx.cache and other.config is not ctx.config
    ctx.close()


def test_the_command_is_found_past_global_options() -> None:
    from reviewq.cli import build_parser, command_of

    assert command_of(["scan", "--json"]) == "scan"
    assert command_of(["--repo", "queue", "scan"]) == "scan"  # a path named like a command
    assert command_of(["--re", "queue", "scan"]) == "scan"  # argparse's abbreviation
    assert command_of(["--repo=queue", "scan"]) == "scan"
    assert command_of(["--config", "x", "--log", "y", "gate", "a..b"]) == "gate"
    assert command_of(["--version"]) is None and command_of(["nonsense"]) is None
    for argv in (["--re", "queue", "scan", "--json"], ["--repo", "gate", "scan", "-n", "3"]):
        whole = build_parser().parse_args(argv)
        assert build_parser(command_of(argv)).parse_args(argv) == whole
