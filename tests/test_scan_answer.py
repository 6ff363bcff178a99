"""`scan --json` replays its stored answer only while everything it depends on holds.

Each test stores an answer, poisons its body (so a replay would show), changes one input, and
checks that the next scan prints exactly what a scan without any cache prints. Real
repositories, the real CLI.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from reviewq.workflow.scan_answer import FOLDER
from tests.conftest import FIXED_NOW, Repo, run_reviewq
from tests.session_kit import ClaudeSession

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
POISON = '{"sha": "poisoned"}\n'


@pytest.fixture(autouse=True)
def no_store_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "REVIEWQ_SESSIONS"):
        monkeypatch.delenv(key, raising=False)


def scan(repo: Repo, *extra: str) -> str:
    out = run_reviewq("scan", "--json", *extra, cwd=repo.path)
    assert out.returncode == 0, out.stderr
    return out.stdout


def answers(repo: Repo) -> list[Path]:
    return sorted((repo.path / ".git" / "reviewq" / FOLDER).glob("*.jsonl"))


def poison(repo: Repo) -> None:
    """Replace every stored answer's records (keeping its header): a replay now shows."""
    for path in answers(repo):
        head = path.read_bytes().split(b"\n", 1)[0]
        path.write_bytes(head + b"\n" + POISON.encode())


def fresh(repo: Repo, *extra: str) -> str:
    return scan(repo, "--no-cache", *extra)


