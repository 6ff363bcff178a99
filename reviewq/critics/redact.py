"""Secrets never leave the machine: what a model critic may send, and what it may not.

One redactor, two passes, both before anything reaches a socket:

1. `prepare_outgoing`: the diff (row by row, file by file, so `.env`/YAML bare values are read
   as such), every hunk's section header (git's `@@ ... @@ context`), file names and rename
   sources, the prompt and the commit message; never-send files are dropped and named only.
2. `Redactor.outgoing`: the whole untrusted block of each request as it was rendered, the last
   step before the SDK is called (`ModelCritic._ask_checked` is the one path to `_ask`).
   Whatever a renderer adds later (a new header, a file list) is read here too.

Each hit becomes a numbered placeholder (`[REDACTED-3:secret-aws-access-key]`); the originals
stay in a local map, so a model's quote of a redacted line can still be verified against the
real diff. The rules are the offline critic's detectors (`core.detectors.secrets`) plus, here,
the shapes a redactor must not miss even where the critic would not report them: provider
token shapes of public rule sets (gitleaks), `name=value` in prose, secrets base64-encoded,
private key bodies whose `BEGIN` line is outside the hunk, and strong key prefixes with a short
tail (a key split across lines). Redacting ordinary code costs the critique a little; sending a
key costs the key, so the rules here lean to hiding.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pathspec

from reviewq.core.detectors.base import language_of
from reviewq.core.detectors.secrets import BARE_LANGS, SecretHit, scan_lines
from reviewq.core.model import Diff, DiffLine, FileDiff, Hunk

_PLACEHOLDER = re.compile(r"\[REDACTED-(\d+):[\w-]+\]")

# -- the redactor's own rules (on top of the offline critic's detectors) ----------------------

#: Token shapes with a distinctive prefix or layout (after gitleaks' rule set: synthetic
#: samples of each are in tests/test_redact_shapes.py).
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "token-1password",
            r"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}\b",
        ),
        ("token-age", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
        ("token-alibaba", r"\bLTAI[A-Za-z0-9]{20}\b"),
        ("token-artifactory", r"\b(?:AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})\b"),
        ("token-azure", r"(?<![\w~.])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}"),
        ("token-clickhouse", r"\b4b1d[A-Za-z0-9]{38}\b"),
        ("token-cloudflare-ca", r"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
        ("token-databricks", r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),
        ("token-doppler", r"\bdp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{30,}"),
        ("token-dynatrace", r"\bdt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),
        ("token-easypost", r"\bEZ[AT]K[A-Za-z0-9]{54}\b"),
        ("token-facebook", r"\bEAA[A-Za-z0-9]{30,}"),
        ("token-google-oauth", r"\bya29\.[\w-]{20,}"),
        ("token-harness", r"\bpat\.[\w-]{22}\.[0-9a-f]{24}\.[0-9a-z]{20}"),
        ("token-hashicorp", r"\b[a-z0-9]{14}\.atlasv1\.[\w=-]{60,70}"),
        ("token-mailchimp", r"\b[a-f0-9]{32}-us\d{1,2}\b"),
        ("token-mapbox", r"\b[ps]k\.[A-Za-z0-9]{60}\.[A-Za-z0-9]{22}"),
        ("token-nuget", r"\boy2[a-z0-9]{43}\b"),
        ("token-openshift", r"\bsha256~[\w-]{43}"),
        ("token-sendgrid", r"\bSG\.[\w-]{16,32}\.[\w-]{16,64}"),
        ("token-telegram", r"\b\d{5,16}:A[\w-]{34}\b"),
        ("token-twilio", r"\b(?:AC|SK)[0-9a-fA-F]{32}\b"),
        ("token-vault", r"\bhv[sb]\.[\w-]{24,}"),
        ("token-yandex", r"\b(?:t1\.[\w-]+={0,2}\.[\w-]{86}={0,2}|YC[\w-]{38}|AQVN[\w-]{35,38})\b"),
        # A strong prefix with a short tail: the first piece of a key split across lines.
        (
            "token-prefix",
            r"\b(?:gh[pousr]_|github_pat_|glpat-|sk-ant-|xox[abposr]-|[rs]k_live_|npm_|pypi-AgE"
            r"|AKIA|ASIA|AIza|hf_|dckr_pat_|shp(?:at|ca|pa|ss)_|lin_api_|glsa_|sntry[su]_"
            r"|dop_v1_|pnu_|pul-|rubygems_|xkeysib-|PMAK-|NRAK-|FLWSECK|HRKU-AA|tk-us-|xapp-|tfp_)[A-Za-z0-9_\-]{8,}",
        ),
        # The strongest prefixes (no identifier starts so) with any tail of four or more.
        (
            "token-prefix",
            r"\b(?:gh[pousr]_|github_pat_|glpat-|sk-ant-|xox[abposr]-|[rs]k_live_|AKIA|ASIA|AIza"
            r"|pypi-AgE|dckr_pat_|shpat_)[A-Za-z0-9_\-]{4,}",
        ),
        # `curl -u user:password`, `--password=...` on a command line.
        ("cli-password", r"(?<=\s)(?:-u|--user)\s+[^\s:'\"]+:(?!\$)[^\s'\"]{4,}"),
        ("cli-password", r"--pass(?:word)?[= ](?!\$)[^\s'\"]{4,}"),
    )
)
#: `prefix_tail` / `prefix-tail` tokens: a short lower- or mixed-case prefix, then a random tail.
_PREFIXED = re.compile(
    r"(?<![\w.+-])[A-Za-z][A-Za-z0-9]{1,11}(?:[_-][A-Za-z0-9]{1,12}){0,3}[_-]"
    r"(?P<tail>[A-Za-z0-9]{16,})(?![\w+/-])"
)
#: Words a name that holds a secret contains, and provider names (gitleaks' keyword rules).
_SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key"
    r"|credentials?|creds|private[_-]?key|signing[_-]?key|session[_-]?key|master[_-]?key"
    r"|bearer|salt|webhook|license[_-]?key|conn(?:ection)?[_-]?str(?:ing)?"
)
_PROVIDERS = (
    r"adafruit|adobe|airtable|algolia|alibaba|asana|atlassian|jira|confluence|beamer|bitbucket"
    r"|bittrex|cloudflare|codecov|cohere|coinbase|confluent|contentful|datadog|dd_api|dd_app"
    r"|discord|droneci|dropbox|etsy|finicity|finnhub|flickr|freshbooks|gitter|gocardless"
    r"|hubspot|heroku|intercom|jfrog|kraken|kucoin|launchdarkly|linkedin|mailgun|mattermost"
    r"|messagebird|netlify|newrelic|okta|plaid|rapidapi|sendbird|sentry|sidekiq|snyk"
    r"|sumologic|travis|twitch|twitter|twilio|zendesk|mapbox|pagerduty|segment|mixpanel"
)
#: `name = value` where the name says secret: in prose (a commit subject) or code, quoted or not.
_NAMED_VALUE = re.compile(
    r"(?P<name>[A-Za-z_][\w.-]{0,60})[\"']?\s*(?::=|=>|=|:)\s*(?P<q>[\"'`])?"
    r"(?P<value>(?(q)[^\"'`\n]{1,200}|[^\s\"'`,;)(\]\[{}<>]{3,200}))(?(q)(?P=q))"
)
_SECRET_NAME = re.compile(rf"(?i)(?:{_SECRET_WORDS}|{_PROVIDERS})")
#: The same words as plain lower-case alternatives: the cheap gate before the name rules.
_NAME_HINT = re.compile(
    "|".join(
        [
            *("pass", "pwd", "secret", "token", "key", "cred", "bearer", "salt", "webhook"),
            *("conn", *_PROVIDERS.split("|")),
        ]
    )
)
#: A run of token characters long enough for a key (the gate for the shape rules).
_LONG_RUN = re.compile(r"[A-Za-z0-9_\-+/.~]{16}")
_SHORT_PREFIX_HINT = re.compile(
    r"A3-|:A[\w-]{8}|gh[pousr]_|github_pat_|glpat-|sk-ant-|xox[abposr]-|k_live_|AKIA|ASIA|AIza"
    r"|pypi-|dckr_pat_|shpat_|\s-u\s|--user|--pass"
)
#: Zero-width and direction characters: nothing a key is made of.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
#: Names that are *about* a secret, not one: `token_url`, `password_field`, `password_error`.
_ABOUT_NAME = re.compile(
    r"(?i)(?:^|[_.-])(?:url|uri|path|file|filename|dir|name|field|type|header|env|var|prefix"
    r"|pattern|regex|len|length|min|max|id|ttl|timeout|expiry|expires|algorithm|alg|endpoint"
    r"|label|count|size|format|kind|mode|param|policy|scheme|hint|help|error|errors|message|msg"
    r"|text|title|prompt|description|placeholder|required|enabled|strength|reset|changed"
    r"|column|col|key_name|schema|class|fn|func|method|cls|validator|widget|input|hash|hashed"
    r"|encoder|store|manager|provider|service|client|factory|cache|policy|rules?|check)s?$"
)
_VALUE_NOT_SECRET = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|_+|<.*>|\{.*\}|\$.*|%.*|@.*@|none|null|nil|undefined|true|false"
    r"|redacted|changeme|replace[_-]?me|your[_-].*|\[redacted-\d+:[\w-]+\])$"
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
_CODE_VALUE = re.compile(r"^[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*(?:\(|\[|$)")
#: gitleaks' generic-api-key: a secret word or provider near `=`/`:` and a long token.
_KEYWORD_TOKEN = re.compile(
    rf"(?i)(?:{_SECRET_WORDS}|{_PROVIDERS})[\w.-]{{0,20}}[\"']?\s{{0,3}}(?::=|=>|=|:|,|\|\|)"
    r"[\s\"'`=]{0,5}(?P<value>[A-Za-z0-9_\-+/=.~]{16,})(?![\w(])"
)
_HEX = re.compile(r"(?:[0-9a-f]{2}){16,}|(?:[0-9A-F]{2}){16,}")
_B64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
#: A diff row as `render_hunk` writes it (`    12 +|code`), or a raw row's marker.
_ROW_PREFIX = re.compile(r"^\s*\d*\s?[ +\-]\|")
#: A line of a key's base64 body, maybe quoted or joined by `+` in code:
#: `^[\s"'+,]*[A-Za-z0-9+/]{40,}={0,2}[\s"',\\n+]*$`, read by `_key_line` in linear time (as
#: one regex, whose parts share `+`, a diff line of a few thousand `+` took minutes).
_KEY_RUN = re.compile(r"[A-Za-z0-9+/]{40}")
_KEY_LEAD = frozenset("\"'+,")
_KEY_TRAIL = frozenset("\"',\\n+")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_KEY_HEADER = re.compile(r"^\s*(?:Proc-Type|DEK-Info|Comment):|^\s*$")
_KEY_END_ANY = re.compile(r"-----END [A-Z0-9 ]*(?:PRIVATE KEY|PRIVATE KEY BLOCK)-----")
_CONTINUED = re.compile(r"^[\s+(,]*[\"'][A-Za-z0-9_\-+/=.]{4,}[\"'][\s+),\\;]*$")


def _entropy(text: str) -> float:
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values()) if n else 0.0


def _random_tail(tail: str) -> bool:
    digits = sum(c.isdigit() for c in tail)
    letters = sum(c.isalpha() for c in tail)
    return digits >= 2 and letters >= 4 and _entropy(tail) >= 3.3


def _secret_value(value: str, *, quoted: bool) -> bool:
    v = value.strip()
    if len(v) < (4 if quoted else 6) or _VALUE_NOT_SECRET.match(v) or len(set(v)) <= 2:
        return False
    if _ENV_NAME.match(v) or v.startswith(("/", "./", "~/", "http://", "https://")):
        return False  # an environment variable's name, a path, a URL without credentials
    if " " in v:
        # A passphrase has a few words; a message about a password has many.
        return quoted and len(v.split()) <= 4 and not v.endswith((".", "!", "?", ":"))
    # Unquoted `token = sign(user)`, `password: self.password` are code, not literals.
    return quoted or not _CODE_VALUE.match(v) or any(c.isdigit() for c in v)


def _decodes_to_secret(token: str, depth: int = 2) -> bool:
    """A base64, base64url or hex token whose text is a secret (`c2stYW50LWFwaTAz...`), read
    through up to `depth` layers of encoding."""
    core = token.rstrip("=")
    if len(core) < 16:
        return False
    try:
        if _HEX.fullmatch(core):
            raw = bytes.fromhex(core)
        else:
            padded = core + "=" * (-len(core) % 4)
            urlsafe = "-" in core or "_" in core
            raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(padded)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    if not text or sum(c.isprintable() or c in "\n\t" for c in text) < 0.9 * len(text):
        return False
    rows = text.split("\n")
    if any(_extra_spans(row, prose=True, decode=False) for row in rows):
        return True
    if any(scan_lines(rows, bare=True)):
        return True
    return depth > 1 and any(
        _decodes_to_secret(m.group(0), depth - 1) for m in _B64_TOKEN.finditer(text)
    )


def _extra_spans(text: str, *, prose: bool, decode: bool = True) -> list[SecretHit]:
    """The redactor's own rules over one line (spans may overlap; merged by the caller)."""
    hits: list[SecretHit] = []
    # Cheap gates first: most rows of code hold no long token and no secret-ish word.
    long_run = _LONG_RUN.search(text) is not None
    if long_run or _SHORT_PREFIX_HINT.search(text):
        for name, pattern in _SHAPES:
            for m in pattern.finditer(text):
                hits.append(SecretHit(name, m.start(), m.end()))
    if long_run:
        for m in _PREFIXED.finditer(text):
            if _random_tail(m.group("tail")):
                hits.append(SecretHit("token-prefixed", m.start(), m.end()))
    if _NAME_HINT.search(text.lower()):
        hits.extend(_named(text, prose=prose))
    if decode and long_run:
        for m in _B64_TOKEN.finditer(text):
            token = m.group(0)
            if (_b64_like(token) or _HEX.fullmatch(token)) and _decodes_to_secret(token):
                hits.append(SecretHit("secret-encoded", m.start(), m.end()))
    return hits


