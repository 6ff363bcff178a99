"""Hostile content through the command line: no output ever carries a raw control character.

The same repository as the TUI's hostile test (tests/hostile.py): every untrusted field holds
markup, ANSI/OSC sequences (OSC 52 clipboard writes, title changes, OSC 8 links), C1 controls,
bell, backspace, carriage returns, bidi overrides, zero-width characters and HTML. Each command
runs in a real subprocess with a hostile reviewer name and note too; its stdout and stderr, text
and JSON, must hold no character that drives a terminal, JSON must still carry the exact values
(escaped), and the HTML report must escape everything.
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import Repo, run_reviewq
from tests.hostile import HOSTILE, PAYLOADS, TERMINAL_CONTROL, build_hostile_repo

#: What no output may hold: terminal controls, and an ESC of any kind.
HOSTILE_NOTE = f"note {HOSTILE}"


def assert_inert(out: subprocess.CompletedProcess, what: str) -> None:
    for name, stream in (("stdout", out.stdout), ("stderr", out.stderr)):
        bad = TERMINAL_CONTROL.search(stream)
        assert bad is None, (
            f"{what} {name}: raw {bad.group()!r} near {stream[max(0, bad.start() - 30) : bad.start() + 30]!r}"
        )
        assert "\x1b" not in stream, f"{what} {name}: an escape character"


def test_no_command_prints_a_raw_control_character(repo: Repo, tmp_path) -> None:
    sha = build_hostile_repo(repo)
    (repo.path / ".reviewq.toml").write_text(
        'inbox = "inbox"\n\n[policy]\napprovals = 1\n'
        f'\n[[domains]]\nname = "docs"\npaths = ["docs/**"]\nchecklist = ["{PAYLOADS["click"][0]} \\u001b]52;c;aGk=\\u0007"]\n'
    )
    repo.git("config", "user.name", f"Eve {PAYLOADS['osc0'][0]}{PAYLOADS['bidi'][0]}")
    path = str(repo.path)

    def cli(*args: str, expect: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        out = run_reviewq("--repo", path, *args)
        assert out.returncode in expect, (args, out.returncode, out.stderr)
        assert_inert(out, " ".join(args))
        return out

    verdict = cli("verdict", sha, "reject", "--note", HOSTILE_NOTE, "--seconds", "60", "--json")
    assert json.loads(verdict.stdout)["note"] == HOSTILE_NOTE.strip()
    commands = [
        ("scan",),
        ("queue",),
        ("show", sha),
        ("show", "inbox:" + cli("queue", "--json").stdout.split('"id": "inbox:')[1][:12]),
        ("prompt", sha),
        ("critique", sha),
        ("log",),
        ("log", "verify"),
        ("stats",),
        ("report", "--format", "md"),
    ]
    for args in commands:
        text = cli(*args)
        assert text.stdout.strip(), args
    error = cli("show", f"no-such-{PAYLOADS['osc52'][0]}", expect=(2,))
    assert error.stderr.count("\n") == 1 and "no-such-" in error.stderr
    gate = cli("gate", "HEAD~1..HEAD", expect=(0, 1))
    assert "Fix [bold red]x[/]" in gate.stdout

    # What a reader sees instead of each payload.
    show = cli("show", sha).stdout
    for name, (_, shown) in PAYLOADS.items():
        assert shown in show, f"show: {name}"
    assert "note [bold red]x[/] | [@click=app.quit]y[/]" in cli("log").stdout
    # JSON is data: the exact values, every control character escaped.
    for args in (
        ("scan", "--json"),
        ("queue", "--json"),
        ("show", sha, "--json"),
        ("log", "--json"),
        ("critique", sha, "--json"),
        ("stats", "--json"),
    ):
        out = cli(*args)
        for line in out.stdout.splitlines():
            json.loads(line)
    record = json.loads(cli("show", sha, "--json").stdout)
    assert record["subject"] == f"Fix {HOSTILE}"
    assert HOSTILE in record["message"]
    assert any(
        f["path"] == "docs/evil-\x1b]0;t\x07-[b]x[/b]-\u202eexe.md"
        for f in record["diff"]["file_list"]
    )
    log = json.loads(cli("log", "--json").stdout.splitlines()[0])
    assert log["note"] == HOSTILE_NOTE and "\x1b]0;pwned\x07" in log["reviewer"]["name"]

    # The HTML report: nothing raw, nothing unescaped.
    html_path = tmp_path / "report.html"
    cli("report", "--format", "html", "--out", str(html_path))
    html = html_path.read_text(encoding="utf-8")
    assert TERMINAL_CONTROL.search(html) is None and "\x1b" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the subject, escaped
    assert "<img src=x" not in html


def test_lone_surrogates_from_json_neither_crash_nor_block_a_verdict(repo: Repo) -> None:
    """JSON escapes can spell text UTF-8 cannot carry (`"\\ud800"`): a sidecar with them is
    listed, shown, and can be rejected."""
    repo.commit("Base\n")
    inbox = repo.path / "inbox"
    inbox.mkdir()
    (inbox / "odd.patch").write_text(
        "diff --git a/a.txt b/a.txt\nnew file mode 100644\n--- /dev/null\n+++ b/a.txt\n"
        "@@ -0,0 +1 @@\n+x\n"
    )
    (inbox / "odd.json").write_text(
        '{"prompt": "do \\ud800 this \\udfff", "agent": "codex", "model": "gpt-5\\ud83d"}'
    )
    (repo.path / ".reviewq.toml").write_text('inbox = "inbox"\n')
    path = str(repo.path)
    queue = run_reviewq("--repo", path, "queue", "--json")
    assert queue.returncode == 0, queue.stderr
    change_id = json.loads(queue.stdout)["id"]
    for args in (
        ("queue",),
        ("show", change_id),
        ("prompt", change_id),
        ("show", change_id, "--json"),
    ):
        out = run_reviewq("--repo", path, *args)
        assert out.returncode == 0, (args, out.stderr)
        assert_inert(out, " ".join(args))
    assert "do \ufffd this \ufffd" in run_reviewq("--repo", path, "prompt", change_id).stdout
    verdict = run_reviewq("--repo", path, "verdict", change_id, "reject", "--note", "odd \udc80")
    assert verdict.returncode == 0, verdict.stderr
    (record,) = [
        json.loads(line)
        for line in run_reviewq("--repo", path, "log", "--json").stdout.splitlines()
    ]
    assert record["verdict"] == "reject" and record["model"] == "gpt-5\ufffd"
    assert record["note"] == "odd \ufffd"
