"""The daily queue sizes only what it shows (issue 18): the lazy build gives exactly the eager one.

`build_units(for_view="daily")` leaves main's AI commits older than `[scope] recent` unsized
(no numstat for them) unless a verdict is about one or the policy lets the files decide whether
it is pending; the audit view, `show` and verdicts size them on demand. Every comparison here
is against the eager build (`build_units` without a view) on the same real repository.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.workflow.scan import SizeCache, unsized
from reviewq.workflow.units import build_units
from tests.conftest import FIXED_NOW, Repo, run_reviewq
from tests.properties.strategies import io_examples

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
HUMAN = ("Hu Man", "human@example.com")
PATHS = ["src/a.py", "auth/login.py", "docs/guide.md", "src/b.py"]
POLICIES = [
    "",
    '[policy]\napprovals = 1\nmin_seconds_per_100_lines = 60\n\n[[domains]]\nname = "auth"\n'
    'paths = ["auth/**"]\napprovals = 2\n',
    # a domain that asks for no approval: whether a commit is pending turns on its files
    '[policy]\napprovals = 1\n\n[[domains]]\nname = "docs"\npaths = ["docs/**"]\napprovals = 0\n',
]


def _state(path) -> None:
    ctx = Context.open(path)
    state = ctx.state_dir
    ctx.close()
    shutil.rmtree(state, ignore_errors=True)


def _build(path, now, **kw):
    ctx = Context.open(path)
    try:
        return build_units(ctx, now, **kw)
    finally:
        ctx.close()


def _same_daily(lazy, eager) -> None:
    assert lazy.items("daily", sort=None) == eager.items("daily", sort=None)
    assert lazy.items("daily") == eager.items("daily")  # the risk order too
    assert lazy.header() == eager.header()
    assert [i.change.id for i in lazy.audit] == [i.change.id for i in eager.audit]


def _check(path) -> None:
    """Cold eager, cold lazy, then each warm from the other's cache: the same queue."""
    now = local_now()
    _state(path)
    eager = _build(path, now)
    _state(path)
    lazy = _build(path, now, for_view="daily")
    _same_daily(lazy, eager)
    assert all(not unsized(i.change) for i in lazy.items("daily", sort=None))
    # Warm: the lazy scan's cache (older commits unsized) serves the audit view sized.
    again = _build(path, now)
    assert again.items("all", sort=None) == eager.items("all", sort=None)
    assert again.units == eager.units
    _same_daily(_build(path, now, for_view="daily"), eager)
    for view in ("audit", "all"):
        assert _build(path, now, for_view=view).items(view) == eager.items(view)


scenario = st.fixed_dictionaries(
    {
        "policy": st.sampled_from(range(len(POLICIES))),
        # main: (age in days, AI?, path)
        "main": st.lists(
            st.tuples(
                st.sampled_from([400, 120, 45, 20, 3]),
                st.booleans(),
                st.sampled_from(range(len(PATHS))),
            ),
            min_size=1,
            max_size=6,
        ),
        # branches: (AI commits, with a pull-request ref, copy of an old main AI commit)
        "branches": st.lists(
            st.tuples(st.integers(1, 2), st.booleans(), st.booleans()), max_size=2
        ),
        # main commits (by index) approved, and one approved too fast for the speed rule
        "approve": st.sets(st.integers(0, 5), max_size=2),
        "rebase_landed": st.booleans(),
    }
)


@pytest.mark.property
@io_examples(4, 12)
@given(scenario)
def test_the_lazy_daily_queue_is_the_eager_one(tmp_path_factory, scenario) -> None:
    repo = Repo(tmp_path_factory.mktemp("lazy"))
    repo.git("init", "-q", "-b", "main")
    repo.commit("base", files={".reviewq.toml": POLICIES[scenario["policy"]], "README": "r\n"})
    shas = []
    ordered = sorted(scenario["main"], key=lambda m: -m[0])
    for n, (age, is_ai, path) in enumerate(ordered):
        when = FIXED_NOW - timedelta(days=age, hours=n)
        message = f"main {n}" + (CLAUDE if is_ai else "")
        author = ("Ada Lovelace", "ada@example.com") if is_ai else HUMAN
        shas.append(
            (
                repo.commit(
                    message, files={PATHS[path]: f"{n}\n" * (n + 1)}, when=when, author=author
                ),
                is_ai,
            )
        )
    old_ai = [
        sha for (sha, is_ai), (age, _, _) in zip(shas, ordered, strict=True) if is_ai and age > 60
    ]
    for b, (count, pr, copy) in enumerate(scenario["branches"]):
        if copy and old_ai:
            # a copy of an old main commit on a branch off its parent: main's copy is compared
            # by its landing key (same author date, message and files)
            repo.git("checkout", "-q", "-b", f"claude/b{b}", f"{old_ai[0]}~1")
            repo.git("cherry-pick", "--allow-empty", "--keep-redundant-commits", old_ai[0])
        else:
            repo.git("checkout", "-q", "-b", f"claude/b{b}", "main")
        for k in range(count):
            new = PATHS[(b + k) % 4].replace(".", f"_{b}{k}.", 1)  # a new file: picks cleanly
            repo.commit(f"branch {b}.{k}{CLAUDE}", files={new: f"b{b}{k}\n"})
        if pr:
            repo.git("update-ref", f"refs/pull/{b + 1}/head", "HEAD")
        repo.git("checkout", "-q", "main")
    if scenario["rebase_landed"] and scenario["branches"]:
        # the first branch's last commit landed on main as a cherry-pick (recent)
        repo.git("cherry-pick", "--allow-empty", "--keep-redundant-commits", "claude/b0")
    ai_shas = [sha for sha, is_ai in shas if is_ai]
    for i in sorted(scenario["approve"]):
        if i < len(ai_shas):
            proc = run_reviewq("verdict", ai_shas[i], "approve", "--seconds", "1", cwd=repo.path)
            assert proc.returncode == 0, proc.stderr
    _check(repo.path)


