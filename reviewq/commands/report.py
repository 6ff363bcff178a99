"""`reviewq report`: the automation disclosure (how automated the work is, how often humans say no)."""

from __future__ import annotations

import argparse
import os
import stat

FORMATS = ("md", "json", "html")


#: It may read the whole log through a column cache (announced when large; see cli.py).
READS_LOG_COLUMNS = True


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="md", help="md (default), json or html")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument(
        "--since", metavar="DATE", help="only verdicts and commits from DATE (2026-11-01, 30d, 12w)"
    )
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="where days and weeks end: record (default), local, UTC, a zone",
    )
    p.add_argument(
        "--weeks", type=int, default=26, metavar="N", help="weeks in the trend (default: 26)"
    )


def run(args: argparse.Namespace, ctx) -> int:
    import sys
    from pathlib import Path

    from reviewq.core.report import disclosure, render
    from reviewq.errors import ReviewqError
    from reviewq.files import replace_file
    from reviewq.stats_inputs import gather, local_now, parse_since

    if args.weeks < 1:
        raise ReviewqError(f"--weeks {args.weeks}: give a number of weeks of at least 1")
    out_path = Path(args.out) if args.out else None
    if out_path is not None and not out_path.parent.is_dir():
        raise ReviewqError(f"--out {args.out}: folder {out_path.parent} does not exist; create it")
    now = local_now()
    inputs = gather(ctx, args.tz, policy=True)
    since = parse_since(args.since, now, inputs.tz) if args.since else None
    stats = inputs.stats(now, since)
    doc = disclosure(
        stats,
        repository=inputs.repository,
        models=inputs.models,
        violations=inputs.violations,
        weeks=args.weeks,
    )
    text = render(doc, args.format)
    if out_path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    # Write beside and rename over: a reader (a CI artifact upload) never sees half a report.
    try:
        mode = _shared_mode(out_path)

        def write(fh) -> None:
            # a report is for others to read (a CI artifact, a web server): the mode a new file
            # gets under the umask, or the mode of the report it replaces; not the 0600 of a
            # temporary file
            os.fchmod(fh.fileno(), mode)
            fh.write(text.encode("utf-8"))

        replace_file(out_path, write, prefix=".report-")
    except OSError as exc:
        raise ReviewqError(
            f"--out {args.out}: cannot write ({exc.strerror}); check the path"
        ) from None
    print(f"wrote {out_path} ({args.format}, {len(text.encode()):,} bytes)", file=sys.stderr)
    return 0


def _shared_mode(path) -> int:
    """The mode `open(path, "w")` would leave: the existing file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
