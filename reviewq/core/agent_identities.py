"""Who an identity is: the agents' git identities, bots that are not AI, and agent and model
names read from a name, an e-mail or free text.

The table follows the markers listed in docs/detection.md. Identities are matched on the exact email or
on the GitHub login inside a noreply address (`<id>+<login>@users.noreply.github.com`; bots appear
with several ids). `core.detect` combines these answers with trailers and side records.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from reviewq.core.families import family_of, normalize_model
from reviewq.core.lazy_re import lazy
from reviewq.core.model import Identity, _set, _value_methods
from reviewq.core.provenance import agent_slug


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Agent:
    """What an identity or marker stands for."""

    slug: str
    confidence: str = "high"
    #: Review bots whose suggestions land as co-authors: their help is `assist`, not authorship.
    reviewer: bool = False

    def __init__(self, slug: str, confidence: str = "high", reviewer: bool = False) -> None:
        _set(self, "slug", slug)
        _set(self, "confidence", confidence)
        _set(self, "reviewer", reviewer)


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
_OPENHANDS_EMAIL = lazy(r"^open(?:hands|devin)[a-z0-9_.+-]*@all-hands\.dev$")

#: Gas Town's agents sign as `<rig>/crew/<name>`, `<rig>/polecats/<name>`, `<rig>/refinery`,
#: `<rig>/witness`, or the town's `mayor` / `deacon` (steveyegge/gastown history).
GASTOWN = lazy(
    r"^(?:[a-z0-9_.-]+/(?:crew|polecats)/[a-z0-9_.-]+|[a-z0-9_.-]+/(?:refinery|witness)|mayor|deacon)$"
)

#: A model as agents name themselves in trailers: `Claude Opus 4.6`, `GPT-5.1 Codex`,
#: `Gemini 2.5 Pro`, `o3`, `Grok 4`. A person called Claude has no model word or version after it.
MODEL_NAME = lazy(
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

_NOREPLY = lazy(r"^(?:(\d+)\+)?([^@]+)@users\.noreply\.github\.com$", re.IGNORECASE)

#: Tool names that may appear in free-text disclosure trailers (`Assisted-by:`, `Generated-by:`).
TOOL_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (lazy(p, re.IGNORECASE), slug)
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
AI_WORDS = lazy(
    r"\b(ai|llm|llms|gpt|chatgpt|claude|gemini|copilot|model|chatbot|genai|agent)\b", re.IGNORECASE
)
#: A run of the characters a model name is made of; `_model_tokens` keeps those with a digit.
_MODEL_RUN = lazy(r"[\w.:/-]+")
_DIGIT = lazy(r"\d")


def _model_tokens(value: str) -> list[str]:
    r"""What `re.findall(r"[\w.:/-]*\d[\w.:/-]*", value)` finds (each run of those characters
    that holds a digit, whole), in linear time: that regex tried every position of a long run
    without a digit to the run's end (a 20,000-character trailer took 2.8 s)."""
    return [run for run in _MODEL_RUN.findall(value) if _DIGIT.search(run)]


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


# An author's name is anyone's to write, at any length: these read it in linear time, exactly
# as the regexes in their docstrings (tests/properties/test_linear_readers_properties.py
# compares them), which tried every position of a long run of blanks to the run's end.


def _without_last_paren(text: str) -> str:
    r"""`re.sub(r"\s*\([^)]*\)\s*$", "", text)`: a last parenthesis dropped with the blanks
    around it (from its first `(` after the `)` before it)."""
    end = len(text.rstrip())
    if not end or text[end - 1] != ")":
        return text
    opening = text.find("(", text.rfind(")", 0, end - 1) + 1, end - 1)
    return text if opening < 0 else text[: len(text[:opening].rstrip())]


def _without_parens(text: str) -> str:
    r"""`re.sub(r"\s*\([^)]*\)", "", text)`: every closed parenthesis dropped with the blanks
    before it."""
    out, at = [], 0
    while (opening := text.find("(", at)) >= 0 and (closing := text.find(")", opening)) >= 0:
        start = opening
        while start > at and text[start - 1].isspace():
            start -= 1
        out.append(text[at:start])
        at = closing + 1
    out.append(text[at:])
    return "".join(out)


_VIA = lazy(r"(?<!\s)\s+via\s+\S", re.IGNORECASE)
_VIA_AT = lazy(r"via\s+\S", re.IGNORECASE)


def _model_before_via(name: str) -> str | None:
    r"""`re.match(r"^(?P<model>.+?)\s+via\s+\S", name, re.I)["model"]`, or None: what comes
    before the first ` via ` that has something (on the first line) before it."""
    lead = len(name) - len(name.lstrip())
    if lead >= 2 and _VIA_AT.match(name, lead):
        at = 1  # the model is the first blank, the rest of them the blanks before `via`
    else:
        m = _VIA.search(name, max(lead, 1))
        if m is None:
            return None
        at = m.start()
    return None if "\n" in name[:at] else name[:at]


@functools.lru_cache(maxsize=8192)
def named_agent(name: str, email: str) -> Agent | None:
    """The agent a display name stands for (`OpenHands-Claude-Sonnet-4`, `Oz` at warp.dev)."""
    lname = _without_last_paren(name.strip()).lower()  # `aider (gpt-4o)`
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
    if GASTOWN.match(name.strip()):
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


def model_from_name(agent: str, name: str) -> str | None:
    """The model a co-author name carries: `Claude Opus 4.5`, `aider (gpt-4o)`, `X (model)`,
    `Claude Opus 4.6 via Crush`, `OpenHands-GPT-5`."""
    via = _model_before_via(name)
    if via is not None:
        return model_words(via)
    if agent == "openhands":
        m = re.match(r"^open ?(?:hands|devin)[-_/ ]+(?P<model>.+)$", name.strip(), re.IGNORECASE)
        if m is not None:
            return model_words(m.group("model"))
    if agent != "claude-code" and MODEL_NAME.match(name.strip()):
        return model_words(name)
    paren = re.search(r"\(([^()]+)\)\s*$", name)
    if agent == "claude-code":
        base = _without_parens(name).strip()
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
_MODEL_WORDS = lazy(
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


def free_text_agent(text: str) -> tuple[str | None, str | None]:
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
    for pattern, slug in TOOL_WORDS:
        if pattern.search(value):
            agent = slug
            break
    if model is None:
        model = model_words(value)  # `Claude Fable 5`, `GPT-5.1 Codex high`
    if model is None:
        for token in _model_tokens(value):
            if family_of(token) not in ("other", "unknown"):
                model = normalize_model(token)
                break
        if model is None and agent in ("chatgpt", "claude", "gemini"):
            # `Assisted-by: ChatGPTv5` names a model by its product name.
            token = value.split()[0]
            model = normalize_model(token) if family_of(token) != "other" else None
    return agent, model


def tool_slug(name: str) -> str:
    """A tool's name as written -> its agent id (`Kilo Code` -> kilo-code, `Droid` -> factory-droid)."""
    key = name.strip().lower()
    if key in TOOL_NAMES:
        return TOOL_NAMES[key]
    if key in VENDOR_NAMES:
        return VENDOR_NAMES[key][0]
    return agent_slug(name)


def known_tool(text: str) -> str | None:
    for pattern, slug in TOOL_WORDS:
        if pattern.search(text):
            return "claude-code" if slug == "claude" else slug
    return None
