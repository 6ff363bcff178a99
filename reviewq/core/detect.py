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
from reviewq.core.message import (
    GENERATED_WITH,
    ParsedMessage,
    has_turns,
    parse_identity,
    parse_message,
)
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
    "codex@openai.com": Agent("codex"),  # Codex cloud's own identity and co-author
    "opendevin@all-hands.dev": Agent("openhands"),  # OpenDevin's sandbox git identity
    "opendevin@opendevin.ai": Agent("openhands"),
    "bot@opendevin.com": Agent("openhands"),
    "gemini-cli@google.com": Agent("gemini-cli"),
    "crush@charm.land": Agent("crush"),  # charmbracelet/crush internal/agent/tools/bash.tpl
    "droid@factory.ai": Agent("factory-droid"),
    "oz-agent@warp.dev": Agent("warp"),  # Warp's Oz cloud agent
    "agent@warp.dev": Agent("warp"),  # Warp's agent mode
    "no-reply@ona.com": Agent("ona"),
    "noreply@ona.com": Agent("ona"),
    "contact@tilework.tech": Agent("nori"),  # Nori's commit hook co-author
    "noreply@kilocode.ai": Agent("kilo-code", "medium"),
    "noreply@nousresearch.com": Agent("hermes-agent", "medium"),
    "jules@google.com": Agent("jules"),
    "traecli@bytedance.com": Agent("trae"),
    "cascade@windsurf.ai": Agent("windsurf"),
    "noreply@tabnine.com": Agent("tabnine", "medium"),
    "noreply@continue.dev": Agent("continue", "medium"),
    "noreply@kiro.dev": Agent("kiro"),
    "agent@replit.com": Agent("replit"),
    "no-reply@replit.com": Agent("replit", "medium"),
    "charlie@charlielabs.ai": Agent("charlie"),
    "noreply@v0.dev": Agent("v0", "medium"),
    "noreply@lovable.dev": Agent("lovable", "medium"),
    "noreply@bolt.new": Agent("bolt", "medium"),
    "devin@cognition.ai": Agent("devin"),
    "cursoragent@cursor.com": Agent("cursor"),
    "aider@aider.chat": Agent("aider"),
    "noreply@aider.chat": Agent("aider"),
    "noreply@aider.dev": Agent("aider"),
    "amp@ampcode.com": Agent("amp"),
    "openhands@all-hands.dev": Agent("openhands"),
    "qwen-coder@alibabacloud.com": Agent("qwen-code"),
    "roomote@roocode.com": Agent("roo-code"),
    "noreply@opencode.ai": Agent("opencode"),
    "opencode@sst.dev": Agent("opencode", "medium"),
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
    "devin-ai-integration": Agent("devin"),  # the integration's login, as some commits write it
    "google-labs-jules[bot]": Agent("jules"),
    "chatgpt-codex-connector[bot]": Agent("codex"),
    "chatgpt-codex-connector": Agent("codex"),
    "opencode-agent[bot]": Agent("opencode"),
    "opencode-agent": Agent("opencode"),
    "roomote[bot]": Agent("roo-code"),
    "roomote-agent[bot]": Agent("roo-code"),
    "roomote-v0[bot]": Agent("roo-code"),
    "kilo-code-bot[bot]": Agent("kilo-code", "medium"),
    "kilocode-bot[bot]": Agent("kilo-code", "medium"),
    "cursor[bot]": Agent("cursor", "medium"),
    "cursoragent": Agent("cursor"),
    "gemini-cli": Agent("gemini-cli", "medium"),
    "gemini-cli[bot]": Agent("gemini-cli", "medium"),
    "amazon-q-developer[bot]": Agent("amazon-q", "medium"),
    "cline-cloud[bot]": Agent("cline", "medium"),
    "sweep-ai[bot]": Agent("sweep", "medium"),
    "factory-droid[bot]": Agent("factory-droid"),
    "factory-droid": Agent("factory-droid"),
    "openhands-agent": Agent("openhands", "medium"),
    "openhands-ai[bot]": Agent("openhands"),
    "openhands[bot]": Agent("openhands"),
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
    "cubic-dev-ai[bot]": Agent("cubic", "medium", reviewer=True),
    "codeant-ai[bot]": Agent("codeant", "medium", reviewer=True),
    "copilot-pull-request-reviewer[bot]": Agent("copilot", "medium", reviewer=True),
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
        "gemini-cli-robot",  # gemini-cli's release automation, not the agent
        "codecov[bot]",
        "stale[bot]",
        "depfu[bot]",
        "changeset-bot[bot]",
        "all-contributors-bot",
    }
)
NON_AI_EMAILS = frozenset(
    {
        "noreply@github.com",
        "support@github.com",
        "bot@renovateapp.com",
        "github-actions@github.com",
        "gemini-cli-robot@google.com",
    }
)

