"""Sizes kept per commit (`workflow.scan.SizeCache`): a commit is counted once, whatever asks.

The kept figures must be exactly git's: a scan that takes every size from the cache prints the
same records as one that counts everything (`--no-cache`), for renames, binaries, merges,
deletions and modes. Real repositories, the real CLI.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.workflow.scan import SizeCache
from tests.conftest import Repo, run_reviewq

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


def scan(repo: Repo, *extra: str) -> str:
    out = run_reviewq("scan", "--json", *extra, cwd=repo.path)
    assert out.returncode == 0, out.stderr
    return out.stdout


def size_file(repo: Repo) -> Path:
    return repo.path / ".git" / "reviewq" / SizeCache.NAME


def forge(repo: Repo, additions: int) -> int:
    """Rewrite every kept entry's additions; returns how many entries there were."""
    path = size_file(repo)
    head, *lines = path.read_bytes().split(b"\n")
    out = [head]
    n = 0
    for line in lines:
        if not line:
            continue
        sha, _, body = line.partition(b"\t")
        stats, files = json.loads(body)
        stats[1] = additions
        out.append(sha + b"\t" + json.dumps([stats, files]).encode())
        n += 1
    path.write_bytes(b"\n".join(out) + b"\n")
    return n


def history(repo: Repo) -> list[str]:
    shas = [repo.commit("base", files={"a.py": "".join(f"a{i}\n" for i in range(20))})]
    repo.git("mv", "a.py", "b.py")
    shas.append(repo.commit("Move" + CLAUDE, files={"b.py": "".join(f"a{i}\n" for i in range(21))}))
    shas.append(repo.commit("Logo" + CLAUDE, files={"logo.png": b"\x89PNG\0\0\x01"}))
    return shas


def test_another_question_takes_the_kept_sizes(repo: Repo) -> None:
    shas = history(repo)
    first = scan(repo)
    assert forge(repo, 777) == 2  # both AI commits were kept
    # Another revision is another question (no stored answer, no scan cache): sizes are kept ones.
    other = [json.loads(line) for line in scan(repo, "main").splitlines()]
    assert {r["sha"]: r["additions"] for r in other} == {shas[1]: 777, shas[2]: 777}
    # Without the cache, git counts: the forged figures are never shown.
    plain = [json.loads(line) for line in scan(repo, "--no-cache", "main").splitlines()]
    assert {r["sha"]: r["additions"] for r in plain} == {shas[1]: 1, shas[2]: 0}
    assert first


def test_a_file_under_other_size_options_is_started_again(repo: Repo) -> None:
    history(repo)
    scan(repo)
    assert forge(repo, 999) == 2
    path = size_file(repo)
    rest = path.read_bytes().partition(b"\n")[2]
    path.write_bytes(b'[0, ["log"]]\n' + rest)
    out = scan(repo, "main")
    assert "999" not in out
    assert path.read_bytes().split(b"\n", 1)[0] + b"\n" == SizeCache.head()


def test_a_torn_or_garbled_line_is_a_miss(repo: Repo) -> None:
    shas = history(repo)
    scan(repo)
    path = size_file(repo)
    data = path.read_bytes()
    path.write_bytes(data.replace(shas[1].encode() + b"\t", shas[1].encode() + b"\t{oops") + b"abc")
    plain = scan(repo, "--no-cache", "main")
    assert scan(repo, "main") == plain
    # The next append starts on a line of its own.
    repo.commit("More" + CLAUDE, files={"m.py": "m\n"})
    scan(repo, "main")
    assert scan(repo, "HEAD~0") == scan(repo, "--no-cache", "HEAD~0")