def _b64_like(token: str) -> bool:
    core = token.rstrip("=")
    return (
        len(core) % 4 != 1
        and any(c.isupper() for c in core)
        and any(c.islower() for c in core)
        and any(c.isdigit() for c in core)
    )


def _named(text: str, *, prose: bool) -> list[SecretHit]:
    """`name = value` and gitleaks-style `keyword ... = token` where the name says secret."""
    hits: list[SecretHit] = []
    for m in _NAMED_VALUE.finditer(text):
        name = m.group("name")
        if not _SECRET_NAME.search(name) or _ABOUT_NAME.search(name):
            continue
        quoted = bool(m.group("q"))
        if not quoted and not prose and not re.search(r"\d", m.group("value")):
            continue  # unquoted in code: `password = form.password` is not a literal
        if _secret_value(m.group("value"), quoted=quoted):
            hits.append(SecretHit("named-secret", m.start("value"), m.end("value")))
    for m in _KEYWORD_TOKEN.finditer(text):
        value = m.group("value")
        if (
            re.search(r"\d", value)
            and re.search(r"[A-Za-z]", value)
            and len(set(value)) > 6
            and not _ENV_NAME.match(value)
        ):
            hits.append(SecretHit("keyword-token", m.start("value"), m.end("value")))
    return hits


