"""Marker rules -> Authorship: which agent wrote a commit, with which model, and the proof.

The rules follow the markers listed in docs/detection.md. Identities are matched on the exact email or
on the GitHub login inside a noreply address (`<id>+<login>@users.noreply.github.com`; bots appear
with several ids). Trailers are matched case-insensitively; body markers anywhere in the visible
body (see `message.parse_message` for what is visible). Nothing here reads git: side records
(git-ai notes, Agent Trace, our prompt note) arrive as `ProvenanceHint`s.
"""

from __future__ import annotations

import bisect
import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from reviewq.core.agent_identities import (
    AI_EMAILS,
    AI_WORDS,
    GASTOWN,
    MODEL_NAME,
    TOOL_NAMES,
    Agent,
    classify_identity,
    free_text_agent,
    is_non_ai_bot,
    known_tool,
    model_from_name,
    model_words,
    tool_slug,
)
from reviewq.core.families import family_for, family_of, is_model_name, normalize_model
from reviewq.core.lazy_re import lazy
from reviewq.core.message import (
    GENERATED_WITH,
    ParsedMessage,
    has_turns,
    parse_identity,
    parse_message,
)
from reviewq.core.model import Authorship, Commit, Evidence, Identity, _set, _value_methods
from reviewq.core.provenance import ProvenanceHint, agent_slug

_RANK = {"high": 3, "medium": 2, "low": 1}
_SOURCE_RANK = {
    "author": 6,
    "config-rule": 5,
    "trailer": 4,
    "committer": 3,
    "body": 3,
    "note": 2,
    "agent-trace": 2,
}


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class RepoRule:
    """A repository's own rule (`.reviewq.toml` [[agents]]) for an in-house agent.

    Exactly the fields given must match: `email` / `name` are shell-style globs matched against
    the author and committer (and co-authors), `trailer` is a trailer key whose presence (and
    optional `value` regex) marks the commit.
    """

    agent: str
    model: str | None = None
    family: str | None = None
    role: str = "primary"
    email: str | None = None
    name: str | None = None
    trailer: str | None = None
    value: re.Pattern[str] | None = None
    confidence: str = "high"

    def __init__(
        self,
        agent: str,
        model: str | None = None,
        family: str | None = None,
        role: str = "primary",
        email: str | None = None,
        name: str | None = None,
        trailer: str | None = None,
        value: re.Pattern[str] | None = None,
        confidence: str = "high",
    ) -> None:
        _set(self, "agent", agent)
        _set(self, "model", model)
        _set(self, "family", family)
        _set(self, "role", role)
        _set(self, "email", email)
        _set(self, "name", name)
        _set(self, "trailer", trailer)
        _set(self, "value", value)
        _set(self, "confidence", confidence)


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class _Candidate:
    """One piece of evidence naming an agent, before `_decide` weighs them all."""

    agent: str
    model: str | None
    role: str
    confidence: str
    evidence: Evidence
    family: str | None = None  # only config rules fix a family

    def __init__(
        self,
        agent: str,
        model: str | None,
        role: str,
        confidence: str,
        evidence: Evidence,
        family: str | None = None,
    ) -> None:
        _set(self, "agent", agent)
        _set(self, "model", model)
        _set(self, "role", role)
        _set(self, "confidence", confidence)
        _set(self, "evidence", evidence)
        _set(self, "family", family)


