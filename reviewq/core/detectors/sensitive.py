"""Changes to what guards the project: CI workflows, review and security policy, and code that
decides who may do what (authentication, permissions, approvals).

A change here is not wrong by itself, so the file-level findings are warnings that say "read
this with care". The line rules name the specific ways these files are weakened: a workflow that
runs untrusted code with write tokens, checks that can no longer fail, an authentication bypass.
"""

from __future__ import annotations

import re

from reviewq.core.detectors.base import (
    Scope,
    file_finding,
    language_of,
    line_finding,
    rule,
    strip_strings,
)
from reviewq.core.model import Finding
from reviewq.core.risk import (
    is_access_control_path,
    is_ci_path,
    is_governance_path,
    is_test_path,
)

CI_CHANGED = rule("ci-workflow-changed", "warning", "security", "CI workflow changed")
POLICY = rule("policy-file-changed", "warning", "security", "review or security policy changed")
ACCESS = rule("access-control-changed", "warning", "security", "access-control code changed")
BYPASS = rule("auth-bypass", "critical", "security", "authentication bypass or backdoor")
PRT = rule("ci-pull-request-target", "error", "security", "workflow runs on pull_request_target")
WRITE_ALL = rule("ci-write-all-permissions", "error", "security", "workflow token gets write-all")
CHECKOUT = rule("ci-untrusted-checkout", "critical", "security", "untrusted PR code checked out")
INJECT = rule("ci-script-injection", "error", "security", "untrusted event text in a run script")
WEAKENED = rule("ci-check-weakened", "error", "tests", "a check can no longer fail")
UNPINNED = rule("ci-unpinned-action", "note", "security", "third-party action on a moving ref")

_BYPASS = re.compile(
    r"(?i)\b\w*(?:(?:admin|auth|security|permission|access|login|support|master)_?override|"
    r"override_?(?:token|password|key|auth|user)|backdoor|bypass_?(?:auth|login|check|security|"
    r"permission)\w*|skip_?(?:auth|login|permission|verification)\w*|disable_?(?:auth|security)\w*|"
    r"god_?mode|impersonat\w+|master_?(?:password|key)|no_?auth)\w*\b"
)
_ACCESS_WORDS = re.compile(
    r"\b(?:is_admin|is_superuser|is_staff|has_perm\w*|check_perm\w*|authorize\w*|authorise\w*|"
    r"require_(?:role|admin|login|auth|permission)\w*|permission_required|login_required|"
    r"can_approve|is_approved|approvals?|approvers?|approver_\w+|\w+_approvals?|isAdmin|hasRole|"
    r"hasPermission|canApprove|"
    r"rbac|acl|allow_?list|deny_?list|roles?\s*(?:==|in)\b)"
)
_WORKFLOW = re.compile(r"(^|/)\.github/workflows/[^/]+\.ya?ml$", re.IGNORECASE)
_PRT = re.compile(r"\bpull_request_target\b|\bworkflow_run\b")
_WRITE_ALL = re.compile(r"^\s*permissions\s*:\s*write-all\b")
_HEAD_CHECKOUT = re.compile(
    r"\$\{\{\s*github\.(?:event\.pull_request\.head\.(?:sha|ref)|head_ref|"
    r"event\.workflow_run\.head_(?:sha|branch))\s*\}\}"
)
_EVENT_TEXT = re.compile(
    r"\$\{\{\s*(?:github\.event\.(?:issue|pull_request|comment|review|review_comment|"
    r"head_commit|discussion|pages|commits)\S*?\.(?:title|body|message|name|label|ref|email)|"
    r"github\.head_ref)\s*\}\}"
)
_NEVER_FAILS = re.compile(
    r"\|\|\s*(?:true|:|exit\s+0)\b|^\s*continue-on-error\s*:\s*true\b|^\s*allow_failure\s*:\s*true\b|"
    r"(?:^|;|&&)\s*set\s+\+e\b|--no-verify\b|--exit-zero\b|--no-fail-on-error\b|"
    r"--passWithNoTests\b|--cov-fail-under[= ]0\b"
)
_USES = re.compile(
    r"^[ \t]*+(?:-[ \t]*+)?uses\s*:\s*([\w.-]+/[\w./-]+)@(main|master|HEAD|latest|dev)\s*$"
)


_BYPASS_HINTS = (
    "override",
    "backdoor",
    "bypass",
    "skip",
    "disable",
    "god",
    "imperson",
    "master",
    "no_auth",
    "noauth",
)
_ACCESS_HINTS = (
    "admin",
    "superuser",
    "staff",
    "perm",
    "authori",
    "require_",
    "_required",
    "approv",
    "role",
    "rbac",
    "acl",
    "allow",
    "deny",
)


def _check_weakening_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return (
        is_ci_path(path)
        or name in ("makefile", "tox.ini", "noxfile.py", "package.json", "justfile")
        or name.endswith((".sh", ".bash"))
        or name in (".pre-commit-config.yaml", ".pre-commit-config.yml", "lefthook.yml")
    )


