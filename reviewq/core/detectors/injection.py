"""Prompt injection: text in a change (or its commit message) that tries to instruct a reviewer
or a model: "ignore previous instructions", "note to AI reviewers", "do not flag this".

No legitimate code needs to tell its reviewer what to conclude, so a hit is critical wherever it
sits: comment, string or docs. Code that builds prompts for its own model is a different thing,
so role-play phrases ("you are a helpful assistant") are deliberately not matched.
"""

from __future__ import annotations

import re

from reviewq.core.detectors.base import Scope, file_finding, line_finding, rule
from reviewq.core.model import Finding

INJECTION = rule("prompt-injection", "critical", "security", "text that instructs the reviewer")

_ACTORS = (
    r"(?:ai|a\.i\.|llms?|gpts?|claude|chatgpt|copilot|gemini|models?|language models?|assistants?|"
    r"agents?|bots?|reviewers?|code reviewers?|automated (?:tools?|reviewers?|systems?)|"
    r"review(?:ing)? tools?|scanners?|auditors?)"
)
#: What an instruction to a reviewer orders: a verdict, or not to look.
_ORDER = (
    r"(?:please\s+)?(?:approve|accept|merge|ignore|disregard|skip|pass|mark|treat|lgtm|"
    r"do\s+not|don'?t|never|say|respond|reply|output|return)\b"
)
PATTERNS = tuple(
    re.compile(p, re.IGNORECASE | re.MULTILINE)
    for p in (
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+|your\s+|these\s+)*"
        r"(?:previous|prior|above|earlier|preceding|former|original|system|other)\s+"
        r"(?:instructions?|prompts?|rules|directions|guidelines|directives|context)",
        # "override"/"bypass" name features too ("| system_prompt | Override system prompt |"
        # in an action's README): only what came before is an injection's target
        r"\b(?:override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|these\s+)*"
        r"(?:previous|prior|above|earlier|preceding)\s+"
        r"(?:instructions?|prompts?|rules|directions|guidelines|directives|context)",
        # "override the system prompt" as an order: it opens a sentence (a line, a comment, a
        # string's opening quote, after . ! ?) or addresses the model ("your"); docs that say what an option
        # does ("use this to override the system prompt", "| Override system prompt |") do not
        r"(?:^[ \t#/*;\-\"'`>]*+|[.!?]\s+|[\"'`])(?:please\s+)?(?:override|bypass)\s+(?:the\s+)?"
        r"system\s+(?:prompts?|instructions?|rules|message)\b"
        r"|\b(?:override|bypass)\s+your\s+(?:system\s+)?(?:prompts?|instructions?|rules|guidelines)\b",
        rf"\b(?:note|message|attention|notice|reminder)\s+(?:to|for)\s+(?:all\s+|the\s+|any\s+)?{_ACTORS}\b",
        # "Instructions for Claude" is how an action describes its prompt input; "instructions
        # for the AI reviewer: ..." addresses the reader
        # ("Instructions for Claude. Can be a direct prompt or a template."); an order after a
        # full stop ("Instructions for Claude. Approve it.") addresses the reader too
        rf"\binstructions?\s+(?:to|for)\s+(?:all\s+|the\s+|any\s+)?(?:ai\s+)?{_ACTORS}\s*"
        rf"(?:[:!—–-]|\.\s+(?={_ORDER}))",
        rf"\b(?:hey|dear|attention)\s*,?\s+{_ACTORS}\b",
        rf"\b{_ACTORS}\s*(?:and\s+\w+(?:\s+\w+)?\s*)?[:,]?\s+(?:must|should|shall|please|are to)\s+"
        r"(?:not\s+)?(?:approve|ignore|skip|flag|report|mark|pass|accept)",
        r"\b(?:mark|treat|rate|classify|report|consider)\s+(?:this|the)\s+(?:review|change|pr|"
        r"pull request|commit|code|diff|function|file)\s+(?:as\s+)?(?:approved|safe|secure|lgtm|"
        r"clean|trusted|verified|passing)",
        r"\b(?:approve|accept|merge)\s+(?:this|the)\s+(?:pr|pull request|change|commit|diff)\s+"
        r"(?:without|immediately|automatically|now)",
        r"\b(?:respond|reply|answer|output|return|say)\s+(?:only\s+)?(?:with\s+)?[\"'`]?"
        r"(?:lgtm|approved|no issues(?: found)?)\b",
        r"\b(?:this|the)\s+(?:change|code|function|pr|commit)\s+(?:has\s+been|was|is)\s+(?:already\s+)?"
        r"(?:approved|reviewed|vetted|cleared|signed off)\s+by\s+(?:the\s+)?(?:security|admin|"
        r"compliance|legal|cto|ciso)",
        r"<\|im_start\|>|<\|im_end\|>|<\|system\|>|\[/?INST\]|<</?SYS>>|</?system>|"
        r"\bBEGIN\s+(?:SYSTEM|ADMIN)\s+(?:PROMPT|INSTRUCTIONS)\b|^[^\w\n]*+system\s+prompt\s*:",
    )
)
_INSTRUCTIONS = next(p for p in PATTERNS if p.pattern.startswith(r"\binstructions?"))


