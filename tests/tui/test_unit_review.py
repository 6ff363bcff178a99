"""The TUI on units of review: one row per pull request, the combined diff, stepping through
commits, and what is new since your verdict after a push (issue 16)."""

from __future__ import annotations

import json

from reviewq.store.log import read_records
from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from tests.tui.conftest import settle

SIZE = (160, 50)
HUMAN = ("Ada Lovelace", "ada@example.com")


def ai(subject: str) -> str:
    return f"{subject}\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


def build(repo) -> dict[str, str]:
    repo.commit("base", files={"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "claude/fix")
    c1 = repo.commit(ai("fix one"), files={"f1.txt": "1\n"})
    h = repo.commit("human tweak", author=HUMAN, files={"h.txt": "h\n"})
    c2 = repo.commit(ai("fix two"), files={"f2.txt": "2\n"})
    repo.git("update-ref", "refs/pull/7/head", c2)
    repo.git("checkout", "-q", "main")
    return {"c1": c1, "h": h, "c2": c2}


async def open_unit(app, pilot) -> ReviewScreen:
    await settle(pilot)
    queue = app.screen
    assert isinstance(queue, QueueScreen)
    assert len(queue.shown) == 1  # the branch and its pull request: one item
    item = queue.shown[0]
    assert item.unit.ref == "refs/pull/7/head"
    await pilot.press("enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


async def test_a_unit_is_one_row_reviewed_whole_and_commit_by_commit(make_app, repo):
    shas = build(repo)
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = app.screen._cells(app.screen.shown[0])
        assert "[3 commits]" in row[3].plain and row[-1].plain == "pull pull/7/head"
        screen = await open_unit(app, pilot)
        assert sorted(f.path for f in screen.diff.files) == ["f1.txt", "f2.txt", "h.txt"]
        # The review rate the verdict dialog warns about is the unit's: its 3 lines, not the
        # tip commit's 1. The size the queue shows is its AI commits' (2), not the tip's (1).
        assert screen.item.size == 2 and screen.review_lines() == 3
        panel = str(screen.query_one("#unit-commits").render())
        assert "pull pull/7/head" in panel and "3 commits (1 human)" in panel
        assert "human tweak" in panel and "claude-code" in panel
        await pilot.press("t")  # the first commit
        await settle(pilot)
        assert screen.unit_mode == "commit" and [f.path for f in screen.diff.files] == ["f1.txt"]
        await pilot.press("t")
        await settle(pilot)
        assert [f.path for f in screen.diff.files] == ["h.txt"]  # the human one, marked
        assert "▶" in str(screen.query_one("#unit-commits").render())
        await pilot.press("u")
        await settle(pilot)
        assert len(screen.diff.files) == 3
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, VerdictDialog)
        await pilot.press(*"read it all", "enter")
        await settle(pilot)
    records = read_records(app.services.ctx.log_path)
    assert sorted(r["sha"] for r in records) == sorted([shas["c1"], shas["c2"]])
    assert all(r["unit"]["ref"] == "refs/pull/7/head" for r in records)
    assert all(r["unit"]["commits"] == [shas["c1"], shas["h"], shas["c2"]] for r in records)


async def test_after_a_push_the_unit_comes_back_with_the_interdiff(make_app, repo, cli):
    shas = build(repo)
    assert cli("verdict", "refs/pull/7/head", "approve", cwd=repo.path).returncode == 0
    repo.git("checkout", "-q", "claude/fix")
    c3 = repo.commit(ai("fix three"), files={"f3.txt": "three\n"})
    repo.git("update-ref", "refs/pull/7/head", c3)
    repo.git("checkout", "-q", "main")
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = app.screen._cells(app.screen.shown[0])
        assert "1 new since your verdict" in row[3].plain
        screen = await open_unit(app, pilot)
        assert screen.unit.new_since_verdict == (c3,)
        assert screen.unit.reviewed_tip == shas["c2"]
        panel = str(screen.query_one("#unit-commits").render())
        assert "1 new since your verdict" in panel and "NEW" in panel
        await pilot.press("d")
        await settle(pilot)
        assert screen.unit_mode == "since" and [f.path for f in screen.diff.files] == ["f3.txt"]


async def test_the_tui_opens_on_a_units_ref_or_a_commit_in_it(make_app, repo):
    shas = build(repo)
    for name in ("refs/pull/7/head", "claude/fix", shas["c1"]):
        app = make_app(repo.path)
        app.open_on_load = name
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ReviewScreen), name
            assert screen.unit is not None and screen.unit.ref == "refs/pull/7/head"
    app = make_app(repo.path)
    app.open_on_load = "nowhere/at-all"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)  # a notice, no traceback