KINDS = st.sampled_from(["add", "modify", "rename", "binary", "delete", "mode", "merge"])


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(KINDS, min_size=1, max_size=6),
    ai=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_kept_sizes_are_the_counted_ones(
    tmp_path_factory, kinds: list[str], ai: list[bool]
) -> None:
    repo = Repo(tmp_path_factory.mktemp("sizes") / "repo")
    repo.commit("base", files={"f0.txt": "".join(f"l{i}\n" for i in range(10))})
    files = ["f0.txt"]
    for n, kind in enumerate(kinds):
        msg = f"change {n}" + (CLAUDE if ai[n] else "")
        if kind == "add" or not files:
            files.append(f"f{n + 1}.txt")
            repo.commit(msg, files={files[-1]: "x\n" * (n + 1)})
        elif kind == "modify":
            repo.commit(msg, files={files[0]: "".join(f"m{n}{i}\n" for i in range(n + 3))})
        elif kind == "rename":
            new = f"r{n}.txt"
            repo.git("mv", files[0], new)
            files[0] = new
            repo.commit(msg, files={new: (repo.path / new).read_text() + "tail\n"})
        elif kind == "binary":
            repo.commit(msg, files={f"b{n}.bin": bytes([0, 1, 2, n])})
        elif kind == "delete" and len(files) > 1:
            repo.git("rm", "-q", files.pop())
            repo.git("commit", "-q", "-m", msg)
        elif kind == "mode":
            repo.git("update-index", "--chmod=+x", files[0])
            repo.git("commit", "-q", "--allow-empty", "-m", msg)
        else:  # a merge of a side commit
            repo.git("checkout", "-q", "-b", f"side{n}")
            repo.commit(f"side {n}" + CLAUDE, files={f"s{n}.txt": "s\n"})
            repo.git("checkout", "-q", "main")
            repo.git("merge", "-q", "--no-ff", "-m", msg, f"side{n}")
    scan(repo)  # counts every AI commit and keeps the sizes
    assert scan(repo, "main") == scan(repo, "--no-cache", "main")


def test_sizes_are_the_minimal_diff_whatever_diff_algorithm_says(repo: Repo) -> None:
    """histogram counts 8 added and 4 deleted lines for this change, myers (git's default, the
    minimal diff) 6 and 2: a reviewer's `diff.algorithm` must not change a commit's size."""
    old = ["e", "a", "c", "a", "d", "d", "d"]
    new = ["b", "a", "d", "a", "d", "d", "e", "a", "d", "c", "b"]
    repo.commit("base", files={"x.txt": "\n".join(old) + "\n"})
    sha = repo.commit("Edit" + CLAUDE, files={"x.txt": "\n".join(new) + "\n"})
    plain = json.loads(scan(repo, "--no-cache"))
    assert (plain["sha"], plain["additions"], plain["deletions"]) == (sha, 6, 2)
    repo.git("config", "diff.algorithm", "histogram")
    assert "8\t4\t" in repo.git("show", "--numstat", "--format=", sha)  # git's own count moved
    configured = json.loads(scan(repo, "--no-cache"))
    assert (configured["additions"], configured["deletions"]) == (6, 2)


def test_the_table_counts_sizes_only_when_asked(repo: Repo) -> None:
    """`reviewq scan` (the table) runs no size pass: it shows sizes already counted and `?`
    for the rest, with one line on stderr; `--sizes` counts them; `scan --json` always does,
    and its records after a table scan are those of a cold `scan --json`."""
    shas = history(repo)
    cold = scan(repo, "--no-cache")
    table = run_reviewq("scan", cwd=repo.path)
    assert table.returncode == 0, table.stderr
    rows = {line[:12]: line.split() for line in table.stdout.splitlines()[1:]}
    assert [rows[sha[:12]][6] for sha in shas[1:]] == ["?", "?"]
    assert "2 commits not counted yet" in table.stderr and "--sizes" in table.stderr
    assert not size_file(repo).exists()  # nothing was counted
    counted = run_reviewq("scan", "--sizes", cwd=repo.path)
    assert counted.returncode == 0, counted.stderr
    assert "?" not in counted.stdout and "not counted" not in counted.stderr
    assert "+1/-0" in counted.stdout  # the rename: one line added
    # A table scan left the scan cache unsized; `scan --json` sizes it before answering.
    run_reviewq("scan", cwd=repo.path)
    size_file(repo).unlink()
    assert scan(repo) == cold
    again = run_reviewq("scan", cwd=repo.path)  # sizes now kept: the table shows them
    assert "?" not in again.stdout and "not counted" not in again.stderr


def test_a_table_scan_then_json_is_the_cold_answer_on_random_histories(tmp_path: Path) -> None:
    """Order of questions never changes `scan --json`: table then json, json alone, and
    json after a `--sizes` table print the same records."""
    from tests.conftest import Repo as R

    for n in range(3):
        repo = R(tmp_path / f"r{n}")
        for i in range(6 + n):
            marker = CLAUDE if (i + n) % 2 else "\n"
            repo.commit(f"c{i}{marker}", files={f"f{i % 3}.txt": f"{i}\n" * (i + 1)})
        cold = scan(repo, "--no-cache")
        run_reviewq("scan", cwd=repo.path)
        assert scan(repo) == cold
        repo.commit("more" + CLAUDE, files={"g.txt": "x\n"})
        cold = scan(repo, "--no-cache")
        run_reviewq("scan", cwd=repo.path)  # incremental table scan: the new commit unsized
        assert scan(repo) == cold
