"""The scan's `git log` arguments, in a module that imports nothing.

`sources.git_log` (which imports the model's dataclasses) re-exports them; the cold scan's
prefetch (`workflow.scan_fast.start_log`) builds the very same list before the command line
loads, and the scan uses the prefetched output only when its own list equals it.
"""

from __future__ import annotations

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
