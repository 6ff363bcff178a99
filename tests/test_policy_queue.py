"""The queue under the policy: each item's domains and what it still needs; settled items leave."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.conftest import Repo, run_reviewq
from tests.test_gate import ANA, BEN, CODEX, POLICY, SAFE_PATH, record


def queue(repo: Repo, *args: str) -> list[dict]:
    result = run_reviewq("queue", "--json", *args, cwd=repo.path, env=SAFE_PATH)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_queue_shows_each_items_domains_and_needs(repo: Repo) -> None:
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY})
    auth = repo.commit("Harden tokens" + CODEX, files={"auth/t.py": "t\n", "src/a.py": "a\n"})
    plain = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    items = {i["sha"]: i for i in queue(repo)}
    assert items[auth]["domain"] == "auth+default"
    assert [n.split(": ")[0] for n in items[auth]["needs"]] == [
        "approvals",
        "second-family critique",
        "cooldown",
    ]
    assert items[plain]["domain"] == "default"
    assert items[plain]["needs"] == [
        "approvals: needs 1 more from distinct reviewers (0 of 1 counted)"
    ]
    assert [i["sha"] for i in queue(repo, "--domain", "auth")] == [auth]

    table = run_reviewq("queue", cwd=repo.path, env=SAFE_PATH).stdout
    assert "NEEDS" in table.splitlines()[0]
    assert "approvals, second-family critique, cooldown" in table


def test_an_item_leaves_the_queue_when_nothing_is_left_for_a_reviewer(repo: Repo) -> None:
    repo.commit("Adopt reviewq", files={".reviewq.toml": POLICY})
    auth = repo.commit("Harden tokens" + CODEX, files={"auth/t.py": "t\n"})
    plain = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    rejected = repo.commit("Drop a check" + CODEX, files={"src/check.py": "pass\n"})
    ticked = ("threat model reviewed",)

    # One of two approvals: still waiting for a reviewer, and says so.
    record(repo, auth, checklist=ticked)
    (item,) = [i for i in queue(repo) if i["sha"] == auth]
    assert item["needs"][0] == "approvals: needs 1 more from distinct reviewers (1 of 2 counted)"

    # The second approval: only the cooldown is left, which is no reviewer's work.
    record(repo, auth, reviewer=BEN, checklist=ticked)
    record(repo, plain)
    record(repo, rejected, "reject", reviewer=BEN)
    assert {i["sha"] for i in queue(repo)} == set()
    # The gate still holds the cooldown and the rejection.
    gate = run_reviewq("gate", "--json", "HEAD~3..HEAD", cwd=repo.path, env=SAFE_PATH)
    result = {c["sha"]: c for c in json.loads(gate.stdout)["commits"]}
    assert [n["code"] for n in result[auth]["needs"]] == ["cooldown"]
    assert [n["code"] for n in result[rejected]["needs"]] == ["rejected", "approvals"]
    assert result[plain]["passed"] is True


def test_an_approval_by_the_prompter_keeps_the_item_in_the_queue(repo: Repo) -> None:
    sha = repo.commit("Add a helper" + CODEX, author=ANA, files={"src/helper.py": "x = 1\n"})
    record(repo, sha, reviewer=ANA, at=datetime.now().astimezone() - timedelta(minutes=1))
    (item,) = queue(repo)
    assert item["sha"] == sha
    assert "the prompter's approval does not count" in item["needs"][-1]
