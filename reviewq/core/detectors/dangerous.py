"""Dangerous patterns in added code: shell, JavaScript/TypeScript, Go, Python and YAML.

Each pattern is a regular expression over one added line, restricted to the languages where it
means what it says, and skipped on comment lines (a comment that *mentions* `shell=True` is not a
call). Python files are also read by ruff's security rules; where both report the same line, the
static critic keeps one finding (see `RUFF_EQUIVALENT`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewq.core.detectors.base import (
    CODE_LANGS,
    RuleInfo,
    Scope,
    line_finding,
    rule,
    strip_strings,
)
from reviewq.core.model import Finding

TLS = rule("tls-verify-disabled", "error", "security", "TLS certificate verification disabled")
SHELL = rule("subprocess-shell", "error", "security", "command run through a shell")
EVAL = rule("code-eval", "error", "security", "dynamic code evaluation")
DESER = rule("unsafe-deserialization", "error", "security", "unsafe deserialization")
CHMOD = rule("chmod-world-writable", "error", "security", "world-writable permissions")
CURL_SH = rule("curl-pipe-shell", "critical", "security", "downloaded script piped to a shell")
SQL = rule("sql-string-build", "error", "security", "SQL built from strings")
XSS = rule("xss-sink", "warning", "security", "unescaped HTML sink")
TIMING = rule("timing-unsafe-compare", "warning", "security", "secret compared with ==")
PRIV = rule("container-privileged", "error", "security", "privileged container or host access")
DEBUG = rule("debug-enabled", "warning", "security", "debug mode enabled")
CORS = rule("permissive-cors", "warning", "security", "CORS open to every origin")
#: Reported through ruff's parser: added Python that does not parse.
SYNTAX = rule("syntax-error", "error", "possible_bug", "new code does not parse")
SUPPRESS = rule("lint-suppressed", "note", "maintainability", "linter or scanner silenced")

#: ruff codes that report what one of these rules reports (one finding per concern and line).
RUFF_EQUIVALENT = {
    "S501": TLS.id,
    "S323": TLS.id,
    "S602": SHELL.id,
    "S604": SHELL.id,
    "S605": SHELL.id,
    "S102": EVAL.id,
    "S307": EVAL.id,
    "S301": DESER.id,
    "S302": DESER.id,
    "S506": DESER.id,
    "S103": CHMOD.id,
    "S608": SQL.id,
    "S201": DEBUG.id,
    "S105": "hardcoded-credential",
    "S106": "hardcoded-credential",
    "S107": "hardcoded-credential",
}

_ALL = CODE_LANGS

#: Lower-case words at least one of which a rule's patterns need: a file holding none of them is
#: skipped without running the regular expressions (most of a large diff is skipped this way).
_HINTS: dict[str, tuple[str, ...]] = {
    TLS.id: (
        "verify",
        "unverified",
        "curl",
        "wget",
        "cert_none",
        "check_hostname",
        "rejectunauthorized",
        "strictssl",
        "reject_unauthorized",
        "insecure",
        "no-check-certificate",
        "strict-ssl",
        "tls",
    ),
    SHELL.id: ("shell", "system", "popen", "getoutput", "exec", "spawn"),
    EVAL.id: ("eval", "exec", "function", "settimeout", "setinterval"),
    DESER.id: ("pickle", "dill", "marshal", "shelve", "yaml", "serialize"),
    CHMOD.id: ("chmod",),
    CURL_SH.id: ("curl", "wget", "iex"),
    SQL.id: ("execute", "raw", "query", "exec", "sprintf", "select", "insert", "update", "delete"),
    XSS.id: ("html", "document.write", "safe", "markup"),
    PRIV.id: ("privilege", "hostnetwork", "hostpid", "hostipc", "runasuser", "cap-add"),
    DEBUG.id: ("debug",),
    CORS.id: ("origin", "cors"),
    SUPPRESS.id: ("nosec", "noqa", "nolint", "eslint-disable"),
}
_TIMING_HINTS = ("==", "!=")
_SH_LIKE = frozenset({"shell", "yaml", "other"})


@dataclass(frozen=True, slots=True)
class Pattern:
    info: RuleInfo
    regex: re.Pattern[str]
    langs: frozenset[str]
    body: str
    #: Also look at comment lines (a shebang or a YAML `run:` can start like a comment).
    in_comments: bool = False
    #: The pattern is about calls and arguments: it must match outside string literals too
    #: (`"shell=True"` quoted in a message is not a shell).
    code_only: bool = False


def _p(info: RuleInfo, regex: str, langs, body: str, **kw) -> Pattern:
    return Pattern(info, re.compile(regex, re.MULTILINE), frozenset(langs), body, **kw)


_TLS_BODY = (
    "Certificate verification is switched off, so anyone on the network path can impersonate "
    "the server and read or alter the traffic. Fix the trust store instead."
)
_SHELL_BODY = (
    "The command is run through a shell; any part built from input can inject commands. Pass an "
    "argument list without a shell."
)
_EVAL_BODY = (
    "Evaluates a string as code: whoever controls the string controls the process. Parse the "
    "data instead."
)
_DESER_BODY = (
    "Deserializing untrusted bytes with this loader can execute code. Use a data-only format "
    "(JSON) or a safe loader."
)

PATTERNS: tuple[Pattern, ...] = (
    # -- TLS verification --------------------------------------------------------------------
    _p(TLS, r"\bverify\s*=\s*False\b", {"python"}, _TLS_BODY, code_only=True),
    _p(
        TLS,
        r"_create_unverified_context|\bCERT_NONE\b|check_hostname\s*=\s*False",
        {"python"},
        _TLS_BODY,
        code_only=True,
    ),
    _p(
        TLS,
        r"rejectUnauthorized\s*:\s*false|strictSSL\s*:\s*false",
        {"js"},
        _TLS_BODY,
        code_only=True,
    ),
    _p(
        TLS,
        r"NODE_TLS_REJECT_UNAUTHORIZED\W{0,4}0|PYTHONHTTPSVERIFY\W{0,4}0|GIT_SSL_NO_VERIFY",
        _ALL | {"env"},
        _TLS_BODY,
    ),
    _p(TLS, r"InsecureSkipVerify\s*:\s*true", {"go"}, _TLS_BODY, code_only=True),
    _p(
        TLS,
        r"\bcurl\b[^|;\n]*\s(?:-k|--insecure)\b|\bwget\b[^|;\n]*--no-check-certificate|sslVerify\s+false|strict-ssl\s*=?\s*false",
        _SH_LIKE | {"python", "js"},
        _TLS_BODY,
    ),
    _p(
        TLS,
        r"(?i)^[ \t]*+(?:-[ \t]*+)?(?:insecure[_-]?skip[_-]?tls[_-]?verify|insecureSkipVerify|skip[_-]?tls[_-]?verify|tls[_-]?insecure|insecure)\s*:\s*true\b|^[ \t]*+(?:-[ \t]*+)?(?:verify[_-]?ssl|ssl[_-]?verify|tls[_-]?verify|verify)\s*:\s*false\b",
        {"yaml"},
        _TLS_BODY,
    ),
    # -- shells ------------------------------------------------------------------------------
    _p(
        SHELL,
        r"\bshell\s*=\s*True\b|\bos\.(?:system|popen)\s*\(|\bcommands\.getoutput\(",
        {"python"},
        _SHELL_BODY,
        code_only=True,
    ),
    _p(
        SHELL,
        r"\bexec(?:Sync)?\s*\(\s*(?:`[^`]*\$\{|[^,)]*\+)|\bspawn(?:Sync)?\([^)]*shell\s*:\s*true",
        {"js"},
        _SHELL_BODY,
    ),
    _p(
        SHELL,
        r"exec\.Command(?:Context)?\([^)]*\"(?:/bin/|/usr/bin/)?(?:ba|z|da)?sh\"\s*,\s*\"-c\"",
        {"go"},
        _SHELL_BODY,
    ),
    # -- eval --------------------------------------------------------------------------------
    _p(EVAL, r"(?<![\w.])(?:eval|exec)\s*\((?!\s*\))", {"python"}, _EVAL_BODY, code_only=True),
    _p(
        EVAL,
        r"(?<![\w.])eval\s*\(|\bnew\s+Function\s*\(|\bset(?:Timeout|Interval)\(\s*[\"'`]",
        {"js"},
        _EVAL_BODY,
    ),
    _p(EVAL, r"(?:^|[;&|]\s*)eval\s+[\"'$`]", {"shell", "yaml"}, _EVAL_BODY),
    # -- deserialization ---------------------------------------------------------------------
    _p(
        DESER,
        r"\b(?:c?pickle|dill|marshal|shelve)\.(?:loads?|Unpickler|open)\b|\bjsonpickle\.decode\(|\byaml\.unsafe_load\(|\byaml\.load\((?![^)]*(?:Safe|CLoader\b|BaseLoader))",
        {"python"},
        _DESER_BODY,
        code_only=True,
    ),
    _p(DESER, r"\bunserialize\s*\(|node-serialize", {"js"}, _DESER_BODY),
    # -- permissions -------------------------------------------------------------------------
    _p(
        CHMOD,
        r"\bchmod\s+(?:-R\s+)?(?:0?777|0?666|a\+rwx|ugo\+rwx|o\+w|a\+w)\b",
        _SH_LIKE | {"python", "js", "go"},
        "Makes files writable by every user on the machine. Grant only what the owner needs.",
        in_comments=False,
    ),
    _p(
        CHMOD,
        r"\bchmod\s*\([^)]*\b0o?7[0-7]7\b|\bChmod\([^)]*\b0o?7[0-7]7\b|\bchmodSync?\([^)]*0o?7[0-7]7",
        {"python", "js", "go"},
        "Makes files writable by every user on the machine. Grant only what the owner needs.",
        code_only=True,
    ),
    # -- downloaded scripts ------------------------------------------------------------------
    _p(
        CURL_SH,
        r"\b(?:curl|wget)\b[^|\n]*\|\s*(?:sudo\s+)?(?:-\w+\s+)*(?:ba|z|da|k)?sh\b|\b(?:curl|wget)\b[^|\n]*\|\s*(?:sudo\s+)?python[0-9.]*\b|\b(?:ba)?sh\s+<\(\s*(?:curl|wget)|\b(?:ba)?sh\s+-c\s+[\"']?\$\((?:curl|wget)|\biex\b.{0,20}(?:iwr|Invoke-WebRequest|DownloadString)",
        _SH_LIKE | {"python", "js", "go", "env"},
        "Runs whatever a remote server returns at that moment, with this job's permissions and secrets. Pin a checksum-verified release or vendor the script.",
    ),
    # -- SQL ---------------------------------------------------------------------------------
    _p(
        SQL,
        r"(?i)\.(?:execute|executemany|raw|query|exec)\s*\(\s*(?:f[\"']|[\"'][^\"']*\b(?:select|insert|update|delete|drop)\b[^\"']*[\"']\s*(?:%|\+|\.format\())",
        {"python", "js"},
        "SQL assembled from strings is open to injection. Use bound parameters.",
    ),
    _p(
        SQL,
        r"(?i)\b(?:Query|QueryRow|Exec|QueryContext|ExecContext)\s*\(\s*(?:ctx\s*,\s*)?fmt\.Sprintf\(|`\s*(?:select|insert|update|delete)\b[^`]*\$\{",
        {"go", "js"},
        "SQL assembled from strings is open to injection. Use bound parameters.",
    ),
    # -- HTML sinks --------------------------------------------------------------------------
    _p(
        XSS,
        r"\.(?:inner|outer)HTML\s*\+?=(?!=)|dangerouslySetInnerHTML|\bdocument\.write(?:ln)?\(|\.insertAdjacentHTML\(",
        {"js"},
        "Writes markup without escaping; text from users becomes script. Use textContent or a sanitiser.",
    ),
    _p(
        XSS,
        r"\btemplate\.(?:HTML|JS|URL)\(",
        {"go"},
        "Marks a string as safe HTML/JS, bypassing html/template's escaping.",
    ),
    _p(
        XSS,
        r"\bmark_safe\(|\|\s*safe\b|Markup\(",
        {"python"},
        "Marks a string as safe HTML, bypassing escaping.",
    ),
    # -- containers --------------------------------------------------------------------------
    _p(
        PRIV,
        r"^[ \t]*+(?:-[ \t]*+)?(?:privileged|allowPrivilegeEscalation|hostNetwork|hostPID|hostIPC)\s*:\s*true\b|^[ \t]*+(?:-[ \t]*+)?runAsUser\s*:\s*0\b",
        {"yaml"},
        "Gives the container root-level access to the host. Drop it unless the workload truly needs the host.",
    ),
    _p(
        PRIV,
        r"\bdocker\s+run\b[^\n]*--privileged|--cap-add[= ](?:ALL|SYS_ADMIN)\b",
        _SH_LIKE,
        "Gives the container root-level access to the host.",
    ),
    # -- configuration -----------------------------------------------------------------------
    _p(
        DEBUG,
        r"\.run\([^)]*\bdebug\s*=\s*True|^\s*DEBUG\s*=\s*True\b",
        {"python"},
        "Debug mode exposes an interactive debugger or stack traces; keep it out of deployable code.",
        code_only=True,
    ),
    _p(
        CORS,
        r"(?i)access-control-allow-origin[\"']?\s*[:,]\s*[\"']\*|CORS_ORIGIN_ALLOW_ALL\s*=\s*True|CORS_ALLOW_ALL_ORIGINS\s*=\s*True|allow_origins\s*=\s*\[\s*[\"']\*[\"']|origin\s*:\s*[\"']\*[\"']",
        _ALL,
        "Any website may call this API with the user's credentials. List the allowed origins.",
    ),
    _p(
        SUPPRESS,
        r"#\s*nosec\b|#\s*noqa(?::\s*S\d+|\s*$)|//\s*nolint(?::\s*gosec)?\b|eslint-disable(?:-next-line|-line)?\b[^\n]*(?:security|no-eval|no-implied-eval)",
        _ALL,
        "Silences a linter or security scanner on this line; say why, or fix what it found.",
        in_comments=True,
    ),
)

#: The left side is at most 256 characters: unbounded, every position of a long token tried
#: it to the token's end (a 20,000-character word took 4.5 s; lines are cut at 4,000).
_TIMING = re.compile(
    r"(?im)\b(?P<name>\w*?(?:mac|signature|sig|token|password|passwd|secret|api_?key|"
    r"apikey|otp|csrf\w*))\s*(?:===?|!==?)\s*(?P<rhs>[\w.\"'\[\]()]+)"
    r"|(?P<lhs>[\w.\[\]()]{1,256})\s*(?:===?|!==?)\s*(?P<name2>\w*?(?:mac|signature|sig|"
    r"token|password|passwd|secret|api_?key|apikey|otp))\b"
)
_TRIVIAL_RHS = re.compile(
    r"(?i)^(?:none|null|nil|undefined|true|false|\d+|[\"']{2}|len\(|\w*type\w*|\w*kind\w*)"
)
_TIMING_LANGS = frozenset({"python", "js", "go"})


def detect(scope: Scope) -> list[Finding]:
    out: list[Finding] = []
    for added in scope.texts.values():
        lang = added.rows[0].lang
        if lang not in CODE_LANGS and lang != "env":
            continue
        seen: set[tuple[str, int]] = set()
        low = added.lower
        for pat in PATTERNS:
            if lang not in pat.langs or not any(h in low for h in _HINTS[pat.info.id]):
                continue
            for line, _ in added.matches(pat.regex):
                key = (pat.info.id, line.no)
                if key in seen or line.in_string or (line.comment and not pat.in_comments):
                    continue
                if pat.code_only and not pat.regex.search(strip_strings(line.text)):
                    continue
                seen.add(key)
                out.append(line_finding(pat.info, line, pat.body))
        if (
            lang not in _TIMING_LANGS
            or added.rows[0].in_test
            or not any(h in low for h in _TIMING_HINTS)
        ):
            continue
        for line, m in added.matches(_TIMING):
            key = (TIMING.id, line.no)
            rhs = m.group("rhs") or m.group("lhs") or ""
            if key in seen or line.comment or line.in_string or _TRIVIAL_RHS.match(rhs):
                continue
            if not _TIMING.search(strip_strings(line.text)):
                continue  # the comparison is inside a string
            seen.add(key)
            name = m.group("name") or m.group("name2")
            out.append(
                line_finding(
                    TIMING,
                    line,
                    f"`{name}` is compared with `==`, which returns as soon as a byte differs; "
                    "the timing reveals how much of a guess was right. Use a constant-time "
                    "comparison (hmac.compare_digest, crypto.timingSafeEqual, "
                    "subtle.ConstantTimeCompare).",
                )
            )
    return out
