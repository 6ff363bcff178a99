"""How much care a change needs, from what it touches and how big it is.

A first-pass score the queue can sort by before any critic has read the diff: paths that guard
access or the pipeline, deleted tests, size beyond what a person reviews well (200-400 lines per
sitting, Cisco/SmartBear), binaries nobody can read. Each point comes with its reason, so the
score is never a mystery number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewq.core.model import Change, FileChange

_AUTH = re.compile(
    r"(^|/)(auth\w*|login|logout|session|sessions|passwords?|oauth\w*|sso|saml|jwt|tokens?|"
    r"permissions?|acl|rbac|roles?|access|security|crypto\w*|secrets?|credentials?|approv\w*|"
    r"policy|policies)(/|[._-]|$)",
    re.IGNORECASE,
)
_CI = re.compile(
    r"(^|/)(\.github/workflows/|\.github/actions/|\.gitlab-ci\.ya?ml$|\.circleci/|Jenkinsfile$|"
    r"azure-pipelines\.ya?ml$|\.buildkite/|\.drone\.ya?ml$|\.travis\.ya?ml$|bitbucket-pipelines)",
    re.IGNORECASE,
)
_GOVERNANCE = re.compile(
    r"(^|/)(\.reviewq\.toml|CODEOWNERS|SECURITY\.md|\.pre-commit-config\.ya?ml|"
    r"\.github/dependabot\.ya?ml|branch-protection\w*)$",
    re.IGNORECASE,
)
_TESTS = re.compile(
    r"(^|/)(tests?|spec|specs|__tests__)/|(^|/)(test_[^/]+|[^/]+_test\.\w+|[^/]+\.(test|spec)\.\w+)$"
)
_INFRA = re.compile(
    r"(^|/)(Dockerfile[^/]*|docker-compose[^/]*|[^/]+\.tf|helm/|k8s/|kubernetes/|migrations?/|"
    r"deploy/|terraform/)",
    re.IGNORECASE,
)
_LOCKFILES = re.compile(
    r"(^|/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|poetry\.lock|uv\.lock|Cargo\.lock|"
    r"Gemfile\.lock|composer\.lock|go\.sum|Pipfile\.lock|bun\.lockb?)$"
)
#: Above this many changed lines a single review loses defect-finding power (SmartBear).
LARGE_CHANGE_LINES = 400


def is_test_path(path: str) -> bool:
    return bool(_TESTS.search(path))


def is_lockfile(path: str) -> bool:
    return bool(_LOCKFILES.search(path))


#: Prose, not code: a page named security.md or auth.rst decides nothing about access
#: (a root SECURITY.md is review policy: `is_governance_path`).
_DOCS = re.compile(r"\.(?:md|markdown|rst|txt|adoc|asciidoc)$", re.IGNORECASE)


def is_access_control_path(path: str) -> bool:
    """Code that decides who may do what: auth, sessions, permissions, approvals, secrets."""
    return bool(_AUTH.search(path)) and not _DOCS.search(path)


def is_ci_path(path: str) -> bool:
    return bool(_CI.search(path))


def is_governance_path(path: str) -> bool:
    """Files that define review and security policy (CODEOWNERS, .reviewq.toml, ...)."""
    return bool(_GOVERNANCE.search(path))


def is_infra_path(path: str) -> bool:
    return bool(_INFRA.search(path))


@dataclass(frozen=True, slots=True)
class Risk:
    score: int
    level: str  # low | medium | high
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"score": self.score, "level": self.level, "reasons": list(self.reasons)}


def _any(files: tuple[FileChange, ...], pattern: re.Pattern[str]) -> list[str]:
    hits = []
    for f in files:
        for path in (f.path, f.old_path):
            if path and pattern.search(path):
                hits.append(path)
                break
    return hits


def assess(change: Change) -> Risk:
    files = change.files
    score = 0
    reasons: list[str] = []

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(reason)

    # either side of a rename: moving auth code into a .md file is still touching it
    auth = [
        f.path for f in files if any(p and is_access_control_path(p) for p in (f.path, f.old_path))
    ]
    if auth:
        add(35, f"touches access-control code ({auth[0]}{' …' if len(auth) > 1 else ''})")
    ci = _any(files, _CI)
    if ci:
        add(30, f"changes a CI workflow ({ci[0]})")
    gov = _any(files, _GOVERNANCE)
    if gov:
        add(30, f"changes review or security policy ({gov[0]})")
    deleted_tests = [f.path for f in files if f.status == "D" and is_test_path(f.path)]
    if deleted_tests:
        add(30, f"deletes {len(deleted_tests)} test file(s) ({deleted_tests[0]})")
    shrunk_tests = [
        f.path
        for f in files
        if f.status != "D" and is_test_path(f.path) and f.deletions > max(3, 2 * f.additions)
    ]
    if shrunk_tests:
        add(15, f"removes more test code than it adds ({shrunk_tests[0]})")
    infra = _any(files, _INFRA)
    if infra:
        add(15, f"changes deployment or schema ({infra[0]})")
    lines = sum(f.additions + f.deletions for f in files if not is_lockfile(f.path))
    if lines > 1000:
        add(25, f"very large: {lines} changed lines")
    elif lines > LARGE_CHANGE_LINES:
        add(15, f"large: {lines} changed lines (consider splitting)")
    binaries = [f.path for f in files if f.binary]
    if binaries:
        add(5, f"{len(binaries)} binary file(s) nobody can read in a diff")
    if any(f.mode_change for f in files):
        add(5, "changes file modes")
    if "tests-failing" in change.session_flags:
        add(20, "its agent session ran tests that failed, then committed (agent session)")
    if "hooks-skipped" in change.session_flags:
        add(10, "committed with the repository's hooks skipped (agent session)")
    auth_of = change.authorship
    if auth_of.confidence == "low":
        add(5, "authorship evidence is weak")
    score = min(score, 100)
    level = "high" if score >= 60 else "medium" if score >= 30 else "low"
    return Risk(score, level, tuple(reasons))