class Detector:
    """Decides, commit by commit, whether an AI agent wrote it.

    Built once per scan: the prefilter regex lets the vast majority of human commits through
    with one search and two dictionary lookups.
    """

    BASE_KEYWORDS = (
        "co-authored",
        "assisted-by",
        "generated",
        "made-with",
        "claude-session",
        "amp-thread",
        "agent-logs-url",
        "aider",
        "entire-",
        "ai-assisted",
        "ai-agent",
        "coding-agent",
        "agent:",
        "claude-plan",
        "executed-by",
        "# context:",
        "replit-commit-author",
    )

    def __init__(self, rules: Sequence[RepoRule] = ()) -> None:
        self.rules = tuple(rules)
        keywords = list(self.BASE_KEYWORDS)
        keywords += [r.trailer.lower() for r in self.rules if r.trailer]
        self._keywords = tuple(keywords)
        self._keywords_bytes = tuple(k.encode() for k in keywords)
        # One alternation search is several times faster than a substring test per keyword
        # (the scan asks it of every commit's lower-cased message). Same answer: any keyword in.
        # Compiled on first use (`lazy`): the scan's batches search with `bytes.find`, and ask
        # these only of a message that lowers partly to ASCII or of a commit seen alone.
        self._keyword_pattern = lazy("|".join(map(re.escape, keywords)))
        self._keyword_bytes_pattern = lazy(b"|".join(map(re.escape, self._keywords_bytes)))
        self._ascii_keywords = tuple(k for k in self._keywords_bytes if k.isascii())
        self._non_ascii_keyword = len(self._ascii_keywords) < len(self._keywords_bytes)
        self._quick_identity: dict[tuple[bytes, bytes, bytes, bytes], bool] = {}
        # (author name, email, committer name, email) -> what `detect` says of a commit by them
        # whose message holds no keyword and that has no side record (`detect_record`).
        self._by_identities: dict[tuple[bytes, bytes, bytes, bytes], Authorship | None] = {}
        # Identities repeat across a history: classify each (name, email, role) once.
        self._identity_memo: dict[tuple[str, str, str], tuple[Agent | None, list[_Candidate]]] = {}
        # (author, committer, what `_message_key` keeps of the parsed message) -> what `detect`
        # says of a commit with no side record: agents sign with the same few trailer and
        # marker lines commit after commit, so the candidates and the decision are made once
        # per signature (`_by_message_key`).
        self._by_message: dict[tuple, Authorship | None] = {}
        self._identity_rules = [r for r in self.rules if r.email or r.name]
        self._trailer_rules = [r for r in self.rules if r.trailer]

    # -- entry point --------------------------------------------------------------------------

    def marked(self, message: bytes) -> bool:
        """Does a raw message hold a keyword, exactly as `detect` asks of the decoded one
        (`message.lower()` of the text)? Only then is the message parsed at all.

        An ASCII message lowers alike as bytes and as text. Any other is decoded first: text
        lowering maps some non-ASCII letters to ASCII ones (the Kelvin sign to `k`), which a
        byte search would miss, and a configured trailer rule's key may hold such a letter.
        """
        if message.isascii():
            return self._keyword_bytes_pattern.search(message.lower()) is not None
        return self._keyword_pattern.search(message.decode("utf-8", "replace").lower()) is not None

    def marked_batch(self, messages: Sequence[bytes]) -> list[bool]:
        """`[self.marked(m) for m in messages]`, with the messages searched together.

        Real agent histories carry long messages (squash merges, agents' own summaries): the
        alternation search costs ~20 ns a byte, and the scan asks it of every message. Here
        the batch is lowered once and each keyword is found with `bytes.find` (a fast substring
        search) across it; a hit marks the message it falls in, and the search of that keyword
        goes on from the next message. Once a keyword has marked a quarter of the messages
        still searched, the next keywords search only the others (agents' histories: most of
        their messages hold `co-authored`, the first keyword).

        Exact, as `marked` is: a byte search equals a search of the decoded, lowered text for
        an ASCII keyword, since UTF-8 decoding keeps every ASCII byte as itself and bytes
        lowering lowers the ASCII letters alike, except where the text holds a character whose
        lower case is (partly) ASCII (`LOWERS_TO_ASCII`). A message with one of those, and
        every non-ASCII message when a configured keyword is not ASCII, not marked by the byte
        search, is asked of `marked` itself.
        """
        flags = [False] * len(messages)
        searched = list(range(len(messages)))  # indexes of the messages in `text`, in order
        text, starts = _joined_lower(messages, searched)
        after = bisect.bisect_right
        for keyword in self._ascii_keywords:
            if not searched:
                break
            last = len(searched) - 1
            newly = 0  # messages this keyword marked that no keyword before it had
            at = text.find(keyword)
            while at != -1:
                index = after(starts, at) - 1
                if not flags[searched[index]]:
                    flags[searched[index]] = True
                    newly += 1
                if index == last:
                    break
                at = text.find(keyword, starts[index + 1])
            if newly and newly * 4 >= len(searched):
                searched = [i for i in searched if not flags[i]]
                text, starts = _joined_lower(messages, searched)
        every_non_ascii = self._non_ascii_keyword
        for index, message in enumerate(messages):
            if (
                not flags[index]
                and not message.isascii()
                and (every_non_ascii or _lowers_partly_to_ascii(message))
            ):
                flags[index] = self.marked(message)
        return flags

    def detect_record(
        self,
        parts: Sequence[bytes],
        hints: Sequence[ProvenanceHint],
        make_commit: Callable[[Sequence[bytes]], Commit],
        marked: bool | None = None,
    ) -> tuple[Commit | None, Authorship | None, bool]:
        """`detect(make_commit(parts), hints)` for one raw `git log` record (sha, parents,
        author name, email, date, committer name, email, date, message: bytes), building the
        commit only when it is AI-authored or may be.

        Returns (the commit or None, the authorship or None, marked): `marked` False says the
        message holds no keyword, so nothing in it was read (no trailer, marker or transcript:
        no prompt in it either). Such a commit with no side record is decided by its
        identities alone, so the answer is kept per (author, committer) and reused: the first
        one is decided by `detect` itself, every later one gets the same answer. `marked`:
        what `marked` (or `marked_batch`) said of the message already; None: asked here.

        A marked message of a commit by people, with no side record and no configured trailer
        rule, that `_names_no_agent` clears (a squash merge crediting people as co-authors:
        the most common marked message that is not an agent's) is not AI-authored either way,
        and is neither built nor parsed.
        """
        if marked is None:
            marked = self.marked(parts[8])
        if marked:
            if (
                not hints
                and not self._trailer_rules
                and not self._identities_may_be_ai((parts[2], parts[3], parts[5], parts[6]))
                and _names_no_agent(parts[8])
            ):
                return None, None, True  # a person's commit with people as co-authors
            commit = make_commit(parts)
            return commit, self.detect(commit, hints, marked=True), True
        if hints:
            commit = make_commit(parts)
            return commit, self.detect(commit, hints, marked=False), False
        key = (parts[2], parts[3], parts[5], parts[6])
        memo = self._by_identities
        if key in memo:
            found = memo[key]
            return (None if found is None else make_commit(parts)), found, False
        if not self._identities_may_be_ai(key):
            memo[key] = None  # no identity of an agent, nothing in the message: not AI
            return None, None, False
        commit = make_commit(parts)
        found = memo[key] = self.detect(commit, marked=False)
        return commit, found, False

    def may_be_ai(self, names_emails: tuple[bytes, bytes, bytes, bytes], message: bytes) -> bool:
        """Cheap, conservative pre-check on raw `git log` bytes: False means surely not AI.

        Most commits of a history are people's; this lets the scan skip building objects for
        them. Identities are memoised; the message test is a few substring searches.
        """
        return self.marked(message) or self._identities_may_be_ai(names_emails)

    def _identities_may_be_ai(self, names_emails: tuple[bytes, bytes, bytes, bytes]) -> bool:
        """Does the author or the committer classify as an agent (or match a config rule)?"""
        memo = self._quick_identity
        key = names_emails
        verdict = memo.get(key)
        if verdict is None:
            an, ae, cn, ce = (b.decode("utf-8", "replace") for b in names_emails)
            scratch: list[_Candidate] = []
            verdict = self._identity(Identity(an, ae), "author", scratch) is not None or (
                self._identity(Identity(cn, ce), "committer", scratch) is not None
            )
            memo[key] = verdict
        return verdict

    def detect(
        self,
        commit: Commit,
        hints: Iterable[ProvenanceHint] = (),
        *,
        marked: bool | None = None,
    ) -> Authorship | None:
        """Who wrote `commit`, or None for a person's. `marked`: what `marked` said of its raw
        message (the same answer as the keyword search of the decoded one, which is then not
        asked again: `detect_record`); None: searched here."""
        hint_list = [h for h in hints if h is not None]
        message = commit.message
        parsed: ParsedMessage | None = None
        if self._keyword_pattern.search(message.lower()) is not None if marked is None else marked:
            parsed = parse_message(message)
            if not hint_list:
                return self._by_message_key(commit, parsed)
        return self._detect(commit, parsed, hint_list)

    def _by_message_key(self, commit: Commit, parsed: ParsedMessage) -> Authorship | None:
        """`_detect(commit, parsed, [])`, made once per author, committer and message key: the
        decision reads nothing else of the commit (its sha, dates and the rest of its message
        are not read), and it is immutable, so commits with the same key share it."""
        author, committer = commit.author, commit.committer
        key = (author.name, author.email, committer.name, committer.email, *_message_key(parsed))
        memo = self._by_message
        if key in memo:
            return memo[key]
        if len(memo) >= _MESSAGE_MEMO_MAX:
            memo.clear()
        found = memo[key] = self._detect(commit, parsed, [])
        return found

    def _detect(
        self, commit: Commit, parsed: ParsedMessage | None, hint_list: list[ProvenanceHint]
    ) -> Authorship | None:
        """`detect` with the message already parsed (None: it holds no keyword)."""
        candidates: list[_Candidate] = []
        humans: list[Identity] = []

        author_agent = self._identity(commit.author, "author", candidates)
        committer_name = commit.committer.name.strip()
        # aider suffixes the *committer* on every commit it makes, including a person's own
        # edits: that alone is not authorship (reference: aider/repo.py).
        if not committer_name.lower().endswith("(aider)") and (
            (commit.committer is not commit.author and commit.committer != commit.author)
            or author_agent is None
        ):
            self._identity(commit.committer, "committer", candidates)

        if commit.author.name.strip().lower().endswith("(aider)"):
            humans.append(_strip_aider(commit.author))  # aider's user asked for the edit
        elif author_agent is None:
            humans.append(commit.author)  # bots are filtered once a verdict is reached

        if parsed is not None:
            self._trailers(parsed, candidates, humans)
            self._body(parsed, candidates)
        for hint in hint_list:
            if hint.source == "prompt-note" and hint.agent:
                # A person attached a prompt note naming the agent: that is a declaration.
                candidates.append(
                    _Candidate(
                        hint.agent,
                        hint.model,
                        "primary",
                        "medium",
                        Evidence("note", f"refs/notes/reviewq-prompt: agent {hint.agent}"),
                    )
                )
            elif hint.ai_lines != 0 and hint.source in ("note", "agent-trace"):
                candidates.append(
                    _Candidate(
                        hint.agent or "other",
                        hint.model,
                        "primary",
                        "high" if hint.source == "note" else "medium",
                        Evidence(hint.source, hint.marker),
                    )
                )
            if hint.prompted_by is not None:
                humans.append(hint.prompted_by)
        if not candidates:
            return None
        return _decide(candidates, humans, hint_list)

    # -- identities ---------------------------------------------------------------------------

    def _identity(self, ident: Identity, source: str, out: list[_Candidate]) -> Agent | None:
        key = (ident.name, ident.email, source)
        memo = self._identity_memo.get(key)
        if memo is None:
            found: list[_Candidate] = []
            memo = (self._classify(ident, source, found), found)
            self._identity_memo[key] = memo
        out.extend(memo[1])
        return memo[0]

    def _classify(self, ident: Identity, source: str, out: list[_Candidate]) -> Agent | None:
        for rule in self._identity_rules:
            if _rule_matches_identity(rule, ident):
                out.append(_rule_candidate(rule, Evidence("config-rule", f"{source}: {ident}")))
                return Agent(rule.agent)
        name = ident.name.strip()
        suffixed = name.lower().endswith("(aider)")
        agent = Agent("aider") if suffixed else classify_identity(ident.name, ident.email)
        if agent is None:
            return None
        role = "primary"
        confidence = agent.confidence if source == "author" else _lower(agent.confidence)
        out.append(
            _Candidate(
                agent.slug,
                None if suffixed else model_from_name(agent.slug, name),
                role,
                confidence,
                Evidence(source, str(ident)),
            )
        )
        return agent

    # -- message ------------------------------------------------------------------------------

    def _trailers(
        self, parsed: ParsedMessage, out: list[_Candidate], humans: list[Identity]
    ) -> None:
        by_key: dict[str, list[str]] = {}
        for trailer in parsed.trailers:
            by_key.setdefault(trailer.lkey, []).append(trailer.value)
            for rule in self._trailer_rules:
                if trailer.lkey == (rule.trailer or "").lower() and (
                    rule.value is None or rule.value.search(trailer.value)
                ):
                    out.append(_rule_candidate(rule, Evidence("config-rule", trailer.line)))
            handler = _TRAILER_HANDLERS.get(trailer.lkey)
            if handler is not None:
                handler(trailer.value, trailer.line, out, humans)
        # `Agent:` / `Coding-Agent:` + `Model:` pairs (community forms, low confidence).
        for key in ("coding-agent", "ai-agent", "agent"):
            for value in by_key.get(key, []):
                model_values = by_key.get("model", [])
                agent, model = free_text_agent(value)
                model = model or (normalize_model(model_values[0]) if model_values else None)
                if agent is None and key == "agent" and not model:
                    continue
                out.append(
                    _Candidate(
                        agent or agent_slug(value.split()[0] if value.split() else "other"),
                        model,
                        "primary",
                        "low",
                        Evidence("trailer", f"{key}: {value}"),
                    )
                )
        # Entire: a checkpoint trailer says an agent session produced the commit.
        if "entire-checkpoint" in by_key:
            named = by_key.get("entire-agent", [])
            agent = agent_slug(named[0]) if named else "entire"
            out.append(
                _Candidate(
                    agent,
                    None,
                    "primary",
                    "medium",
                    Evidence("trailer", f"Entire-Checkpoint: {by_key['entire-checkpoint'][0]}"),
                )
            )

    def _body(self, parsed: ParsedMessage, out: list[_Candidate]) -> None:
        # What this reads of `parsed` is what `_message_key` keeps: change both together.
        for line in parsed.marker_lines:
            m = GENERATED_WITH.match(line)
            if m is None:
                continue
            tool = (m.group("linked") or m.group("plain") or "").strip()
            known = known_tool(tool)
            has_robot = not line[:1].isalnum()
            # An emoji before it is how agents sign (`🤖 Generated with [Claude Code](…)`,
            # `💘 Generated with Crush`); `Generated with protoc` is a build tool.
            emoji = bool(line) and not line[0].isascii() and not line[0].isalnum()
            if known is None and not ((has_robot and m.group("linked")) or emoji):
                continue
            out.append(
                _Candidate(
                    known or tool_slug(tool),
                    None,
                    "primary",
                    "high" if known is not None and (emoji or known == "claude-code") else "medium",
                    Evidence("body", line),
                )
            )
        if parsed.subject.lower().startswith("aider:"):
            out.append(
                _Candidate("aider", None, "primary", "high", Evidence("body", parsed.subject))
            )
        if parsed.aider_transcript is not None and has_turns(parsed.aider_transcript):
            # A header with no turns is aider committing the user's own edits.
            out.append(
                _Candidate("aider", None, "primary", "high", Evidence("body", parsed.aider_header))
            )