#: Tool names as agents sign identities and co-author trailers (lower case) -> agent. Only names
#: no person goes by; a name that is also a word or a given name is in `VENDOR_NAMES` instead.
TOOL_NAMES: dict[str, str] = {
    "claude code": "claude-code",
    "claude-code": "claude-code",
    "codex": "codex",
    "openai codex": "codex",
    "codex cli": "codex",
    "chatgpt codex": "codex",
    "cursor agent": "cursor",
    "cursoragent": "cursor",
    "cursor": "cursor",
    "gemini cli": "gemini-cli",
    "gemini-cli": "gemini-cli",
    "gemini-cli-agent": "gemini-cli",
    "google labs jules": "jules",
    "copilot-swe-agent": "copilot",
    # Bot logins written as plain names (without `[bot]`, outside a noreply address).
    "devin-ai-integration": "devin",
    "google-labs-jules": "jules",
    "chatgpt-codex-connector": "codex",
    "claude-code-action": "claude-code",
    "trae cli": "trae",
    "windsurf cascade": "windsurf",
    "tabnine cli": "tabnine",
    "replit agent": "replit",
    "replit ai agent": "replit",
    "pi-coding-agent": "pi",
    "github copilot": "copilot",
    "copilot": "copilot",
    "openhands": "openhands",
    "openhands-agent": "openhands",
    "opendevin": "openhands",
    "opencode": "opencode",
    "opencode-agent": "opencode",
    "crush": "crush",
    "factory droid": "factory-droid",
    "factory-droid": "factory-droid",
    "kilo code": "kilo-code",
    "kilocode": "kilo-code",
    "roo code": "roo-code",
    "roomote": "roo-code",
    "roomote agent": "roo-code",
    "windsurf": "windsurf",
    "aider": "aider",
    "qwen-coder": "qwen-code",
    "qwen code": "qwen-code",
    "antigravity": "antigravity",
    "augment agent": "augment",
    "augment code": "augment",
    "zencoder": "zencoder",
    "verdent": "verdent",
    "amazon q": "amazon-q",
    "amazon q developer": "amazon-q",
    "hermes agent": "hermes-agent",
    "devin ai": "devin",
    "google jules": "jules",
    "swe-agent": "swe-agent",
    "gas town": "gastown",
    "gastown": "gastown",
}

#: Names that are also words or given names: an agent only with its vendor's e-mail domain.
VENDOR_NAMES: dict[str, tuple[str, frozenset[str]]] = {
    name: (slug, frozenset(domains))
    for name, slug, domains in (
        ("claude", "claude-code", ("anthropic.com", "claude.ai", "claude.com")),
        ("amp", "amp", ("ampcode.com", "sourcegraph.com")),
        ("jules", "jules", ("google.com",)),
        ("gemini", "gemini-cli", ("google.com",)),
        ("devin", "devin", ("cognition.ai", "devin.ai", "cognition-labs.com")),
        ("ona", "ona", ("ona.com", "gitpod.io")),
        ("nori", "nori", ("tilework.tech", "nori.ai")),
        ("oz", "warp", ("warp.dev",)),
        ("warp", "warp", ("warp.dev",)),
        ("droid", "factory-droid", ("factory.ai",)),
        ("kilo", "kilo-code", ("kilocode.ai", "kilo.ai")),
        ("continue", "continue", ("continue.dev",)),
        ("cascade", "windsurf", ("codeium.com", "windsurf.com")),
        ("qwen", "qwen-code", ("alibabacloud.com", "alibaba-inc.com")),
        ("hermes", "hermes-agent", ("nousresearch.com",)),
        ("junie", "junie", ("jetbrains.com",)),
        ("kiro", "kiro", ("kiro.dev", "kiro.ai", "amazon.com")),
        ("cline", "cline", ("cline.bot",)),
        ("goose", "goose", ("block.xyz", "squareup.com", "anthropic.com", "openai.com")),
        ("pi", "pi", ("anthropic.com", "openai.com", "mariozechner.at")),
    )
}

