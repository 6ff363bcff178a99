"""The review screen's prompt pane with a prompt read from an agent's session store."""

from __future__ import annotations

import os
from pathlib import Path

from reviewq.tui.widgets.panes import PromptPane
from tests.test_sessions_cli import claude_story
from tests.tui.conftest import settle
from tests.tui.test_pilot import SIZE, open_first_review


async def test_prompt_pane_shows_the_session_prompt_link_and_what_the_agent_ran(
    make_app, repo, monkeypatch
):
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.delenv("REVIEWQ_SESSIONS", raising=False)
    session, (first, _, _) = claude_story(repo)
    session.write(Path(os.environ["HOME"]))
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = pilot.app.screen
        # Open the first commit of the story (the queue sorts by risk: its failing tests
        # raise it to the top).
        assert queue is not None
        screen = await open_first_review(pilot)
        assert screen.change.sha == first
        pane = screen.query_one(PromptPane)
        title = str(pane.query_one(".pane-title").render())
        assert "session, exact link to claude-code session" in title
        body = str(screen.query_one("#prompt-text").render())
        assert "Fix the token refresh race and add a test" in body
        assert "ran `pytest -q`: 2 failed, 3 passed" in body
        assert "its claims, not verified" in body
        assert "a lock around refresh() fixes it" in body
