"""Property-based tests of the spine's parsers: no crash on any input, and intent holds.

The default suite runs each property with the `default` Hypothesis profile (a few hundred
examples); `pytest -m property --hypothesis-profile=thorough` runs >= 10,000 examples each
(see .ci/run and docs/reliability.md).
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reviewq.core.detect import Detector
from reviewq.core.message import parse_message
from reviewq.core.model import Commit, Identity
from reviewq.core.prompts import candidate_prompts
from reviewq.core.provenance import aider_user_turns, parse_agent_trace, parse_git_ai_note
from reviewq.core.text import has_hidden, visible
from reviewq.sources.diffs import BrokenDiff, parse_unified_diff
from tests.properties.strategies import at_most

pytestmark = pytest.mark.property

MARKERS = [
    "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>",
    "Co-authored-by: Codex <noreply@openai.com>",
    "Made-with: Cursor",
    "🤖 Generated with [Claude Code](https://claude.com/claude-code)",
    "Assisted-by: Claude:claude-3-opus sparse",
    "Co-authored-by: aider (gpt-4o) <aider@aider.chat>",
    "Agent-Logs-Url: https://github.com/a/b/sessions/1",
    "Generated-by: GitHub Copilot (gpt-4.1)",
]
HUMAN = Identity("Ada Lovelace", "ada@example.com")

line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=80
)
free_lines = st.lists(
    st.one_of(line_text, st.sampled_from(MARKERS), st.sampled_from(["", "```", "~~~", "> q"])),
    max_size=25,
)


def _commit(message: str) -> Commit:
    return Commit(
        "0" * 40,
        (),
        HUMAN,
        HUMAN,
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:00+00:00",
        message,
    )


@given(st.text(max_size=2000))
def test_parse_message_never_crashes(text: str) -> None:
    parsed = parse_message(text)
    for trailer in parsed.trailers:
        assert trailer.key and ":" not in trailer.key


@at_most(2_500)
@given(free_lines, st.sampled_from(MARKERS), free_lines, st.sampled_from(["```", "~~~", "````"]))
def test_marker_inside_a_fence_never_counts(before, marker, inside, fence) -> None:
    # Lines before the fence carry no markers; the fence is never closed by the inner lines.
    assume(not any(m in "\n".join(before) for m in MARKERS))
    assume(not any(line.lstrip(" ")[:3] in ("```", "~~~") for line in before))
    assume(not any(line.lstrip(" ").startswith(fence[:3]) for line in inside))
    message = "Subject\n\n" + "\n".join(before) + f"\n{fence}\n{marker}\n" + "\n".join(inside)
    parsed = parse_message(message)
    assert parsed.trailers == [] or all(t.line not in MARKERS for t in parsed.trailers)
    assert parsed.marker_lines == []
    assert Detector().detect(_commit(message)) is None


@given(st.sampled_from(MARKERS), line_text)
def test_marker_in_a_quote_never_counts(marker: str, tail: str) -> None:
    message = f"Subject\n\n> {marker}\n>{tail}"
    assert Detector().detect(_commit(message)) is None


@given(st.text(max_size=1500), st.text(max_size=60), st.text(max_size=60))
def test_detect_never_crashes_on_any_identity_or_message(message, name, email) -> None:
    ident = Identity(name, email)
    commit = Commit("0" * 40, (), ident, ident, "x", "x", message)
    result = Detector().detect(commit)
    if result is not None:
        assert result.evidence and result.role in ("primary", "assist")


@given(st.text(max_size=3000))
def test_prompt_extraction_never_crashes(message: str) -> None:
    for prompt in candidate_prompts(message, []):
        assert prompt.text
    aider_user_turns(message)


@given(st.text(max_size=3000))
def test_side_record_parsers_never_crash(text: str) -> None:
    parse_git_ai_note(text)
    parse_git_ai_note("a.py\n  k 1-2\n---\n" + text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_agent_trace_parser_survives_any_json(data) -> None:
    if isinstance(data, dict):
        parse_agent_trace(data)
        parse_agent_trace({"files": [data], "tool": data})


diff_line = st.one_of(
    st.builds(lambda s: " " + s, line_text),
    st.builds(lambda s: "+" + s, line_text),
    st.builds(lambda s: "-" + s, line_text),
    st.just("\\ No newline at end of file"),
)


@st.composite
def well_formed_diffs(draw):
    files = []
    for i in range(draw(st.integers(1, 3))):
        rows = draw(st.lists(st.sampled_from([" ", "+", "-"]), min_size=1, max_size=30))
        texts = draw(st.lists(line_text, min_size=len(rows), max_size=len(rows)))
        eol = draw(st.sampled_from(["\n", "\r\n"]))
        old = sum(1 for r in rows if r != "+")
        new = sum(1 for r in rows if r != "-")
        body = "".join(r + t.replace("\r", "") + eol for r, t in zip(rows, texts))
        files.append(
            f"diff --git a/f{i}.txt b/f{i}.txt\n--- a/f{i}.txt\n+++ b/f{i}.txt\n"
            f"@@ -1,{old} +1,{new} @@\n{body}"
        )
    return "".join(files), len(files)


@given(well_formed_diffs(), st.sampled_from(["utf-8", "latin-1"]))
def test_well_formed_diffs_parse_with_exact_counts(diff_and_count, encoding) -> None:
    text, count = diff_and_count
    data = text.encode(encoding, errors="replace")
    diff = parse_unified_diff(data)
    assert len(diff.files) == count
    for f in diff.files:
        for hunk in f.hunks:
            assert hunk.old_count == sum(1 for line in hunk.lines if line.kind in " -")
            assert hunk.new_count == sum(1 for line in hunk.lines if line.kind in " +")


@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_the_diff_reader(data: bytes) -> None:
    try:
        parse_unified_diff(data)
    except BrokenDiff as exc:
        assert "\n" not in exc.message


@given(well_formed_diffs(), st.integers(0, 400))
def test_truncated_diffs_fail_cleanly_or_parse(diff_and_count, cut: int) -> None:
    text, _ = diff_and_count
    try:
        parse_unified_diff(text.encode()[: max(1, len(text) - cut)])
    except BrokenDiff:
        pass


@given(st.text(max_size=500))
def test_visible_text_has_nothing_hidden(text: str) -> None:
    shown = visible(text, keep_newlines=False, keep_tabs=False)
    assert not has_hidden(shown)
    assert "\n" not in shown and "\t" not in shown