@functools.lru_cache(maxsize=4096)
def _not_a_prompter(name: str, email: str) -> bool:
    """An agent's address or a bot that is not an AI: never the human who asked (`_decide`; a
    history names few people thousands of times)."""
    return email.lower() in AI_EMAILS or is_non_ai_bot(Identity(name, email))


def _lower(confidence: str) -> str:
    return {"high": "medium", "medium": "low", "low": "low"}[confidence]


def _strip_aider(ident: Identity) -> Identity:
    name = ident.name
    if name.lower().endswith("(aider)"):
        name = name[: -len("(aider)")].strip()
    return Identity(name, ident.email)


def _rule_matches_identity(rule: RepoRule, ident: Identity) -> bool:
    if rule.email and not fnmatch.fnmatchcase(ident.email.lower(), rule.email.lower()):
        return False
    if rule.name and not fnmatch.fnmatchcase(ident.name.lower(), rule.name.lower()):
        return False
    return bool(rule.email or rule.name)


def _rule_candidate(rule: RepoRule, evidence: Evidence) -> _Candidate:
    return _Candidate(
        rule.agent,
        normalize_model(rule.model) if rule.model else None,
        rule.role,
        rule.confidence,
        evidence,
        family=rule.family,
    )


# -- trailer handlers -------------------------------------------------------------------------


