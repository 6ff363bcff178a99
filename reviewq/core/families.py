"""Model name -> model family, and the tools that only ever run one vendor's models.

A family is what matters for the second-family rule: a critic must not share the author's
blind spots. The table is ordered; the first pattern that matches any segment of the model
name wins, so `openrouter/anthropic/claude-3.5-sonnet` is anthropic and `deepseek-coder` is
deepseek (not a coder model of someone else).
"""

from __future__ import annotations

import re

from reviewq.core.lazy_re import lazy

# (family, pattern) in priority order. Patterns see a lower-cased model segment.
_FAMILY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (family, lazy(pattern))
    for family, pattern in (
        ("anthropic", r"claude|anthropic|\bopus\b|\bsonnet\b|\bhaiku\b"),
        ("deepseek", r"deepseek"),
        ("qwen", r"qwen|qwq"),
        ("mistral", r"mistral|mixtral|codestral|devstral|magistral|ministral|pixtral"),
        ("google", r"gemini|gemma|\bpalm\b|\bbard\b|google"),
        ("xai", r"grok|\bxai\b|x-ai"),
        ("meta", r"llama|\bmeta\b"),
        ("zhipu", r"\bglm|zhipu|chatglm|z-ai|\bzai\b"),
        ("moonshot", r"kimi|moonshot"),
        (
            "openai",
            r"\bgpt|chatgpt|openai|codex|davinci|(?:^|[^a-z0-9])o[1-9](?:$|[^a-z0-9])",
        ),
    )
)

#: Tools that run only their vendor's models: the tool alone names the family.
SINGLE_VENDOR_TOOLS: dict[str, str] = {
    "claude-code": "anthropic",
    "codex": "openai",
    "jules": "google",
    "gemini-cli": "google",
    "gemini-code-assist": "google",
    "qwen-code": "qwen",
}

_PAREN = lazy(r"\s*\([^)]*\)")
_SPACES = lazy(r"[\s_]+")


def normalize_model(name: str | None) -> str | None:
    """A model name as commits write it -> a stable lower-case id.

    `Claude Opus 4.5` -> `claude-opus-4.5`; `Claude Opus 4.7 (1M context)` -> `claude-opus-4.7`;
    `openrouter/anthropic/claude-3.5-sonnet` stays as written (lower-cased), because the provider
    path is part of what the commit names.
    """
    if name is None:
        return None
    text = _PAREN.sub("", name).strip().strip("\"'`").strip()
    if not text:
        return None
    text = _SPACES.sub("-", text.lower()).strip("-")
    return text if is_model_name(text) else None


#: Words tools write where a model name would go that name no model at all.
_NOT_A_MODEL = frozenset({"unknown", "auto", "default", "none", "null", "n/a", "-", "model"})


def is_model_name(text: str | None) -> bool:
    return bool(text) and text.strip().lower() not in _NOT_A_MODEL


def family_of(model: str | None) -> str:
    """The family of a model name; `unknown` when there is no name, `other` when unrecognised."""
    if not is_model_name(model):
        return "unknown"
    assert model is not None
    lowered = model.lower()
    segments = [s for s in re.split(r"[/:]", lowered) if s] or [lowered]
    # Provider prefixes (`anthropic/…`, `openrouter/google/…`) and the model itself are all
    # evidence; the last segment is the model proper and is tried first.
    for segment in reversed(segments):
        for family, pattern in _FAMILY_PATTERNS:
            if pattern.search(segment):
                return family
    return "other"


def family_for(agent: str, model: str | None) -> str:
    """Family for an agent that may or may not name its model.

    The model wins when it is named. Otherwise a single-vendor tool gives its vendor's family and
    every other tool stays `unknown`: never guessed from a tool that runs many vendors' models.
    """
    if is_model_name(model):
        family = family_of(model)
        if family != "other" or agent not in SINGLE_VENDOR_TOOLS:
            return family
    return SINGLE_VENDOR_TOOLS.get(agent, "unknown")


def model_label(family: str, model: str | None) -> str:
    """The model an agent ran (its name says the family: `claude-opus-4.5`,
    `google/gemini-2.5-pro`), else the family alone (`openai`, `unknown`)."""
    return model or family
