"""The scan's `git log` arguments, and its other git questions, in a module that imports
nothing.

`sources.git_log` (which imports the model's dataclasses) re-exports them; the cold scan's
prefetch (`workflow.scan_fast.start_log`) builds the very same lists before the command line
loads, and the scan uses a prefetched output only when its own list equals it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

_FIELDS = ("%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B")
LOG_FORMAT = "%x1f".join(_FIELDS)


def log_args(
    revs: Sequence[str], *, max_count: int | None = None, since: str | None = None
) -> list[str]:
    """The `git log` arguments of a scan; the benchmark runs the same ones raw."""
    args = [
        "log",
        "-z",
        f"--format={LOG_FORMAT}",
        "--no-color",
        "--no-decorate",
        "--no-show-signature",
    ]
    if max_count is not None:
        args.append(f"--max-count={max_count}")
    if since:
        args.append(f"--since={since}")
    args.extend(revs)
    args.append("--")
    return args


#: `Git.paths` in one process (`gitcmd.Git._paths_at_once`).
PATHS_AT_ONCE = (
    "rev-parse",
    "--absolute-git-dir",
    "--git-common-dir",
    "--is-inside-work-tree",
    "--show-toplevel",
)
#: HEAD and the commit it is, in one process (`workflow.scan._head_at_once`).
HEAD_AT_ONCE = ("rev-parse", "--revs-only", "--end-of-options", "HEAD", "HEAD^{commit}")
#: The notes refs' tips (`Git.ref_tips("refs/notes/")`).
NOTE_TIPS = ("for-each-ref", "--format=%(refname) %(objectname)", "refs/notes/")
#: Every worktree (`workflow.session_prompts.worktree_roots`).
WORKTREE_LIST = ("worktree", "list", "--porcelain")
#: The Agent Trace file a commit may carry (`sources.notes.load_side_records`).
AGENT_TRACE_FILE = ".agent-trace/traces.jsonl"


def trace_file_args(tip: str) -> list[str]:
    """`git cat-file blob <tip>:<AGENT_TRACE_FILE>`'s arguments."""
    return ["cat-file", "blob", f"{tip}:{AGENT_TRACE_FILE}"]


def run_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every git process of a `Git(path, env)` runs with (the cold scan's
    prefetch, `workflow.scan_fast.start_log`, starts its `git log` with the same, before it
    imports `sources.gitcmd`, which re-exports this)."""
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        # Read-only commands must not take index locks a concurrent `git commit` needs.
        "GIT_OPTIONAL_LOCKS": "0",
        # The objects as they are: a replace ref (`git replace`; a mirror clone fetches
        # refs/replace/* that anyone with push access can write) or a graft would show
        # another commit in place of the real one (an AI commit without its trailer).
        "GIT_NO_REPLACE_OBJECTS": "1",
        # A graft file that cannot exist: /dev/null itself would count as one and make git
        # print its grafts-are-deprecated hint on every call.
        "GIT_GRAFT_FILE": os.path.join(os.devnull, "no-grafts"),
        **(env or {}),
    }
