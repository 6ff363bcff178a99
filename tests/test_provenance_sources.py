"""Side records in real repositories: git-ai notes, Agent Trace, our prompt notes, transcripts."""

from __future__ import annotations

import json

from tests.conftest import Repo, run_reviewq

GITAI_NOTE = """src/app.py
  a1b2c3d4e5f6a7b8 1-4,9
  h_0123456789abcd 5-8
---
{
  "schema_version": "authorship/3.0.0",
  "git_ai_version": "1.3.4",
  "base_commit_sha": "x",
  "prompts": {
    "a1b2c3d4e5f6a7b8": {
      "agent_id": {"tool": "claude", "id": "conv", "model": "claude-opus-4-6"},
      "human_author": "Grace Hopper <grace@example.com>",
      "messages": [
        {"type": "user", "text": "Make the parser tolerate blank lines."},
        {"type": "assistant", "text": "Done."}
      ],
      "total_additions": 5, "total_deletions": 0, "accepted_lines": 5, "overriden_lines": 0
    }
  },
  "humans": {"h_0123456789abcd": {"author": "Grace Hopper <grace@example.com>"}}
}
"""

SESSION_NOTE = """a.txt
  s_00000000000000::t_11111111111111 1-3
---
{"schema_version":"authorship/3.0.0","base_commit_sha":"abc","prompts":{},
 "sessions":{"s_00000000000000":{"agent_id":{"tool":"codex","id":"y","model":"gpt-5.1-codex"}}}}
"""

HUMAN_ONLY_NOTE = """a.txt
  h_0123456789abcd 1-3
---
{"schema_version":"authorship/3.0.0","base_commit_sha":"abc","prompts":{}}
"""


def scan(path) -> dict[str, dict]:
    result = run_reviewq("scan", "--json", cwd=path)
    assert result.returncode == 0, result.stderr
    return {json.loads(line)["sha"]: json.loads(line) for line in result.stdout.splitlines()}


def test_git_ai_note_marks_a_plain_commit_and_carries_its_prompt(repo: Repo) -> None:
    sha = repo.commit("Tolerate blank lines")
    repo.note("ai", sha, GITAI_NOTE)
    record = scan(repo.path)[sha]
    assert record["agent"] == "claude-code"
    assert record["model"] == "claude-opus-4-6"
    assert record["family"] == "anthropic"
    assert record["prompt"] == "Make the parser tolerate blank lines."
    assert record["prompt_source"] == "git-ai"
    assert record["evidence"][0]["source"] == "note"
    assert {p["email"] for p in record["prompted_by"]} >= {"grace@example.com"}


def test_git_ai_session_keys_count_and_human_only_notes_do_not(repo: Repo) -> None:
    ai = repo.commit("session commit")
    human = repo.commit("human commit")
    broken = repo.commit("broken note")
    repo.note("ai", ai, SESSION_NOTE)
    repo.note("ai", human, HUMAN_ONLY_NOTE)
    repo.note("ai", broken, "not a git-ai note at all\n---\n{broken json")
    records = scan(repo.path)
    assert records[ai]["agent"] == "codex" and records[ai]["model"] == "gpt-5.1-codex"
    assert human not in records
    assert broken not in records


def test_agent_trace_file_at_head_marks_its_revision(repo: Repo) -> None:
    sha = repo.commit("Add notes doc", files={"docs/notes.md": "a\nb\nc\n"})
    trace = {
        "version": "1.0",
        "id": "7b1f0a52-1111-4c1e-9a3a-5d2b7c0e9f11",
        "timestamp": "2026-11-20T10:00:00+00:00",
        "vcs": {"type": "git", "revision": sha[:12]},
        "tool": {"name": "opencode", "version": "1.2"},
        "files": [
            {
                "path": "docs/notes.md",
                "conversations": [
                    {
                        "contributor": {
                            "type": "ai",
                            "model_id": "anthropic/claude-opus-4-5-20251101",
                        },
                        "ranges": [{"start_line": 1, "end_line": 3}],
                    }
                ],
            }
        ],
        "metadata": {"dev.opencode": {"prompt": "Write the notes doc."}},
    }
    repo.commit(
        "Record traces", files={".agent-trace/traces.jsonl": json.dumps(trace) + "\n{garbage\n"}
    )
    record = scan(repo.path)[sha]
    assert record["agent"] == "opencode"
    assert record["family"] == "anthropic"
    assert record["prompt"] == "Write the notes doc."
    assert record["prompt_source"] == "agent-trace"


