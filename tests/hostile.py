"""Hostile content shared by the TUI and CLI tests: payloads that try to drive a terminal or
the app, and a repository carrying them in every untrusted field (tests/tui/test_hostile_content.py,
tests/test_hostile_cli.py; docs/reliability.md)."""

from __future__ import annotations

import json
import re

from tests.conftest import Repo
from tests.fake_model import Answer

CLAUDE = "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>"

#: name -> (payload, what must be on screen instead)
PAYLOADS: dict[str, tuple[str, str]] = {
    "markup": ("[bold red]x[/]", "[bold red]x[/]"),
    "click": ("[@click=app.quit]y[/]", "[@click=app.quit]y[/]"),
    "link": ("[link=https://evil.example]z[/link]", "[link=https://evil.example]z[/link]"),
    "csi": ("\x1b[31mRED\x1b[0m\x1b[2J\x1b[H", "<ESC>[31mRED<ESC>[0m<ESC>[2J<ESC>[H"),
    "osc0": ("\x1b]0;pwned\x07", "<ESC>]0;pwned<BEL>"),
    "osc2": ("\x1b]2;pwned2\x1b\\", "<ESC>]2;pwned2<ESC>\\"),
    "osc52": ("\x1b]52;c;ZWNobyBoaQ==\x07", "<ESC>]52;c;ZWNobyBoaQ==<BEL>"),
    "osc52st": ("\x1b]52;c;ZWNobyBoaQ==\x1b\\", "<ESC>]52;c;ZWNobyBoaQ==<ESC>\\"),
    "osc8": ("\x1b]8;;https://evil.example\x07here\x1b]8;;\x07", "<ESC>]8;;https://evil.example"),
    "c1": ("\x9b31mC1", "<0x9B>31mC1"),
    "bell": ("ding\x07", "ding<BEL>"),
    "backspace": ("safe\x08\x08\x08\x08evil", "safe<BS><BS><BS><BS>evil"),
    "cr": ("approved\rREJECTED", "approved<CR>REJECTED"),
    "bidi": ("\u202eexe.txt\u202c", "<U+202E>exe.txt<U+202C>"),
    "isolate": ("\u2066a\u2067b\u2068c\u2069", "<U+2066>a<U+2067>b<U+2068>c<U+2069>"),
    "zero-width": ("zero\u200bwidth\ufeff", "zero<U+200B>width<U+FEFF>"),
    "html": ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
}
#: Every payload in one line (no newline: a commit subject, a file's line, a finding title).
HOSTILE = " | ".join(payload for payload, _ in PAYLOADS.values())

#: A file name: every byte git allows in a path (no NUL); "/" makes directories.
HOSTILE_PATH = "docs/evil-\x1b]0;t\x07-[b]x[/b]-\u202eexe.md"
#: Characters that must never reach a terminal raw (tabs and newlines aside).
TERMINAL_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def build_hostile_repo(repo: Repo) -> str:
    """A hostile AI-authored commit (subject, body, diff lines, a file name), its prompt note,
    and an inbox patch whose sidecar prompt is hostile; returns the commit's sha."""
    base, new = [], []
    for name, (payload, _) in PAYLOADS.items():  # one hunk: context, removed, added lines
        base += [f"ctx {name}: {payload}", f"del {name}: {payload}"]
        new += [f"ctx {name}: {payload}", f"add {name}: {payload}"]
    repo.commit("Base\n", files={"app/views.txt": "\n".join(base) + "\n"})
    sha = repo.commit(
        f"Fix {HOSTILE}\n\nBody: {HOSTILE}\n\n{CLAUDE}\n",
        files={"app/views.txt": "\n".join(new) + "\n", HOSTILE_PATH: f"{HOSTILE}\n"},
    )
    prompt = "\n".join(f"{name}: {payload}" for name, (payload, _) in PAYLOADS.items())
    repo.note("reviewq-prompt", sha, json.dumps({"v": 1, "prompt": prompt}))
    inbox = repo.path / "inbox"
    inbox.mkdir()
    (inbox / "0001-hostile.patch").write_text(
        "diff --git a/app/inbox.py b/app/inbox.py\nnew file mode 100644\n--- /dev/null\n"
        f"+++ b/app/inbox.py\n@@ -0,0 +1,1 @@\n+x = 1  # {HOSTILE}\n",
        encoding="utf-8",
    )
    (inbox / "0001-hostile.json").write_text(
        json.dumps({"prompt": f"sidecar {prompt}", "agent": "codex", "model": "gpt-5"}),
        encoding="utf-8",
    )
    return sha


def hostile_answer() -> Answer:
    return Answer(
        {
            "summary": f"Summary {HOSTILE}",
            "security_concerns": f"Concerns {HOSTILE}",
            "rationale": f"Rationale {HOSTILE}",
            "findings": [
                {
                    "file": "app/views.txt",
                    "start_line": 4,
                    "end_line": 4,
                    "severity": "error",
                    "label": f"label {PAYLOADS['click'][0]}",
                    "title": f"Title {HOSTILE}",
                    "body": f"Body {HOSTILE}",
                    "quote": f"add click: {PAYLOADS['click'][0]}",
                },
                {
                    "file": f"elsewhere/{PAYLOADS['click'][0]}\x1b]52;c;aGk=\x07.py",
                    "start_line": 1,
                    "end_line": 1,
                    "severity": "warning",
                    "label": "possible_bug",
                    "title": "Not in the diff",
                    "body": f"Invented {HOSTILE}",
                    "quote": "nothing",
                },
            ],
        }
    )
