"""Which originating prompt a reviewer sees, from every place one can be found.

Order of trust: a prompt a person attached with `reviewq prompt --set` (our note) beats the
agent's own transcript (aider's USER turns), which beats tool side records (git-ai, Agent Trace),
which beat an inbox sidecar. The first that has text wins; the rest stay available to `show`.
A prompt read from an agent's session store on this machine (`reviewq/workflow/session_prompts.py`) comes after
all of these: the commands that show prompts add it where git holds none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from reviewq.core.message import aider_transcript_of
from reviewq.core.model import Prompt, SessionRef
from reviewq.core.provenance import ProvenanceHint, aider_user_turns

_SOURCE_NAMES = {
    "prompt-note": "note",
    "note": "git-ai",
    "agent-trace": "agent-trace",
    "sidecar": "sidecar",
}
_ORDER = ("prompt-note", "aider-transcript", "note", "agent-trace", "sidecar")


#: What an aider transcript's header holds (`# Aider chat conversation:`, or the older
#: `# Context:` form) in a lower-cased message: no transcript without one.
_TRANSCRIPT_HEADS = ("aider chat conversation", "# context:")
_TRANSCRIPT_HEADS_BYTES = tuple(head.encode() for head in _TRANSCRIPT_HEADS)
#: The two, for `transcript_may_follow` (asked of every AI commit of a cold scan: two `in`
#: tests cost a third less than `any` over a generator).
_AIDER_HEAD_BYTES, _CONTEXT_HEAD_BYTES = _TRANSCRIPT_HEADS_BYTES


def transcript_may_follow(raw_message: bytes) -> bool:
    """Could `candidate_prompts` find aider's transcript in this raw `git log` message? False
    means the message alone yields no prompt, and the scan skips decoding and lowering it
    again. Lowering the bytes is lowering the text here: of the characters whose lower case is
    partly ASCII (İ to `i̇`, the Kelvin sign to `k`), neither head holds a `k`, and an `i` made
    from İ is followed by its combining dot, never by the head's next letter."""
    lowered = raw_message.lower()
    return _AIDER_HEAD_BYTES in lowered or _CONTEXT_HEAD_BYTES in lowered


def candidate_prompts(message: str, hints: Iterable[ProvenanceHint]) -> list[Prompt]:
    """Every prompt found for a change, most trusted first."""
    found: dict[str, Prompt] = {}
    lowered = message.lower()
    if any(head in lowered for head in _TRANSCRIPT_HEADS):
        transcript = aider_transcript_of(message)
        if transcript is not None:
            text = aider_user_turns(transcript)
            if text:
                found["aider-transcript"] = Prompt(text, "aider-transcript")
    for hint in hints:
        if hint.prompt and hint.source not in found:
            found[hint.source] = Prompt(
                hint.prompt, _SOURCE_NAMES.get(hint.source, hint.source), hint.prompted_by
            )
            if hint.session is not None:  # a note attached from an agent session
                agent, sid, link, model = hint.session
                found[hint.source] = replace(
                    found[hint.source], link=link, session=SessionRef(agent, sid, "note", model)
                )
    return [found[key] for key in _ORDER if key in found]


def choose_prompt(message: str, hints: Iterable[ProvenanceHint]) -> Prompt | None:
    prompts = candidate_prompts(message, hints)
    return prompts[0] if prompts else None
