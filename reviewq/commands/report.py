"""`reviewq report`: the automation disclosure (how automated the work is, how often humans say no).

One repository, or several (`--repos`, `[team] repos`): each figure per repository and in total.
The JSON names its inputs exactly, and `--check report.json` recomputes every figure from them.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewq.errors import CheckFailed, ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).

FORMATS = ("md", "json", "html")

#: It opens its repositories itself (`--repos` needs no current repository).
NEEDS_REPO = False
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
    p.add_argument(
        "--repos",
        nargs="+",
        metavar="PATH",
        help="several repositories (clones or bare mirrors): each figure per repository and in "
        "total (default: [team] repos of the settings, else the current repository)",
    )
    p.add_argument(
        "--check",
        metavar="REPORT_JSON",
        help="recompute a JSON report from the inputs it names: exit 0 when every figure "
        "matches, 1 naming those that differ, 2 when an input is missing",
    )


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.workflow.table_prefetch import set_up_numpy

    set_up_numpy()
    from reviewq.output import column_build_notice

    with column_build_notice():
        if args.check:
            return check(args)
        return _report(args)


def _report(args: argparse.Namespace) -> int:
    from reviewq.clock import local_now
    from reviewq.core.report_html import render
    from reviewq.files import replace_file
    from reviewq.workflow.stats import gather_for

    if args.weeks < 1:
        raise ReviewqError(f"--weeks {args.weeks}: give a number of weeks of at least 1")
    out_path = Path(args.out) if args.out else None
    if out_path is not None and not out_path.parent.is_dir():
        raise ReviewqError(f"--out {args.out}: folder {out_path.parent} does not exist; create it")
    # Whole seconds: the report says when it was computed, and --check recomputes at that instant.
    now = local_now().replace(microsecond=0)
    inputs = gather_for(args, policy=True, now=now)
    doc = build_doc(inputs, now=now, since_text=args.since, tz_arg=args.tz, weeks=args.weeks)
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


def build_doc(inputs, *, now, since_text: str | None, tz_arg: str | None, weeks: int):
    """The report of `inputs` (one repository or a team) with its input block."""
    from reviewq import heap
    from reviewq.core.report import disclosure, team_disclosure
    from reviewq.workflow.stats import TeamInputs, parse_since

    team = isinstance(inputs, TeamInputs)
    whole = inputs.combined if team else inputs
    since = parse_since(since_text, now, whole.tz) if since_text else None
    heap.temporaries_reuse_memory()  # `report` ends after the figures

    def one(part) -> dict[str, Any]:
        return disclosure(
            part.stats(now, since, days=False),  # the report shows weeks
            repository=part.repository,
            models=part.models,
            violations=part.violations,
            weeks=weeks,
        )

    doc = team_disclosure(one(whole), [one(p) for p in inputs.parts]) if team else one(whole)
    parts = inputs.parts if team else [inputs]
    doc["inputs"] = {
        "generated_at": now.isoformat(timespec="seconds"),
        "options": {
            "since": since.isoformat() if since is not None else None,
            "tz": tz_arg,
            "weeks": weeks,
        },
        "repositories": [{"repository": p.repository, **(p.provenance or {})} for p in parts],
    }
    return doc


# -- --check ---------------------------------------------------------------------------------------

#: Keys naming a row of a list of figures, so a difference reads `families.authors[openai].x`.
_ROW_KEYS = ("repository", "family", "agent", "week", "bin", "change")


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Every figure of a report as `dotted.path -> value`."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{path}.{k}" if path else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        key = next((k for k in _ROW_KEYS if all(k in v for v in value)), None)
        seen: set[str] = set()
        for i, v in enumerate(value):
            name = str(v[key]) if key else str(i)
            name = name if name not in seen else f"{name}#{i}"
            seen.add(name)
            out.update(flatten(v, f"{path}[{name}]"))
        out[f"{path}#rows"] = len(value)
        return out
    return {path: value}


def check(args: argparse.Namespace) -> int:
    from reviewq.core import safejson
    from reviewq.core.report import render_json
    from reviewq.workflow.stats import MissingInput

    path = Path(args.check)
    try:
        doc = safejson.loads(path.read_text(encoding="utf-8"))
        inputs = doc["inputs"]
        now = datetime.fromisoformat(inputs["generated_at"])
        options = inputs["options"]
        repos = list(inputs["repositories"])
        if not repos or now.tzinfo is None:
            raise ValueError
    except OSError as exc:
        raise ReviewqError(f"--check {args.check}: cannot read ({exc.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ReviewqError(
            f"--check {args.check}: not a reviewq JSON report with an input block; "
            "check a file written by `reviewq report --format json`"
        ) from None
    paths = [Path(r.get("path") or "") for r in repos]
    if args.repos:
        if len(args.repos) != len(repos):
            raise ReviewqError(
                f"--repos: the report names {len(repos)} repositories, --repos gives "
                f"{len(args.repos)}; give one path per repository, in the report's order"
            )
        paths = [Path(p) for p in args.repos]
    elif args.repo and len(repos) == 1:
        paths = [Path(args.repo)]
    try:
        fresh = _recompute(doc, repos, paths, now, options)
    except MissingInput as exc:
        raise MissingInput(f"report --check: input missing: {exc.message}") from None
    recomputed, moved = fresh
    want = flatten(doc)
    got = flatten(safejson.loads(render_json(recomputed)))
    # Where a repository lies on this machine is not a figure (an outsider's clone is elsewhere).
    skipped = [k for k in set(want) | set(got) if k.startswith("inputs.") and k.endswith(".path")]
    if moved:
        skipped += [k for k in set(want) | set(got) if _is_policy(k)]
    # Totals first, then each repository's; policy texts last (long, and follow from figures).
    differ = sorted(
        (
            k
            for k in set(want) | set(got)
            if k not in skipped and want.get(k, _ABSENT) != got.get(k, _ABSENT)
        ),
        key=lambda k: (_is_policy(k), k.startswith("repositories["), k),
    )
    note = (
        " (policy shortfalls not rechecked: verdicts arrived since, and the policy judges "
        "every verdict there is)"
        if moved
        else ""
    )
    if differ:
        shown = "; ".join(
            f"{k} (report {_show(want.get(k, _ABSENT))}, recomputed {_show(got.get(k, _ABSENT))})"
            for k in differ[:10]
        )
        more = f"; and {len(differ) - 10} more" if len(differ) > 10 else ""
        raise CheckFailed(
            f"report --check: {len(differ)} figure{'s' if len(differ) != 1 else ''} differ "
            f"from the inputs: {shown}{more}{note}"
        )
    print(
        f"report --check: all {len(want) - len(skipped):,} figures match the inputs "
        f"({len(repos)} repositor{'ies' if len(repos) != 1 else 'y'}){note}"
    )
    return 0


_ABSENT = object()


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "absent"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_policy(key: str) -> bool:
    return key.startswith("policy.") or ".policy." in key or "].policy." in key


def _recompute(doc, repos, paths, now, options):
    from reviewq.context import Context
    from reviewq.workflow.stats import (
        MissingInput,
        TeamInputs,
        combine_inputs,
        gather,
        settings_digest,
    )

    tz_arg = options.get("tz")
    parts = []
    for pin, path in zip(repos, paths):
        if not path.is_dir():
            raise MissingInput(f"repository {path}")
        settings = pin.get("settings") or {}
        origin = settings.get("origin")
        explicit = (
            origin
            if origin and not origin.startswith("HEAD:") and Path(origin).name != ".reviewq.toml"
            else None
        )
        ctx = Context.open(path, explicit, pin.get("log_path"))
        try:
            now_settings = settings_digest(ctx)
            if now_settings.get("sha256") != settings.get("sha256"):
                raise MissingInput(
                    f"the settings of {pin.get('repository')} as they were (sha256 "
                    f"{str(settings.get('sha256'))[:16]}; {now_settings.get('origin') or 'none'} "
                    f"hashes to {str(now_settings.get('sha256'))[:16]} now)"
                )
            parts.append(gather(ctx, tz_arg, policy=True, pin=pin, now=now))
        finally:
            ctx.close()
    moved = any(p.verdicts_moved for p in parts)
    since_text = options.get("since")
    weeks = int(options.get("weeks") or 26)
    if "repositories" in doc:
        labels = [str(r.get("repository")) for r in repos]
        for label, part in zip(labels, parts):
            part.repository = label
        inputs = TeamInputs(labels, parts, combine_inputs(parts, labels, tz_arg))
    else:
        inputs = parts[0]
        inputs.repository = str(repos[0].get("repository"))
    return build_doc(inputs, now=now, since_text=since_text, tz_arg=tz_arg, weeks=weeks), moved
