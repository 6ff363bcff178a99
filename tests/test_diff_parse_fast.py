"""The fast row reader of `parse_unified_diff` says exactly what unidiff's full parse says.

`sources/diffs._fast_rows` reads hunk rows straight from the text (unidiff checks the structure
and reads the headers); for any text it does not expect it returns None and unidiff reads all.
These tests compare the two on real `git show` output with the awkward cases real diffs hold,
and on hand-made patches that must fall back (issue 18)."""

from __future__ import annotations

import random

import pytest

from reviewq.sources import diffs
from reviewq.sources.diffs import BrokenDiff, diff_args, parse_unified_diff
from reviewq.sources.gitcmd import Git
from tests.conftest import Repo


def _plain(data: bytes):
    """unidiff's full parse, as before the fast reader."""
    real = diffs._fast_rows
    diffs._fast_rows = lambda lines, patch: None
    try:
        return parse_unified_diff(data)
    finally:
        diffs._fast_rows = real


def _both(data: bytes):
    fast = parse_unified_diff(data)
    plain = _plain(data)
    assert fast == plain
    return fast


AWKWARD = [
    "",
    " ",
    "plain text",
    "\tindented with a tab",
    "trailing space ",
    "carriage return\r",
    "\r",
    "+ starts with plus",
    "- starts with minus",
    "@@ -1,2 +1,2 @@ looks like a hunk header",
    "\\ No newline at end of file",
    "diff --git a/x b/x",
    "--- a/fake",
    "+++ b/fake",
    "line\x0bwith\x1cseparators\u2028inside",
    "unicode: naïve café ✓",
]


def test_fast_rows_match_unidiff_on_random_commits(repo: Repo) -> None:
    rng = random.Random(18)
    files = {f"f{i}.txt": [rng.choice(AWKWARD) + str(n) for n in range(60)] for i in range(4)}
    for name, lines in files.items():
        repo.write(name, "\n".join(lines) + "\n")
    repo.commit("base", files={})
    git = Git(repo.path)
    kinds: set[str] = set()
    for step in range(12):
        for name in list(files):
            lines = files[name]
            for _ in range(rng.randint(1, 8)):
                roll = rng.random()
                at = rng.randrange(len(lines) + 1)
                if roll < 0.4 and lines:
                    lines[min(at, len(lines) - 1)] = rng.choice(AWKWARD)
                elif roll < 0.7:
                    lines.insert(at, rng.choice(AWKWARD))
                elif lines:
                    del lines[min(at, len(lines) - 1)]
            ending = "" if rng.random() < 0.3 else "\n"  # no newline at end of file
            repo.write(name, "\n".join(lines) + ending)
        if step == 5:
            repo.write("new.txt", "")  # an empty new file
        if step == 6:
            (repo.path / "new.txt").unlink()
            repo.git("mv", "f3.txt", "moved.txt")
            files["moved.txt"] = files.pop("f3.txt")
        if step == 8:
            repo.write("bin.dat", b"\x00\x01\x02")
        sha = repo.commit(f"step {step}", files={})
        data = git.run(diff_args(sha))
        diff = _both(data)
        kinds |= {line.kind for f in diff.files for h in f.hunks for line in h.lines}
    # the commits did exercise every kind of row, the "no newline" marker included
    assert kinds == {" ", "+", "-", "\\"}


def test_the_fast_reader_reads_most_diffs_itself(repo: Repo, monkeypatch) -> None:
    """Not a fallback in disguise: on an ordinary commit the fast reader gives the rows."""
    repo.commit("base", files={"a.py": "".join(f"x{i} = {i}\n" for i in range(40))})
    sha = repo.commit(
        "edit", files={"a.py": "".join(f"x{i} = {i * (i % 3 == 0)}\n" for i in range(45))}
    )
    data = Git(repo.path).run(diff_args(sha))
    used: list[bool] = []
    real = diffs._fast_rows

    def watch(lines, patch):
        rows = real(lines, patch)
        used.append(rows is not None)
        return rows

    monkeypatch.setattr(diffs, "_fast_rows", watch)
    parse_unified_diff(data)
    assert used == [True]


HEAD = b"diff --git a/a.txt b/a.txt\nindex 1111111..2222222 100644\n--- a/a.txt\n+++ b/a.txt\n"


@pytest.mark.parametrize(
    "body",
    [
        # a "no newline" marker in the middle of a hunk (old side lacked the newline)
        b"@@ -1,2 +1,3 @@\n one\n-two\n\\ No newline at end of file\n+two\n+three\n",
        # and at the end (new side lacks it)
        b"@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n\\ No newline at end of file\n",
        # an empty context line whose leading space was stripped (some tools do this)
        b"@@ -1,3 +1,3 @@\n one\n\n-three\n+THREE\n",
        # a CRLF empty context line
        b"@@ -1,3 +1,3 @@\n one\n\r\n-three\n+THREE\n",
        # hunks with a one-line count written without ",1"
        b"@@ -1 +1 @@\n-a\n+b\n@@ -9 +9 @@ section\n-c\n+d\n",
        # trailing blank lines after the last hunk
        b"@@ -1 +1 @@\n-a\n+b\n\n\n",
        # two files in one plain (non-git) patch
        b"@@ -1 +1 @@\n-a\n+b\n--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-c\n+d\n",
    ],
)
def test_edge_cases_match_unidiff(body: bytes) -> None:
    _both(HEAD + body)


@pytest.mark.parametrize(
    "body",
    [
        b"@@ -1,2 +1,2 @@\n one\n-two\n",  # shorter than its header says
        b"@@ -1,1 +1,1 @@\n-a\n+b\n-c\n+d\n@@ -5 +5 @@\n-x\n+y\n",  # longer
        b"@@ -1,2 +1,2 @@\n one\n?two\n+two\n",  # a row of no kind
    ],
)
def test_broken_hunks_are_still_refused(body: bytes) -> None:
    with pytest.raises(BrokenDiff):
        parse_unified_diff(HEAD + body)
    with pytest.raises(BrokenDiff):
        _plain(HEAD + body)
