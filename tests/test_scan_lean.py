"""The cold scan's shortcuts give the plain path's answers.

- the prompt's choice reads aider's transcript with `message.aider_transcript_of` (no second
  `parse_message` of a message the detector parsed): the same transcript, on varied messages;
- `provenance.aider_user_turns` tries its regex only on lines starting U, A or S: the same
  turns as the regex on every line.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewq.core.message import aider_transcript_of, parse_message
from reviewq.core.provenance import aider_user_turns

_PIECES = [
    "fix the thing",
    "",
    " ",
    "# Aider chat conversation:",
    "# aider chat conversation:  ",
    "  # AIDER CHAT CONVERSATION:",
    "text # aider chat conversation: inline",
    "# Context:",
    "# context:",
    "USER: add a test",
    "USER:",
    "user: lower case",
    "ASSISTANT: done",
    "ASSISTANT :spaced",
    "SYSTEM: be brief",
    "USERS: not a turn",
    " USER: indented",
    "Co-authored-by: aider (gpt-4o) <noreply@aider.chat>",
    "Generated with Claude Code",
    "```",
    "> quoted",
    "Unicode ÄÖ USER",
    "A",
    "S",
    "U",
]


@st.composite
def messages(draw) -> str:
    lines = draw(st.lists(st.sampled_from(_PIECES) | st.text(max_size=12), max_size=14))
    sep = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return sep.join(lines)


@settings(max_examples=400, deadline=None)
@given(messages())
def test_the_transcript_alone_is_the_full_parse_s(message: str) -> None:
    assert aider_transcript_of(message) == parse_message(message).aider_transcript


_TURN = re.compile(r"^(USER|ASSISTANT|SYSTEM)\s*:\s?(.*)$")


def _user_turns_every_line(transcript: str) -> str | None:
    """The plain form: the regex on every line (the code before the first-letter filter)."""
    turns: list[list[str]] = []
    role = None
    for line in transcript.split("\n"):
        m = _TURN.match(line)
        if m:
            role = m.group(1)
            if role == "USER":
                turns.append([m.group(2)])
            continue
        if role == "USER" and turns:
            turns[-1].append(line)
    texts = ["\n".join(t).strip() for t in turns]
    texts = [t for t in texts if t]
    return "\n\n".join(texts) or None


@settings(max_examples=400, deadline=None)
@given(messages())
def test_user_turns_with_the_first_letter_filter_are_the_plain_ones(message: str) -> None:
    transcript = message.replace("\r\n", "\n").replace("\r", "\n")
    assert aider_user_turns(transcript) == _user_turns_every_line(transcript)