def detect(scope: Scope) -> list[Finding]:
    out: list[Finding] = []
    for f in scope.diff.files:
        paths = [p for p in (f.path, f.old_path) if p]
        verb = "Deletes" if f.status == "deleted" else "Changes"
        if any(is_ci_path(p) for p in paths):
            out.append(
                file_finding(
                    CI_CHANGED,
                    f.path,
                    f"{verb} the CI pipeline ({f.path}). Pipelines run with repository secrets "
                    "and tokens and decide what counts as passing: read every line.",
                )
            )
        elif any(is_governance_path(p) for p in paths):
            out.append(
                file_finding(
                    POLICY,
                    f.path,
                    f"{verb} {f.path}, which decides how changes are reviewed or reported. An "
                    "agent should not change the rules it is judged by without a person asking.",
                    severity="error",
                )
            )
        elif (
            any(is_access_control_path(p) for p in paths)
            and not is_test_path(f.path)
            and language_of(f.path) != "doc"
        ):
            out.append(
                file_finding(
                    ACCESS,
                    f.path,
                    f"{verb} access-control code ({f.path}): who may log in, act or approve. "
                    "Check each added branch for a way in without a valid credential.",
                )
            )
    access_paths = {f.path for f in scope.diff.files if is_access_control_path(f.path)}
    for path, added in scope.texts.items():
        rows = added.rows
        workflow = bool(_WORKFLOW.search(path))
        ci = is_ci_path(path)
        weak_checks = _check_weakening_file(path)
        look_bypass = added.has_any(_BYPASS_HINTS)
        look_access = added.has_any(_ACCESS_HINTS)
        if not (look_bypass or look_access or weak_checks or workflow):
            continue
        prt_in_file = workflow and any(_PRT.search(r.text) for r in rows)
        access_reported = path in access_paths or is_test_path(path)
        for row in rows:
            text = row.text
            code = (
                row.lang in ("python", "js", "go", "shell", "other")
                and not row.comment
                and not row.in_string
            )
            if code and (look_bypass or look_access):
                bare = strip_strings(text)
                m = _BYPASS.search(bare) if look_bypass else None
                if m:
                    out.append(
                        line_finding(
                            BYPASS,
                            row,
                            f"`{m.group(0)}` reads as a way around authentication. A shared "
                            "override token lets anyone who learns it act as anyone; use audited, "
                            "per-person impersonation with its own permission instead.",
                            severity=None if not row.in_test else "note",
                        )
                    )
                elif look_access and not access_reported and _ACCESS_WORDS.search(bare):
                    access_reported = True
                    out.append(
                        line_finding(
                            ACCESS,
                            row,
                            "Changes code that decides permissions or approvals; check who can "
                            "now do what they could not before.",
                        )
                    )
            if weak_checks and not row.comment and _NEVER_FAILS.search(text):
                out.append(
                    line_finding(
                        WEAKENED,
                        row,
                        "This step can no longer fail (`|| true`, `continue-on-error`, "
                        "`--no-verify`...): a red check turns green without anything being fixed.",
                        severity="error" if ci else "warning",
                    )
                )
            if not workflow or row.comment:
                continue
            if _PRT.search(text):
                out.append(
                    line_finding(
                        PRT,
                        row,
                        "`pull_request_target` runs with the base repository's secrets and a "
                        "write token even for pull requests from forks. Use `pull_request` unless "
                        "the job never touches the pull request's code.",
                    )
                )
            if _WRITE_ALL.search(text):
                out.append(
                    line_finding(
                        WRITE_ALL,
                        row,
                        "`permissions: write-all` gives every step a token that can push code, "
                        "change releases and edit settings. Grant the least each job needs "
                        "(`contents: read`).",
                    )
                )
            if _HEAD_CHECKOUT.search(text):
                out.append(
                    line_finding(
                        CHECKOUT,
                        row,
                        "Checks out the pull request's own code"
                        + (
                            " in a `pull_request_target` workflow: fork authors run code with "
                            "this repository's secrets and write token (a 'pwn request')."
                            if prt_in_file
                            else "; make sure no later step runs it with secrets."
                        ),
                        severity=None if prt_in_file else "warning",
                    )
                )
            elif _EVENT_TEXT.search(text):
                out.append(
                    line_finding(
                        INJECT,
                        row,
                        "Text an outsider controls (a title, body or branch name) is pasted into "
                        "a script; a crafted value runs commands. Pass it through `env:` instead.",
                    )
                )
            m = _USES.search(text)
            if m:
                out.append(
                    line_finding(
                        UNPINNED,
                        row,
                        f"`{m.group(1)}@{m.group(2)}` runs whatever that branch holds next time. "
                        "Pin a release tag or a commit sha.",
                    )
                )
    return out