async def test_the_tui_lists_unmerged_work_first_as_the_cli_does(make_app, repo, cli):
    """A riskier AI commit on main comes after the pull request, as in `reviewq queue`; the
    top line says where unmerged work ends, the Where column names each unit's kind."""
    shas = build(repo)
    main_ai = repo.commit(
        ai("ci: deploy on push"), files={".github/workflows/ci.yml": "on: push\n"}
    )
    proc = cli("queue", "--json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    import json

    cli_order = [json.loads(line)["unit"]["ref"] for line in proc.stdout.splitlines()]
    assert cli_order == ["refs/pull/7/head", main_ai]
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert queue.shown[1].risk.score > queue.shown[0].risk.score  # riskier, yet second
        assert [i.unit.ref for i in queue.shown] == cli_order
        assert queue.shown[0].unit.commits[-1] == shas["c2"]
        top = str(queue.query_one("#queue-title").render())
        assert "1 unmerged, then 1 on main" in top
        where = [queue._cells(i)[-1].plain for i in queue.shown]
        assert where == ["pull pull/7/head", "main"]
        await pilot.press("o")  # another sort key (age): still unmerged work first
        await settle(pilot)
        assert queue.sort_key == "age" and queue.shown[0].unit.ref == "refs/pull/7/head"


async def test_a_tui_unit_verdict_shares_the_review_out_per_commit(make_app, repo):
    """Each record: its own commit's hunks, the time shared (summing to what was spent), the
    fraction of the combined diff's hunks viewed; not the combined figures on every record."""
    from reviewq.tui.services import VerdictInput

    shas = build(repo)
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        item = app.screen.shown[0]
        app.services.record_verdict(
            VerdictInput(
                change=item.change,
                verdict="approve",
                note="",
                active_seconds=90.0,
                wall_seconds=120.0,
                hunks_total=3,  # the combined diff: f1, h, f2
                hunks_viewed=3,
                critique=None,
                unit=item.unit,
            )
        )
    records = read_records(app.services.ctx.log_path)
    assert sorted(r["sha"] for r in records) == sorted([shas["c1"], shas["c2"]])
    assert [r["hunks_total"] for r in records] == [1, 1]
    assert [r["hunks_viewed"] for r in records] == [1, 1]
    assert [r["lines_changed"] for r in records] == [1, 1]
    assert sum(r["active_seconds"] for r in records) == 90.0
    assert sum(r["wall_seconds"] for r in records) == 120.0


async def test_after_a_force_pushed_rebase_the_range_diff_is_coloured(make_app, repo, cli):
    """A rebase that also changed a commit: `d` shows the range-diff with each pair marked by
    colour (`=` muted, `!` a warning) and the changed commit's inner diff in +/- colours."""
    repo.commit("base", files={"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "claude/fix")
    repo.commit(ai("fix one"), files={"f1.txt": "1\n"})
    repo.commit(ai("fix two"), files={"f2.txt": "".join(f"{n}\n" for n in range(20))})
    repo.git("update-ref", "refs/pull/7/head", "HEAD")
    repo.git("checkout", "-q", "main")
    assert cli("verdict", "refs/pull/7/head", "approve", cwd=repo.path).returncode == 0
    repo.commit("main moves on", files={"z.txt": "z\n"})
    repo.git("checkout", "-q", "claude/fix")
    repo.git("rebase", "-q", "main")
    repo.git("checkout", "-q", "HEAD~1")  # rewrite the last commit: one line changes
    lines = [f"{n}\n" for n in range(20)]
    lines[7] = "seven, reworked\n"
    repo.commit(ai("fix two"), files={"f2.txt": "".join(lines)})
    tip = repo.git("rev-parse", "HEAD")
    repo.git("update-ref", "refs/pull/7/head", tip)
    repo.git("branch", "-f", "claude/fix", tip)
    repo.git("checkout", "-q", "main")
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_unit(app, pilot)
        await pilot.press("d")
        await settle(pilot)
        assert screen.unit_mode == "since"
        panel = screen.query_one("#unit-commits")
        assert panel.has_class("-range-diff")
        content = panel.render()
        text = str(content)
        assert "range-diff since your verdict:" in text and "range-diff:\n" not in text
        lines = text.splitlines()
        changed = next(x for x in lines if " ! " in x)
        same = next(x for x in lines if " = " in x)
        styles = {
            str(span.style) for span in content.spans if text[span.start : span.end] == changed
        }
        assert any("warning" in s for s in styles), styles
        styles = {str(span.style) for span in content.spans if text[span.start : span.end] == same}
        assert any("muted" in s for s in styles), styles
        added = next(x for x in lines if "seven, reworked" in x)
        styles = {str(span.style) for span in content.spans if text[span.start : span.end] == added}
        assert any("success" in s for s in styles), styles


def lines(n: int, word: str) -> str:
    return "".join(f"{word} {i}\n" for i in range(n))


async def test_the_queue_and_the_header_show_the_units_size_and_size_sorts_by_it(
    make_app, repo, cli
):
    """A pull request of a 6-line commit and a 1-line tip is a 7-line unit: the Size column,
    the review header, `queue` and `queue --json` say +7, and `--sort size` puts a 3-line
    branch before it (by the tip alone it came first)."""
    repo.commit("base", files={"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "claude/big")
    repo.commit(ai("big one"), files={"big.txt": lines(6, "big")})
    tip = repo.commit(ai("big two"), files={"tip.txt": "t\n"})
    repo.git("update-ref", "refs/pull/9/head", tip)
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "codex/small")
    repo.commit(ai("small"), files={"s.txt": lines(3, "s")})
    repo.git("checkout", "-q", "main")
    items = [
        json.loads(x)
        for x in cli("queue", "--json", "--sort", "size", cwd=repo.path).stdout.splitlines()
    ]
    assert [i["unit"]["ref"] for i in items] == ["refs/heads/codex/small", "refs/pull/9/head"]
    pull = items[1]
    assert pull["additions"] == 1  # the tip commit's own fields are kept
    assert pull["unit_size"] == {
        "additions": 7,
        "deletions": 0,
        "sizes": "known",
        "of": "ai-commits",
    }
    table = cli("queue", cwd=repo.path).stdout
    row = next(x for x in table.splitlines() if "big two" in x)
    assert "+7/-0" in row and "+1/-0" not in row
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = app.screen
        sizes = {i.unit.ref: queue._cells(i)[5].plain for i in queue.shown}
        assert sizes == {"refs/pull/9/head": "+7/-0", "refs/heads/codex/small": "+3/-0"}
        queue.sort_key = "size"
        queue._fill()
        assert [i.unit.ref for i in queue.shown] == ["refs/heads/codex/small", "refs/pull/9/head"]
        queue.table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        header = str(app.screen.query_one("#review-header").render())
        assert "+7 -0" in header and "+1 -0" not in header


async def test_the_verdict_dialog_names_the_unit(make_app, repo):
    build(repo)
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        await open_unit(app, pilot)
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog)
        title = str(dialog.query_one("#verdict-title").render())
        assert "Approve pull pull/7/head · 3 commits (1 human)" in title
        assert "tip: fix two" in title


async def test_a_unit_verdict_counts_hunks_against_the_combined_diff_after_stepping(make_app, repo):
    """After `t` to one commit, the dialog's "out of" is the combined diff's 3 hunks, not the
    commit's 1; the hunk seen in the commit counts on the combined diff's hunk of its file."""
    build(repo)
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_unit(app, pilot)
        combined = screen.model
        assert combined.hunks_total == 3
        await pilot.press("t")  # the first commit: f1.txt, one hunk, on screen whole
        await settle(pilot)
        assert screen.unit_mode == "commit" and screen.model.hunks_total == 1
        assert screen.model.hunks_viewed == 1
        summary = screen.summary()
        assert summary.hunks_total == 3
        f1 = next(i for i, fd in enumerate(combined.files) if fd.path == "f1.txt")
        assert any(f == f1 for f, _ in combined.viewed_hunks())
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog)
        assert dialog.summary.hunks_total == 3
        await pilot.press(*"ok", "enter")
        await settle(pilot)
    records = read_records(app.services.ctx.log_path)
    assert len(records) == 2


async def test_the_unit_verdict_counts_only_hunks_seen_somewhere(make_app, repo):
    """Stepping to a commit whose hunks were not all seen, the combined diff counts only what
    was seen: never the commit's count as the unit's."""
    build(repo)
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_unit(app, pilot)
        screen.unit_model._viewed_hunks.clear()  # as if nothing of the whole were seen yet
        await pilot.press("t")
        await settle(pilot)
        summary = screen.summary()
        assert summary.hunks_total == 3 and summary.hunks_viewed == 1


async def test_the_queue_top_line_keeps_a_gap_and_where_takes_the_spare_width(make_app, repo):
    """At 120 columns the title is cut with an ellipsis, a gap before the counts; at 240 the
    Where column shows a long unit name whole."""
    repo.commit("base", files={"a.txt": "a\n"})
    long = "claude/a-branch-name-long-enough-to-be-cut-at-twenty-eight"
    repo.git("checkout", "-q", "-b", long)
    repo.commit(ai("one"), files={"f1.txt": "1\n"})
    repo.git("checkout", "-q", "main")
    for width in (120, 240):
        app = make_app(repo.path)
        app.repo_label = "/tmp/" + "a-deep-folder/" * 6 + "repo"
        async with app.run_test(size=(width, 30)) as pilot:
            await settle(pilot)
            queue = app.screen
            title, counts = queue.query_one("#queue-title"), queue.query_one("#queue-progress")
            assert counts.region.x - title.region.right >= 2, width
            line = "".join(seg.text for seg in title.render_line(0))
            if width == 120:
                assert line.rstrip().endswith("…"), line
            where = queue.table.columns["where"].width
            if width == 240:
                assert where >= len(f"branch {long}")
