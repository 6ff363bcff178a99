"""The task a cloud agent was given, from the pull request on the forge: recorded GitHub API
answers over a mock transport (nothing here calls the network), and the link a commit carries
when there is no token."""

from __future__ import annotations

import json

import httpx2
import pytest

from reviewq.core.forge_prompt import github_repo, session_link_in_message, task_from_pr_body
from tests import test_pull
from tests.conftest import FIXED_NOW

#: The hosting fixtures of test_pull (a bare origin with pull request refs, a reviewer clone).
host = test_pull.host
reviewer = test_pull.reviewer
queue = test_pull.queue

COPILOT_BODY = (
    "Speeds up the CSV export by streaming rows.\n\n"
    "<!-- START COPILOT ORIGINAL PROMPT -->\n\n<details>\n\n<summary>Original prompt</summary>\n\n"
    "> The order export times out for large shops.\n> Stream it instead of building a list.\n\n"
    "</details>\n\n<!-- START COPILOT CODING AGENT TIPS -->\n---\nTips for Copilot"
)
#: A recorded `GET /repos/{owner}/{repo}/pulls/{n}` answer, trimmed to the fields read and a few
#: around them.
RECORDED = {
    "url": "https://api.github.com/repos/acme/shop/pulls/12",
    "number": 12,
    "state": "open",
    "title": "Speed up export",
    "user": {"login": "Copilot", "type": "Bot"},
    "body": COPILOT_BODY,
    "head": {"ref": "copilot/speed-up-export", "sha": "0" * 40},
    "base": {"ref": "main"},
}


def test_pr_body_parsers() -> None:
    task = task_from_pr_body(COPILOT_BODY)
    assert task is not None and task.agent == "copilot"
    assert task.prompt == (
        "The order export times out for large shops.\nStream it instead of building a list."
    )
    codex = task_from_pr_body(
        "## Summary\n...\n------\nhttps://chatgpt.com/codex/tasks/task_e_" + "a" * 32
    )
    assert codex is not None and codex.agent == "codex" and codex.prompt is None
    assert task_from_pr_body("just a description") is None
    carried = session_link_in_message(
        "Fix\n\nAgent-Logs-Url: https://github.com/acme/shop/sessions/1234-abcd\n"
    )
    assert carried is not None and carried.agent == "copilot" and carried.link.endswith("1234-abcd")
    assert github_repo("git@github.com:acme/shop.git") == ("acme", "shop")
    assert github_repo("https://github.com/acme/shop") == ("acme", "shop")
    assert github_repo("/srv/git/shop.git") is None


class Forge:
    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if request.url.path == "/repos/acme/shop/pulls/12":
            return httpx2.Response(200, json=RECORDED)
        return httpx2.Response(404, json={"message": "Not Found"})


def _pull(reviewer, transport):
    from reviewq.context import Context
    from reviewq.workflow.pull import pull

    ctx = Context.open(reviewer.path)
    try:
        return pull(ctx, "origin", now=FIXED_NOW, transport=transport)
    finally:
        ctx.close()


def test_pull_with_a_token_keeps_the_copilot_task_and_the_queue_shows_it(
    cli,
    reviewer,
    monkeypatch,
):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    reviewer.git("config", "reviewq.githubRepo", "acme/shop")
    forge = Forge()
    _pull(reviewer, httpx2.MockTransport(forge))
    asked = sorted(r.url.path for r in forge.requests)
    assert "/repos/acme/shop/pulls/12" in asked
    assert all(r.headers["authorization"] == "Bearer ghp_test" for r in forge.requests)
    items = {i["subject"]: i for i in queue(cli, reviewer)}
    export = items["Speed up export"]
    assert export["prompt_source"] == "forge"
    assert export["prompt"].startswith("The order export times out")
    assert export["session"] == {
        "agent": "copilot",
        "id": "pull/12",
        "store": "forge",
        "model": None,
    }
    # A second pull with nothing new asks again only what failed (404s), not #12.
    again = Forge()
    _pull(reviewer, httpx2.MockTransport(again))
    assert "/repos/acme/shop/pulls/12" not in [r.url.path for r in again.requests]


def test_without_a_token_nothing_is_asked(cli, reviewer, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    reviewer.git("config", "reviewq.githubRepo", "acme/shop")

    def refuse(request):
        raise AssertionError(f"network call without a token: {request.url}")

    _pull(reviewer, httpx2.MockTransport(refuse))
    items = {i["subject"]: i for i in queue(cli, reviewer)}
    assert items["Speed up export"]["prompt"] is None


@pytest.mark.parametrize("status", [401, 500])
def test_a_failing_forge_is_named_and_the_pull_goes_on(reviewer, monkeypatch, capsys, status):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    reviewer.git("config", "reviewq.githubRepo", "acme/shop")
    report = _pull(reviewer, httpx2.MockTransport(lambda r: httpx2.Response(status, json={})))
    assert report.queue_size > 0
    assert f"HTTP {status}" in capsys.readouterr().err


def test_show_names_the_session_link_a_commit_carries(cli, repo):
    sha = repo.commit(
        "Fix totals\n\nAgent-Logs-Url: https://github.com/acme/shop/sessions/77aa-bb\n"
        "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n"
    )
    record = json.loads(cli("show", sha, "--json", cwd=repo.path).stdout)
    assert record["agent_session_url"] == {
        "agent": "copilot",
        "url": "https://github.com/acme/shop/sessions/77aa-bb",
    }
    text = cli("show", sha, cwd=repo.path).stdout
    assert (
        "session    copilot: https://github.com/acme/shop/sessions/77aa-bb (from the commit)"
        in text
    )
