"""The TUI on units of review: one row per pull request, the combined diff, stepping through
commits, and what is new since your verdict after a push (issue 16)."""

from __future__ import annotations

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
        assert "[3 commits]" in row[3].plain and row[-1].plain == "pull/7/head"
        screen = await open_unit(app, pilot)
        assert sorted(f.path for f in screen.diff.files) == ["f1.txt", "f2.txt", "h.txt"]
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
