"""Inputs someone else writes that made a regex backtrack for seconds to minutes.

A commit's trailers (anyone who can push a commit writes them, an agent included), a diff's
lines (the redactor reads every line before it leaves the machine) and a file's added lines (the
offline critic's detectors) are all untrusted. Each of these once cost time growing with the
square or the cube of its length: `reviewq scan` (and so the queue and the CI gate) on one long
trailer, the remote critic on one long line of `+`, the static critic on a file of blank lines.
Each is read here at a size that took minutes before, and must read as a short one does. The
rewritten readers are compared with the old regexes in
tests/properties/test_linear_readers_properties.py.
"""

from __future__ import annotations

import json

from reviewq.context import parse_config_text
from reviewq.core.detectors import Scope, run
from reviewq.core.policy_rules import policy_from_sections
from reviewq.critics.redact import Redactor
from tests.conftest import Repo, run_reviewq
from tests.critic_eval.harness import input_for

CLAUDE = "Claude Opus 4.5 <noreply@anthropic.com>"


def test_trailers_padded_or_long_are_read_as_short_ones(repo: Repo) -> None:
    """Before: a 30,000-blank pad took `parse_identity` minutes, a 100,000-character token
    without a digit took the model finder over a minute."""
    base = repo.commit("base")
    padded = repo.commit(
        "Add a\n\nCo-authored-by: Claude Opus 4.5" + " " * 30_000 + "<noreply@anthropic.com>\n",
        files={"a.py": "a = 1\n"},
    )
    long_token = repo.commit(
        "Add b\n\nGenerated-with: " + "x" * 100_000 + f"\nCo-Authored-By: {CLAUDE}\n",
        files={"b.py": "b = 1\n"},
    )
    human = repo.commit(
        "Add c\n\nCo-authored-by:" + " " * 30_000 + "Dana Reyes" + " " * 30_000 + "\n",
        files={"c.py": "c = 1\n"},
    )
    result = run_reviewq("--repo", str(repo.path), "scan", "--json")
    assert result.returncode == 0, result.stderr
    found = {json.loads(line)["sha"] for line in result.stdout.splitlines()}
    assert found == {padded, long_token}
    assert base not in found and human not in found


def test_author_names_padded_with_blanks_are_read_as_short_ones(repo: Repo) -> None:
    """Before: dropping a name's parenthesis and finding ` via ` tried every position of a run
    of blanks to its end (60,000 blanks: seconds each)."""
    repo.commit("base")
    aider = repo.commit("Add a", author=("aider" + " " * 60_000 + "(gpt-4o)", "a@example.com"))
    crush = repo.commit(
        "Add b\n\nCo-authored-by: Claude Opus 4.6" + " " * 60_000 + "via Crush <crush@charm.land>\n"
    )
    person = repo.commit("Add c", author=("Dana" + " " * 60_000 + "Reyes", "dana@example.com"))
    result = run_reviewq("--repo", str(repo.path), "scan", "--json")
    assert result.returncode == 0, result.stderr
    records = {r["sha"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert aider in records and person not in records
    assert records[aider]["agent"] == "aider"
    assert crush in records


def test_a_diff_line_of_plus_signs_goes_out_as_it_is() -> None:
    """Before: the key-line regex, whose three parts all take `+`, ran for minutes on it."""
    lines = ["+" * 5_000 + "!", "x = '" + "+" * 5_000 + "'", "A" * 60 + "+" * 5_000 + "."]
    assert Redactor().lines(lines) == lines


def test_a_file_of_blank_lines_is_read_by_the_detectors() -> None:
    """Before: `^\\s*-?\\s*` under MULTILINE ran over every following blank line from each line's
    start (2,000 of them: 150 s). The finding after them is still found, on its own line."""
    text = "\n" * 5_000 + " " * 4_000 + "\n" + "  - insecure: true\n"
    subject = input_for({"deploy/values.yaml": (None, text)})
    found = run(Scope(subject.diff, subject.prompt, subject.message, subject.new_texts))
    tls = [f for f in found if f.rule == "tls-verify-disabled"]
    assert [f.start_line for f in tls] == [5_002]


def test_a_domain_glob_of_many_stars_against_a_long_file_name() -> None:
    """Before: `*a*a*a*a*a*a*a*a*b` took 78 s against a name of 60 `a`s, and `**` runs
    backtracked over a deep path likewise (a diff's paths are anyone's to choose)."""
    config = parse_config_text(
        '[[domains]]\nname = "odd"\npaths = ["*a*a*a*a*a*a*a*a*b", "**/a/**/a/**/a/**/b"]\n'
        "approvals = 2\n",
        ".reviewq.toml",
    )
    policy = policy_from_sections(config.sections)
    long_name, deep = "a" * 4_000, "a/" * 2_000 + "c"
    assert policy.domains_for([long_name, deep]) == ("default",)
    assert policy.domains_for([long_name + "b"]) == ("odd",)
    assert policy.domains_for(["a/" * 2_000 + "b"]) == ("odd",)