def _unstrip(text: str, hits: Sequence[SecretHit]) -> list[SecretHit]:
    """Spans found in `text` without its invisible characters -> spans of `text` itself."""
    index = [i for i, c in enumerate(text) if not _INVISIBLE.match(c)]
    index.append(len(text))
    return [
        SecretHit(
            h.rule, index[h.start], index[h.end - 1] + 1 if h.end > h.start else index[h.start]
        )
        for h in hits
    ]


def _merge(spans: Iterable[SecretHit]) -> list[SecretHit]:
    """Overlapping spans joined (the rule of the first kept), sorted by start."""
    out: list[SecretHit] = []
    for hit in sorted(spans, key=lambda h: (h.start, -h.end)):
        if out and hit.start < out[-1].end:
            last = out[-1]
            out[-1] = SecretHit(last.rule, last.start, max(last.end, hit.end))
        else:
            out.append(hit)
    return out


def _body(text: str) -> str:
    return _ROW_PREFIX.sub("", text, count=1)


def _key_bodies(lines: Sequence[str]) -> set[int]:
    """Rows of key material the line scanner cannot see: a block whose `BEGIN` line is outside
    these rows (its body and `END` line are here), and runs of bare base64 key lines."""
    hidden: set[int] = set()
    n = len(lines)
    for i, text in enumerate(lines):
        if _KEY_END_ANY.search(text):
            hidden.add(i)
            j = i - 1
            while j >= 0 and (_key_line(_body(lines[j])) or _KEY_HEADER.match(_body(lines[j]))):
                hidden.add(j)
                j -= 1
    run: list[int] = []
    for i in range(n + 1):
        if i < n and _key_line(_body(lines[i])):
            run.append(i)
            continue
        long_line = any(len(_body(lines[k]).strip(" \t\"',+\\n")) >= 60 for k in run)
        if (len(run) >= 2 and long_line) or (len(run) == 1 and _looks_like_key_line(lines[run[0]])):
            hidden.update(run)
        run = []
    return hidden


