"""Marker rules -> Authorship: which agent wrote a commit, with which model, and the proof.

The rules follow ../shared/reference/ai-markers.md. Identities are matched on the exact email or
on the GitHub login inside a noreply address (`<id>+<login>@users.noreply.github.com`; bots appear
with several ids). Trailers are matched case-insensitively; body markers anywhere in the visible
body (see `message.parse_message` for what is visible). Nothing here reads git: side records
(git-ai notes, Agent Trace, our prompt note) arrive as `ProvenanceHint`s.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reviewq.core.families import family_for, family_of, is_model_name, normalize_model
from reviewq.core.message import GENERATED_WITH, ParsedMessage, parse_identity, parse_message
from reviewq.core.model import Authorship, Commit, Evidence, Identity
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


@dataclass(frozen=True, slots=True)
class Agent:
    """What an identity or marker stands for."""

    slug: str
    confidence: str = "high"
    #: Review bots whose suggestions land as co-authors: their help is `assist`, not authorship.
    reviewer: bool = False


# Exact e-mail addresses (lower case).
AI_EMAILS: dict[str, Agent] = {
    "noreply@anthropic.com": Agent("claude-code"),
    "noreply@openai.com": Agent("codex"),
    "cursoragent@cursor.com": Agent("cursor"),
    "aider@aider.chat": Agent("aider"),
    "noreply@aider.chat": Agent("aider"),
    "noreply@aider.dev": Agent("aider"),
    "amp@ampcode.com": Agent("amp"),
    "openhands@all-hands.dev": Agent("openhands"),
    "qwen-coder@alibabacloud.com": Agent("qwen-code"),
    "roomote@roocode.com": Agent("roo-code"),
    "noreply@opencode.ai": Agent("opencode", "medium"),
    "noreply@codeium.com": Agent("windsurf", "medium"),
    "noreply@windsurf.com": Agent("windsurf", "medium"),
    "noreply@cline.bot": Agent("cline", "medium"),
    "gemini-cli-agent@google.com": Agent("gemini-cli", "medium"),
    "help@firebender.com": Agent("firebender", "medium"),
    "copilot@github.com": Agent("copilot", "medium", reviewer=True),
}

# GitHub logins (lower case) as they appear in noreply addresses or as names.
AI_LOGINS: dict[str, Agent] = {
    "claude[bot]": Agent("claude-code"),
    "claude-code[bot]": Agent("claude-code"),
    "copilot-swe-agent[bot]": Agent("copilot"),
    "devin-ai-integration[bot]": Agent("devin"),
    "google-labs-jules[bot]": Agent("jules"),
    "chatgpt-codex-connector[bot]": Agent("codex"),
    "cursor[bot]": Agent("cursor", "medium"),
    "cursoragent": Agent("cursor"),
    "gemini-cli": Agent("gemini-cli", "medium"),
    "gemini-cli[bot]": Agent("gemini-cli", "medium"),
    "amazon-q-developer[bot]": Agent("amazon-q", "medium"),
    "cline-cloud[bot]": Agent("cline", "medium"),
    "sweep-ai[bot]": Agent("sweep", "medium"),
    "factory-droid[bot]": Agent("factory-droid", "medium"),
    "openhands-agent": Agent("openhands", "medium"),
    "gpt-engineer-app[bot]": Agent("lovable", "medium"),
    "lovable-dev[bot]": Agent("lovable", "medium"),
    "codegen-sh[bot]": Agent("codegen", "medium"),
    "codeflash-ai[bot]": Agent("codeflash", "medium"),
    # Review bots: a suggestion accepted into a person's commit.
    "gemini-code-assist[bot]": Agent("gemini-code-assist", "high", reviewer=True),
    "ellipsis-dev[bot]": Agent("ellipsis", "medium", reviewer=True),
    "greptile-apps[bot]": Agent("greptile", "medium", reviewer=True),
    "coderabbitai[bot]": Agent("coderabbit", "medium", reviewer=True),
    "sourcery-ai[bot]": Agent("sourcery", "medium", reviewer=True),
    "qodo-merge-pro[bot]": Agent("qodo", "medium", reviewer=True),
}

# GitHub's `Copilot` account writes for several products; the numeric id tells them apart.
COPILOT_IDS: dict[str, Agent] = {
    "198982749": Agent("copilot"),  # coding agent
    "223556219": Agent("copilot"),  # Copilot CLI
    "175728472": Agent("copilot", "high", reviewer=True),  # review suggestions, VS Code
}

# Automation that is not AI: its commits are never AI-authored on identity alone.
NON_AI_BOTS = frozenset(
    {
        "dependabot[bot]",
        "dependabot-preview[bot]",
        "renovate[bot]",
        "renovate-bot",
        "github-actions[bot]",
        "github-actions",
        "pre-commit-ci[bot]",
        "mergify[bot]",
        "release-please[bot]",
        "semantic-release-bot",
        "snyk-bot",
        "imgbot[bot]",
        "allcontributors[bot]",
        "greenkeeper[bot]",
        "web-flow",
        "github",
    }
)
NON_AI_EMAILS = frozenset(
    {"noreply@github.com", "support@github.com", "bot@renovateapp.com", "github-actions@github.com"}
)

_NOREPLY = re.compile(r"^(?:(\d+)\+)?([^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)

#: Tool names that may appear in free-text disclosure trailers (`Assisted-by:`, `Generated-by:`).
_TOOL_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), slug)
    for p, slug in (
        (r"\bclaude[ -]?code\b", "claude-code"),
        (r"\bgithub copilot\b|\bcopilot\b", "copilot"),
        (r"\bcursor\b", "cursor"),
        (r"\bcodex\b", "codex"),
        (r"\baider\b", "aider"),
        (r"\bgemini[ -]cli\b", "gemini-cli"),
        (r"\bjules\b", "jules"),
        (r"\bdevin\b", "devin"),
        (r"\bwindsurf\b", "windsurf"),
        (r"\bcline\b", "cline"),
        (r"\bopenhands\b", "openhands"),
        (r"\bopencode\b", "opencode"),
        (r"\bamp\b", "amp"),
        (r"\bqwen[ -]?code\b", "qwen-code"),
        (r"\bchatgpt", "chatgpt"),
        (r"\bclaude\b", "claude"),
        (r"\bgemini\b", "gemini"),
    )
)
_AI_WORDS = re.compile(
    r"\b(ai|llm|llms|gpt|chatgpt|claude|gemini|copilot|model|chatbot|genai|agent)\b", re.IGNORECASE
)
_MODEL_TOKEN = re.compile(r"[\w.:/-]*\d[\w.:/-]*")


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class _Candidate:
    agent: str
    model: str | None
    role: str
    confidence: str
    evidence: Evidence
    family: str | None = None  # only config rules fix a family


def _github_login(email: str) -> tuple[str | None, str | None]:
    m = _NOREPLY.match(email)
    if m is None:
        return None, None
    return m.group(1), m.group(2).lower()


@functools.lru_cache(maxsize=8192)
def classify_identity(name: str, email: str) -> Agent | None:
    """The AI agent an identity stands for, or None for people and non-AI automation."""
    lemail = email.strip().lower()
    if lemail in AI_EMAILS:
        return AI_EMAILS[lemail]
    uid, login = _github_login(lemail)
    if login is not None:
        if login == "copilot":
            return COPILOT_IDS.get(uid or "", Agent("copilot", "medium"))
        if login in AI_LOGINS:
            return AI_LOGINS[login]
    lname = name.strip().lower()
    if lname in AI_LOGINS and lname.endswith("[bot]"):
        return AI_LOGINS[lname]
    return None


@functools.lru_cache(maxsize=8192)
def is_non_ai_bot(identity: Identity) -> bool:
    lname = identity.name.strip().lower()
    lemail = identity.email.strip().lower()
    if lemail in NON_AI_EMAILS or lname in NON_AI_BOTS:
        return True
    _, login = _github_login(lemail)
    if login is not None and (login in NON_AI_BOTS or login.endswith("[bot]")):
        return classify_identity(identity.name, identity.email) is None
    return lname.endswith("[bot]") and classify_identity(identity.name, identity.email) is None


def _model_from_name(agent: str, name: str) -> str | None:
    """The model a co-author name carries: `Claude Opus 4.5`, `aider (gpt-4o)`, `X (model)`."""
    paren = re.search(r"\(([^()]+)\)\s*$", name)
    if agent == "claude-code":
        base = re.sub(r"\s*\([^)]*\)", "", name).strip()
        if base.lower() in ("claude", "claude code", "claude[bot]", "claude-code", ""):
            return None
        if base.lower().startswith("claude"):
            return normalize_model(base)
        return None
    if paren:
        inner = paren.group(1).strip()
        if (
            agent == "aider"
            or family_of(inner) not in ("other", "unknown")
            or any(ch.isdigit() for ch in inner)
        ):
            return normalize_model(inner)
    return None


def _free_text_agent(text: str) -> tuple[str | None, str | None]:
    """(agent, model) named in a free-text disclosure like `Claude:claude-3-opus sparse`."""
    value = text.strip()
    # Kernel form: AGENT_NAME:MODEL_VERSION [TOOL1] [TOOL2]
    kernel = re.match(r"^([A-Za-z][\w .-]*?):([\w.\-/]+)(?:\s+.*)?$", value)
    if kernel:
        agent = agent_slug(kernel.group(1))
        return (agent if agent != "llm" else "other"), normalize_model(kernel.group(2))
    paren = re.search(r"\(([^()]+)\)", value)
    model = None
    if paren and family_of(paren.group(1)) not in ("other", "unknown"):
        model = normalize_model(paren.group(1))
    agent = None
    for pattern, slug in _TOOL_WORDS:
        if pattern.search(value):
            agent = slug
            break
    if model is None:
        for token in _MODEL_TOKEN.findall(value):
            if family_of(token) not in ("other", "unknown"):
                model = normalize_model(token)
                break
        if model is None and agent in ("chatgpt", "claude", "gemini"):
            # `Assisted-by: ChatGPTv5` names a model by its product name.
            token = value.split()[0]
            model = normalize_model(token) if family_of(token) != "other" else None
    return agent, model


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
    )

    def __init__(self, rules: Sequence[RepoRule] = ()) -> None:
        self.rules = tuple(rules)
        keywords = list(self.BASE_KEYWORDS)
        keywords += [r.trailer.lower() for r in self.rules if r.trailer]
        self._keywords = tuple(keywords)
        self._keywords_bytes = tuple(k.encode() for k in keywords)
        self._quick_identity: dict[tuple[bytes, bytes, bytes, bytes], bool] = {}
        # Identities repeat across a history: classify each (name, email, role) once.
        self._identity_memo: dict[tuple[str, str, str], tuple[Agent | None, list[_Candidate]]] = {}
        self._identity_rules = [r for r in self.rules if r.email or r.name]
        self._trailer_rules = [r for r in self.rules if r.trailer]

    # -- entry point --------------------------------------------------------------------------

    def may_be_ai(self, names_emails: tuple[bytes, bytes, bytes, bytes], message: bytes) -> bool:
        """Cheap, conservative pre-check on raw `git log` bytes: False means surely not AI.

        Most commits of a history are people's; this lets the scan skip building objects for
        them. Identities are memoised; the message test is a few substring searches.
        """
        lowered = message.lower()
        if any(k in lowered for k in self._keywords_bytes):
            return True
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

    def detect(self, commit: Commit, hints: Iterable[ProvenanceHint] = ()) -> Authorship | None:
        candidates: list[_Candidate] = []
        humans: list[Identity] = []
        hint_list = [h for h in hints if h is not None]

        author_agent = self._identity(commit.author, "author", candidates)
        committer_name = commit.committer.name.strip()
        # aider suffixes the *committer* on every commit it makes, including a person's own
        # edits: that alone is not authorship (reference: aider/repo.py).
        if not committer_name.lower().endswith("(aider)") and (
            commit.committer != commit.author or author_agent is None
        ):
            self._identity(commit.committer, "committer", candidates)

        if commit.author.name.strip().lower().endswith("(aider)"):
            humans.append(_strip_aider(commit.author))  # aider's user asked for the edit
        elif author_agent is None:
            humans.append(commit.author)  # bots are filtered once a verdict is reached

        message = commit.message
        parsed: ParsedMessage | None = None
        lowered = message.lower()
        if any(k in lowered for k in self._keywords):
            parsed = parse_message(message)
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
                None if suffixed else _model_from_name(agent.slug, name),
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
                agent, model = _free_text_agent(value)
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
        for line in parsed.marker_lines:
            m = GENERATED_WITH.match(line)
            if m is None:
                continue
            tool = (m.group("linked") or m.group("plain") or "").strip()
            known = _known_tool(tool)
            has_robot = not line[:1].isalnum()
            if known is None and not (has_robot and m.group("linked")):
                continue  # `Generated with protoc` is not an AI agent
            out.append(
                _Candidate(
                    known or agent_slug(tool),
                    None,
                    "primary",
                    "high" if known == "claude-code" else "medium",
                    Evidence("body", line),
                )
            )
        if parsed.subject.lower().startswith("aider:"):
            out.append(
                _Candidate("aider", None, "primary", "high", Evidence("body", parsed.subject))
            )
        if parsed.aider_transcript is not None:
            out.append(
                _Candidate(
                    "aider", None, "primary", "high", Evidence("body", "# Aider chat conversation:")
                )
            )


def _known_tool(text: str) -> str | None:
    for pattern, slug in _TOOL_WORDS:
        if pattern.search(text):
            return "claude-code" if slug == "claude" else slug
    return None


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
        return None, None
    name, email = ident
    if name.lower().startswith("aider (") or email.lower() in (
        "aider@aider.chat",
        "noreply@aider.chat",
        "noreply@aider.dev",
    ):
        agent = Agent("aider")
    else:
        agent = classify_identity(name, email)
    if agent is None:
        person = Identity(name, email)
        return None, (None if is_non_ai_bot(person) else person)
    candidate = _Candidate(
        agent.slug,
        _model_from_name(agent.slug, name),
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
                return
            out.append(
                _Candidate(
                    agent.slug,
                    _model_from_name(agent.slug, ident[0]),
                    role,
                    "high",
                    Evidence("trailer", line),
                )
            )
            return
        agent, model = _free_text_agent(value)
        if agent is None and model is None and strict and not _AI_WORDS.search(value):
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
    tool = _known_tool(value)
    if tool is None:
        return
    out.append(_Candidate(tool, None, "primary", "high", Evidence("trailer", line)))


def _ai_assisted(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    if value.strip().lower() in ("true", "yes", "1", "y"):
        out.append(_Candidate("other", None, "assist", "low", Evidence("trailer", line)))
        return
    agent, model = _free_text_agent(value)
    if agent or model:
        out.append(_Candidate(agent or "other", model, "assist", "low", Evidence("trailer", line)))


def _is_github_session(value: str) -> bool:
    return "github.com" in value and "/sessions/" in value


_TRAILER_HANDLERS = {
    "co-authored-by": _co_author,
    "assisted-by": _disclosure("assist", strict=True),
    "generated-by": _disclosure("primary", strict=True),
    "generated-with": _disclosure("primary", strict=True),
    "co-authored-by-ai": _disclosure("primary", strict=False),
    "made-with": _made_with,
    "claude-session": _fixed("claude-code"),
    "amp-thread-id": _fixed("amp"),
    "amp-thread": _fixed("amp"),
    "agent-logs-url": _fixed("copilot", check=_is_github_session),
    "ai-assisted": _ai_assisted,
}


def _decide(
    candidates: list[_Candidate], humans: list[Identity], hints: list[ProvenanceHint]
) -> Authorship:
    """Pick the agent the strongest evidence names; gather its model and every proof."""

    def strength(c: _Candidate) -> tuple[int, int, int]:
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
        # A side record (git-ai, trace, prompt note) may name the model of the same tool.
        model = next((h.model for h in hints if h.model and (h.agent in (None, agent))), None)
    family = next((c.family for c in same if c.family), None) or family_for(agent, model)
    confidence = max((c.confidence for c in same), key=_RANK.__getitem__)
    role = "primary" if any(c.role == "primary" for c in candidates) else "assist"
    evidence: list[Evidence] = []
    for c in sorted(candidates, key=strength, reverse=True):
        if c.evidence not in evidence:
            evidence.append(c.evidence)
    prompted: list[Identity] = []
    for person in humans:
        if (
            person not in prompted
            and person.email.lower() not in AI_EMAILS
            and not is_non_ai_bot(person)
        ):
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