#: Hosts of example and test identities: no agent signs from them.
_PLACEHOLDER_HOSTS = frozenset(
    {"example.com", "example.org", "example.net", "localhost", "test.com", "test", "invalid"}
)

#: Addresses several tools sign with, so a tool name beside them names the tool.
_NAME_DECIDES = frozenset({"claude-code", "codex", "copilot"})
_OPENHANDS_EMAIL = re.compile(r"^open(?:hands|devin)[a-z0-9_.+-]*@all-hands\.dev$")

#: Gas Town's agents sign as `<rig>/crew/<name>`, `<rig>/polecats/<name>`, `<rig>/refinery`,
#: `<rig>/witness`, or the town's `mayor` / `deacon` (steveyegge/gastown history).
_GASTOWN = re.compile(
    r"^(?:[a-z0-9_.-]+/(?:crew|polecats)/[a-z0-9_.-]+|[a-z0-9_.-]+/(?:refinery|witness)|mayor|deacon)$"
)

#: A model as agents name themselves in trailers: `Claude Opus 4.6`, `GPT-5.1 Codex`,
#: `Gemini 2.5 Pro`, `o3`, `Grok 4`. A person called Claude has no model word or version after it.
_MODEL_NAME = re.compile(
    r"^(?:claude[ -](?:opus|sonnet|haiku|fable|instant|code|\d)"
    r"|gpt-?\d|chatgpt|o[1-9](?:-mini|-pro)?\b"
    r"|gemini[ -](?:\d|pro|flash|ultra|exp)"
    r"|(?:grok|llama|qwen\d*|qwen-coder|deepseek|mistral|codestral|devstral|kimi|glm)[ -]?(?:\d|k\d|v\d|coder|r1|chat))",
    re.IGNORECASE,
)

#: Words that make a `[bot]` identity an agent (`acme-coding-agent[bot]`).
_BOT_AGENT_WORDS = frozenset(
    {
        "agent",
        "ai",
        "llm",
        "gpt",
        "codex",
        "claude",
        "copilot",
        "devin",
        "coder",
        "coding",
        "swe",
        "autopilot",
        "gemini",
        "aider",
        "openhands",
        "assistant",
    }
)