def _key_line(text: str) -> bool:
    """Does `text` match the key line's pattern (its comment above)? Most lines have no run
    of 40 base64 characters and are answered by one search; the rest are read once, left to
    right, keeping every way the pattern could still match: still in the lead; in the body
    (the longest body so far: a longer one can do all a shorter one can), capped at 40; one
    or two `=` after a full body; in the trail."""
    if _KEY_RUN.search(text) is None:
        return False
    lead, body, pad1, pad2, trail = True, 0, False, False, False
    for ch in text:
        space = ch.isspace()
        full = body >= 40
        in_body = ch in _BASE64
        trail = (space or ch in _KEY_TRAIL) and (trail or pad1 or pad2 or full)
        pad2 = ch == "=" and pad1
        pad1 = ch == "=" and full
        body = min(40, max(body + 1 if body else 0, 1 if lead else 0)) if in_body else 0
        lead = lead and (space or ch in _KEY_LEAD)
    return body >= 40 or pad1 or pad2 or trail


def _looks_like_key_line(text: str) -> bool:
    core = _body(text).strip(" \t\"',+\\n").rstrip("=")
    return len(core) >= 60 and _entropy(core) >= 4.5


@dataclass
class Redactor:
    """Replaces secrets with numbered placeholders and remembers the originals (locally)."""

    originals: dict[int, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.originals)

    def _replace(self, text: str, spans: Sequence[SecretHit]) -> str:
        kept = [m.span() for m in _PLACEHOLDER.finditer(text)]
        for hit in sorted(spans, key=lambda h: -h.start):
            if any(a < hit.end and hit.start < b for a, b in kept) and not (
                hit.start == 0 and hit.end == len(text)
            ):
                continue  # never re-redact a placeholder (it carries no secret)
            original = text[hit.start : hit.end]
            if not original.strip() or _PLACEHOLDER.fullmatch(original):
                continue
            n = len(self.originals) + 1
            self.originals[n] = original
            text = f"{text[: hit.start]}[REDACTED-{n}:{hit.rule}]{text[hit.end :]}"
        return text

    def lines(self, lines: Sequence[str], *, bare: bool = False, prose: bool = False) -> list[str]:
        if not lines:
            return []
        # Invisible characters inside a key do not hide it: scan without them, redact the
        # original span (the invisible characters inside it go too).
        views = [_INVISIBLE.sub("", t) if _INVISIBLE.search(t) else t for t in lines]
        scanned = scan_lines(views, bare=bare)
        keys = _key_bodies(views)
        out = []
        for i, (text, view, hits) in enumerate(zip(lines, views, scanned)):
            if i in keys:
                hits = [SecretHit("secret-private-key", 0, len(view))]
            else:
                hits = _merge([*hits, *_extra_spans(view, prose=prose)])
            if hits and view is not text:
                hits = _unstrip(text, hits)
            out.append(self._replace(text, hits) if hits else text)
        # A key split over string literals: the piece on the next line goes too.
        split_end = re.compile(r"\[REDACTED-\d+:[\w-]+\][\"']?[\s+,\\]*$")
        for i in range(1, len(out)):
            if (
                out[i] == lines[i]
                and out[i - 1] != lines[i - 1]
                and _CONTINUED.match(_body(lines[i]))
                and split_end.search(out[i - 1])
            ):
                body = _body(lines[i])
                start = len(lines[i]) - len(body.lstrip())
                out[i] = self._replace(
                    lines[i], [SecretHit("secret-continued", start, len(lines[i]))]
                )
        return out

    def text(self, text: str | None) -> str | None:
        """Free text (a prompt, a commit message, a path): bare and prose forms count."""
        if text is None:
            return None
        return "\n".join(self.lines(text.split("\n"), bare=True, prose=True))

    def outgoing(self, text: str, begin: str | None = None, end: str | None = None) -> str:
        """The last pass over a request as it will be sent: the untrusted block between the
        `begin` and `end` markers (all of `text` when they are not found) is read again whole,
        headers, file lists and all. Our own framing outside the markers is left as written."""
        if begin and end and begin in text and end in text:
            head, rest = text.split(begin, 1)
            middle, tail = rest.rsplit(end, 1)
            return head + begin + (self.text(middle) or "") + end + tail
        return self.text(text) or ""

    def restore(self, text: str) -> str:
        """A model's quote with our placeholders put back to the original text."""
        return _PLACEHOLDER.sub(lambda m: self.originals.get(int(m.group(1)), m.group(0)), text)

    def file(self, fd: FileDiff) -> FileDiff:
        """A copy of `fd` whose rows, section headers and names carry no secrets (key blocks
        followed across rows)."""
        rows = [r for h in fd.hunks for r in h.lines]
        texts = self.lines([r.text for r in rows], bare=language_of(fd.path) in BARE_LANGS)
        sections = [self.text(h.section) or "" if h.section else h.section for h in fd.hunks]
        path = self.text(fd.path) or fd.path
        old_path = self.text(fd.old_path) if fd.old_path else fd.old_path
        same_rows = all(t is r.text or t == r.text for t, r in zip(texts, rows))
        same_sections = sections == [h.section for h in fd.hunks]
        if same_rows and same_sections and path == fd.path and old_path == fd.old_path:
            return fd
        it = iter(texts)
        hunks = [
            Hunk(
                h.old_start,
                h.old_count,
                h.new_start,
                h.new_count,
                section,
                [DiffLine(r.kind, next(it), r.old_no, r.new_no) for r in h.lines],
            )
            for h, section in zip(fd.hunks, sections)
        ]
        return replace(fd, path=path, old_path=old_path, hunks=hunks)


