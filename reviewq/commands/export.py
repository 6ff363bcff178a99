"""`reviewq export --format parquet --out DIR`: the report's rows as Parquet tables.

The commits (AI-authored or not), the verdicts and the critiques of each repository, in the
columns the report computes from, one folder per repository, so DuckDB, Spark or BigQuery run
the same figures (docs/metrics.md, "Export" gives the schema and the SQL). pyarrow is an
optional extra (`pip install 'reviewq[export]'`), imported here only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from reviewq.core.model import SEVERITIES, VERDICTS
from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).

FORMATS = ("parquet",)
#: Version of the tables' schema (docs/metrics.md, "Export"); a changed column bumps it.
SCHEMA_VERSION = 1
INSTALL_HINT = "pip install 'reviewq[export]'"

#: It opens its repositories itself (`--repos` needs no current repository).
NEEDS_REPO = False
#: It may read the whole log through a column cache (announced when large; see cli.py).
READS_LOG_COLUMNS = True


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="parquet", help="parquet (the default)")
    p.add_argument("--out", metavar="DIR", required=True, help="folder to write the tables to")
    p.add_argument(
        "--repos",
        nargs="+",
        metavar="PATH",
        help="several repositories (clones or bare mirrors), one folder each "
        "(default: [team] repos of the settings, else the current repository)",
    )
    # gather's argument; times are exported in UTC with each one's own offset beside it.
    p.add_argument("--tz", metavar="ZONE", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.clock import local_now
    from reviewq.context import Context
    from reviewq.output import column_build_notice
    from reviewq.workflow.stats import gather, gather_for, repository_labels, team_paths

    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ReviewqError(
            f"export needs pyarrow, which is not installed: {INSTALL_HINT}"
        ) from None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ReviewqError(f"--out {args.out}: exists and is not a folder; give a folder")
    if not out.parent.is_dir():
        raise ReviewqError(f"--out {args.out}: folder {out.parent} does not exist; create it")
    now = local_now().replace(microsecond=0)
    paths = team_paths(args)
    manifest: list[dict[str, Any]] = []
    names: list[str] = []

    def write(part) -> None:
        name = folder_names([*names, part.repository], [*({} for _ in names), part.provenance])[-1]
        names.append(name)
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        counts = write_repository(part, folder)
        manifest.append({"repository": part.repository, "folder": name, **counts})

    with column_build_notice():
        if paths is None:
            write(gather_for(args, now=now, full=True))
        else:
            # One repository at a time: a hundred repositories' rows never sit in memory at once.
            for path in paths:
                if not path.exists():
                    raise ReviewqError(f"{path}: no such repository; check --repos or [team] repos")
            roots = [Path(p).resolve() for p in paths]
            labels = repository_labels(roots, paths)
            for path, label in zip(paths, labels):
                ctx = Context.open(path)
                try:
                    part = gather(ctx, None, now=now, full=True)
                finally:
                    ctx.close()
                part.repository = label
                write(part)
    parts = manifest
    _write_json(
        out / "manifest.json",
        {
            "schema_version": SCHEMA_VERSION,
            "exported_at": now.isoformat(timespec="seconds"),
            "repositories": manifest,
        },
    )
    rows = sum(m["commits"] + m["verdicts"] + m["critiques"] for m in manifest)
    print(
        f"wrote {out}: {len(parts)} repositor{'ies' if len(parts) != 1 else 'y'}, {rows:,} rows "
        "(commits, verdicts, critiques as Parquet)",
        file=sys.stderr,
    )
    return 0


def folder_names(labels: list[str], provenance: list[Any]) -> list[str]:
    """A folder per repository: its directory name, made unique with -2, -3."""
    out: list[str] = []
    for label, prov in zip(labels, provenance):
        prov = prov or {}
        base = Path(str(prov.get("path") or label)).name or "repository"
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip(".") or "repository"
        name, n = base, 1
        while name in out:
            n += 1
            name = f"{base}-{n}"
        out.append(name)
    return out


def _write_json(path, data: Any) -> None:
    import json

    from reviewq.files import replace_file

    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    replace_file(path, lambda fh: fh.write(text.encode("utf-8")), prefix=".export-")


def _write_table(table, path) -> None:
    import pyarrow.parquet as pq

    from reviewq.files import replace_file

    replace_file(path, lambda fh: pq.write_table(table, fh, compression="zstd"), prefix=".export-")


def write_repository(part, folder) -> dict[str, int]:
    """commits.parquet, verdicts.parquet, critiques.parquet and inputs.json of one repository."""
    commits = commits_table(part)
    verdicts = verdicts_table(part)
    critiques = critiques_table(part)
    _write_table(commits, folder / "commits.parquet")
    _write_table(verdicts, folder / "verdicts.parquet")
    _write_table(critiques, folder / "critiques.parquet")
    _write_json(
        folder / "inputs.json",
        {
            "schema_version": SCHEMA_VERSION,
            "repository": part.repository,
            "thresholds": part.thresholds.to_json(),
            "invalid_records": part.table.invalid,
            **(part.provenance or {}),
        },
    )
    return {"commits": len(commits), "verdicts": len(verdicts), "critiques": len(critiques)}


def _timestamps(epoch):
    import numpy as np
    import pyarrow as pa

    ok = ~np.isnan(epoch)
    micros = np.where(ok, np.nan_to_num(epoch) * 1e6, 0).astype(np.int64)
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"), mask=~ok)


def _coded(codes, labels, null_label: str | None = None):
    """A string column as dictionary codes (how the columns are held; compact in Parquet);
    rows whose label is `null_label` are null."""
    import numpy as np
    import pyarrow as pa

    codes = np.asarray(codes, dtype=np.int32)
    mask = None
    if null_label is not None and null_label in labels:
        mask = codes == list(labels).index(null_label)
    return pa.DictionaryArray.from_arrays(
        pa.array(codes, mask=mask), pa.array(list(labels), type=pa.string())
    )


def _const(value: Any, n: int, type_=None):
    import pyarrow as pa

    return pa.array([value] * n, type=type_) if n else pa.array([], type=type_)


def commits_table(part):
    """Every non-merge commit of the history, AI-authored or not, and every AI-authored change
    that is not one (an AI-authored merge, an inbox patch): what the automation share and the
    review coverage count."""
    import numpy as np
    import pyarrow as pa

    from reviewq.core.metrics import parse_instants
    from reviewq.core.policy_rules import domain_label, policy_from_sections

    commits = part.commits
    changes = part.change_list or []
    policy = policy_from_sections(part.config_sections or {})
    by_id = {c.id: c for c in changes}
    shas = list(commits.sha) if commits is not None else []
    in_history = set(shas)
    extra = [c for c in changes if c.id not in in_history]
    ids = shas + [c.id for c in extra]
    n_hist = len(shas)
    kind = ["commit"] * n_hist + ["inbox" if c.source == "inbox" else "merge" for c in extra]
    epoch_extra, offset_extra, ok = parse_instants([c.commit.committed_at for c in extra])
    epoch_extra[~ok] = np.nan
    epoch = np.concatenate(
        [commits.epoch if commits is not None else np.zeros(0), epoch_extra]
    ).astype(np.float64)
    offset = np.concatenate(
        [commits.offset if commits is not None else np.zeros(0, np.int64), offset_extra]
    ).astype(np.int64)
    lines = np.concatenate(
        [
            commits.lines if commits is not None else np.zeros(0),
            np.array([c.stats.lines_changed if c.stats else 0 for c in extra], dtype=np.float64),
        ]
    ).astype(np.int64)
    ai = [i in by_id for i in ids]

    def of(i: str, get) -> Any:
        c = by_id.get(i)
        return get(c) if c is not None else None

    def domain(c) -> str:
        return domain_label(policy.domains_for(c.paths))

    return pa.table(
        {
            "repository": _const(part.repository, len(ids), pa.string()),
            "change_id": pa.array(ids, type=pa.string()),
            "sha": pa.array(
                [i if k != "inbox" else None for i, k in zip(ids, kind)], type=pa.string()
            ),
            "kind": pa.array(kind, type=pa.string()),
            "committed_at": _timestamps(epoch),
            "committed_offset_seconds": pa.array(offset.astype(np.int32)),
            "lines_changed": pa.array(lines),
            "ai": pa.array(ai, type=pa.bool_()),
            "agent": pa.array([of(i, lambda c: c.authorship.agent) for i in ids], pa.string()),
            "family": pa.array([of(i, lambda c: c.authorship.family) for i in ids], pa.string()),
            "model": pa.array([of(i, lambda c: c.authorship.model) for i in ids], pa.string()),
            "role": pa.array([of(i, lambda c: c.authorship.role) for i in ids], pa.string()),
            "domain": pa.array([of(i, domain) for i in ids], pa.string()),
        }
    )


def verdicts_table(part):
    """Every readable verdict record (the rows the report counts), one row each."""
    import numpy as np
    import pyarrow as pa

    t = part.table
    n = len(t)
    th = part.thresholds
    return pa.table(
        {
            "repository": _const(part.repository, n, pa.string()),
            "change_id": _coded(t.change, t.changes),
            "verdict": _coded(t.verdict.astype(np.int32), VERDICTS),
            "at": _timestamps(t.epoch),
            "at_offset_seconds": pa.array(t.offset.astype(np.int32)),
            "active_seconds": pa.array(t.active),
            "lines_changed": pa.array(t.lines.astype(np.int64)),
            "hunks_total": pa.array(t.hunks_total.astype(np.int64)),
            "hunks_viewed": pa.array(t.hunks_viewed.astype(np.int64)),
            "reviewer": _coded(t.reviewer, t.reviewers),
            "agent": _coded(t.agent, t.agents),
            "author_family": _coded(t.family, t.families),
            "domain": _coded(t.domain, t.domains),
            "critique": pa.array(t.critique == 1),
            "critique_opened": pa.array(t.critique_opened),
            "critic_family": _coded(t.critic_family, t.critic_families, null_label=""),
            "same_family_allowed": pa.array(t.same_family_allowed),
            "stamp_max_lines_per_hour": _const(float(th.max_lines_per_hour), n, pa.float64()),
            "stamp_min_active_seconds": _const(float(th.min_active_seconds), n, pa.float64()),
            "stamp_min_hunks_viewed_share": _const(
                float(th.min_hunks_viewed_share), n, pa.float64()
            ),
        }
    )


def critiques_table(part):
    """The cached critique of each reviewed change that has one (the override rate's input)."""
    import pyarrow as pa

    rows = part.critiques or []
    schema = pa.schema(
        [
            ("repository", pa.string()),
            ("change_id", pa.string()),
            ("critic", pa.string()),
            ("family", pa.string()),
            ("model", pa.string()),
            ("author_family", pa.string()),
            ("same_family_allowed", pa.bool_()),
            ("findings", pa.int64()),
            *((s, pa.int64()) for s in SEVERITIES),
            ("highest_severity", pa.string()),
            ("tests_present", pa.bool_()),
            ("effort", pa.int64()),
        ]
    )
    return pa.Table.from_pylist([{"repository": part.repository, **r} for r in rows], schema=schema)
