"""The command line of the spine: bad input, repository rules, inbox, cache, demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewq.context import Context
from reviewq.workflow.scan import scan_history
from tests.conftest import Repo, run_reviewq

AI = "\n\nCo-authored-by: Codex <noreply@openai.com>"


def one_line_error(result) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("reviewq: ")
    return lines[0]


def test_not_a_repository(tmp_path: Path) -> None:
    line = one_line_error(run_reviewq("scan", cwd=tmp_path))
    assert "not a git repository" in line and "--repo" in line


def test_missing_repository_path(tmp_path: Path) -> None:
    line = one_line_error(run_reviewq("--repo", str(tmp_path / "nope"), "queue"))
    assert "no such directory" in line


def test_unknown_revision(repo: Repo) -> None:
    repo.commit("base")
    line = one_line_error(run_reviewq("scan", "no-such-branch", cwd=repo.path))
    assert "unknown revision 'no-such-branch'" in line
    line = one_line_error(run_reviewq("show", "deadbeef", cwd=repo.path))
    assert "unknown revision" in line
    line = one_line_error(run_reviewq("scan", "main..nope", cwd=repo.path))
    assert "nope" in line


def test_malformed_config(repo: Repo) -> None:
    repo.commit("base")
    repo.write(".reviewq.toml", "[[agents]\nagent = 'x'\n")
    line = one_line_error(run_reviewq("scan", cwd=repo.path))
    assert ".reviewq.toml" in line and "malformed TOML" in line
    repo.write(".reviewq.toml", "[[agents]]\nagent = 'x'\nfamily = 'martian'\nemail = 'a@b'\n")
    line = one_line_error(run_reviewq("queue", cwd=repo.path))
    assert "agents[0].family" in line and "martian" in line
    repo.write(".reviewq.toml", "[[agents]]\nagent = 'x'\n")
    assert "give at least one of" in one_line_error(run_reviewq("scan", cwd=repo.path))
    repo.write(".reviewq.toml", "colour = 'blue'\n")
    assert "unknown key 'colour'" in one_line_error(run_reviewq("scan", cwd=repo.path))


def test_explicit_config_that_does_not_exist(repo: Repo, tmp_path: Path) -> None:
    repo.commit("base")
    line = one_line_error(run_reviewq("--config", str(tmp_path / "x.toml"), "scan", cwd=repo.path))
    assert "cannot read config" in line


def test_usage_errors_are_one_line(repo: Repo) -> None:
    repo.commit("base")
    assert "invalid choice" in one_line_error(run_reviewq("frobnicate", cwd=repo.path))
    assert "not a number" in one_line_error(run_reviewq("scan", "-n", "lots", cwd=repo.path))


def test_unreadable_patch_in_inbox(repo: Repo) -> None:
    repo.commit("base")
    repo.write(".reviewq.toml", "inbox = 'inbox'\n")
    repo.write("inbox/bad.patch", "this is not a diff at all\n")
    line = one_line_error(run_reviewq("scan", cwd=repo.path))
    assert "bad.patch" in line and "no diff found" in line
    repo.write("inbox/bad.patch", "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n")
    line = one_line_error(run_reviewq("queue", cwd=repo.path))
    assert "bad.patch" in line and "not a readable patch" in line


def test_empty_repository_scans_to_nothing(repo: Repo) -> None:
    result = run_reviewq("scan", "--json", cwd=repo.path)
    assert result.returncode == 0 and result.stdout == ""
    assert "no commits yet" in one_line_error(run_reviewq("show", "HEAD", cwd=repo.path))


def test_bare_repository_reads_work(repo: Repo, tmp_path: Path) -> None:
    sha = repo.commit("AI change" + AI)
    repo.write(".reviewq.toml", "[[agents]]\nagent = 'acme'\nemail = 'bot@acme.example'\n")
    repo.commit("config", files={".reviewq.toml": (repo.path / ".reviewq.toml").read_text()})
    bot = repo.commit("bot change", author=("Bot", "bot@acme.example"))
    bare = tmp_path / "mirror.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))
    result = run_reviewq("--repo", str(bare), "scan", "--json")
    assert result.returncode == 0, result.stderr
    shas = {json.loads(x)["sha"] for x in result.stdout.splitlines()}
    assert shas == {sha, bot}  # the config committed at HEAD applies in a bare clone
    assert run_reviewq("--repo", str(bare), "show", sha).returncode == 0


def test_repository_rules(repo: Repo) -> None:
    repo.write(
        ".reviewq.toml",
        """
