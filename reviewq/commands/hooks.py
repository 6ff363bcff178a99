"""`reviewq hooks install|uninstall`: a pre-push hook that runs the gate on what a push publishes.

The hook refuses a push whose AI-authored commits fall short of the policy, before they reach the
remote (CI runs the same gate after). It is written where git looks for hooks (`core.hooksPath`
respected), marked as ours, and never replaces a hook someone else wrote unless asked (`--force`,
which keeps the old one beside it). `git push --no-verify` still bypasses it on purpose: the hook
is a courtesy to the pusher, CI is the enforcement.

`install --prompts` (opt-in) adds a post-commit hook that attaches the prompt of the agent session
on this machine that made the new commit (`reviewq prompt HEAD --attach`: redacted, with the
session's id, agent and model; never the transcript) to the prompt note, so teammates see it after
`reviewq sync`. It never fails a commit.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from reviewq.errors import ReviewqError

#: The line that marks a hook as written by reviewq (install updates it, uninstall removes it).
MARKER = "# reviewq-managed-hook: pre-push"
HOOK = "pre-push"

_SCRIPT = """#!/bin/sh
{marker}
# Installed by `reviewq hooks install`; remove with `reviewq hooks uninstall`.
# Runs `reviewq gate` on every range this push publishes and refuses the push when an
# AI-authored commit falls short of the policy. `git push --no-verify` bypasses it deliberately.
remote="$1"

if [ -x {python} ]; then
    # -P: never import a `reviewq` directory from where git runs the hook.
    reviewq_gate() {{ {python} -P -m reviewq gate "$@"; }}
elif command -v reviewq >/dev/null 2>&1; then
    reviewq_gate() {{ reviewq gate "$@"; }}
else
    echo "reviewq pre-push: reviewq is not installed here; install it, or push with --no-verify" >&2
    exit 1
fi

is_zero() {{
    case "$1" in *[!0]*) return 1 ;; *) return 0 ;; esac
}}

# Where the remote's default branch is, for a branch the remote does not have yet.
remote_base() {{
    for ref in "refs/remotes/$remote/HEAD" "refs/remotes/$remote/main" "refs/remotes/$remote/master"; do
        if sha=$(git rev-parse --verify --quiet "$ref^{{commit}}"); then
            echo "$sha"
            return 0
        fi
    done
    return 1
}}

status=0
while read -r local_ref local_sha remote_ref remote_sha; do
    if is_zero "$local_sha"; then
        continue  # a deletion publishes nothing
    fi
    if ! is_zero "$remote_sha" && git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null; then
        range="$remote_sha..$local_sha"
    elif base=$(remote_base); then
        range="$base..$local_sha"
    else
        range="$local_sha"  # a new repository: everything it publishes
    fi
    echo "reviewq pre-push: gate $range ($local_ref -> $remote_ref)" >&2
    if ! reviewq_gate "$range" </dev/null; then
        status=1
    fi
done
if [ "$status" -ne 0 ]; then
    echo "reviewq pre-push: push refused; review the changes above (reviewq queue)," >&2
    echo "or push with --no-verify to bypass deliberately" >&2
fi
exit $status
"""


PROMPTS_MARKER = "# reviewq-managed-hook: post-commit"
PROMPTS_HOOK = "post-commit"

_PROMPTS_SCRIPT = """#!/bin/sh
{marker}
# Installed by `reviewq hooks install --prompts`; remove with `reviewq hooks uninstall`.
# Attaches the prompt of the agent session on this machine that made this commit (redacted, with
# the session's id, agent and model) to refs/notes/reviewq-prompt. Never fails the commit.
session=""
if [ -n "$CLAUDE_CODE_SESSION_ID" ]; then
    session="claude-code:$CLAUDE_CODE_SESSION_ID"
elif [ -n "$CODEX_THREAD_ID" ]; then
    session="codex:$CODEX_THREAD_ID"
fi
if [ -x {python} ]; then
    {python} -P -m reviewq prompt HEAD --attach --if-found ${{session:+--session "$session"}} </dev/null || true
elif command -v reviewq >/dev/null 2>&1; then
    reviewq prompt HEAD --attach --if-found ${{session:+--session "$session"}} </dev/null || true
