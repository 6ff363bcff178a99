"""The pure session parsers and linker (`reviewq/core/session_link.py`): each format as its
public description has it, format drift, and the linking rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from reviewq.core.session_formats import (
    parse_aider,
    parse_claude,
    parse_codex,
    parse_gemini,
    parse_opencode,
    parse_specstory,
)
from reviewq.core.session_link import (
    CommitFacts,
    SessionFormatError,
    command_kind,
    hooks_skipped,
    link_commits,
)
from tests.session_kit import ClaudeSession, CodexRollout, gemini_jsonl, iso

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
ROOT = "/home/ann/app"
SHA = "3f2a9c1" + "0" * 33


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ts(minutes: float) -> float:
    return at(minutes).timestamp()


def jsonl(lines) -> bytes:
    return ("\n".join(json.dumps(r) for r in lines) + "\n").encode()


@pytest.mark.parametrize(
    ("command", "skipped"),
    [
        ("git commit -m 'x'", False),
        ("git commit --no-verify -m 'x'", True),
        ("git commit -nm 'x'", True),
        ("git commit -am 'fix -n flag'", False),  # -n inside the message is not a flag
        ("git -c core.hooksPath=/dev/null commit -m x", True),
        ("git add -A && git commit -q -n", True),
        ("echo --no-verify && git commit -m ok", False),
        ("pytest -q --no-verify", False),
    ],
)
def test_hooks_skipped(command: str, skipped: bool) -> None:
    assert hooks_skipped(command) is skipped


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("pytest -q tests/test_auth.py", "test"),
        ("cd app && npm test", "test"),
        ("cargo test --all", "test"),
        ("go test ./...", "test"),
        ("make", "build"),
        ("ruff check .", "build"),
        ("git add -A && git commit -m x", "commit"),
        ("ls -la", "other"),
    ],
)
def test_command_kind(command: str, kind: str) -> None:
    assert command_kind(command) == kind


def test_claude_tolerates_unknown_records_torn_lines_and_meta_turns() -> None:
    s = ClaudeSession("sid-1", ROOT)
    s.user(at(0), "Fix it")
    s.lines.append({"type": "file-history-snapshot", "snapshot": {}})
    s.lines.append({"type": "user", "isMeta": True, "message": {"content": "<meta>"}})
    s.user(at(0.5), "<command-name>/clear</command-name>")
    s.bash(at(1), "pytest -q", "1 failed", code=1)
    data = jsonl([{"type": "summary", "summary": "x"}, *s.lines]) + b'{"type": "user", "mess'
    session = parse_claude(data, "/x/sid-1.jsonl")
    assert [e.text for e in session.events if e.kind == "user"] == ["Fix it"]
    cmd = next(e for e in session.events if e.kind == "command")
    assert (cmd.exit_code, cmd.failed, cmd.outcome) == (1, True, "1 failed")
    assert session.cwds == (ROOT,) and session.id == "sid-1"


def test_claude_tool_result_as_block_list_and_resumed_duplicates() -> None:
    s = ClaudeSession("sid-2", ROOT)
    s.user(at(0), "Commit it")
    tid = s.tool(at(1), "Bash", {"command": "git commit -m 'Fix token refresh race'"})
    s.lines.append(
        {
            "type": "user",
            "uuid": "r1",
            "sessionId": "sid-2",
            "cwd": ROOT,
            "timestamp": iso(at(1)),
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": tid,
                        "content": [
                            {"type": "text", "text": "[main (root-commit) 3f2a9c1] Fix token "}
                        ],
                    }
                ],
            },
        }
    )
    s.lines.append(dict(s.lines[0]))  # a resumed session repeats a line (same uuid)
    session = parse_claude(jsonl(s.lines), "/x/sid-2.jsonl")
    assert [e.text for e in session.events if e.kind == "user"] == ["Commit it"]
    commit = next(e for e in session.events if e.kind == "commit")
    assert (commit.sha, commit.subject) == ("3f2a9c1", "Fix token")


def test_not_a_transcript_raises_format_error() -> None:
    with pytest.raises(SessionFormatError):
        parse_claude(b'{"hello": 1}\nnot json\n', "/x/y.jsonl")
    with pytest.raises(SessionFormatError):
        parse_codex(b"", "/x/rollout.jsonl")
    with pytest.raises(SessionFormatError):
        parse_gemini(b"[]", "/x/session.json")
    with pytest.raises(SessionFormatError):
        parse_aider("just text", "/x/.aider.chat.history.md", ROOT)


def test_codex_three_output_shapes_and_scaffolding() -> None:
    r = CodexRollout("0199a1f0-0000-4000-8000-000000000001", ROOT, at(0))
    r.user(at(0), "Fix the race")
    r.exec(at(1), "pytest -q", "2 failed, 1 passed", code=1)
    r.shell(at(2), ["bash", "-lc", "cargo test"], "test result: ok", code=0)
    r._add(
        at(3),
        "response_item",
        {
            "type": "function_call",
            "name": "shell_command",
            "arguments": json.dumps({"command": "git commit -m 'Fix race'"}),
            "call_id": "c9",
        },
    )
    r._add(
        at(3),
        "response_item",
        {
            "type": "function_call_output",
            "call_id": "c9",
            "output": "Exit code: 0\nWall time: 0.1 seconds\nOutput:\n[main 3f2a9c1] Fix race\n",
        },
    )
    r._add(at(3), "response_item", {"type": "ghost_snapshot", "ghost_commit": {"id": "ab" * 20}})
    r._add(at(3), "brand_new_kind", {"anything": True})  # format drift: skipped
    s = parse_codex(jsonl(r.lines), "/c/rollout-x.jsonl")
    assert [e.text for e in s.events if e.kind == "user"] == ["Fix the race"]
    cmds = [(e.text, e.exit_code, e.outcome) for e in s.events if e.kind == "command"]
    assert cmds == [
        ("pytest -q", 1, "2 failed, 1 passed"),
        ("cargo test", 0, "ok"),
        ("git commit -m 'Fix race'", 0, "ok"),
    ]
    assert [e.sha for e in s.events if e.kind == "commit"] == ["3f2a9c1"]
    assert s.model == "gpt-5-codex"


def test_gemini_jsonl_last_line_per_id_wins_and_legacy_json() -> None:
    msgs = [
        {"id": "m1", "timestamp": iso(at(0)), "type": "user", "content": [{"text": "Fix it"}]},
        {"id": "m2", "timestamp": iso(at(1)), "type": "gemini", "content": "draft"},
        {
            "id": "m2",
            "timestamp": iso(at(1)),
            "type": "gemini",
            "content": "Committing.",
            "model": "gemini-3-pro",
            "toolCalls": [
                {
                    "id": "t1",
                    "name": "write_file",
                    "args": {"file_path": f"{ROOT}/a.py"},
                    "status": "success",
                },
                {
                    "id": "t2",
                    "name": "run_shell_command",
                    "args": {"command": "npm test"},
                    "status": "error",
                    "result": [
                        {
                            "functionResponse": {
                                "response": {"output": "Output: 3 failed\nExit Code: 1"}
                            }
                        }
                    ],
                },
            ],
        },
    ]
    s = parse_gemini(gemini_jsonl("g-1", at(0), msgs).encode(), "/g/s.jsonl", ROOT)
    assert [e.text for e in s.events if e.kind == "agent"] == ["Committing."]
    cmd = next(e for e in s.events if e.kind == "command")
    assert (cmd.exit_code, cmd.failed, cmd.outcome) == (1, True, "3 failed")
    assert s.cwds == (ROOT,) and s.model == "gemini-3-pro"
    legacy = {
        "sessionId": "g-0",
        "projectHash": "0" * 64,
        "startTime": iso(at(0)),
        "lastUpdated": iso(at(2)),
        "messages": msgs[:1],
    }
    old = parse_gemini(json.dumps(legacy).encode(), "/g/s.json", ROOT)
    assert old.id == "g-0" and old.end == ts(2)


def test_opencode_pre_1_2_documents() -> None:
    ms = 1000
    session = {"id": "ses_1", "directory": ROOT, "time": {"created": ts(0) * ms}}
    messages = [
        {"id": "msg_1", "role": "user", "time": {"created": ts(0) * ms}},
        {"id": "msg_2", "role": "assistant", "modelID": "kimi-k2", "time": {"created": ts(1) * ms}},
    ]
    parts = [
        {"id": "prt_1", "messageID": "msg_1", "type": "text", "text": "Fix it"},
        {
            "id": "prt_2",
            "messageID": "msg_2",
            "type": "tool",
            "tool": "bash",
            "state": {
                "status": "completed",
                "input": {"command": "git commit -am 'Fix'"},
                "output": "[main 3f2a9c1] Fix\n",
                "metadata": {"exit": 0},
                "time": {"start": ts(2) * ms},
            },
        },
    ]
    s = parse_opencode(session, messages, parts, "/o/ses_1.json")
    assert [e.kind for e in s.events] == ["user", "command", "commit"]
    assert s.model == "kimi-k2" and s.cwds == (ROOT,)


def test_specstory_v2_header_names_the_native_session() -> None:
    text = (
        "<!-- Generated by SpecStory, Markdown v2.1.0 -->\n\n# 2026-05-04 09:00:00Z\n\n"
        "<!-- Claude Code Session 5b0c-e1 (2026-05-04 09:00:00Z) -->\n\n"
        "_**User (2026-05-04 09:00:05Z)**_\n\nFix the refresh race\n\n---\n\n"
        "_**Agent (claude-opus-4-5 2026-05-04 09:01:00Z)**_\n\nDone.\n\n"
        '<tool-use data-tool-type="shell" data-tool-name="Bash"><details>\n'
        "`git commit -am 'Fix'`\n[main 3f2a9c1] Fix\n</details></tool-use>\n"
    )
    s = parse_specstory(text, f"{ROOT}/.specstory/history/x.md", ROOT)
    assert (s.agent, s.id, s.model) == ("claude-code", "5b0c-e1", "claude-opus-4-5")
    assert [e.text for e in s.events if e.kind == "user"] == ["Fix the refresh race"]
    assert [e.sha for e in s.events if e.kind == "commit"] == ["3f2a9c1"]


def test_aider_blocks_are_sessions_and_commit_lines_anchor() -> None:
    text = (
        "\n# aider chat started at 2026-05-04 11:00:02\n\n> Main model: sonnet with diff\n\n"
        "#### fix the race\n\nSure.\n\n> Applied edit to auth.py  \n"
        "> Commit 3f2a9c1 fix: Prevent concurrent refresh  \n\n"
        "#### /test pytest -q\n\n"
        "\n# aider chat started at 2026-05-04 15:00:00\n\n#### later\n"
    )
    sessions = parse_aider(text, f"{ROOT}/.aider.chat.history.md", ROOT, local_offset=7200)
    assert len(sessions) == 2
    first = sessions[0]
    assert first.start == datetime(2026, 5, 4, 9, 0, 2, tzinfo=UTC).timestamp()
    assert first.end == sessions[1].start and sessions[1].end is None
    assert first.model == "sonnet"
    assert [e.kind for e in first.events] == ["user", "agent", "edit", "commit", "command"]


def _session(sid: str, *events_at, cwd: str = ROOT):
    s = ClaudeSession(sid, cwd)
    for kind, minutes, arg in events_at:
        getattr(s, kind)(at(minutes), *arg)
    return parse_claude(jsonl(s.lines), f"/x/{sid}.jsonl")


def test_exact_link_needs_a_unique_prefix_and_the_same_subject() -> None:
    s = _session(
        "s1",
        ("user", 0, ("Fix it",)),
        ("bash", 1, ("git commit -m 'Fix race'", "[main 3f2a9c1] Fix race")),
    )
    good = CommitFacts(SHA, "Fix race", ts(1), ("a.py",))
    assert link_commits([good], [s], [ROOT])[SHA].kind == "exact"
    other_subject = CommitFacts(SHA, "Something else", ts(1), ("a.py",))
    assert link_commits([other_subject], [s], [ROOT]) == {}
    twin = CommitFacts("3f2a9c1" + "1" * 33, "Fix race", ts(1), ("a.py",))
    assert link_commits([good, twin], [s], [ROOT]) == {}  # ambiguous prefix: nothing
    elsewhere = _session(
        "s2",
        ("user", 0, ("Fix it",)),
        ("bash", 1, ("git commit -m 'Fix race'", "[main 3f2a9c1] Fix race")),
        cwd="/home/ann/other",
    )
    assert link_commits([good], [elsewhere], [ROOT]) == {}  # another repository's session


def test_strong_link_needs_the_window_and_covering_edits() -> None:
    s = _session(
        "s1",
        ("user", 0, ("Add b",)),
        ("edit", 1, (f"{ROOT}/b.py",)),
        ("say", 5, ("done",)),
    )
    inside = CommitFacts(SHA, "Add b", ts(6), ("b.py",))
    assert link_commits([inside], [s], [ROOT])[SHA].kind == "strong"
    uncovered = CommitFacts(SHA, "Add b", ts(6), ("b.py", "c.py"))
    assert link_commits([uncovered], [s], [ROOT]) == {}
    late = CommitFacts(SHA, "Add b", ts(60), ("b.py",))
    assert link_commits([late], [s], [ROOT]) == {}
    no_files = CommitFacts(SHA, "Add b", ts(6), ())
    assert link_commits([no_files], [s], [ROOT]) == {}


def test_several_commits_split_the_session_into_spans() -> None:
    s = _session(
        "s1",
        ("user", 0, ("first request",)),
        ("bash", 1, ("git commit -m 'One'", "[main 1111111] One")),
        ("bash", 2, ("git commit -m 'Two'", "[main 2222222] Two")),
        ("user", 3, ("second request",)),
        ("bash", 4, ("pytest", "1 failed")),
        ("bash", 5, ("git commit -m 'Three'", "[main 3333333] Three")),
    )
    commits = [
        CommitFacts("1111111" + "0" * 33, "One", ts(1), ("a",)),
        CommitFacts("2222222" + "0" * 33, "Two", ts(2), ("a",)),
        CommitFacts("3333333" + "0" * 33, "Three", ts(5), ("a",)),
    ]
    links = link_commits(commits, [s], [ROOT])
    assert [links[c.sha].prompt for c in commits] == [
        "first request",
        "first request",  # two commits from one request: the request that led to them
        "second request",
    ]
    # Asked about the last commit alone, its span still starts after the session's previous
    # commit (which the transcript shows even though nobody asked about it).
    alone = link_commits(commits[2:], [s], [ROOT])[commits[2].sha]
    assert alone.prompt == "second request"
    assert alone.commands[0].command == "pytest"


def test_a_commit_shown_twice_in_one_session_links_once() -> None:
    s = _session(
        "s1",
        ("user", 0, ("Fix it",)),
        ("bash", 1, ("git commit -m 'Fix race'", "[main 3f2a9c1] Fix race")),
        ("user", 2, ("what did you commit?",)),
        ("bash", 3, ("git log -1 --format='[main %h] %s'", "[main 3f2a9c1] Fix race")),
    )
    link = link_commits([CommitFacts(SHA, "Fix race", ts(1), ("a.py",))], [s], [ROOT])[SHA]
    assert link.kind == "exact" and link.prompt == "Fix it"


def test_a_day_of_several_sessions_links_each_commit_to_its_own() -> None:
    morning = _session(
        "morning",
        ("user", 0, ("morning request",)),
        ("edit", 1, (f"{ROOT}/a.py",)),
        ("say", 3, ("done",)),
    )
    afternoon = _session(
        "afternoon",
        ("user", 300, ("afternoon request",)),
        ("edit", 301, (f"{ROOT}/a.py",)),
        ("bash", 302, ("git commit -m 'Two'", "[main 2222222] Two")),
    )
    one = CommitFacts("1111111" + "0" * 33, "One", ts(4), ("a.py",))
    two = CommitFacts("2222222" + "0" * 33, "Two", ts(302), ("a.py",))
    later = CommitFacts("3333333" + "0" * 33, "Three", ts(420), ("a.py",))  # the person, later
    links = link_commits([one, two, later], [afternoon, morning], [ROOT])
    assert (links[one.sha].session_id, links[one.sha].kind) == ("morning", "strong")
    assert (links[two.sha].session_id, links[two.sha].kind) == ("afternoon", "exact")
    assert links[two.sha].prompt == "afternoon request"
    assert later.sha not in links