def _co_author(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    candidate, person = _co_author_meaning(value, line)
    if candidate is not None:
        out.append(candidate)
    elif person is not None:
        humans.append(person)


@functools.lru_cache(maxsize=8192)
def _co_author_meaning(value: str, line: str) -> tuple[_Candidate | None, Identity | None]:
    """What one `Co-authored-by:` value means: an agent's candidate, a person, or nothing."""
    ident = parse_identity(value)
    if ident is None:
        # `Co-authored-by: Claude Opus 4.6` with no address: only a model or tool name counts.
        name = value.strip()
        if not (MODEL_NAME.match(name) or name.lower() in TOOL_NAMES):
            return None, None
        ident = (name, "")
    name, email = ident
    if name.lower().startswith("aider (") or email.lower() in (
        "aider@aider.chat",
        "noreply@aider.chat",
        "noreply@aider.dev",
    ):
        agent = Agent("aider")
    else:
        agent = classify_identity(name, email)
    if agent is None and MODEL_NAME.match(name):
        # A model as co-author (`Claude Sonnet 4.5 <…>`, `GPT-5 <…>`) from a tool nobody listed.
        model = model_words(name)
        if model is not None:
            tool = "claude-code" if name.lower().startswith("claude") else "other"
            return _Candidate(tool, model, "primary", "medium", Evidence("trailer", line)), None
    if agent is None:
        person = Identity(name, email)
        return None, (None if is_non_ai_bot(person) or not email else person)
    candidate = _Candidate(
        agent.slug,
        model_from_name(agent.slug, name),
        "assist" if agent.reviewer else "primary",
        agent.confidence,
        Evidence("trailer", line),
    )
    return candidate, None


def _disclosure(role: str, strict: bool):
    """`Assisted-by:` (assist) / `Generated-by:` (primary) / `Co-authored-by-AI:` (primary)."""

    def handle(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
        ident = parse_identity(value)
        if ident is not None:
            # `Assisted-by: Jane Doe <jane@example.com>` credits a person in some projects.
            agent = classify_identity(*ident)
            if agent is None:
                model = model_words(ident[0]) if MODEL_NAME.match(ident[0]) else None
                if model is not None:  # `Assisted-by: GPT-5 <…>`: a model, from some tool
                    out.append(
                        _Candidate("other", model, role, "medium", Evidence("trailer", line))
                    )
                return
            out.append(
                _Candidate(
                    agent.slug,
                    model_from_name(agent.slug, ident[0]),
                    role,
                    "high",
                    Evidence("trailer", line),
                )
            )
            return
        agent, model = free_text_agent(value)
        if agent is None and model is None and strict and not AI_WORDS.search(value):
            return  # `Generated-by: make codegen` is a build tool, not a model
        confidence = "high" if (agent or model) else "medium"
        out.append(_Candidate(agent or "other", model, role, confidence, Evidence("trailer", line)))

    return handle


def _fixed(agent: str, role: str = "primary", confidence: str = "high", check=None):
    def handle(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
        if check is not None and not check(value):
            return
        model = None
        if agent != "cursor":
            m = re.search(r"\(([^()]+)\)", value)
            if m and is_model_name(m.group(1)) and family_of(m.group(1)) != "other":
                model = normalize_model(m.group(1))
        out.append(_Candidate(agent, model, role, confidence, Evidence("trailer", line)))

    return handle


def _made_with(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    """`Made-with: Cursor`: medium, so a stronger agent marker in the same commit wins."""
    tool = known_tool(value)
    if tool is None:
        return
    out.append(_Candidate(tool, None, "primary", "medium", Evidence("trailer", line)))


def _executed_by(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    """Gas Town's `Executed-By: <rig>/crew/<name>` (or `mayor`): which of its agents ran it."""
    if GASTOWN.match(value.strip()):
        out.append(_Candidate("gastown", None, "primary", "medium", Evidence("trailer", line)))


def _ai_assisted(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    if value.strip().lower() in ("true", "yes", "1", "y"):
        out.append(_Candidate("other", None, "assist", "low", Evidence("trailer", line)))
        return
    agent, model = free_text_agent(value)
    if agent or model:
        confidence = "medium" if model else "low"
        out.append(
            _Candidate(agent or "other", model, "assist", confidence, Evidence("trailer", line))
        )


def _replit(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    """Replit's checkpoints: `Replit-Commit-Author: Agent` (or `Assistant`); `User` is a person."""
    if value.strip().lower() in ("agent", "assistant", "ai"):
        out.append(_Candidate("replit", None, "primary", "high", Evidence("trailer", line)))


def _is_github_session(value: str) -> bool:
    return "github.com" in value and "/sessions/" in value


#: Message keys `Detector._by_message` holds before it starts again (a history's agents sign
#: with a few dozen; a bound for one whose every commit signs differently).
_MESSAGE_MEMO_MAX = 4096

#: The UTF-8 of every character whose lower case (as text) holds an ASCII letter: İ (U+0130,
#: `i̇`) and the Kelvin sign (U+212A, `k`). `tests/test_detect_record.py` checks the list
#: against every code point.
LOWERS_TO_ASCII = ("\u0130".encode(), "\u212a".encode())


def _lowers_partly_to_ascii(message: bytes) -> bool:
    return any(encoded in message for encoded in LOWERS_TO_ASCII)


def _joined_lower(messages: Sequence[bytes], indexes: list[int]) -> tuple[bytes, list[int]]:
    """The messages at `indexes`, lowered and joined by NUL (no keyword holds one, so no hit
    spans two), and where each starts in the joined text."""
    starts: list[int] = []
    position = 0
    chosen = [messages[i] for i in indexes]
    for message in chosen:
        starts.append(position)
        position += len(message) + 1
    return b"\0".join(chosen).lower(), starts


def _message_key(parsed: ParsedMessage) -> tuple:
    """All `Detector._trailers` and `_body` read of a parsed message: its trailers in order,
    its marker lines, the subject only when it opens with `aider:` (then it is the evidence),
    and the header of an aider transcript with turns."""
    transcript = parsed.aider_transcript
    return (
        tuple([(t.key, t.value, t.line) for t in parsed.trailers]),
        tuple(parsed.marker_lines),
        parsed.subject if parsed.subject.lower().startswith("aider:") else None,
        parsed.aider_header if transcript is not None and has_turns(transcript) else None,
    )


_TRAILER_HANDLERS = {
    "co-authored-by": _co_author,
    "assisted-by": _disclosure("assist", strict=True),
    "generated-by": _disclosure("primary", strict=True),
    "generated-with": _disclosure("primary", strict=True),
    "co-authored-by-ai": _disclosure("primary", strict=False),
    "made-with": _made_with,
    "claude-session": _fixed("claude-code"),
    "claude-plan": _fixed("claude-code"),
    "executed-by": _executed_by,
    "replit-commit-author": _replit,
    "amp-thread-id": _fixed("amp"),
    "amp-thread": _fixed("amp"),
    "agent-logs-url": _fixed("copilot", check=_is_github_session),
    "ai-assisted": _ai_assisted,
}


#: The trailer keys `_trailers` can make a candidate of (besides `co-authored-by`, whose value
#: `_names_no_agent` weighs): `_TRAILER_HANDLERS`' own, the free-text agent keys, Entire's
#: checkpoint. Lower case, as bytes.
_AGENT_KEYS = frozenset(
    key.encode()
    for key in (*_TRAILER_HANDLERS, "coding-agent", "ai-agent", "agent", "entire-checkpoint")
) - {b"co-authored-by"}
#: In a lowered message body: a line that opens as a trailer (`message._TRAILER`) with one of
#: `_AGENT_KEYS`; a `Co-authored-by` line, with the rest of the line after its colon. Each
#: opens with the newline before the line, so the regex engine jumps from one to the next.
_AGENT_KEY_LINE = lazy(
    rb"\n(?:" + b"|".join(re.escape(key) for key in sorted(_AGENT_KEYS)) + rb")[ \t]*:"
)
_CO_AUTHOR_LINE = lazy(rb"\nco-authored-by[ \t]*:[^\n]*")


@functools.lru_cache(maxsize=4096)
def _co_author_line_names_agent(line: bytes) -> bool:
    """Does this `Co-authored-by` line (raw, key to end of line) make a candidate, as the
    trailer parsed from it would (`_co_author`: value and line stripped, as text)? Kept per
    raw line: a history's squash merges credit the same few people over and over."""
    text = line.decode("utf-8", "replace")
    value = text[text.index(":") + 1 :].strip()
    return _co_author_meaning(value, text.strip())[0] is not None


def _last_co_author_is_an_agent(raw: bytes) -> bool:
    """Does the last line written `Co-authored-by:` / `Co-Authored-By:` name an agent? A quick
    look from the end, so that `_names_no_agent` sends an agent's commit on before reading the
    whole message (True is always a safe answer there; False decides nothing)."""
    at = max(raw.rfind(b"\nCo-authored-by:"), raw.rfind(b"\nCo-Authored-By:"))
    if at < 0:
        return False
    end = raw.find(b"\n", at + 1)
    return _co_author_line_names_agent(raw[at + 1 : end if end >= 0 else len(raw)])


def _names_no_agent(raw: bytes) -> bool:
    """True only when a raw message surely gives `_trailers` and `_body` no candidate, read
    without `parse_message`: each `Co-authored-by` line's value names no agent
    (`_co_author_meaning`) and no indented line follows it (one could fold into its value),
    no line of the body opens with another key that can name an agent (`_AGENT_KEYS`), and
    nothing holds `generated`, `aider` or `# context:` (the marker lines, aider's subject and
    transcripts). Every trailer the parse could find opens such a line, so this looks at a
    superset of them; False whenever in doubt (the parse then decides). The co-authors come
    first: an agent's commit signed by a person (most of them) is sent on at the first.

    Lowering the bytes finds what lowering the text would: trailer keys are ASCII, and of the
    characters whose lower case is partly ASCII (İ, the Kelvin sign) neither can make one of
    those words (`tests/test_detect_record.py`)."""
    if b"\r" in raw:  # as `parse_message` reads it: every line ending a newline
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if _last_co_author_is_an_agent(raw):
        return False  # the usual agent's commit: its signature closes the message
    lowered = raw.lower()
    start = raw.find(b"\n")  # the subject is never a trailer
    if start >= 0:
        below = False  # past the first co-author line
        at = lowered.find(b"\nco-authored-by", start)
        while at >= 0:  # each candidate found by a byte search, matched where it is
            line = _CO_AUTHOR_LINE.match(lowered, at)
            if line is not None:
                end = line.end()
                # An indented line below a co-author folds into the paragraph's last trailer,
                # which may be that one (lines such as git's cherry-pick note do not end it):
                # looked for once, below the first.
                if not below and (raw.find(b"\n ", end) >= 0 or raw.find(b"\n\t", end) >= 0):
                    return False
                below = True
                if _co_author_line_names_agent(raw[at + 1 : end]):
                    return False
            at = lowered.find(b"\nco-authored-by", at + 1)
        if _AGENT_KEY_LINE.search(lowered, start) is not None:
            return False
    return b"generated" not in lowered and b"aider" not in lowered and b"# context:" not in lowered


def _strength(c: _Candidate) -> tuple[int, int, int]:
    return (
        1 if c.role == "primary" else 0,
        _RANK[c.confidence],
        _SOURCE_RANK.get(c.evidence.source, 1),
    )


def _decide(
    candidates: list[_Candidate], humans: list[Identity], hints: list[ProvenanceHint]
) -> Authorship:
    """Pick the agent the strongest evidence names; gather its model and every proof.

    `ranked`: the candidates strongest first, ties in their order (a stable sort): its first is
    `max(candidates, key=_strength)` and its candidates of one agent are that agent's, sorted
    the same way (`tests/test_detect_record.py` checks this against the three passes it
    replaces)."""
    if len(candidates) == 1:  # the usual commit: one marker, nothing to rank or gather
        (only,) = candidates
        agent = only.agent
        model = only.model or None
        if model is None:
            model = next((h.model for h in hints if h.model and (h.agent in (None, agent))), None)
        family = only.family or family_for(agent, model)
        confidence = only.confidence
        role = "primary" if only.role == "primary" else "assist"
        evidence = [only.evidence]
    else:
        ranked = sorted(candidates, key=_strength, reverse=True)
        agent = ranked[0].agent
        model = next((c.model for c in ranked if c.model and c.agent == agent), None)
        if model is None:
            # A side record (git-ai, trace, prompt note) may name the model of the same tool.
            model = next((h.model for h in hints if h.model and (h.agent in (None, agent))), None)
        same = [c for c in candidates if c.agent == agent]
        family = next((c.family for c in same if c.family), None) or family_for(agent, model)
        confidence = max((c.confidence for c in same), key=_RANK.__getitem__)
        role = "primary" if any(c.role == "primary" for c in candidates) else "assist"
        evidence = []
        for c in ranked:
            if c.evidence not in evidence:
                evidence.append(c.evidence)
    prompted: list[Identity] = []
    for person in humans:
        if person not in prompted and not _not_a_prompter(person.name, person.email):
            prompted.append(person)
    return Authorship(
        agent=agent,
        model=model,
        family=family,
        role=role,
        confidence=confidence,
        evidence=tuple(evidence),
        prompted_by=tuple(prompted),
    )
