"""Units of review: branches, pull/merge request refs, Gerrit changes and inbox series are one
queue item each; a verdict on a unit is recorded per commit naming it (docs/queue-scope.md)."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from reviewq.core.units import assign_units, children_first, consistent, unit_commits

HUMAN = ("Ada Lovelace", "ada@example.com")


def ai(subject: str) -> str:
    return f"{subject}\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


def queue(cli, repo, *args: str) -> list[dict]:
    proc = cli("queue", "--json", *args, cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def by_ref(items: list[dict]) -> dict[str, dict]:
    return {i["unit"]["ref"]: i for i in items}


@pytest.fixture
def work(repo):
    """main with one AI commit; claude/fix: two AI commits and a human one; its PR ref."""
    repo.commit("base", files={"a.txt": "a\n"})
    repo.commit(ai("main ai"), files={"m.txt": "m\n"})
    repo.git("checkout", "-q", "-b", "claude/fix")
    c1 = repo.commit(ai("fix one"), files={"f1.txt": "1\n"})
    h = repo.commit("human tweak", author=HUMAN, files={"h.txt": "h\n"})
    c2 = repo.commit(ai("fix two"), files={"f2.txt": "2\n"})
    repo.git("update-ref", "refs/pull/7/head", c2)
    repo.git("checkout", "-q", "main")
    return {"c1": c1, "h": h, "c2": c2}


def test_a_branch_and_its_pull_request_are_one_item_named_by_the_request(work, repo, cli):
    items = queue(cli, repo)
    units = by_ref(items)
    assert set(units) == {"refs/pull/7/head", repo.git("rev-parse", "main")} or set(units) >= {
        "refs/pull/7/head"
    }
    pr = units["refs/pull/7/head"]
    assert pr["unit"] == {"kind": "pull", "ref": "refs/pull/7/head"}
    assert pr["commits"] == [work["c1"], work["h"], work["c2"]]  # oldest first, the human too
    assert pr["human_commits"] == [work["h"]]
    assert pr["sha"] == work["c2"]
    assert pr["new_since_verdict"] == []
    # Every field the per-commit queue had is still there.
    for key in ("location", "location_kind", "refs", "merged", "risk", "needs", "agent", "id"):
        assert key in pr
    # The branch is not a second item: its commits sit in the pull request.
    assert "refs/heads/claude/fix" not in units
    assert sum(1 for i in items if work["c1"] in i["commits"]) == 1


def verdict(cli, repo, rev: str, what: str = "approve", *extra: str):
    return cli("verdict", rev, what, "--seconds", "30", *extra, cwd=repo.path)


def log_records(cli, repo) -> list[dict]:
    proc = cli("log", "--json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_a_verdict_on_a_unit_is_recorded_per_ai_commit_naming_the_unit(work, repo, cli):
    proc = verdict(cli, repo, "refs/pull/7/head")
    assert proc.returncode == 0, proc.stderr
    assert "2 AI commit(s)" in proc.stdout and "1 human" in proc.stdout
    records = [r for r in log_records(cli, repo) if r.get("unit")]
    assert sorted(r["sha"] for r in records) == sorted([work["c1"], work["c2"]])
    for r in records:
        assert r["unit"]["ref"] == "refs/pull/7/head" and r["unit"]["kind"] == "pull"
        assert r["unit"]["commits"] == [work["c1"], work["h"], work["c2"]]
        assert r["unit"]["tip"] == work["c2"]
    assert len({r["unit"]["batch"] for r in records}) == 1
    assert cli("log", "verify", cwd=repo.path).returncode == 0  # the chain covers `unit`
    units = by_ref(queue(cli, repo))
    assert "refs/pull/7/head" not in units  # settled
    # The branch name reaches the same unit (its tip sits in the pull request's unit).
    assert verdict(cli, repo, "claude/fix").returncode == 0


def test_a_commit_pushed_after_the_approval_brings_the_unit_back_and_fails_the_gate(
    work, repo, cli
):
    assert verdict(cli, repo, "refs/pull/7/head").returncode == 0
    repo.git("checkout", "-q", "claude/fix")
    c3 = repo.commit(ai("fix three"), files={"f3.txt": "3\n"})
    repo.git("update-ref", "refs/pull/7/head", c3)
    repo.git("checkout", "-q", "main")
    unit = by_ref(queue(cli, repo))["refs/pull/7/head"]
    assert unit["commits"][-1] == c3 and unit["new_since_verdict"] == [c3]
    gate = cli("gate", "--json", f"main..{c3}", cwd=repo.path)
    assert gate.returncode == 1
    failing = {c["sha"] for c in json.loads(gate.stdout)["commits"] if not c["passed"]}
    assert failing == {c3}  # the reviewed commits pass, the new one fails
    table = cli("queue", cwd=repo.path).stdout
    assert "1 new since your verdict" in table


def test_a_human_marked_commit_slipped_onto_an_approved_branch_brings_it_back(work, repo, cli):
    assert verdict(cli, repo, "refs/pull/7/head").returncode == 0
    repo.git("checkout", "-q", "claude/fix")
    h2 = repo.commit("innocent tweak", author=HUMAN, files={"evil.txt": "x\n"})
    repo.git("update-ref", "refs/pull/7/head", h2)
    repo.git("checkout", "-q", "main")
    unit = by_ref(queue(cli, repo))["refs/pull/7/head"]
    assert unit["new_since_verdict"] == [h2]
    assert h2 in unit["human_commits"] and unit["sha"] == h2


def test_a_force_push_rewriting_an_approved_commit_is_new_again(work, repo, cli):
    assert verdict(cli, repo, "refs/pull/7/head").returncode == 0
    repo.git("checkout", "-q", "-B", "claude/fix", work["c2"])
    repo.git("reset", "-q", "--hard", work["c1"])  # rewrite: drop h and c2, change c1's content
    repo.write("f1.txt", "1 but different\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-edit")
    new_c1 = repo.git("rev-parse", "HEAD")
    repo.git("update-ref", "refs/pull/7/head", new_c1)
    repo.git("checkout", "-q", "main")
    unit = by_ref(queue(cli, repo))["refs/pull/7/head"]
    assert unit["commits"] == [new_c1] and unit["new_since_verdict"] == [new_c1]
    gate = cli("gate", f"main..{new_c1}", cwd=repo.path)
    assert gate.returncode == 1


def test_a_record_claiming_a_unit_it_is_not_part_of_counts_for_nothing(work, repo, cli):
    from reviewq.context import Context
    from reviewq.store.log import ProvenanceLog

    assert verdict(cli, repo, work["c1"]).returncode == 0  # a plain per-commit approval
    ctx = Context.open(repo.path)
    record = next(r for r in log_records(cli, repo) if r["sha"] == work["c1"])
    forged = {k: v for k, v in record.items() if k not in ("prev", "hash", "signature")}
    forged["id"] = "f" * 32
    forged["sha"] = work["c2"]
    forged["unit"] = {
        "kind": "pull",
        "ref": "refs/pull/7/head",
        "tip": work["c2"],
        "commits": [work["c1"]],
        "batch": "x",
    }
    ProvenanceLog(ctx.log_path).append(forged)
    gate = cli("gate", "--json", f"main..{work['c2']}", cwd=repo.path)
    failing = {c["sha"] for c in json.loads(gate.stdout)["commits"] if not c["passed"]}
    assert work["c2"] in failing and work["c1"] not in failing
    assert consistent(forged) is False and consistent(record) is True


def test_a_unit_ref_pointing_at_main_is_refused(work, repo, cli):
    repo.git("update-ref", "refs/pull/9/head", "main")
    proc = verdict(cli, repo, "refs/pull/9/head")
    assert proc.returncode == 2
    assert "main already has" in proc.stderr and "Traceback" not in proc.stderr
    assert all(not r.get("unit") for r in log_records(cli, repo))
    assert "refs/pull/9/head" not in by_ref(queue(cli, repo))
    # A branch at main's tip (or main itself) is main's tip commit, as before: one record, no
    # unit, never main's history.
    repo.git("branch", "claude/at-main", "main")
    for name in ("claude/at-main", "main"):
        assert verdict(cli, repo, name).returncode == 0
    records = log_records(cli, repo)
    assert [r["sha"] for r in records] == [repo.git("rev-parse", "main")] * 2
    assert all("unit" not in r for r in records)


def test_grouping_is_pure_and_picks_the_request_then_the_nearest_tip():
    # main <- a <- b (feature, PR 3) <- c (stacked)
    graph = {"c": ["b"], "b": ["a"], "a": ["m"]}
    work = {"refs/heads/feature": "b", "refs/pull/3/head": "b", "refs/heads/stacked": "c"}
    kinds = {
        "refs/heads/feature": "branch",
        "refs/pull/3/head": "pull-request",
        "refs/heads/stacked": "branch",
    }
    order = children_first(graph, work.values())
    assert order.index("c") < order.index("b") < order.index("a")
    got = assign_units(order, graph, work, kinds.__getitem__)
    assert got == {"a": "refs/pull/3/head", "b": "refs/pull/3/head", "c": "refs/heads/stacked"}
    assert unit_commits(order, got) == {"refs/pull/3/head": ["a", "b"], "refs/heads/stacked": ["c"]}


def show(cli, repo, rev: str) -> dict:
    proc = cli("show", rev, "--json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_show_a_unit_gives_the_combined_diff_and_each_commit(work, repo, cli):
    got = show(cli, repo, "refs/pull/7/head")
    assert got["unit"] == {"kind": "pull", "ref": "refs/pull/7/head"}
    assert got["commits"] == [work["c1"], work["h"], work["c2"]]
    assert [c["mark"] for c in got["unit_commits"]] == ["ai", "human", "ai"]
    assert got["unit_commits"][0]["agent"] == "claude-code"
    assert got["unit_commits"][1]["subject"] == "human tweak"
    assert got["base"] == repo.git("rev-parse", "main")
    assert got["unit_diff"]["files"] == 3  # f1, h, f2: merge base -> tip, the human's too
    assert got["diff"]["files"] == 1 and got["sha"] == work["c2"]  # the tip's own, as before
    assert "+++ b/h.txt" in got["combined_diff"]
    text = cli("show", "origin/nothing", cwd=repo.path)
    assert text.returncode == 2 and "Traceback" not in text.stderr


def test_show_after_a_push_gives_the_interdiff_since_the_reviewed_tip(work, repo, cli):
    assert verdict(cli, repo, "refs/pull/7/head").returncode == 0
    repo.git("checkout", "-q", "claude/fix")
    c3 = repo.commit(ai("fix three"), files={"f3.txt": "three\n"})
    repo.git("update-ref", "refs/pull/7/head", c3)
    repo.git("checkout", "-q", "main")
    got = show(cli, repo, "refs/pull/7/head")
    assert got["new_since_verdict"] == [c3] and got["reviewed_tip"] == work["c2"]
    assert got["since"]["kind"] == "interdiff"
    assert "+three" in got["since"]["text"] and "f1.txt" not in got["since"]["text"]
    text = cli("show", "refs/pull/7/head", cwd=repo.path).stdout
    assert "1 new since your verdict" in text and "interdiff" in text


def test_show_after_a_force_pushed_rebase_gives_the_range_diff(work, repo, cli):
    assert verdict(cli, repo, "refs/pull/7/head").returncode == 0
    repo.git("checkout", "-q", "main")
    repo.commit("main moves on", files={"z.txt": "z\n"})
    repo.git("checkout", "-q", "claude/fix")
    repo.git("rebase", "-q", "main")
    tip = repo.git("rev-parse", "HEAD")
    repo.git("update-ref", "refs/pull/7/head", tip)
    repo.git("checkout", "-q", "main")
    got = show(cli, repo, "refs/pull/7/head")
    assert got["since"]["kind"] == "range-diff"
    # Each rebased commit is unchanged ('='): nothing to read twice.
    lines = [x for x in got["since"]["text"].splitlines() if x.strip()]
    assert len(lines) == 3 and all(" = " in x for x in lines)
    # Byte-identical copies keep their approvals: only the human commit (no record) is new.
    assert got["new_since_verdict"] == [got["commits"][1]]
    gate = cli("gate", f"main..{tip}", cwd=repo.path)
    assert gate.returncode == 0, gate.stdout


def test_gate_and_critique_take_a_unit_ref(work, repo, cli):
    gate = cli("gate", "--json", "refs/pull/7/head", cwd=repo.path)
    assert gate.returncode == 1
    checked = {c["sha"] for c in json.loads(gate.stdout)["commits"]}
    assert checked == {work["c1"], work["c2"]}  # the unit's AI commits, not main's
    assert verdict(cli, repo, "refs/pull/7/head").returncode == 0
    assert cli("gate", "claude/fix", cwd=repo.path).returncode == 0
    proc = cli("critique", "refs/pull/7/head", "--json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [x["sha"] for x in lines] == [work["c1"], work["c2"]]
    assert all(x["unit"]["ref"] == "refs/pull/7/head" for x in lines)


def test_the_daily_queue_hides_old_main_commits_and_says_how_to_see_them(repo, cli):
    from datetime import datetime

    repo.commit("base")
    old = repo.commit(ai("old ai on main"), when=datetime(2025, 6, 1, tzinfo=UTC))
    recent = repo.commit(ai("recent ai on main"))
    repo.git("checkout", "-q", "-b", "codex/work")
    branch = repo.commit(ai("unmerged work"))
    repo.git("checkout", "-q", "main")
    daily = queue(cli, repo)
    assert [i["sha"] for i in daily] == [branch, recent]  # unmerged work first, then main
    assert [i["unit"]["kind"] for i in daily] == ["branch", "commit"]
    assert daily[1]["unit"] == {"kind": "commit", "ref": recent}
    assert [i["sha"] for i in queue(cli, repo, "--audit")] == [old]
    assert {i["sha"] for i in queue(cli, repo, "--all")} == {branch, recent, old}
    table = cli("queue", cwd=repo.path).stdout
    assert "1 older unreviewed AI commit(s) on main hidden" in table and "--audit" in table
    repo.write(".reviewq.toml", '[scope]\nrecent = "all"\n')
    assert {i["sha"] for i in queue(cli, repo)} == {branch, recent, old}
    repo.write(".reviewq.toml", '[scope]\nrecent = "soon"\n')
    bad = cli("queue", cwd=repo.path)
    assert bad.returncode == 2 and "scope.recent" in bad.stderr


def test_an_inbox_patch_series_is_one_unit_and_one_verdict_covers_it(repo, cli):
    repo.commit("base", files={"a.txt": "a\n"})
    repo.write(".reviewq.toml", 'inbox = "inbox"\n')
    series = "".join(
        f"From {'0' * 40} Mon Sep 17 00:00:00 2001\nFrom: Codex <noreply@openai.com>\n"
        f"Date: Thu, 19 Nov 2026 10:0{i}:00 +0000\nSubject: [PATCH {i}/2] Step {i}\n\n---\n"
        f"diff --git a/s{i}.txt b/s{i}.txt\nnew file mode 100644\n--- /dev/null\n"
        f"+++ b/s{i}.txt\n@@ -0,0 +1 @@\n+step {i}\n"
        for i in (1, 2)
    )
    repo.write("inbox/series.mbox", series)
    items = queue(cli, repo)
    assert len(items) == 1
    unit = items[0]
    assert unit["unit"]["kind"] == "inbox" and len(unit["commits"]) == 2
    assert unit["unit"]["ref"] == unit["commits"][-1] == unit["id"]
    proc = verdict(cli, repo, unit["unit"]["ref"])
    assert proc.returncode == 0, proc.stderr
    records = log_records(cli, repo)
    assert sorted(r["change_id"] for r in records) == sorted(unit["commits"])
    assert all(r["unit"]["kind"] == "inbox" for r in records)
    assert queue(cli, repo) == []
    # One patch of the series named alone is a verdict on that patch, as before.
    first = cli("verdict", unit["commits"][0], "reject", "--note", "no", cwd=repo.path)
    assert first.returncode == 0 and "unit" not in log_records(cli, repo)[-1]


def _uneven(repo, *, split: bool) -> None:
    """main, then an agent branch claude/big with 320 new lines: one commit of 20 lines and
    one of 300 (split), or the same change as one commit."""
    repo.commit("base", files={"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "claude/big")
    big = "".join(f"line {n}\n" for n in range(300))
    small = "".join(f"small {n}\n" for n in range(20))
    if split:
        repo.commit(ai("small"), files={"s.txt": small})
        repo.commit(ai("big"), files={"b.txt": big})
    else:
        repo.commit(ai("small and big"), files={"s.txt": small, "b.txt": big})
    repo.git("checkout", "-q", "main")


def _stats(cli, repo) -> dict:
    proc = cli("stats", "--json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["totals"]


def test_a_unit_verdict_keeps_each_metric_per_commit_and_matches_one_commit(make_repo, cli):
    """Each record: its own commit's lines and hunks, the time in proportion to its lines (the
    sum is what was spent); `stats` lines/hour and rubber stamps as for the same change reviewed
    as one commit (an even split made the 300-line commit look read at 720 lines/hour)."""
    unit_repo, one_repo = make_repo("unit"), make_repo("one")
    _uneven(unit_repo, split=True)
    _uneven(one_repo, split=False)
    proc = verdict(cli, unit_repo, "claude/big", "approve", "--seconds", "3000")
    assert proc.returncode == 0, proc.stderr
    records = [r for r in log_records(cli, unit_repo) if r.get("unit")]
    assert len(records) == 2
    by_lines = sorted(records, key=lambda r: r["lines_changed"])
    assert [r["lines_changed"] for r in by_lines] == [20, 300]
    assert [r["hunks_total"] for r in by_lines] == [1, 1]
    assert [r["hunks_viewed"] for r in by_lines] == [1, 1]
    assert sum(r["active_seconds"] for r in records) == pytest.approx(3000, abs=0.01)
    assert sum(r["wall_seconds"] for r in records) == pytest.approx(3000, abs=0.01)
    assert by_lines[1]["active_seconds"] == pytest.approx(3000 * 300 / 320, abs=0.01)
    one = cli("verdict", "claude/big", "approve", "--seconds", "3000", cwd=one_repo.path)
    assert one.returncode == 0, one.stderr
    unit_totals, one_totals = _stats(cli, unit_repo), _stats(cli, one_repo)
    assert unit_totals["lines_per_hour"] == pytest.approx(one_totals["lines_per_hour"], abs=0.2)
    assert unit_totals["rubber_stamps"] == one_totals["rubber_stamps"] == 0


def test_hunks_viewed_of_a_unit_are_a_fraction_of_each_commit(make_repo, cli):
    """Half the hunks viewed: each record half of its own (never more than it has)."""
    repo = make_repo("unit")
    repo.commit("base", files={"a.txt": "".join(f"{n}\n" for n in range(40))})
    repo.git("checkout", "-q", "-b", "claude/two")
    repo.commit(ai("one hunk"), files={"s.txt": "s\n"})
    lines = [f"{n}\n" for n in range(40)]
    lines[2], lines[20], lines[38] = "x\n", "y\n", "z\n"
    repo.commit(ai("three hunks"), files={"a.txt": "".join(lines)})
    repo.git("checkout", "-q", "main")
    proc = verdict(cli, repo, "claude/two", "approve", "--hunks-viewed", "2")
    assert proc.returncode == 0, proc.stderr
    records = sorted(
        (r for r in log_records(cli, repo) if r.get("unit")), key=lambda r: r["hunks_total"]
    )
    assert [r["hunks_total"] for r in records] == [1, 3]
    assert [r["hunks_viewed"] for r in records] == [0, 2]  # 2 of 4: half of 1 and of 3
    assert sum(r["active_seconds"] for r in records) == pytest.approx(30, abs=0.01)


def test_split_unit_review_is_pure_and_sums_to_what_was_spent():
    from reviewq.core.units import split_unit_review

    shares = split_unit_review(
        [0, 0], [2, 4], active_seconds=10, wall_seconds=20, hunks_viewed=6, hunks_seen_of=6
    )
    assert [s.active_seconds for s in shares] == [5, 5]  # no lines: evenly
    assert [s.hunks_viewed for s in shares] == [2, 4]  # all viewed: all
    shares = split_unit_review(
        [10, 30], [5, 1], active_seconds=100, wall_seconds=100, hunks_viewed=1, hunks_seen_of=9
    )
    assert sum(s.active_seconds for s in shares) == 100
    assert [s.hunks_viewed for s in shares] == [1, 0]
    assert all(s.hunks_viewed <= s.hunks_total for s in shares)


def test_hunks_seen_in_a_commit_cover_the_combined_hunk_by_text_not_line_numbers():
    """A commit's hunk at its own tree's line numbers covers the combined hunk with the same
    added lines elsewhere; a hunk seen only in part, or in another file, covers nothing."""
    from reviewq.core.units import seen_in_combined
    from reviewq.sources.diffs import parse_unified_diff

    combined = parse_unified_diff(
        b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n"
        b"@@ -1,0 +1,2 @@\n+top one\n+top two\n"
        b"@@ -20,1 +22,2 @@\n-old\n+new a\n+new b\n",
        source="unit",
    )
    commit = parse_unified_diff(
        b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n"
        b"@@ -20,1 +20,2 @@\n-old\n+new a\n+new b\n",
        source="git",
    )
    partial = parse_unified_diff(
        b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,0 +1,1 @@\n+top one\n",
        source="git",
    )
    other = parse_unified_diff(
        b"diff --git a/y.py b/y.py\n--- a/y.py\n+++ b/y.py\n@@ -1,0 +1,2 @@\n+top one\n+top two\n",
        source="git",
    )

    def hunks(diff):
        return [(fd, h) for fd in diff.files for h in fd.hunks]

    assert seen_in_combined(combined, hunks(commit)) == [(0, 1)]
    assert seen_in_combined(combined, hunks(partial)) == []
    assert seen_in_combined(combined, hunks(other)) == []
    full = parse_unified_diff(
        b"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -4,0 +5,2 @@\n+top one\n+top two\n",
        source="git",
    )
    assert seen_in_combined(combined, hunks(commit) + hunks(full)) == [(0, 0), (0, 1)]


def test_reviewq_tui_with_an_unknown_ref_says_so_before_the_app_starts(demo_repo, cli):
    """`reviewq tui REF`: a name that is no commit, unit or inbox patch is one line and exit 2,
    not a queue opened with the name silently dropped."""
    result = cli("tui", "origin/no-such-branch", cwd=demo_repo)
    assert result.returncode == 2
    assert "unknown revision 'origin/no-such-branch'" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("tui", "inbox:zzzz", cwd=demo_repo)
    assert result.returncode == 2
    assert "no inbox patch matches 'inbox:zzzz'" in result.stderr