fi
exit 0
"""


def render_prompts(python: str) -> str:
    return _PROMPTS_SCRIPT.format(marker=PROMPTS_MARKER, python=shlex.quote(python))


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = sub.add_parser(
        "install", help="write a pre-push hook that runs `reviewq gate` on the pushed range"
    )
    install.add_argument(
        "--force",
        action="store_true",
        help="replace a pre-push hook reviewq did not write (kept as pre-push.reviewq-backup)",
    )
    install.add_argument(
        "--prompts",
        action="store_true",
        help="also write a post-commit hook that attaches the agent session's prompt "
        "(redacted) to each new commit's prompt note",
    )
    sub.add_parser("uninstall", help="remove reviewq's pre-push hook (restoring a kept backup)")


def render(python: str) -> str:
    """The hook script, calling reviewq through `python` (this interpreter) or the PATH."""
    return _SCRIPT.format(marker=MARKER, python=shlex.quote(python))


def is_ours(text: str, marker: str = MARKER) -> bool:
    return marker in text.splitlines()[:3]


def run(args: argparse.Namespace, ctx) -> int:
    status = _one(args, ctx, HOOK, MARKER, render)
    if args.action == "uninstall":
        _remove_prompts_hook(ctx)
    elif getattr(args, "prompts", False):
        status = _one(args, ctx, PROMPTS_HOOK, PROMPTS_MARKER, render_prompts) or status
    return status


def _hook_path(ctx, hook: str):
    out = ctx.git.text(["rev-parse", "--git-path", f"hooks/{hook}"], what="rev-parse").strip()
    return Path(out) if Path(out).is_absolute() else ctx.git.path / out


def _remove_prompts_hook(ctx) -> None:
    path = _hook_path(ctx, PROMPTS_HOOK)
    try:
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
        if text is not None and is_ours(text, PROMPTS_MARKER):
            backup = path.with_name(f"{PROMPTS_HOOK}.reviewq-backup")
            if backup.exists():
                backup.replace(path)
            else:
                path.unlink()
            print(f"removed reviewq's {PROMPTS_HOOK} hook ({path})", file=sys.stderr)
    except OSError as exc:
        raise ReviewqError(f"{path}: cannot remove the hook ({exc.strerror})") from None


def _one(args: argparse.Namespace, ctx, hook: str, marker: str, render) -> int:
    def is_ours(text: str) -> bool:
        return marker in text.splitlines()[:3]

    path = _hook_path(ctx, hook)
    backup = path.with_name(f"{hook}.reviewq-backup")
    try:
        current = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
    except OSError as exc:
        raise ReviewqError(f"{path}: cannot read the existing hook ({exc.strerror})") from None

    if args.action == "uninstall":
        if current is None:
            print(f"no {hook} hook at {path}; nothing to remove", file=sys.stderr)
            return 0
        if not is_ours(current):
            raise ReviewqError(
                f"{path} was not written by reviewq; remove it yourself if you mean to"
            )
        try:
            if backup.exists():
                backup.replace(path)
                print(
                    f"removed reviewq's hook; restored {path} from {backup.name}", file=sys.stderr
                )
            else:
                path.unlink()
                print(f"removed {path}", file=sys.stderr)
        except OSError as exc:
            raise ReviewqError(f"{path}: cannot remove the hook ({exc.strerror})") from None
        return 0

    if current is not None and not is_ours(current) and not args.force:
        raise ReviewqError(
            f"{path} exists and was not written by reviewq; pass --force to replace it (the old "
            f"hook is kept as {backup.name}), or call `reviewq gate` from it yourself"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if current is not None and not is_ours(current):
            if backup.exists():
                raise ReviewqError(
                    f"{backup} already holds an earlier hook; move it away before --force"
                )
            path.replace(backup)
        tmp = path.with_name(f".{hook}.reviewq-tmp")
        tmp.write_text(render(sys.executable), encoding="utf-8")
        tmp.chmod(0o755)
        tmp.replace(path)
    except OSError as exc:
        raise ReviewqError(f"{path}: cannot write the hook ({exc.strerror})") from None
    verb = "updated" if current is not None and is_ours(current) else "installed"
    kept = f" (the old hook is kept as {backup.name})" if backup.exists() else ""
    if hook == PROMPTS_HOOK:
        print(
            f"{verb} {path}: each commit made in an agent session on this machine gets the "
            f"session's prompt (redacted) in its prompt note{kept}"
        )
    else:
        print(f"{verb} {path}: pushes now run `reviewq gate` on what they publish{kept}")
    return 0