def test_side_records_nested_too_deeply_are_skipped_not_a_traceback(repo: Repo) -> None:
    """Anyone who can push a notes ref, or an agent committing a trace file, can write JSON
    nested deeper than the parser goes (json raises RecursionError, not ValueError): the
    record is skipped like any broken one, and the commits it named are scanned as they are."""
    deep = "[" * 50_000 + "]" * 50_000
    plain = repo.commit("plain commit")
    noted = repo.commit("noted commit")
    repo.note("ai", noted, f"a.txt\n  s_00000000000000 1-3\n---\n{deep}\n")
    repo.note("agent-trace", plain, '{"version":"1.0","files":' + deep + "}")
    ai = repo.commit(
        "Add f" + "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        files={".agent-trace/traces.jsonl": deep + "\n" + '{"version":' + deep + "}\n"},
    )
    assert set(scan(repo.path)) == {ai}


def test_human_trace_ranges_do_not_count(repo: Repo) -> None:
    sha = repo.commit("Human lines")
    trace = {
        "version": "0.1.0",
        "id": "x",
        "timestamp": "2026-11-20T10:00:00+00:00",
        "vcs": {"type": "git", "revision": sha},
        "files": [
            {
                "path": "a",
                "conversations": [
                    {"contributor": {"type": "human"}, "ranges": [{"start_line": 1, "end_line": 9}]}
                ],
            }
        ],
    }
    repo.commit("Record traces", files={".agent-trace/traces.jsonl": json.dumps(trace) + "\n"})
    assert sha not in scan(repo.path)


def test_prompt_set_and_read_round_trip_through_notes(repo: Repo, tmp_path) -> None:
    sha = repo.commit("Fix\n\nCo-authored-by: Codex <noreply@openai.com>")
    prompt_file = tmp_path / "prompt.md"
    prompt_file.write_text("Please fix the off-by-one in the pager.\n")
    result = run_reviewq("prompt", sha, "--set", str(prompt_file), cwd=repo.path)
    assert result.returncode == 0, result.stderr
    note = json.loads(repo.git("notes", "--ref=reviewq-prompt", "show", sha))
    assert note["prompt"] == "Please fix the off-by-one in the pager."
    assert note["prompted_by"] == {"name": "Test Reviewer", "email": "reviewer@example.com"}
    read = run_reviewq("prompt", sha, cwd=repo.path)
    assert read.stdout.strip() == "Please fix the off-by-one in the pager."
    record = scan(repo.path)[sha]
    assert record["prompt_source"] == "note"
    assert {p["email"] for p in record["prompted_by"]} == {
        "ada@example.com",
        "reviewer@example.com",
    }


def test_prompt_from_stdin_and_json(repo: Repo) -> None:
    sha = repo.commit("Fix\n\nCo-authored-by: Codex <noreply@openai.com>")
    result = run_reviewq("prompt", "HEAD", "--set", "-", cwd=repo.path, input="From stdin.")
    assert result.returncode == 0, result.stderr
    data = json.loads(run_reviewq("prompt", sha, "--json", cwd=repo.path).stdout)
    assert data["prompt"] == "From stdin." and data["prompt_source"] == "note"


def test_prompt_note_outranks_the_aider_transcript(repo: Repo) -> None:
    sha = repo.commit(
        "aider: add x\n\n# Aider chat conversation:\n\nUSER: add x please\n\nASSISTANT: ok\n"
    )
    before = scan(repo.path)[sha]
    assert before["prompt"] == "add x please" and before["prompt_source"] == "aider-transcript"
    run_reviewq("prompt", sha, "--set", "-", cwd=repo.path, input="The real request.")
    after = scan(repo.path)[sha]
    assert after["prompt"] == "The real request." and after["prompt_source"] == "note"


def test_aider_transcript_keeps_multiline_user_turns(repo: Repo) -> None:
    sha = repo.commit(
        "aider: add y\n\n# Aider chat conversation:\n\nUSER: first line\nsecond line\n\n"
        "ASSISTANT: sure\n```\nCo-authored-by: Codex <noreply@openai.com>\n```\n\nUSER: and tests\n"
    )
    record = scan(repo.path)[sha]
    assert record["prompt"] == "first line\nsecond line\n\nand tests"
    assert record["agent"] == "aider"  # the Codex trailer inside the transcript does not count