[[agents]]
agent = "acme-bot"
email = "*@bots.acme.example"
model = "llama-3.3-70b"

[[agents]]
agent = "house-agent"
trailer = "X-Agent"
value = "^house"
family = "other"
role = "assist"
""",
    )
    a = repo.commit("bot work", author=("Builder", "build@bots.acme.example"))
    b = repo.commit("assisted\n\nX-Agent: house-v2")
    c = repo.commit("not ours\n\nX-Agent: someone-else")
    records = {
        json.loads(x)["sha"]: json.loads(x)
        for x in run_reviewq("scan", "--json", cwd=repo.path).stdout.splitlines()
    }
    assert records[a]["agent"] == "acme-bot" and records[a]["family"] == "meta"
    assert records[a]["evidence"][0]["source"] == "config-rule"
    assert records[b]["agent"] == "house-agent" and records[b]["role"] == "assist"
    assert records[b]["family"] == "other"
    assert c not in records


def test_inbox_patches_with_sidecars(repo: Repo) -> None:
    repo.commit("base", files={"app.py": "a = 1\n"})
    repo.write(".reviewq.toml", "inbox = 'agent-out'\n")
    patch = (
        "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
        "From: Codex <noreply@openai.com>\nDate: Thu, 19 Nov 2026 10:00:00 +0100\n"
        "Subject: [PATCH 1/2] Set a to two\n\nBody text.\n---\n app.py | 2 +-\n\n"
        "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
        "-- \n2.39.5\n\n"
        "From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001\n"
        "From: Codex <noreply@openai.com>\nDate: Thu, 19 Nov 2026 10:05:00 +0100\n"
        "Subject: [PATCH 2/2] Add b\n\n---\n"
        "diff --git a/b.py b/b.py\nnew file mode 100644\n--- /dev/null\n+++ b/b.py\n@@ -0,0 +1 @@\n+b = 3\n"
    )
    repo.write("agent-out/series.mbox", patch)
    repo.write(
        "agent-out/series.md",
        "---\nagent: codex\nmodel: gpt-5-codex\nprompted_by: Grace <grace@example.com>\n---\n"
        "Make a two, and add b.\n",
    )
    repo.write("agent-out/plain.diff", "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a = 1\n+a = 5\n")
    result = run_reviewq("scan", "--json", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(x) for x in result.stdout.splitlines()]
    inbox = [r for r in records if r["source"] == "inbox"]
    assert len(inbox) == 3
    series = [r for r in inbox if r["location"].startswith("inbox/series.mbox")]
    assert [r["subject"] for r in series] == ["Set a to two", "Add b"]
    assert all(r["model"] == "gpt-5-codex" and r["family"] == "openai" for r in series)
    assert all(r["prompt"] == "Make a two, and add b." for r in series)
    assert all(r["prompt_source"] == "sidecar" for r in series)
    assert all(r["sha"] is None and r["id"].startswith("inbox:") for r in inbox)
    plain = next(r for r in inbox if r["location"] == "inbox/plain.diff")
    assert plain["agent"] == "other" and plain["additions"] == 1
    show = run_reviewq("show", series[1]["id"], "--json", cwd=repo.path)
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["diff"]["file_list"][0]["status"] == "added"


def test_scan_cache_rescan_and_incremental(repo: Repo) -> None:
    first = repo.commit("one" + AI)
    repo.commit("human")
    ctx = Context.open(repo.path)
    cold = scan_history(ctx)
    assert [c.id for c in cold.changes] == [first] and not cold.from_cache
    warm = scan_history(ctx)
    assert warm.from_cache and warm.commits_read == 0 and [c.id for c in warm.changes] == [first]
    second = repo.commit("two" + AI)
    grown = scan_history(ctx)
    assert grown.incremental and grown.commits_read == 1
    assert [c.id for c in grown.changes] == [second, first]
    # A note that adds a prompt invalidates the cache: the record must carry it.
    run_reviewq("prompt", first, "--set", "-", cwd=repo.path, input="why")
    with_note = scan_history(ctx)
    assert not with_note.from_cache
    assert {c.id: c.prompt.text if c.prompt else None for c in with_note.changes}[first] == "why"
    # History rewritten under the cache: a full scan, no stale records.
    repo.git("reset", "-q", "--hard", "HEAD~1")
    rewritten = scan_history(ctx)
    assert [c.id for c in rewritten.changes] == [first] and not rewritten.incremental
    ctx.close()


def test_corrupted_cache_is_rebuilt(repo: Repo) -> None:
    sha = repo.commit("one" + AI)
    assert run_reviewq("scan", cwd=repo.path).returncode == 0
    cache = repo.path / ".git" / "reviewq" / "cache.json"
    cache.write_text("{not json")
    result = run_reviewq("scan", "--json", cwd=repo.path)
    assert result.returncode == 0
    assert "rebuilt" in result.stderr
    assert json.loads(result.stdout)["sha"] == sha
    assert json.loads(cache.read_text())  # a valid file again


def test_hostile_subject_is_shown_escaped(repo: Repo) -> None:
    repo.commit("evil \x1b]52;c;ZXZpbA==\x07 \x1b[31mred\u202e" + AI)
    out = run_reviewq("queue", cwd=repo.path).stdout
    assert "\x1b" not in out and "\u202e" not in out
    assert "<ESC>]52;c;ZXZpbA==<BEL>" in out and "<U+202E>" in out


@pytest.mark.parametrize("argv", [["scan"], ["queue"], ["scan", "--json"]])
def test_output_to_closed_pipe_is_quiet(repo: Repo, argv: list[str]) -> None:
    for i in range(30):
        repo.commit(f"c{i}" + AI)
    import subprocess
    import sys

    proc = subprocess.run(
        f"{sys.executable} -m reviewq {' '.join(argv)} | head -1",
        shell=True,
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in proc.stderr and "Broken pipe" not in proc.stderr


def test_demo_repository(demo_repo: Path) -> None:
    result = run_reviewq("scan", "--json", cwd=demo_repo)
    assert result.returncode == 0, result.stderr
    records = [json.loads(x) for x in result.stdout.splitlines()]
    by_subject = {r["subject"]: r for r in records}
    assert "Bump requests from 2.31.0 to 2.32.3" not in by_subject
    assert "Document the store API" not in by_subject
    assert "Explain our AI attribution policy in CONTRIBUTING" not in by_subject
    agents = {r["agent"] for r in records}
    assert {"claude-code", "aider", "cursor", "codex", "copilot", "devin", "jules"} <= agents
    assert {"gemini-code-assist", "acme-release-bot"} <= agents
    sources = {r["prompt_source"] for r in records}
    assert {"note", "aider-transcript", "git-ai", "agent-trace", "sidecar"} <= sources
    risky = by_subject["Let support engineers impersonate customers; simplify CI"]
    assert risky["agent"] == "devin"
    queue = [
        json.loads(x) for x in run_reviewq("queue", "--json", cwd=demo_repo).stdout.splitlines()
    ]
    # Unmerged units come first; on main, the riskiest first.
    on_main = [q for q in queue if q["unit"]["kind"] == "commit"]
    assert on_main[0]["subject"] == risky["subject"] and on_main[0]["risk"]["level"] == "high"


def test_demo_command_builds_and_prints_the_queue(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = run_reviewq("demo", "--dir", str(target), "--no-tui")
    assert result.returncode == 0, result.stderr
    assert "pending" in result.stdout and (target / ".git").is_dir()
    again = run_reviewq("demo", "--dir", str(target), "--no-tui")
    assert again.returncode == 0, again.stderr  # rebuilds its own demo
    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    assert "not a reviewq demo" in one_line_error(
        run_reviewq("demo", "--dir", str(other), "--no-tui")
    )
    assert (other / "precious.txt").read_text() == "keep me"


def test_show_says_where_a_change_lives(demo_repo: Path) -> None:
    """`show` places a change as the queue does: an agent branch not merged, or main."""
    branch = run_reviewq("show", "claude/export-retry", cwd=demo_repo)
    assert branch.returncode == 0, branch.stderr
    assert "where      claude/export-retry (branch, not merged)" in branch.stdout
    record = json.loads(run_reviewq("show", "claude/export-retry", "--json", cwd=demo_repo).stdout)
    assert (record["location"], record["location_kind"], record["merged"]) == (
        "claude/export-retry",
        "branch",
        False,
    )
    queue = [
        json.loads(x) for x in run_reviewq("queue", "--json", cwd=demo_repo).stdout.split("\n") if x
    ]
    sha = next(item["sha"] for item in queue if item.get("location") == "main")
    on_main = json.loads(run_reviewq("show", sha, "--json", cwd=demo_repo).stdout)
    assert on_main["location"] == "main" and on_main["merged"] is True