def _history(repo: Repo, policy: str = "") -> tuple[str, str, str]:
    repo.commit("base", files={"README": "r\n", ".reviewq.toml": policy})
    old = repo.commit(
        f"old{CLAUDE}", files={"src/old.py": "x\n" * 40}, when=FIXED_NOW - timedelta(days=200)
    )
    recent = repo.commit(f"recent{CLAUDE}", files={"src/new.py": "y\n"})
    repo.git("checkout", "-q", "-b", "codex/w")
    branch = repo.commit(f"work{CLAUDE}", files={"src/w.py": "z\n"})
    repo.git("checkout", "-q", "main")
    return old, recent, branch


def _kept(path) -> set[str]:
    ctx = Context.open(path)
    try:
        return {sha for sha in SizeCache(ctx.state_dir)._load()}
    finally:
        ctx.close()


def test_the_daily_queue_leaves_old_main_commits_unsized_until_the_audit_view(repo, cli):
    old, recent, branch = _history(repo)
    proc = cli("queue", "--json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert _kept(repo.path) == {recent, branch}  # the old commit was never counted
    assert "1 older unreviewed AI commit(s) on main hidden" in cli("queue", cwd=repo.path).stdout
    audit = cli("queue", "--audit", "--json", cwd=repo.path)
    assert audit.returncode == 0 and f'"sha": "{old}"' in audit.stdout
    assert '"additions": 40' in audit.stdout  # sized on demand, as the eager scan sizes it
    assert _kept(repo.path) == {old, recent, branch}


def test_a_daily_queue_refuses_to_list_the_audit_view_it_did_not_size(repo):
    _history(repo)
    lazy = _build(repo.path, local_now(), for_view="daily")
    assert len(lazy.audit) == 1 and unsized(lazy.audit[0].change)
    for view in ("audit", "all"):
        with pytest.raises(ValueError):
            lazy.items(view)


def test_show_and_verdict_of_an_old_commit_after_a_daily_queue_have_its_sizes(repo, cli):
    # the speed rule reads the old commit's lines: 40 lines in 1 second is too fast
    old, _, _ = _history(repo, "[policy]\nmin_seconds_per_100_lines = 60\n")
    assert cli("queue", "--json", cwd=repo.path).returncode == 0
    shown = cli("show", old, "--json", cwd=repo.path)
    assert shown.returncode == 0, shown.stderr
    assert '"additions": 40' in shown.stdout
    done = cli("verdict", old, "approve", "--seconds", "1", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    _check(repo.path)
    lazy = _build(repo.path, local_now(), for_view="daily")
    assert len(lazy.audit) == 1 and not unsized(lazy.audit[0].change)  # a verdict is about it
    assert any("not counted" in n for n in lazy.audit[0].needs)
    gate = cli("gate", f"{old}~1..{old}", cwd=repo.path)
    assert gate.returncode != 0  # the gate sizes its range itself (no cache): still too fast


def test_a_scope_cache_rewritten_to_leave_shown_commits_unsized_is_sized_again(repo, cli):
    """A local shell that marks the recent and branch commits unsized in the scope cache (to
    hide a large change's size from the daily queue's risk) gets them counted again."""
    from reviewq.workflow.scan import ScopeState

    _old, recent, _branch = _history(repo)
    before = cli("queue", "--json", cwd=repo.path).stdout
    ctx = Context.open(repo.path)
    (key, data), *_ = ctx.cache.items("scope")
    state = ScopeState.load(data)
    assert state is not None and recent in state.main
    state.main = {sha: s._replace(stats=None, files=[]) for sha, s in state.main.items()}
    ctx.cache.put("scope", key, state.to_json())
    ctx.cache.flush()
    ctx.close()
    (Path(repo.path) / ".git" / "reviewq" / SizeCache.NAME).unlink()  # and the kept sizes
    after = cli("queue", "--json", cwd=repo.path).stdout

    def strip(out: str) -> list[dict]:
        rows = [json.loads(line) for line in out.splitlines()]
        return [{k: v for k, v in r.items() if k != "age_seconds"} for r in rows]

    assert strip(after) == strip(before) and len(strip(before)) == 2
    assert _kept(repo.path) >= {recent}
