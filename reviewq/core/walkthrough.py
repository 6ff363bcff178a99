"""The order a pair walks through a diff: tests, then interfaces, then implementation, then
generated files.

Explaining a change to someone goes best from what it is supposed to do (its tests) and the
shapes it introduces (types, schemas, signatures, configuration) to the code that does it; nobody
walks through a lockfile. So each hunk gets a kind, from its file's path and, inside source
files, from what its changed lines and its section header declare (a new protocol, a dataclass, a
changed signature). The order is by kind and stable otherwise: within a kind, the diff's own
order (files as git lists them, hunks top to bottom). A diff nothing here can classify reads
exactly as `git show` prints it.

Pure: a `Diff` in, a list of `Step`s out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewq.core.generated import is_generated
from reviewq.core.model import Diff, FileDiff, Hunk
from reviewq.core.risk import is_ci_path, is_lockfile, is_test_path

#: Kinds in walkthrough order; `other` (documentation, files we cannot classify) keeps its
#: place among the implementation.
KINDS = ("test", "interface", "implementation", "other", "generated")
RANK = {"test": 0, "interface": 1, "implementation": 2, "other": 2, "generated": 3}


@dataclass(frozen=True, slots=True)
class Step:
    """One stop of the walkthrough: a hunk, or a file without hunks (binary, rename, mode)."""

    file: int
    hunk: int | None
    kind: str
    #: Why it is placed there, for people: "type stub", "declares protocol Session".
    why: str


# -- files ------------------------------------------------------------------------------------

_INTERFACE_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), why)
    for pattern, why in (
        (r"\.pyi$", "type stub"),
        (r"\.d\.[mc]?ts$", "type declarations"),
        (r"\.(h|hh|hpp|hxx|h\+\+|inl)$", "header"),
        (r"\.(proto|thrift|avsc|avdl|graphqls?|gql|capnp|fbs|xsd|wsdl)$", "schema"),
        (r"(^|/)[^/]*schemas?[^/]*\.\w+$|(^|/)schemas?/", "schema"),
        (r"(^|/)(migrations?|alembic/versions)/", "schema migration"),
        (
            r"(^|/)(types?|typing|typings|typedefs?|interfaces?|protocols?|abc)(\.\w+$|/)",
            "types and interfaces",
        ),
        (
            r"(^|/)(routes?|router|routing|urls|openapi|swagger)(\.\w+)+$|(^|/)openapi/"
            r"|\.openapi\.\w+$",
            "API routes",
        ),
        (r"(^|/)__init__\.py$", "package exports"),
    )
)
_CONFIG_PATH = re.compile(
    r"\.(toml|ini|cfg|conf|ya?ml|properties|env\.example|editorconfig)$|"
    r"(^|/)(package|composer|tsconfig[^/]*|jsconfig|appsettings[^/]*|manifest|[^/]+\.config)"
    r"\.jsonc?$|(^|/)\.[^/]*rc(\.json)?$",
    re.IGNORECASE,
)
_SOURCE_PATH = re.compile(
    r"\.(py|pyw|pyx|js|jsx|mjs|cjs|ts|tsx|mts|cts|go|rs|java|kt|kts|scala|groovy|c|cc|cpp|cxx|"
    r"m|mm|swift|rb|php|cs|fs|vb|ex|exs|erl|hrl|hs|ml|mli|clj|cljs|lua|pl|pm|sh|bash|zsh|fish|"
    r"ps1|sql|r|jl|dart|vue|svelte|html?|css|scss|sass|less|zig|nim|sol|tf|hcl)$|"
    r"(^|/)(Dockerfile[^/]*|Makefile|Containerfile|Rakefile|Gemfile|Justfile)$",
    re.IGNORECASE,
)
_DOCS_PATH = re.compile(
    r"\.(md|markdown|rst|txt|adoc|asciidoc|org)$|(^|/)(docs?|documentation)/|"
    r"(^|/)(README|CHANGELOG|CHANGES|LICENSE|COPYING|NOTICE|AUTHORS|CONTRIBUTING)[^/]*$",
    re.IGNORECASE,
)


def classify_file(fd: FileDiff) -> tuple[str, str]:
    """(kind, why) of a whole file, from its path (and a "generated" marker in its first lines)."""
    path = fd.path
    if is_lockfile(path):
        return "generated", "lockfile"
    if is_generated(fd):
        return "generated", "generated file"
    if is_test_path(path):
        return "test", {"deleted": "test deleted", "added": "new test"}.get(fd.status, "test")
    for pattern, why in _INTERFACE_PATHS:
        if pattern.search(path):
            return "interface", why
    if is_ci_path(path):
        return "interface", "CI configuration"
    if _CONFIG_PATH.search(path):
        return "interface", "configuration"
    if _SOURCE_PATH.search(path):
        return "implementation", "source code"
    if _DOCS_PATH.search(path):
        return "other", "documentation"
    if fd.is_binary:
        return "other", "binary file"
    return "other", "not classified"


# -- hunks inside source files ----------------------------------------------------------------

_PY_CLASS = re.compile(r"^class\s+(\w+)\s*(?:\[[^\]]*\])?\s*(?:\((.*)\))?\s*:")
_PY_INTERFACE_BASES = {
    "Protocol": "protocol",
    "ABC": "abstract class",
    "ABCMeta": "abstract class",
    "TypedDict": "typed dict",
    "NamedTuple": "named tuple",
    "Enum": "enum",
    "IntEnum": "enum",
    "StrEnum": "enum",
    "Flag": "enum",
    "IntFlag": "enum",
    "BaseModel": "model",
}
_PY_DECLARATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^@(?:dataclasses\.)?dataclass\b"), "declares a dataclass"),
    (re.compile(r"^@(?:typing(?:_extensions)?\.)?runtime_checkable\b"), "declares a protocol"),
    (re.compile(r"^@(?:abc\.)?abstract(?:method|property)\b"), "declares an abstract method"),
    (re.compile(r"^@(?:typing(?:_extensions)?\.)?overload\b"), "declares an overload"),
    (re.compile(r"^(\w+)\s*:\s*(?:typing\.)?TypeAlias\b"), "declares type {0}"),
    (re.compile(r"^type\s+(\w+)\b.*="), "declares type {0}"),
    (
        re.compile(r"^(\w+)\s*=\s*(?:typing\.)?(?:TypeVar|NewType|ParamSpec|TypeVarTuple)\("),
        "declares type {0}",
    ),
    (re.compile(r"^__all__\s*\+?="), "changes the exports"),
)
_PY_DEF = re.compile(r"^(?:async\s+)?def\s+(\w+)\s*\(")
_PY_FIELD = re.compile(r"^\w+\s*:\s*[^=()]+(?:=.*)?$")
_PY_NOT_FIELD = re.compile(r"^(return|yield|raise|assert|del|pass|else|try|finally|lambda)\b")

_DECLARATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Go
    (re.compile(r"^type\s+(\w+)\s+(struct|interface)\b"), "declares {1} {0}"),
    # TypeScript
    (
        re.compile(
            r"^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?"
            r"(interface|enum)\s+(\w+)"
        ),
        "declares {0} {1}",
    ),
    (
        re.compile(r"^(?:export\s+)?(?:declare\s+)?(type)\s+(\w+)\s*(?:<[^>]*>)?\s*="),
        "declares {0} {1}",
    ),
    # Rust
    (
        re.compile(r"^(?:pub(?:\([\w:]+\))?\s+)?(trait|struct|enum|type)\s+(\w+)"),
        "declares {0} {1}",
    ),
    # Java, Kotlin, C#, Swift
    (
        re.compile(
            r"^(?:(?:public|private|protected|internal|sealed|abstract|data|open|static|final)"
            r"\s+)*(interface|record|protocol|@interface)\s+(\w+)"
        ),
        "declares {0} {1}",
    ),
)
_SECTION_INTERFACE = re.compile(
    r"\b(interface|trait|protocol)\s+(\w+)|\btype\s+(\w+)\s+interface\b", re.IGNORECASE
)
_RUST_TESTS = re.compile(r"^(#\[cfg\(test\)\]|#\[test\]|mod\s+tests\b)")
_PY_SUFFIXES = (".py", ".pyw", ".pyx")


def _changed(hunk: Hunk) -> list[str]:
    return [
        line.text.strip()
        for line in hunk.lines
        if line.kind in "+-" and line.text.strip() and not line.text.strip().startswith("#")
    ]


def hunk_kind(path: str, hunk: Hunk) -> tuple[str, str] | None:
    """(kind, why) for a hunk of a source file that declares rather than implements, or tests
    in the same file (Rust's `mod tests`); None for an ordinary implementation hunk."""
    section = hunk.section.strip()
    if path.lower().endswith(_PY_SUFFIXES):
        return _python_hunk(section, hunk)
    raw = [line.text.strip() for line in hunk.lines if line.kind in "+-" and line.text.strip()]
    if path.lower().endswith(".rs") and (
        _RUST_TESTS.search(section) or any(_RUST_TESTS.search(t) for t in raw)
    ):
        return "test", "tests in the module"
    for text in _changed(hunk):
        for pattern, why in _DECLARATIONS:
            match = pattern.search(text)
            if match:
                return "interface", why.format(*match.groups())
    match = _SECTION_INTERFACE.search(section)
    if match and _changed(hunk):
        name = match.group(2) or match.group(3)
        word = (match.group(1) or "interface").lower()
        return "interface", f"inside {word} {name}"
    return None


def _python_hunk(section: str, hunk: Hunk) -> tuple[str, str] | None:
    changed = _changed(hunk)
    if not changed:
        return None
    for text in changed:
        match = _PY_CLASS.search(text)
        if match:
            what = _class_word(match.group(2) or "")
            return "interface", f"declares {what} {match.group(1)}"
        for pattern, why in _PY_DECLARATIONS:
            found = pattern.search(text)
            if found:
                return "interface", why.format(*found.groups())
    removed = {m.group(1) for line in hunk.lines if line.kind == "-" and (m := _py_def(line.text))}
    added = {m.group(1) for line in hunk.lines if line.kind == "+" and (m := _py_def(line.text))}
    changed_signatures = sorted(removed & added)
    if changed_signatures:
        return "interface", f"changes the signature of {changed_signatures[0]}()"
    match = _PY_CLASS.search(section)
    if match:
        bases = match.group(2) or ""
        what = _class_word(bases)
        if what != "class":
            return "interface", f"inside {what} {match.group(1)}"
        if all(_PY_FIELD.search(t) and not _PY_NOT_FIELD.search(t) for t in changed):
            return "interface", f"changes the fields of {match.group(1)}"
    return None


def _py_def(text: str) -> re.Match[str] | None:
    return _PY_DEF.search(text.strip())


def _class_word(bases: str) -> str:
    for base in re.findall(r"[\w.]+", bases):
        word = _PY_INTERFACE_BASES.get(base.rsplit(".", 1)[-1])
        if word:
            return word
    return "class"


# -- the walkthrough --------------------------------------------------------------------------


def walkthrough(diff: Diff) -> list[Step]:
    """Every hunk of `diff` once (and every file without hunks), in the order to read them."""
    steps: list[Step] = []
    for f, fd in enumerate(diff.files):
        kind, why = classify_file(fd)
        if not fd.hunks:
            steps.append(Step(f, None, kind, why))
            continue
        for h, hunk in enumerate(fd.hunks):
            found = hunk_kind(fd.path, hunk) if kind == "implementation" else None
            steps.append(Step(f, h, *(found or (kind, why))))
    return sorted(steps, key=lambda step: RANK[step.kind])  # sorted() is stable


__all__ = ["KINDS", "RANK", "Step", "classify_file", "hunk_kind", "walkthrough"]