@lru_cache(maxsize=256)
def _spec(globs: tuple[str, ...]) -> pathspec.PathSpec:
    """gitignore's globs (`pathspec`'s "gitignore" patterns): `*` within a segment, `**` across
    segments, a pattern without a slash matches at any depth, `[abc]` a class."""
    return pathspec.PathSpec.from_lines("gitignore", (g.strip() for g in globs))


def never_send(path: str, globs: Iterable[str]) -> bool:
    return _spec(tuple(globs)).match_file(path)


@dataclass
class Outgoing:
    """What may leave the machine for one critique, and what was held back."""

    diff: Diff
    prompt: str | None
    message: str
    held_back: list[str]
    redactor: Redactor


def prepare_outgoing(
    diff: Diff, prompt: str | None, message: str, globs: Sequence[str]
) -> Outgoing:
    """The redacted diff, prompt and message, with never-send files dropped (named only)."""
    redactor = Redactor()
    kept: list[FileDiff] = []
    held: list[str] = []
    for fd in diff.files:
        if any(never_send(p, globs) for p in (fd.path, fd.old_path) if p):
            held.append(fd.path)
            continue
        kept.append(redactor.file(fd))
    return Outgoing(
        diff=Diff(kept),
        prompt=redactor.text(prompt),
        message=redactor.text(message) or "",
        held_back=held,
        redactor=redactor,
    )
