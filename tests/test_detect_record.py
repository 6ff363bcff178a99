"""The scan's fast detection against the plain detector, on the same input.

`Detector.detect_record` is what the scan runs on each raw `git log` record: a keyword check on
the message bytes, then either the full `detect` or, for a message with no keyword and no side
record, the answer kept for the same (author, committer). Each case here compares it with
`Detector.detect` on the commit built from the same record: the same authorship (every
evidence line, model, family, prompted-by), the same commit, and "no keyword" only where the
message can hold no prompt. Inputs: every marker case of tests/test_detect_markers.py and
tests/test_detect_agents.py (../shared/reference/ai-markers.md), real commits of public
repositories (/work/shared/data/real-commits/), and generated ones (hypothesis) that mix
markers, configured rules, non-ASCII look-alikes and side records.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.core.detect import Detector, RepoRule
from reviewq.core.model import Identity
from reviewq.core.prompts import choose_prompt
from reviewq.core.provenance import ProvenanceHint
from reviewq.sources.git_log import commit_from_fields
from tests.conftest import REAL_COMMITS, Repo, real_commits, run_reviewq
from tests.test_detect_agents import CASES as AGENT_CASES
from tests.test_detect_markers import CASES as MARKER_CASES

RULES = (
    RepoRule(agent="acme-bot", email="*@bots.acme.example", model="llama-3.3-70b"),
    RepoRule(agent="robo", name="robo*"),
    RepoRule(agent="house-agent", trailer="X-Agent", value=re.compile("^house")),
    # A key no built-in keyword covers, with a letter whose non-ASCII look-alike (U+212A,
    # the Kelvin sign) lowers to it as text but not as bytes.
    RepoRule(agent="kit", trailer="Kit-Run"),
)


def record(
    author: tuple[str, str],
    committer: tuple[str, str],
    message: str,
    sha: str = "a" * 40,
) -> list[bytes]:
    """The nine fields of one `git log -z` record, as `split_record` hands them out."""
    fields = [
        sha,
        "b" * 40,
        author[0],
        author[1],
        "2026-01-02T03:04:05+00:00",
        committer[0],
        committer[1],
        "2026-01-02T03:04:05+00:00",
        message + "\n",  # %B ends with a newline
    ]
    return [f.encode("utf-8", "surrogatepass") for f in fields]


def same_answer(
    fast: Detector, plain: Detector, parts: list[bytes], hints: list[ProvenanceHint]
) -> None:
    commit, found, marked = fast.detect_record(parts, hints, commit_from_fields)
    built = commit_from_fields(parts)
    expected = plain.detect(built, hints)
    assert found == expected
    # `detect_record` hands `marked` to `detect`, which then skips its own keyword search:
    # the two must agree on every message.
    assert marked == (plain._keyword_pattern.search(built.message.lower()) is not None)
    if found is not None:
        assert commit == built
    if not marked and not hints:
        assert choose_prompt(built.message, ()) is None  # the scan then skips choose_prompt


def test_every_marker_case_is_decided_alike() -> None:
    for rules in ((), RULES):
        fast, plain = Detector(rules), Detector(rules)
        for _ in range(2):  # the second round answers identity-only commits from the memo
            for case in (*MARKER_CASES, *AGENT_CASES):
                committer = case.committer or case.author
                same_answer(fast, plain, record(case.author, committer, case.message), [])


#: Messages of a person's commit that `_names_no_agent` must send to the parse: each names an
#: agent in a way only the parse sees whole (True: AI-authored), or looks like it does.
PERSONS_COMMITS = [
    # A folded value: an indented line below a `Co-authored-by` (git's cherry-pick note or a
    # heredoc leftover between them does not end the block) joins its value.
    ("Fix\n\nCo-authored-by: Jane <j@x.com>\n  Claude <noreply@anthropic.com>", True),
    (
        "Fix\n\nCo-authored-by: Jane <j@x.com>\n(cherry picked from commit abc)\n"
        "  Claude <noreply@anthropic.com>",
        True,
    ),
    ("Fix\n\nCo-authored-by: Jane <j@x.com>\nEOF\n\tClaude <noreply@anthropic.com>", True),
    ("Fix\n\nAgent : Claude Code\nCo-authored-by: Jane <j@x.com>", True),
    ("Fix\n\nCoding-Agent: Cursor\nCo-authored-by: Jane <j@x.com>", True),
    ("Fix\n\nco-authored-by:Claude Opus 4.6", True),
    ("Fix\r\n\r\nCo-authored-by: Claude <noreply@anthropic.com>\r\n", True),
    ("Fix\r\rCo-authored-by: Claude <noreply@anthropic.com>", True),  # old Mac line ends
    ("Fix\n\nEntire-Checkpoint: abc\nCo-authored-by: Jane <j@x.com>", True),
    ("aider: fix\n\nCo-authored-by: Jane <j@x.com>", True),
    (
        "Fix\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
        "Co-authored-by: Jane <j@x.com>",
        True,
    ),
    # Look-alikes: not an agent's, whichever way they are read.
    ("Fix\n\n```\nCo-authored-by: Claude <noreply@anthropic.com>\n```", False),
    ("Fix\n\n> Co-authored-by: Claude <noreply@anthropic.com>", False),
    ("Fix\n\nCo-authored-by: Jane <j@x.com>\nCo-authored-by: Bob <b@x.com>", False),
    (
        "* a (#1)\n\nCo-authored-by: Jane <j@x.com>\n\n* b (#2)\n\nCo-authored-by: Bob <b@x.com>",
        False,
    ),
    ("Fix\n\nCo-authored-by: Jane <j@x.com>\n\n    indented code below", False),
]


def test_a_persons_commit_naming_an_agent_is_parsed() -> None:
    """The commits of people that `detect_record` answers without the parse
    (`_names_no_agent`) are decided as the parse decides them, on every way of naming an agent
    it must not miss; and it does skip the parse of a plain squash merge with people as
    co-authors (the figure is not vacuous)."""
    person = ("Ada Lovelace", "ada@example.com")
    for message, by_an_agent in PERSONS_COMMITS:
        fast, plain = Detector(), Detector()
        parts = record(person, person, message)
        same_answer(fast, plain, parts, [])
        assert (plain.detect(commit_from_fields(parts)) is not None) is by_an_agent, message
    skipped = Detector().detect_record(
        record(person, ("GitHub", "noreply@github.com"), PERSONS_COMMITS[-2][0]),
        [],
        commit_from_fields,
    )
    assert skipped == (None, None, True)


def test_every_key_the_trailers_read_is_weighed_without_the_parse() -> None:
    """`_names_no_agent` sends a message to the parse when a line opens with a key that can
    name an agent (`_AGENT_KEYS`): every key `Detector._trailers` reads is one, or is read
    only beside one (`model`, `entire-agent`), or is `co-authored-by` (weighed by value)."""
    import ast
    import inspect
    import textwrap

    from reviewq.core import detect

    tree = ast.parse(textwrap.dedent(inspect.getsource(detect.Detector._trailers)))

    def keys(node: ast.AST) -> set[str]:
        return {
            n.value
            for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }

    read: set[str] = set()
    for node in ast.walk(tree):
        # `by_key.get("k")`, `by_key["k"]`, `"k" in by_key`, `for key in ("k", …)`
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "by_key.get":
            read |= keys(node.args[0])
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "by_key":
            read |= keys(node.slice)
        elif isinstance(node, ast.Compare) and ast.unparse(node.comparators[0]) == "by_key":
            read |= keys(node.left)
        elif isinstance(node, ast.For) and ast.unparse(node.target) == "key":
            read |= keys(node.iter)
    assert {"coding-agent", "agent", "entire-checkpoint", "model"} <= read
    weighed = {key.decode() for key in detect._AGENT_KEYS} | {"co-authored-by"}
    assert read - weighed <= {"model", "entire-agent"}
    assert set(detect._TRAILER_HANDLERS) <= weighed


@pytest.mark.skipif(not REAL_COMMITS.is_dir(), reason="no real-commit samples on this machine")
def test_real_commits_are_decided_alike() -> None:
    rows = real_commits()
    assert len(rows) > 1000
    skipped = 0
    for rules in ((), RULES):
        fast, plain = Detector(rules), Detector(rules)
        found = 0
        for row in rows:
            parts = record(
                (row["author_name"], row["author_email"]),
                (row["committer_name"], row["committer_email"]),
                row["message"].rstrip("\n"),
                row["sha"],
            )
            same_answer(fast, plain, parts, [])
            found += plain.detect(commit_from_fields(parts)) is not None
            skipped += not rules and fast.detect_record(parts, [], commit_from_fields) == (
                None,
                None,
                True,
            )
        assert found > 100  # the samples hold AI commits: the comparison is not all-None
    assert skipped > 100  # people's marked commits answered without the parse, alike


# -- generated commits --------------------------------------------------------------------

PEOPLE = [
    ("Ada Lovelace", "ada@example.com"),
    ("Ada Lovelace (aider)", "ada@example.com"),
    ("Claude", "noreply@anthropic.com"),
    ("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com"),
    ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
    ("Build Bot", "ci@bots.acme.example"),
    ("robot-7", "r7@example.org"),
    ("openhands", "openhands@all-hands.dev"),
    ("GitHub", "noreply@github.com"),
    ("Zoë", "zoe@example.com"),
]

LINES = [
    "Fix the parser",
    "aider: add a flag",
    "Co-authored-by: Claude Opus 4.5 <noreply@anthropic.com>",
    "Co-authored-by: Codex <noreply@openai.com>",
    "Co-authored-by: Bob <bob@example.com>",
    "Co-authored-by: aider (gpt-4o) <aider@aider.chat>",
    "🤖 Generated with [Claude Code](https://claude.com/claude-code)",
    "Generated with protoc",
    "Generated-by: make codegen",
    "Assisted-by: GPT-5 <x@y>",
    "Made-with: Cursor",
    "X-Agent: house v2",
    "X-Agent: elsewhere",
    "Kit-Run: 12",
    "\u212ait-Run: 12",  # Kelvin sign: text lowering makes it `kit-run`
    "Amp-Thread-ID: https://ampcode.com/threads/T-1",
    "Agent-Logs-Url: https://github.com/o/r/sessions/1",
    "Entire-Checkpoint: abc",
    "Replit-Commit-Author: Agent",
    "Executed-By: rig/crew/max",
    "AI-assisted: true",
    "# Aider chat conversation:",
    "USER: make it faster",
    "ASSISTANT: done",
    "# Context:",
    "> Co-authored-by: Claude <noreply@anthropic.com>",
    "```",
    "    indented code",
    "Claude-Session: https://claude.ai/code/session_1",
    "İ ſ é 漢字",
    # What a person's squash merge holds, and what `_names_no_agent` must not be fooled by.
    "Co-authored-by: Jane Roe <jane@example.com>",
    "CO-AUTHORED-BY:Jane Roe <jane@example.com>",
    "co-authored-by: Claude Opus 4.6",
    "  Claude <noreply@anthropic.com>",
    "\tClaude <noreply@anthropic.com>",
    "(cherry picked from commit 0123abcd)",
    "EOF",
    "Agent : Claude Code",
    "Coding-Agent: Cursor",
    "Model: gpt-5",
    "Entire-Agent: claude",
    "* feat: a squashed commit (#12)",
    "Co-authored-by: Jane Roe <jane@example.com>\r",
    "",
]

HINTS = [
    ProvenanceHint("note", "cursor", "gpt-4o", 12, prompt="do it"),
    ProvenanceHint("agent-trace", None, None, 0),
    ProvenanceHint("prompt-note", "claude-code", None, -1, prompt="asked", marker="note"),
    ProvenanceHint("note", None, None, -1, prompted_by=Identity("Ada", "ada@example.com")),
]

messages = st.lists(
    st.one_of(st.sampled_from(LINES), st.text(max_size=30)), min_size=1, max_size=8
).map("\n".join)


@given(
    commits=st.lists(
        st.tuples(
            st.sampled_from(PEOPLE),
            st.sampled_from(PEOPLE),
            messages,
            st.lists(st.sampled_from(HINTS), max_size=2),
        ),
        min_size=1,
        max_size=25,
    ),
    configured=st.booleans(),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_commits_are_decided_alike(commits, configured) -> None:
    rules = RULES if configured else ()
    fast, plain = Detector(rules), Detector(rules)  # one of each per history, as a scan has
    for i, (author, committer, message, hints) in enumerate(commits):
        parts = record(author, committer, message, f"{i:040x}")
        same_answer(fast, plain, parts, hints)


# -- the decision kept per message key (`Detector._by_message`) ---------------------------------

#: Lines that change a message without changing what detection reads of it, and lines that do.
SIGNATURE_LINES = [
    *LINES,
    "  folded onto the trailer above",  # a continuation: the trailer's value, not its line
    "Signed-off-by: Ada Lovelace <ada@example.com>",
    "aider: another subject",
    "a subject mentioning </claude-plan>",
    "<claude-plan>",
    "</claude-plan>",
    "---------",
]

signed_messages = st.tuples(
    st.sampled_from(["Fix", "aider: add a flag", "aider: other", "Generated with care", "x"]),
    st.lists(st.sampled_from(SIGNATURE_LINES), max_size=4),
    st.lists(st.sampled_from(SIGNATURE_LINES), min_size=1, max_size=3),
).map(lambda m: "\n".join([m[0], "", *m[1], "", *m[2]]))


@given(
    commits=st.lists(
        st.tuples(st.sampled_from(PEOPLE[:4]), st.sampled_from(PEOPLE[:4]), signed_messages),
        min_size=2,
        max_size=30,
    ),
    configured=st.booleans(),
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_decision_kept_per_message_key_is_the_one_made_afresh(commits, configured) -> None:
    """One detector over a history (subjects, prose and folded values vary around the same
    signatures, so it answers many from what it kept) decides every commit exactly as a new
    detector deciding that commit alone."""
    rules = RULES if configured else ()
    shared = Detector(rules)
    for i, (author, committer, message) in enumerate(commits):
        commit = commit_from_fields(record(author, committer, message, f"{i:040x}"))
        assert shared.detect(commit) == Detector(rules).detect(commit), message


#: Pairs of messages alike in all but one thing detection reads (the folded value of a
#: trailer, an `aider:` subject, a transcript with turns, a marker line, the trailers' order).
LOOK_ALIKES = [
    (
        "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>\n  and a folded tail",
    ),
    (
        "aider: add a flag\n\nCo-authored-by: x <y@z>",
        "aider: drop a flag\n\nCo-authored-by: x <y@z>",
    ),
    ("Fix\n\nCo-authored-by: x <y@z>", "aider: fix\n\nCo-authored-by: x <y@z>"),
    (
        "Fix\n\n# Aider chat conversation:\n\nUSER: go\nASSISTANT: done",
        "Fix\n\n# Aider chat conversation:\n\nnothing said",
    ),
    (
        "Fix\n\n# Context:\nUSER: go\nASSISTANT: done",
        "Fix\n\n# Aider chat conversation:\nUSER: go\nASSISTANT: done",
    ),
    (
        "Fix\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\nCo-authored-by: x <y@z>",
        "Fix\n\nGenerated with protoc\n\nCo-authored-by: x <y@z>",
    ),
    (
        "Fix\n\nCo-authored-by: Codex <noreply@openai.com>\nCo-authored-by: Claude <noreply@anthropic.com>",
        "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>\nCo-authored-by: Codex <noreply@openai.com>",
    ),
]


@pytest.mark.parametrize("pair", LOOK_ALIKES)
def test_look_alike_messages_are_never_answered_from_each_other(pair) -> None:
    people = [PEOPLE[0], PEOPLE[2]]
    for first, second in (pair, pair[::-1]):
        for author in people:
            shared = Detector(RULES)
            for message in (first, second, first, second):
                commit = commit_from_fields(record(author, PEOPLE[0], message))
                assert shared.detect(commit) == Detector(RULES).detect(commit), message
    one, two = (commit_from_fields(record(PEOPLE[0], PEOPLE[0], m)) for m in pair)
    assert Detector().detect(one) != Detector().detect(two)  # the pair does differ


def test_the_decisions_kept_are_bounded() -> None:
    from reviewq.core import detect as detect_mod

    shared = Detector()
    ada = PEOPLE[0]
    for i in range(detect_mod._MESSAGE_MEMO_MAX + 10):
        message = f"change {i}\n\nCo-authored-by: Agent {i} <noreply@anthropic.com>"
        found = shared.detect(commit_from_fields(record(ada, ada, message)))
        assert found is not None and found.evidence[0].marker.endswith(
            f"Agent {i} <noreply@anthropic.com>"
        )
    assert len(shared._by_message) <= detect_mod._MESSAGE_MEMO_MAX


def test_a_kept_answer_never_outlives_its_conditions() -> None:
    """The answer kept per identities is for a message without keywords and no side record:
    the next commit by the same people with a marker, or with a note, is decided in full."""
    fast, plain = Detector(), Detector()
    ada = PEOPLE[0]
    for message, hints in (
        ("plain", []),
        ("plain again", []),
        ("with a marker\n\nCo-authored-by: Codex <noreply@openai.com>", []),
        ("plain", [HINTS[0]]),
        ("plain", []),
    ):
        same_answer(fast, plain, record(ada, ada, message), hints)
    _, found, _ = fast.detect_record(record(ada, ada, "plain"), [HINTS[0]], commit_from_fields)
    assert found is not None and found.agent == "cursor"


# -- configured rules through the whole scan (an attack on the prefilter: fail closed) --------


def test_configured_rules_the_built_in_keywords_do_not_know_still_mark(repo: Repo) -> None:
    """A repository's own trailer rule and identity rule reach past the keyword prefilter and
    the answers kept per identity: a cold `scan --json`, the table and the gate's uncached scan
    see them all."""
    repo.write(
        ".reviewq.toml",
        "[[agents]]\nagent = 'kit'\ntrailer = 'Kit-Run'\n\n"
        "[[agents]]\nagent = 'acme-bot'\nemail = '*@bots.acme.example'\n",
    )
    base = repo.commit("config", files={".reviewq.toml": (repo.path / ".reviewq.toml").read_text()})
    plain = repo.commit("people's work", author=("Ada", "ada@example.com"))
    kit = repo.commit("tidy\n\nKit-Run: 42", author=("Ada", "ada@example.com"))
    bot = repo.commit("bump", author=("Build Bot", "ci@bots.acme.example"))
    bot2 = repo.commit("bump again", author=("Build Bot", "ci@bots.acme.example"))
    out = run_reviewq("scan", "--json", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    agents = {
        json.loads(line)["sha"]: json.loads(line)["agent"] for line in out.stdout.splitlines()
    }
    assert agents == {kit: "kit", bot: "acme-bot", bot2: "acme-bot"}
    assert plain not in agents and base not in agents
    table = run_reviewq("scan", "--no-cache", cwd=repo.path)
    assert table.returncode == 0, table.stderr
    for sha in (kit, bot, bot2):
        assert sha[:12] in table.stdout
    gate = run_reviewq("gate", f"{base}..HEAD", cwd=repo.path)
    assert gate.returncode != 0
    for sha in (kit, bot, bot2):
        assert sha[:7] in gate.stdout + gate.stderr


@given(
    fields=st.lists(st.binary(max_size=12), min_size=8, max_size=8),
    body=st.binary(max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_one_decode_of_a_record_is_nine_decodes(fields, body) -> None:
    """`commit_from_fields` decodes the record once; each field comes out as decoding it on
    its own did (invalid UTF-8 included: a sequence cut at the separator is replaced alike)."""
    from reviewq.core.model import Commit
    from reviewq.sources.git_log import split_record

    record = b"\x1f".join([f.replace(b"\x1f", b"") for f in fields] + [body])
    parts = split_record(record)
    if parts is None:
        return
    sha, parents, an, ae, ad, cn, ce, cd, text = (p.decode("utf-8", "replace") for p in parts)
    assert commit_from_fields(parts) == Commit(
        sha=sha.strip(),
        parents=tuple(parents.split()),
        author=Identity(an, ae),
        committer=Identity(cn, ce),
        authored_at=ad,
        committed_at=cd,
        message=text.rstrip("\n"),
    )


# -- `_decide` in one ranking against the three passes it replaced ------------------------------


def _decide_in_three_passes(candidates, humans, hints):
    """`core.detect._decide` as it was: `max`, then sorting the agent's candidates, then
    sorting every candidate, each by strength; the prompted-by filter asked per person."""
    from reviewq.core.agent_identities import AI_EMAILS, is_non_ai_bot
    from reviewq.core.detect import _RANK, _SOURCE_RANK
    from reviewq.core.families import family_for
    from reviewq.core.model import Authorship

    def strength(c):
        return (
            1 if c.role == "primary" else 0,
            _RANK[c.confidence],
            _SOURCE_RANK.get(c.evidence.source, 1),
        )

    best = max(candidates, key=strength)
    agent = best.agent
    same = [c for c in candidates if c.agent == agent]
    model = next((c.model for c in sorted(same, key=strength, reverse=True) if c.model), None)
    if model is None:
        model = next((h.model for h in hints if h.model and (h.agent in (None, agent))), None)
    family = next((c.family for c in same if c.family), None) or family_for(agent, model)
    confidence = max((c.confidence for c in same), key=_RANK.__getitem__)
    role = "primary" if any(c.role == "primary" for c in candidates) else "assist"
    evidence = []
    for c in sorted(candidates, key=strength, reverse=True):
        if c.evidence not in evidence:
            evidence.append(c.evidence)
    prompted = []
    for person in humans:
        if (
            person not in prompted
            and person.email.lower() not in AI_EMAILS
            and not is_non_ai_bot(person)
        ):
            prompted.append(person)
    return Authorship(agent, model, family, role, confidence, tuple(evidence), tuple(prompted))


_PEOPLE = st.sampled_from(
    [
        Identity("Jane", "jane@example.com"),
        Identity("Jane", "JANE@example.com"),
        Identity("Claude", "noreply@anthropic.com"),
        Identity("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
        Identity("renovate[bot]", "bot@renovateapp.com"),
        Identity("Copilot", "198982749+Copilot@users.noreply.github.com"),
        Identity("Bob", ""),
    ]
)


@st.composite
def _candidates(draw):
    from reviewq.core.detect import _Candidate
    from reviewq.core.model import Evidence

    evidence = st.builds(
        Evidence,
        st.sampled_from(
            ["author", "committer", "trailer", "body", "note", "config-rule", "agent-trace", "x"]
        ),
        st.sampled_from(["m1", "m2", "Co-authored-by: Claude <noreply@anthropic.com>"]),
    )
    one = st.builds(
        _Candidate,
        st.sampled_from(["claude-code", "codex", "aider", "other", "copilot"]),
        st.sampled_from([None, "", "claude-opus-4.5", "gpt-5", "gemini-2.5-pro", "qwen3"]),
        st.sampled_from(["primary", "assist"]),
        st.sampled_from(["high", "medium", "low"]),
        evidence,
        st.sampled_from([None, "", "anthropic", "openai", "meta"]),
    )
    return draw(st.lists(one, min_size=1, max_size=6))


@settings(max_examples=600, deadline=None)
@given(
    _candidates(),
    st.lists(_PEOPLE, max_size=4),
    st.lists(
        st.builds(
            ProvenanceHint,
            st.sampled_from(["note", "agent-trace", "prompt-note"]),
            st.sampled_from([None, "claude-code", "codex"]),
            st.sampled_from([None, "gpt-5", "claude-sonnet-4"]),
            st.integers(-1, 3),
        ),
        max_size=3,
    ),
)
def test_decide_in_one_ranking_is_the_three_passes(candidates, humans, hints) -> None:
    from reviewq.core.detect import _decide

    ours = _decide(list(candidates), list(humans), list(hints))
    assert ours == _decide_in_three_passes(list(candidates), list(humans), list(hints))
    assert repr(ours) == repr(_decide_in_three_passes(candidates, humans, hints))


# -- the batch keyword search (`Detector.marked_batch`) -----------------------------------------

#: Rules with keys the built-in keywords lack: one ASCII, one not (a key that lowers as text
#: to something a byte search cannot see), so both of `marked_batch`'s ways are taken.
NON_ASCII_RULES = (*RULES, RepoRule(agent="pruefer", trailer="Prüfer"))

raw_messages = st.lists(
    st.one_of(
        st.sampled_from(LINES).map(str.encode),
        st.sampled_from(["Prüfer: ja", "PRÜFER: ja", "\u0130", "co-\u212authored"]).map(str.encode),
        st.binary(max_size=24),  # invalid UTF-8 and NULs too
        st.text(max_size=24).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    max_size=6,
).map(b"\n".join)


def test_lowers_to_ascii_names_every_such_character() -> None:
    """The byte search is exact only if these are all the characters whose lower case (as
    text) holds an ASCII character."""
    from reviewq.core.detect import LOWERS_TO_ASCII

    found = {
        chr(code).encode()
        for code in range(0x80, 0x110000)
        if not 0xD800 <= code <= 0xDFFF and any(ord(c) < 0x80 for c in chr(code).lower())
    }
    assert found == set(LOWERS_TO_ASCII)


@given(messages=st.lists(raw_messages, max_size=40), configured=st.sampled_from([0, 1, 2]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_marked_batch_is_marked_of_each(messages, configured) -> None:
    detector = Detector(((), RULES, NON_ASCII_RULES)[configured])
    assert detector.marked_batch(messages) == [detector.marked(m) for m in messages]


@pytest.mark.skipif(not REAL_COMMITS.is_dir(), reason="no real-commit samples on this machine")
@pytest.mark.parametrize("size", [1, 7, 256, 5000])
def test_marked_batch_on_real_commits(size: int) -> None:
    messages = [row["message"].encode() for row in real_commits()]
    for rules in ((), NON_ASCII_RULES):
        detector = Detector(rules)
        batched = []
        for start in range(0, len(messages), size):
            batched += detector.marked_batch(messages[start : start + size])
        expected = [detector.marked(m) for m in messages]
        assert batched == expected
        assert 100 < sum(expected) < len(expected)  # both answers are there to get wrong


def test_marked_batch_on_every_line_and_look_alike() -> None:
    """Every marker line alone, look-alikes that only text lowering reveals (the Kelvin sign,
    İ, a non-ASCII configured key) and bytes that are no UTF-8, in one batch and one by one."""
    lines = [
        *LINES,
        "Prüfer: ja",
        "PRÜFER: ja",
        "\u0130",
        "x-\u212aIT-RUN: 1",
        "Co-Authored-By: Claude",
    ]
    messages = [line.encode() for line in lines]
    messages += [b"\xff\xfe" + m for m in messages] + [b"fix\0co-authored-by"]
    for rules in ((), RULES, NON_ASCII_RULES):
        detector = Detector(rules)
        expected = [detector.marked(m) for m in messages]
        assert detector.marked_batch(messages) == expected
        assert [detector.marked_batch([m])[0] for m in messages] == expected


@pytest.mark.skipif(not REAL_COMMITS.is_dir(), reason="no real-commit samples on this machine")
def test_the_distinct_benchmark_history_reads_as_the_samples_do() -> None:
    """`benchmarks/bench_scan.py --mix heavy-distinct` makes each pass over the real samples
    distinct (` (pass N)` after prose lines), so that a benchmark of the cold scan does not
    reward memos of repeated messages. The detector must decide each such message as it
    decides the sample: the same commits, agents, models, evidence and prompts."""
    from benchmarks.bench_scan import _distinct

    rows = real_commits()
    assert len(rows) > 1000
    detector = Detector()
    found = changed = 0
    for row in rows:

        def decided(message: str, row=row):
            parts = record(
                (row["author_name"], row["author_email"]),
                (row["committer_name"], row["committer_email"]),
                message.rstrip("\n"),
                row["sha"],
            )
            commit = commit_from_fields(parts)
            return detector.detect(commit), choose_prompt(commit.message, ())

        sample, distinct = row["message"], _distinct(row["message"], 2)
        assert decided(distinct) == decided(sample), row["sha"]
        found += decided(sample)[0] is not None
        changed += distinct != sample
    assert found > 100 and changed > 1000  # AI commits among them, and most messages changed