_NOREPLY = re.compile(r"^(?:(\d+)\+)?([^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)

#: Tool names that may appear in free-text disclosure trailers (`Assisted-by:`, `Generated-by:`).
_TOOL_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), slug)
    for p, slug in (
        (r"\bclaude[ -]?code\b", "claude-code"),
        (r"\bcrush\b", "crush"),
        (r"\bkilo[ -]?code\b", "kilo-code"),
        (r"\broo[ -]?code\b|\broomote\b", "roo-code"),
        (r"\bfactory[ -]droid\b|\bdroid\b", "factory-droid"),
        (r"\bnori\b", "nori"),
        (r"\bgas ?town\b", "gastown"),
        (r"\bjunie\b", "junie"),
        (r"\bkiro\b", "kiro"),
        (r"\bantigravity\b", "antigravity"),
        (r"\bzencoder\b", "zencoder"),
        (r"\bwarp\b", "warp"),
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
        found = AI_EMAILS[lemail]
        # A harness that signs with the model vendor's address (`goose <noreply@anthropic.com>`)
        # or Copilot's coding agent on the address its review suggestions use: the name decides.
        named = named_agent(name, lemail) if found.slug in _NAME_DECIDES else None
        return Agent(named.slug, found.confidence) if named and named.slug != found.slug else found
    if _OPENHANDS_EMAIL.match(lemail):
        return Agent("openhands")  # `openhands-claude@all-hands.dev`
    uid, login = _github_login(lemail)
    if login is not None:
        if login == "copilot":
            return COPILOT_IDS.get(uid or "", Agent("copilot", "medium"))
        if login in AI_LOGINS:
            return AI_LOGINS[login]
    lname = name.strip().lower()
    if lname in AI_LOGINS and lname.endswith("[bot]"):
        return AI_LOGINS[lname]
    if (
        login is not None
        and login.endswith("[bot]")
        and login not in NON_AI_BOTS
        and _BOT_AGENT_WORDS.intersection(re.split(r"[-_.]", login[: -len("[bot]")]))
    ):
        return _bot_agent(login)  # `acme-coding-agent[bot]`
    return named_agent(name, lemail)


def _bot_agent(login: str) -> Agent:
    """An unlisted `[bot]` whose name says agent; a reviewing one only assists."""
    base = login[: -len("[bot]")]
    reviewer = bool({"review", "reviewer", "reviews"}.intersection(re.split(r"[-_. ]", base)))
    return Agent(agent_slug(base), "medium", reviewer=reviewer)


@functools.lru_cache(maxsize=8192)
def named_agent(name: str, email: str) -> Agent | None:
    """The agent a display name stands for (`OpenHands-Claude-Sonnet-4`, `Oz` at warp.dev)."""
    lname = re.sub(r"\s*\([^)]*\)\s*$", "", name.strip()).lower()  # `aider (gpt-4o)`
    if not lname:
        return None
    if lname in TOOL_NAMES:
        return Agent(TOOL_NAMES[lname], "medium")
    domain = email.strip().lower().rpartition("@")[2]
    vendor = VENDOR_NAMES.get(lname)
    if vendor is not None and any(domain == d or domain.endswith("." + d) for d in vendor[1]):
        return Agent(vendor[0], "medium")
    if re.match(r"^open ?(?:hands|devin)[-_/ ]+\S", lname):
        return Agent("openhands", "medium")  # `OpenHands-<Model>`: the model gives the family
    if _GASTOWN.match(name.strip()):
        return Agent("gastown", "medium")
    local, _, host = email.strip().lower().partition("@")
    if (
        host
        and host not in _PLACEHOLDER_HOSTS
        and not host.endswith(("users.noreply.github.com", ".local", ".localdomain"))
        and (
            local == "agent"
            or local.endswith(("-agent", "_agent"))
            or local.startswith(("agent-", "agent_"))
        )
    ):
        # An address made for an agent (`oz-agent@warp.dev`, `agent@replit.com`): the tool is
        # its domain's name unless the display name says more.
        if lname in TOOL_NAMES:
            return Agent(TOOL_NAMES[lname], "medium")
        named = "agent" in re.split(r"[-_. ()]", lname)
        return Agent(agent_slug(lname if named else host.rsplit(".", 2)[-2]), "medium")
    if (
        lname.endswith("[bot]")
        and lname not in NON_AI_BOTS
        and _BOT_AGENT_WORDS.intersection(re.split(r"[-_. ]", lname[: -len("[bot]")]))
    ):
        return _bot_agent(lname)
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
    """The model a co-author name carries: `Claude Opus 4.5`, `aider (gpt-4o)`, `X (model)`,
    `Claude Opus 4.6 via Crush`, `OpenHands-GPT-5`."""
    via = re.match(r"^(?P<model>.+?)\s+via\s+\S", name, re.IGNORECASE)
    if via is not None:
        return model_words(via.group("model"))
    if agent == "openhands":
        m = re.match(r"^open ?(?:hands|devin)[-_/ ]+(?P<model>.+)$", name.strip(), re.IGNORECASE)
        if m is not None:
            return model_words(m.group("model"))
    if agent != "claude-code" and _MODEL_NAME.match(name.strip()):
        return model_words(name)
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


#: Hosting words before a model name (`AWS Claude Opus 4.6`): where it ran, not what it is.
_HOSTS = frozenset({"aws", "amazon", "bedrock", "vertex", "azure", "gcp", "openrouter", "google"})
#: Words a model name is made of besides versions (`Claude Opus 4.6`, `Gemini 2.5 Pro`).
_MODEL_WORDS = re.compile(
    r"^(?:claude|opus|sonnet|haiku|fable|instant|gpt|chatgpt|codex|gemini|pro|flash|ultra|lite|"
    r"mini|nano|max|turbo|preview|exp|thinking|high|low|medium|xhigh|grok|llama|qwen|coder|"
    r"deepseek|chat|reasoner|mistral|codestral|devstral|kimi|glm|sol|luna|o\d)$|\d",
    re.IGNORECASE,
)


def model_words(text: str) -> str | None:
    """The model named at the start of `text` (`AWS Claude Opus 4.6 sparse` -> claude-opus-4.6);
    None unless it names a known family."""
    words = text.strip().strip("\"'`").split()
    # `AWS Claude Opus 4.6`, `Z.ai: GLM 5.1`: where it ran comes first, then the model.
    while len(words) > 1 and (words[0].lower() in _HOSTS or words[0].endswith(":")):
        words = words[1:]
    taken: list[str] = []
    for word in words:
        if not _MODEL_WORDS.search(word.strip("()[],;")):
            break
        taken.append(word.strip("()[],;"))
    model = normalize_model(" ".join(taken)) if taken else None
    return model if model and family_of(model) not in ("other", "unknown") else None


def _free_text_agent(text: str) -> tuple[str | None, str | None]:
    """(agent, model) named in a free-text disclosure like `Claude:claude-3-opus sparse`."""
    value = text.strip()
    # Kernel form: AGENT_NAME:MODEL_VERSION [TOOL1] [TOOL2]
    kernel = re.match(r"^([A-Za-z][\w .-]*?):([\w.\-/]+)(?:\s+.*)?$", value)
    if kernel:
        agent = tool_slug(kernel.group(1))
        # `Crush:AWS Claude Opus 4.6`: newer tools write the model's display name after the colon.
        rest = value[kernel.end(1) + 1 :]
        model = model_words(rest) or normalize_model(kernel.group(2))
        return (agent if agent != "llm" else "other"), model
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
        model = model_words(value)  # `Claude Fable 5`, `GPT-5.1 Codex high`
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
        self._keyword_in = re.compile("|".join(map(re.escape, keywords))).search
        self._keyword_in_bytes = re.compile(b"|".join(map(re.escape, self._keywords_bytes))).search
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
        if self._keyword_in_bytes(message.lower()) is not None:
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
        if self._keyword_in(message.lower()) is not None:
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


def tool_slug(name: str) -> str:
    """A tool's name as written -> its agent id (`Kilo Code` -> kilo-code, `Droid` -> factory-droid)."""
    key = name.strip().lower()
    if key in TOOL_NAMES:
        return TOOL_NAMES[key]
    if key in VENDOR_NAMES:
        return VENDOR_NAMES[key][0]
    return agent_slug(name)


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
        # `Co-authored-by: Claude Opus 4.6` with no address: only a model or tool name counts.
        name = value.strip()
        if not (_MODEL_NAME.match(name) or name.lower() in TOOL_NAMES):
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
    if agent is None and _MODEL_NAME.match(name):
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
                model = model_words(ident[0]) if _MODEL_NAME.match(ident[0]) else None
                if model is not None:  # `Assisted-by: GPT-5 <…>`: a model, from some tool
                    out.append(
                        _Candidate("other", model, role, "medium", Evidence("trailer", line))
                    )
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
    """`Made-with: Cursor`: medium, so a stronger agent marker in the same commit wins."""
    tool = _known_tool(value)
    if tool is None:
        return
    out.append(_Candidate(tool, None, "primary", "medium", Evidence("trailer", line)))


def _executed_by(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    """Gas Town's `Executed-By: <rig>/crew/<name>` (or `mayor`): which of its agents ran it."""
    if _GASTOWN.match(value.strip()):
        out.append(_Candidate("gastown", None, "primary", "medium", Evidence("trailer", line)))


def _ai_assisted(value: str, line: str, out: list[_Candidate], humans: list[Identity]) -> None:
    if value.strip().lower() in ("true", "yes", "1", "y"):
        out.append(_Candidate("other", None, "assist", "low", Evidence("trailer", line)))
        return
    agent, model = _free_text_agent(value)
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
