"""Intent checks: does the change do what the prompt asked, and only that?

Three questions, answered offline from words alone, so every answer is a hint, never a verdict:

- files the prompt never accounts for (by path, name, or by the words of the changed code);
  a sensitive file (CI, policy, access control, infrastructure, dependencies) nobody asked
  about is a warning, any other only a note, and only when the prompt names files itself;
- tests asked for, and no test file added or changed;
- a change much larger than the request (lines and files against the prompt's length).

Nothing here runs without a prompt: without a request there is no intent to compare with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from reviewq.core.detectors.base import Scope, file_finding, rule
from reviewq.core.model import Diff, FileDiff, Finding
from reviewq.core.risk import (
    is_access_control_path,
    is_ci_path,
    is_governance_path,
    is_infra_path,
    is_lockfile,
    is_test_path,
)

UNMENTIONED = rule("intent-unmentioned-files", "note", "intent", "file the prompt never mentions")
NO_TESTS = rule("intent-tests-missing", "warning", "intent", "tests asked for, none added")
SCOPE = rule("intent-scope-creep", "warning", "intent", "change much larger than the request")

_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by can do does for from has have how i if in into is it its let "
        "like make me my need no not of on or our please should so some than that the their them "
        "then there these this to too up us use using want we when where which while will with "
        "without would you your add adds added change changes changed update updated fix fixed also "
        "just only new file files code make sure able way one two all any each more most other such "
        "very",
    )
)
_GENERIC_PARTS = frozenset(
    {
        "src",
        "lib",
        "app",
        "apps",
        "pkg",
        "internal",
        "cmd",
        "main",
        "index",
        "init",
        "__init__",
        "core",
        "common",
        "utils",
        "util",
        "test",
        "tests",
        "spec",
        "specs",
        "docs",
        "doc",
    }
)
_DEPENDENCY_FILES = frozenset(
    {
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "package.json",
        "go.mod",
        "cargo.toml",
        "gemfile",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "requirements.txt",
        "pipfile",
    }
)
_TEST_ASK = re.compile(
    r"\b(?:tests?|unit[- ]tests?|specs?|test cases?|coverage|regression test)\b", re.I
)
_NO_TEST_ASK = re.compile(
    r"\b(?:no|without|skip|don'?t (?:add|write|need)|not (?:add|write|need)|no need for)\s+"
    r"(?:any\s+|new\s+|the\s+)?(?:unit\s+)?tests?\b",
    re.I,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


#: A path or a file name in a prompt. A path starts where its token does (not at every
#: boundary inside `a-b-c/`: from each, a long hyphenated token was read to its end again).
_NAMES_A_PATH = re.compile(
    r"(?<![\w-])-*\w[\w-]*/[\w./-]+|\b\w+\.(?:py|js|ts|go|ya?ml|toml|json|sh|md)\b"
)


def words(text: str) -> set[str]:
    """Content words, lower-cased, camelCase and snake_case split, stop words dropped."""
    out: set[str] = set()
    for raw in _WORD.findall(text.replace("_", " ")):
        for part in _CAMEL.split(raw):
            w = part.lower()
            if len(w) >= 3 and w not in _STOP:
                out.add(w)
    return out


def _related(a: str, b: str) -> bool:
    """Same word up to an ending: token/tokens, compare/comparison, export/exporting."""
    if a == b:
        return True
    if min(len(a), len(b)) < 5:
        return False
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    return common >= max(5, int(0.75 * min(len(a), len(b))))


def overlap(left: set[str], right: set[str]) -> set[str]:
    return {a for a in left if any(_related(a, b) for b in right)}


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True, slots=True)
class Mention:
    path: str
    mentioned: bool
    #: Prompt words the file's path or changed code shares with the prompt.
    shared: tuple[str, ...]


def path_named(path: str, prompt: str) -> bool:
    """The prompt names the file: its path, its name, or its stem (`ratelimit` in "rate limit")."""
    low = prompt.lower()
    p = PurePosixPath(path)
    if path.lower() in low or p.name.lower() in low:
        return True
    squashed = _squash(prompt)
    stem = _squash(p.stem)
    return len(stem) >= 4 and stem not in _GENERIC_PARTS and stem in squashed


def mention(f: FileDiff, prompt: str, prompt_words: set[str]) -> Mention:
    if path_named(f.path, prompt) or (f.old_path and path_named(f.old_path, prompt)):
        return Mention(f.path, True, ())
    parts = [p for p in PurePosixPath(f.path).parts if p.lower() not in _GENERIC_PARTS]
    code = " ".join(r.text for h in f.hunks for r in h.lines if r.kind in "+-")
    shared = overlap(words(" ".join(parts) + " " + code[:20000]), prompt_words)
    return Mention(f.path, bool(shared), tuple(sorted(shared)))


def is_sensitive(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return (
        is_ci_path(path)
        or is_governance_path(path)
        or is_access_control_path(path)
        or is_infra_path(path)
        or name in _DEPENDENCY_FILES
        or name.startswith("requirements")
    )


def asks_for_tests(prompt: str) -> bool:
    return bool(_TEST_ASK.search(prompt)) and not _NO_TEST_ASK.search(prompt)


def tests_touched(diff: Diff) -> bool:
    return any(is_test_path(f.path) and f.additions > 0 for f in diff.files)


def _ignorable(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    return is_lockfile(path) or name in ("__init__.py", ".gitignore", "changelog.md")


def detect(scope: Scope) -> list[Finding]:
    prompt = (scope.prompt or "").strip()
    if not prompt:
        return []
    out: list[Finding] = []
    prompt_words = words(prompt)
    files = [f for f in scope.diff.files if not _ignorable(f.path)]
    mentions = {f.path: mention(f, prompt, prompt_words) for f in files}
    names_files = any(path_named(f.path, prompt) for f in files) or bool(
        _NAMES_A_PATH.search(prompt)
    )
    for f in files:
        m = mentions[f.path]
        if m.mentioned or is_test_path(f.path):
            continue
        sensitive = any(is_sensitive(p) for p in (f.path, f.old_path) if p)
        if not sensitive and not names_files:
            continue
        out.append(
            file_finding(
                UNMENTIONED,
                f.path,
                f"The prompt never mentions {f.path}"
                + (
                    " and it is sensitive (CI, policy, access control, infrastructure or "
                    "dependencies); ask why the change needed it."
                    if sensitive
                    else "; check that the change belongs to this request."
                ),
                severity="warning" if sensitive else None,
            )
        )
    if asks_for_tests(prompt) and not tests_touched(scope.diff):
        out.append(
            file_finding(
                NO_TESTS,
                None,
                "The prompt asks for tests, but the change adds or changes no test file.",
            )
        )
    request_words = max(len(prompt.split()), 1)
    lines = scope.changed_lines
    budget = 60 + 12 * request_words
    file_budget = 4 + request_words // 4
    big_lines = lines > 3 * budget
    big_files = len(files) > max(8, 2 * file_budget)
    if big_lines or big_files:
        what = []
        if big_lines:
            what.append(f"{lines} changed lines")
        if big_files:
            what.append(f"{len(files)} files")
        out.append(
            file_finding(
                SCOPE,
                None,
                f"A {request_words}-word request produced {' in '.join(what)}; a change this "
                "much larger than its request often carries work nobody asked for. Consider "
                "asking for it to be split.",
            )
        )
    return out
