"""Units of review: branches, pull/merge request refs, Gerrit changes and inbox series are one
queue item each; a verdict on a unit is recorded per commit naming it (docs/queue-scope.md)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from reviewq.core.units import assign_units, children_first, consistent, unit_commits
from tests.conftest import FIXED_NOW

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
