"""Secrets in text: known key formats, private key blocks, credentials in URLs and assignments,
default credentials in environment look-ups, and high-entropy strings.

The same scanner serves two masters: the offline critic reports what a change adds, and the
redactor (`reviewq.critics.redact`) removes every hit before a diff or a prompt may leave the
machine. So a hit carries the exact span of the secret value, and a private key block is followed
across lines (its base64 body has no marker of its own).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from reviewq.core.detectors.base import Scope, line_finding, rule
from reviewq.core.model import Finding
from reviewq.core.risk import is_lockfile

KNOWN = {
    "secret-aws-access-key": rule(
        "secret-aws-access-key", "critical", "security", "AWS access key id"
    ),
    "secret-aws-secret-key": rule(
        "secret-aws-secret-key", "critical", "security", "AWS secret access key"
    ),
    "secret-github-token": rule("secret-github-token", "critical", "security", "GitHub token"),
    "secret-gitlab-token": rule("secret-gitlab-token", "critical", "security", "GitLab token"),
    "secret-slack-token": rule("secret-slack-token", "critical", "security", "Slack token"),
    "secret-slack-webhook": rule("secret-slack-webhook", "error", "security", "Slack webhook URL"),
    "secret-stripe-key": rule("secret-stripe-key", "critical", "security", "Stripe live key"),
    "secret-google-api-key": rule(
        "secret-google-api-key", "critical", "security", "Google API key"
    ),
    "secret-anthropic-key": rule(
        "secret-anthropic-key", "critical", "security", "Anthropic API key"
    ),
    "secret-openai-key": rule("secret-openai-key", "critical", "security", "OpenAI API key"),
    "secret-npm-token": rule("secret-npm-token", "critical", "security", "npm token"),
    "secret-pypi-token": rule("secret-pypi-token", "critical", "security", "PyPI token"),
    "secret-jwt": rule("secret-jwt", "error", "security", "JSON Web Token"),
    "secret-private-key": rule("secret-private-key", "critical", "security", "private key block"),
    "secret-credential-url": rule(
        "secret-credential-url", "error", "security", "password inside a URL"
    ),
}
HARDCODED = rule("hardcoded-credential", "error", "security", "hard-coded credential")
DEFAULT = rule(
    "default-credential", "error", "security", "credential with a hard-coded fallback value"
)
ENTROPY = rule("secret-high-entropy", "warning", "security", "high-entropy string (possible key)")

#: (rule, pattern, group holding the secret). `_PATTERN_HINTS` gives the lower-case fragments
#: one of which a line must contain before the pattern is tried: a substring test is far
#: cheaper than a regular expression over long generated rows.
_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = tuple(
    (rule_id, re.compile(pattern), group)
    for rule_id, pattern, group in (
        ("secret-aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", 0),
        (
            "secret-aws-secret-key",
            r"(?i:aws).{0,24}?(?i:secret|private).{0,24}?[\s'\"=:]"
            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
            1,
        ),
        ("secret-github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255})", 0),
        ("secret-gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}", 0),
        ("secret-slack-token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
        (
            "secret-slack-webhook",
            r"https://hooks\.slack\.com/services/T\w+/B\w+/\w+",
            0,
        ),
        ("secret-stripe-key", r"\b[rs]k_live_[0-9a-zA-Z]{20,}", 0),
        ("secret-google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}", 0),
        ("secret-anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", 0),
        ("secret-openai-key", r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,}", 0),
        ("secret-npm-token", r"\bnpm_[A-Za-z0-9]{36}\b", 0),
        ("secret-pypi-token", r"\bpypi-AgE[A-Za-z0-9_\-]{50,}", 0),
        ("secret-jwt", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}", 0),
        ("secret-private-key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", 0),
        (
            "secret-credential-url",
            r"\b[a-z][a-z0-9+.-]{1,20}://[^/\s:@'\"]{1,64}:([^/\s:@'\"]{3,128})@[\w.-]+",
            1,
        ),
    )
)
_PATTERN_HINTS: dict[str, tuple[str, ...]] = {
    "secret-aws-access-key": ("akia", "asia", "abia", "acca"),
    "secret-aws-secret-key": ("aws",),
    "secret-github-token": ("gh", "github_pat_"),
    "secret-gitlab-token": ("glpat-",),
    "secret-slack-token": ("xox",),
    "secret-slack-webhook": ("hooks.slack",),
    "secret-stripe-key": ("k_live_",),
    "secret-google-api-key": ("aiza",),
    "secret-anthropic-key": ("sk-ant-",),
    "secret-openai-key": ("sk-",),
    "secret-npm-token": ("npm_",),
    "secret-pypi-token": ("pypi-",),
    "secret-jwt": ("eyj",),
    "secret-private-key": ("private key",),
    "secret-credential-url": ("://",),
}
_ENV_HINTS = (("environ", "getenv"), ("process.env",), ("process.env",), ("${",))
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")

#: Names that hold secrets. Suffixes that name *about* a secret (its URL, field, type) are not.
_SECRET_NAME = re.compile(
    r"(?i)(?:^|[^a-z])(?:pass(?:word|wd|phrase)?|pwd|secret|token|api_?key|apikey|access_?key|"
    r"private_?key|client_?secret|auth_?key|credentials?|creds|master_?key|override)s?$"
)
_NOT_SECRET_NAME = re.compile(
    r"(?i)(?:_|^)(?:url|uri|path|file|name|field|type|header|env|var|prefix|pattern|length|len|"
    r"regex|id|ttl|timeout|expiry|expires|algorithm|alg|issuer|audience|endpoint|label|"
    r"policy|count|size|format|kind|mode|param|key_name|scheme|placeholder|hint|url_?path)$"
)
#: Words a secret-holding name contains (a cheap gate before the assignment patterns).
_NAME_HINTS = ("pass", "pwd", "secret", "token", "key", "cred", "override")
_NAME_PARTS = re.compile(r"[.-]")
_ASSIGN = re.compile(
    r"""(?<![\w.-])(?P<name>[A-Za-z_][\w.-]*)['"]?\s*(?::=|=|:)\s*(?P<q>["'`])(?P<value>[^"'`\n]{6,200})(?P=q)"""
)
_ASSIGN_BARE = re.compile(
    r"""^\s*(?:export\s+)?(?P<name>[A-Za-z_][\w.-]*)\s*[:=]\s*(?P<value>[^\s"'`#${<!%&*][^\s#]{5,200})\s*$"""
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|_+|<.*>|\{.*\}|\$.*|%.*|none|null|nil|undefined|true|false|"
    r"(?:your|my|some|example|sample|dummy|fake|test|mock|placeholder|redacted|secret|password|"
    r"token|change[_-]?this|replace[_-]?me|todo|tbd)[\w.-]*)$"
)
#: A fallback value in an environment look-up: `os.environ.get("X", "v")`, `${X:-v}`, `env.X || "v"`.
_ENV_DEFAULT = tuple(
    re.compile(p)
    for p in (
        r"""(?:environ\.get|getenv|environ\.setdefault)\(\s*["'](?P<name>\w+)["']\s*,\s*["'](?P<value>[^"'\n]+)["']""",
        r"""process\.env\.(?P<name>\w+)\s*(?:\|\||\?\?)\s*["'`](?P<value>[^"'`\n]+)["'`]""",
        r"""process\.env\[\s*["'](?P<name>\w+)["']\s*\]\s*(?:\|\||\?\?)\s*["'`](?P<value>[^"'`\n]+)["'`]""",
        r"""\$\{(?P<name>\w+):?[-=](?P<value>[^}\s]+)\}""",
    )
)
_ENV_SECRET_NAME = re.compile(
    r"(?i)(?:pass|pwd|secret|token|api_?key|access_?key|private_?key|credential|override|master)"
)
_ENV_NOT_SECRET = re.compile(
    r"(?i)_(?:ttl|url|uri|path|file|name|type|length|len|expiry|expires|timeout|header|algorithm|"
    r"issuer|audience|endpoint|mode|format|size|count|enabled|disabled)$"
)
#: Languages whose values may stand unquoted (`PASSWORD=hunter22`).
BARE_LANGS = frozenset({"env", "yaml"})
_HIGH_ENTROPY_TOKEN = re.compile(r"(?<![\w+/-])[A-Za-z0-9+/_-]{20,}={0,2}(?![\w+/=-])")
_URL = re.compile(r"[a-z][a-z0-9+.-]{1,20}://[^\s?#\"'<>()]*(?P<query>[^\s\"'<>()]*)")
_HASH_CONTEXT = re.compile(r"(?i)(?:sha\d+|md5|integrity|checksum|digest|\bhash\b|nonce|etag|sum)")


@dataclass(frozen=True, slots=True)
class SecretHit:
    """A secret in one line: which rule, and the span of the secret value (to redact)."""

    rule: str
    start: int
    end: int


def shannon(text: str) -> float:
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def looks_random(token: str) -> bool:
    """A token that reads like generated key material rather than a word, path or hash.

    Random text of length n has entropy close to log2(n); identifiers and words fall well short.
    Three character classes are required, so hex digests, UUIDs and snake_case names pass.
    """
    core = token.rstrip("=")
    if len(core) < 20:
        return False
    if not (re.search(r"[a-z]", core) and re.search(r"[A-Z]", core) and re.search(r"[0-9]", core)):
        return False
    if "/" in core and all(part.isalpha() or not part for part in core.split("/")):
        return False
    n = min(len(core), 64)
    return shannon(core) >= math.log2(n) - 0.75


#: The suffix of AWS's documented example keys; no issued key ends so.
_DOCUMENTED_EXAMPLE = "EXAMPLE"


def _placeholder(value: str) -> bool:
    v = value.strip()
    return bool(_PLACEHOLDER.match(v)) or len(set(v)) <= 2


def scan_line(
    text: str, *, entropy: bool = True, bare: bool = False, known_only: bool = False
) -> list[SecretHit]:
    """Every secret in one line, spans not overlapping (known formats win over heuristics).

    `bare` also reads unquoted `NAME=value` / `name: value` (.env, YAML, INI), which in program
    text would mistake `token = sign(user)` for a credential. `known_only` keeps to the key
    formats (for very long rows, where the heuristics cost more than they find).
    """
    hits: list[SecretHit] = []

    def add(rule_id: str, start: int, end: int) -> None:
        if any(h.start < end and start < h.end for h in hits):
            return
        hits.append(SecretHit(rule_id, start, end))

    low = text.lower()
    if any(h in low for h in _HINTS):
        for rule_id, pattern, group in _PATTERNS:
            if not any(h in low for h in _PATTERN_HINTS[rule_id]):
                continue
            for m in pattern.finditer(text):
                if rule_id == "secret-credential-url" and _placeholder(m.group(1)):
                    continue
                if m.group(group).endswith(_DOCUMENTED_EXAMPLE):
                    continue  # AWS's documented example key (AKIAIOSFODNN7EXAMPLE): not a key
                if rule_id == "secret-private-key":
                    add(rule_id, 0, len(text))
                    continue
                add(rule_id, m.start(group), m.end(group))
        for pattern, hints in () if known_only else zip(_ENV_DEFAULT, _ENV_HINTS):
            if not any(h in low for h in hints):
                continue
            for m in pattern.finditer(text):
                name, value = m.group("name"), m.group("value")
                if (
                    _ENV_SECRET_NAME.search(name)
                    and not _ENV_NOT_SECRET.search(name)
                    and not value.isdigit()
                    and not value.startswith(("$", "{"))
                ):
                    add(DEFAULT.id, m.start("value"), m.end("value"))
        assignments = (
            ()
            if known_only or not any(w in low for w in _NAME_HINTS)
            else (_ASSIGN, _ASSIGN_BARE)
            if bare
            else (_ASSIGN,)
        )
        for pattern in assignments:
            for m in pattern.finditer(text):
                name, value = m.group("name"), m.group("value")
                last = _NAME_PARTS.split(name)[-1]
                if not _SECRET_NAME.search(last) or _NOT_SECRET_NAME.search(last):
                    continue
                if _placeholder(value) or " " in value or "://" in value or value.isdigit():
                    continue
                if re.fullmatch(r"[A-Z][A-Z0-9_]+", value) or value.startswith(("/", "./", "~")):
                    continue  # an environment variable's name or a path, not its value
                add(HARDCODED.id, m.start("value"), m.end("value"))
    if entropy and not known_only:
        # A URL's scheme, host and path are names, not keys; its query string may hold one.
        scan = text
        if "://" in text:
            scan = _URL.sub(lambda m: " " * (m.start("query") - m.start()) + m.group("query"), text)
        candidates = [m for m in _HIGH_ENTROPY_TOKEN.finditer(scan) if looks_random(m.group(0))]
        if candidates and not _HASH_CONTEXT.search(text):
            for m in candidates:
                add(ENTROPY.id, m.start(), m.end())
    hits.sort(key=lambda h: h.start)
    return hits


def scan_lines(
    lines: Sequence[str], *, entropy: bool = True, bare: bool = False
) -> list[list[SecretHit]]:
    """`scan_line` for consecutive lines, following private key blocks to their END line.

    An unterminated block runs to the end: better to hide too much than to leak key material.
    """
    out: list[list[SecretHit]] = []
    in_key = False
    for text in lines:
        if in_key:
            out.append([SecretHit("secret-private-key", 0, len(text))])
            if _KEY_END.search(text):
                in_key = False
            continue
        hits = scan_line(text, entropy=entropy, bare=bare)
        if any(h.rule == "secret-private-key" for h in hits) and not _KEY_END.search(text):
            in_key = True
        out.append(hits)
    return out


#: Lower-case fragments every non-entropy secret rule needs one of (a cheap pre-check).
_HINTS = (
    "akia",
    "asia",
    "abia",
    "acca",
    "aws",
    "gh",
    "glpat-",
    "xox",
    "hooks.slack",
    "_live_",
    "aiza",
    "sk-",
    "npm_",
    "pypi-",
    "eyj",
    "private key",
    "://",
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "cred",
    "override",
    "master",
)


def may_contain_secret(text: str) -> bool:
    """False only when no rule could match anywhere in `text` (then scanning can be skipped)."""
    low = text.lower()
    if any(h in low for h in _HINTS):
        return True
    return any(looks_random(m.group(0)) for m in _HIGH_ENTROPY_TOKEN.finditer(text))


def _describe(rule_id: str, value: str) -> str:
    shown = value[:4] + "…" if len(value) > 8 else "…"
    if rule_id == HARDCODED.id:
        return (
            f"A credential is written into the code ({shown}). Anyone with read access to the "
            "repository has it; load it from the environment or a secret store instead."
        )
    if rule_id == DEFAULT.id:
        return (
            f"The credential falls back to a fixed value ({value!r}) when the variable is unset, "
            "so every deployment that forgets it accepts a publicly known secret. Fail closed: "
            "refuse to start without it."
        )
    if rule_id == ENTROPY.id:
        return (
            f"A long random-looking string ({shown}) may be key material. If it is a secret, "
            "remove it from history and rotate it."
        )
    title = KNOWN[rule_id].title
    return (
        f"{title[0].upper()}{title[1:]} committed in plain text ({shown}). Treat it as leaked: "
        "rotate it, then remove it from the history."
    )


def detect(scope: Scope) -> list[Finding]:
    out: list[Finding] = []
    for path, added in scope.texts.items():
        rows = added.rows
        if is_lockfile(path) or not may_contain_secret(added.text):
            continue
        texts = [r.text for r in rows]
        # Rows of one hunk run are consecutive; a key block never spans a gap in numbering.
        lang = rows[0].lang
        hits_per_row = scan_lines(texts, entropy=lang != "doc", bare=lang in BARE_LANGS)
        # A cut row still gets the key formats (cheap, prefixed) over its whole length.
        for i, row in enumerate(rows):
            if row.full is not None:
                hits_per_row[i] = scan_line(row.full, known_only=True) or hits_per_row[i]
        in_block = False
        for row, hits in zip(rows, hits_per_row):
            if not hits:
                in_block = False
                continue
            is_key = hits[0].rule == "secret-private-key"
            if is_key and in_block:
                continue  # one finding per key block, on its BEGIN line
            in_block = is_key
            best = max(hits, key=lambda h: _rank(h.rule))
            info = (
                KNOWN.get(best.rule)
                or {
                    HARDCODED.id: HARDCODED,
                    DEFAULT.id: DEFAULT,
                    ENTROPY.id: ENTROPY,
                }[best.rule]
            )
            severity = info.severity
            if row.in_test and info in (HARDCODED, ENTROPY, DEFAULT):
                severity = "note"
            out.append(
                line_finding(
                    info,
                    row,
                    _describe(info.id, (row.full or row.text)[best.start : best.end]),
                    severity=severity,
                )
            )
    return out


def _rank(rule_id: str) -> int:
    if rule_id in KNOWN:
        return 3
    return {DEFAULT.id: 2, HARDCODED.id: 1}.get(rule_id, 0)