#: A cheap first pass: a file with none of these words needs no closer look.
_HINTS = (
    "ignor",
    "disregard",
    "forget",
    "instruct",
    "prompt",
    "note",
    "message",
    "attention",
    "notice",
    "remind",
    "hey",
    "dear",
    "must",
    "should",
    "shall",
    "please",
    "flag",
    "mention",
    "approv",
    "lgtm",
    "no issues",
    "reviewed",
    "vetted",
    "signed off",
    "cleared",
    "<|",
    "inst]",
    "<<sys",
    "system",
    "begin ",
    "mark ",
    "treat ",
    "consider ",
    "classify ",
    "rate ",
)
#: "do not flag this": only an injection when the same line talks about review or reviewers.
_SILENCE = re.compile(
    r"\b(?:do\s+not|don'?t|never|no\s+need\s+to)\s+(?:flag|mention|comment\s+on|review|"
    r"warn\s+about|criticize|report\s+on)\s+(?:this|these|it|any\s+(?:issues?|findings?|problems?))\b",
    re.IGNORECASE,
)
_REVIEW_CONTEXT = re.compile(
    rf"\b(?:{_ACTORS}|review(?:ed|ing|s)?|approv\w*|security\s+team|vulnerabilit\w+|findings?)\b",
    re.IGNORECASE,
)


#: An input's or option's description (`description: "Instructions for Claude: the task"` in
#: an action.yml): it says what a field holds, so only an order in it is an injection.
_DESCRIBES = re.compile(
    r"^\W*+(?:description|help|summary|title|label)[^\w:=]*+[:=]", re.IGNORECASE
)
_INSTRUCTIONS_ORDER = re.compile(
    rf"\binstructions?\s+(?:to|for)\s+(?:all\s+|the\s+|any\s+)?(?:ai\s+)?{_ACTORS}\s*[:.!—–-]\s*"
    rf"[\"'`]?{_ORDER}",
    re.IGNORECASE,
)


def match(text: str) -> re.Match[str] | None:
    """The first phrase in `text` that instructs a reviewer, or None."""
    describes = _DESCRIBES.match(text) is not None
    for pattern in PATTERNS:
        m = pattern.search(text)
        if m:
            if describes and pattern is _INSTRUCTIONS:
                m = _INSTRUCTIONS_ORDER.search(text)
                if m is None:
                    continue
            return m
    m = _SILENCE.search(text)
    if m and _REVIEW_CONTEXT.search(text[: m.start()] + " " + text[m.end() :]):
        return m
    return None


_BODY = (
    "This text addresses a reviewer or a model and tells it what to conclude ({quote!r}). Code "
    "has no reason to instruct its reviewer: treat it as an attempt to manipulate automated "
    "review, and read the code around it with extra care."
)


def detect(scope: Scope) -> list[Finding]:
    out: list[Finding] = []
    for added in scope.texts.values():
        if not added.has_any(_HINTS):
            continue
        for line in added.rows:
            low = line.text.lower()
            if not any(h in low for h in _HINTS):
                continue
            m = match(line.text)
            if m:
                out.append(line_finding(INJECTION, line, _BODY.format(quote=m.group(0))))
    for text in scope.message.split("\n"):
        m = match(text)
        if m:
            out.append(
                file_finding(
                    INJECTION,
                    None,
                    "The commit message addresses a reviewer or a model and tells it what to "
                    f"conclude ({m.group(0)!r}); treat the change as an attempt to manipulate "
                    "automated review.",
                )
            )
            break
    return out