def varied(repo: Repo) -> dict[str, str]:
    """Renames, a binary file, a file an attribute hides from diffs, a merge, a human commit."""
    shas = {}
    body = "".join(f"x{i}\n" for i in range(50))
    shas["base"] = repo.commit("base", files={"a.py": body})
    repo.git("mv", "a.py", "b.py")
    shas["rename"] = repo.commit("Move a" + CLAUDE, files={"b.py": body + "z\n"})
    shas["binary"] = repo.commit("Logo" + CLAUDE, files={"logo.png": b"\x89PNG\0\0\x01"})
    shas["hidden"] = repo.commit(
        "Quiet" + CLAUDE,
        files={".gitattributes": "*.py -diff\n", "c.py": "".join(f"y{i}\n" for i in range(30))},
    )
    repo.git("checkout", "-q", "-b", "side")
    side = repo.commit("Side work" + CLAUDE, files={"side.txt": "s\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("Human", files={"h.txt": "h\n"})
    repo.git("merge", "-q", "--no-ff", "-m", "Merge side" + CLAUDE, side)
    shas["side"] = side
    return shas


def test_the_replayed_answer_is_the_scan_itself(repo: Repo) -> None:
    shas = varied(repo)
    first = scan(repo)
    records = {r["sha"]: r for r in map(json.loads, first.splitlines())}
    assert records[shas["binary"]]["sizes"] == "known"
    assert records[shas["hidden"]]["additions"] == 31  # 30 + the attribute line: none hidden
    assert len(answers(repo)) == 1
    second = scan(repo)
    assert second == first == fresh(repo)
    # And it is a replay: the stored records are what is printed.
    poison(repo)
    assert scan(repo) == POISON


def test_a_new_commit_is_scanned(repo: Repo) -> None:
    varied(repo)
    scan(repo)
    poison(repo)
    repo.commit("More" + CLAUDE, files={"more.txt": "m\n"})
    assert scan(repo) == fresh(repo) != POISON


def test_a_moved_prompt_note_is_read(repo: Repo) -> None:
    shas = varied(repo)
    scan(repo)
    poison(repo)
    repo.note("refs/notes/reviewq-prompt", shas["binary"], "Draw a logo")
    out = scan(repo)
    assert out == fresh(repo) != POISON


def test_other_revisions_and_partial_scans_are_not_replays(repo: Repo) -> None:
    shas = varied(repo)
    scan(repo)
    poison(repo)
    assert scan(repo, "side") == fresh(repo, "side")
    assert scan(repo, "HEAD~1") == fresh(repo, "HEAD~1")
    assert POISON not in scan(repo, "--max-count", "3")
    assert POISON not in scan(repo, "--since", "2000-01-01")
    assert POISON not in scan(repo, "--no-cache")
    assert shas  # the history exists


def test_a_history_rewritten_to_the_same_tip_name_is_scanned(repo: Repo) -> None:
    varied(repo)
    scan(repo)
    poison(repo)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    assert scan(repo) == fresh(repo) != POISON


def test_changed_detection_rules_are_a_new_question(repo: Repo) -> None:
    repo.commit("Bot work", author=("Helper", "helper@bots.example"), files={"z.txt": "z\n"})
    assert scan(repo) == ""
    poison(repo)  # the empty answer's body becomes the poison
    repo.write(".reviewq.toml", '[[agents]]\nemail = "helper@bots.example"\nagent = "helper"\n')
    out = scan(repo)
    assert out == fresh(repo) and POISON not in out
    assert json.loads(out.splitlines()[0])["agent"] == "helper"


def test_a_session_file_that_appears_or_changes_is_read(repo: Repo) -> None:
    base = FIXED_NOW - timedelta(hours=5)
    repo.commit("base", files={"auth.py": "x = 0\n"}, when=base)
    s = ClaudeSession("5b0c2d1e-0000-4000-8000-0000000000f2", repo.path)
    s.user(base + timedelta(minutes=1), "Fix the refresh race")
    s.edit(base + timedelta(minutes=2), repo.path / "auth.py")
    sha = repo.commit(
        "Fix refresh race" + CLAUDE, files={"auth.py": "x = 1\n"}, when=base + timedelta(minutes=3)
    )
    assert json.loads(scan(repo))["prompt"] is None
    poison(repo)
    home = Path(os.environ["HOME"])
    path = s.write(home)
    out = scan(repo)
    assert out == fresh(repo) != POISON
    assert json.loads(out)["prompt"] == "Fix the refresh race"
    # The session file grows: a new answer, not the stored one.
    poison(repo)
    s.user(base + timedelta(minutes=2, seconds=30), "and keep it short")
    s.write(home)
    assert path.exists()
    assert scan(repo) == fresh(repo) != POISON
    # Switching sessions off is another answer too.
    poison(repo)
    assert json.loads(scan(repo, "--no-sessions"))["prompt"] is None
    assert sha


def test_unknown_sizes_are_never_replayed(make_repo, tmp_path: Path) -> None:
    src = make_repo("src")
    big = "".join(f"line {i} of a large generated file\n" for i in range(400))
    src.commit("Start", files={"big.txt": big})
    src.commit("Grow" + CLAUDE, files={"big.txt": big + "more\n"})
    src.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone.git"
    src.git("clone", "-q", "--bare", "--filter=blob:limit=4k", f"file://{src.path}", str(clone))
    shutil.rmtree(src.path)
    for _ in range(2):
        out = run_reviewq("scan", "--json", cwd=clone)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["sizes"] != "known"
        assert "sizes unknown" in out.stderr  # warned every time: it went through the scan
        assert not list((clone / "reviewq" / FOLDER).glob("*.jsonl"))


def test_a_replay_loads_neither_the_cache_nor_the_scan(repo: Repo) -> None:
    import subprocess
    import sys

    varied(repo)
    first = scan(repo)
    probe = (
        "import sys\n"
        "from reviewq.cli import main\n"
        "code = main(['scan', '--json'])\n"
        "heavy = ('tinydb', 'reviewq.workflow.scan', 'email.parser', 'reviewq.core.queue',"
        " 'concurrent.futures')\n"
        "sys.stderr.write(repr(sorted(m for m in heavy if m in sys.modules)))\n"
        "sys.exit(code)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == first
    assert out.stderr == "[]"


def test_a_replace_ref_hides_no_commit_from_the_answer(repo: Repo) -> None:
    """git runs with GIT_NO_REPLACE_OBJECTS: a local `git replace` changes neither the scan nor
    the stored answer (so the answer need not depend on refs/replace)."""
    shas = varied(repo)
    first = scan(repo)
    other = repo.git(
        "commit-tree", f"{shas['binary']}^{{tree}}", "-p", f"{shas['binary']}^", "-m", "Plain"
    )
    repo.git("replace", shas["binary"], other)
    assert repo.git("log", "-1", "--format=%s", shas["binary"]) == "Plain"
    assert scan(repo) == fresh(repo) == first
    assert shas["binary"] in first


def test_an_empty_repository_answers_nothing_twice(repo: Repo) -> None:
    for _ in range(2):
        out = run_reviewq("scan", "--json", cwd=repo.path)
        assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_history_that_moves_during_the_scan_is_named_as_scanned(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is stored under the revisions the scan resolved, not those read before it:
    a HEAD that moved mid-scan and came back must not replay the moved history's answer."""
    import reviewq.workflow.scan

    varied(repo)
    before = repo.git("rev-parse", "HEAD")
    real = reviewq.workflow.scan.scan_history

    def moving(*args, **kwargs):
        repo.commit("Mid-scan" + CLAUDE, files={"mid.txt": "m\n"})
        return real(*args, **kwargs)

    monkeypatch.setattr(reviewq.workflow.scan, "scan_history", moving)
    moved = scan(repo)
    assert "Mid-scan" in moved
    monkeypatch.setattr(reviewq.workflow.scan, "scan_history", real)
    repo.git("reset", "-q", "--hard", before)
    back = scan(repo)
    assert back == fresh(repo) and "Mid-scan" not in back
