"""`reviewq export --format parquet`: the report's rows as Parquet, and the report's headline
figures recomputed from them with SQL in DuckDB (the queries of docs/metrics.md, "Export")."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.test_team_report import team  # noqa: F401 - the fixture: the demo twice and a mirror

duckdb = pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

#: docs/metrics.md, "Export": each query per repository and, with ROLLUP, over all of them.
AI_SHARE = """
SELECT repository,
       count(*) FILTER (WHERE ai) AS ai_commits,
       count(*) AS commits,
       count(*) FILTER (WHERE ai) / count(*) AS commit_share,
       sum(lines_changed) FILTER (WHERE ai) / sum(lines_changed) AS line_share
FROM read_parquet('{out}/*/commits.parquet')
WHERE kind = 'commit' AND committed_at IS NOT NULL
GROUP BY ROLLUP (repository)
"""
REJECTION_BY_FAMILY = """
SELECT repository, author_family,
       count(*) FILTER (WHERE verdict = 'reject')
         / count(*) FILTER (WHERE verdict IN ('approve', 'reject', 'changes')) AS rejection_rate
FROM read_parquet('{out}/*/verdicts.parquet')
GROUP BY GROUPING SETS ((repository, author_family), (author_family))
"""
RUBBER_STAMPS = """
SELECT repository,
       count(*) FILTER (WHERE verdict = 'approve' AND (
             lines_changed * 3600.0 > stamp_max_lines_per_hour * active_seconds
          OR active_seconds < stamp_min_active_seconds
          OR (hunks_total > 0 AND hunks_viewed < stamp_min_hunks_viewed_share * hunks_total)
          OR (critique AND NOT critique_opened))) AS stamps,
       count(*) FILTER (WHERE verdict = 'approve') AS approvals,
       stamps / approvals AS rate
FROM read_parquet('{out}/*/verdicts.parquet')
GROUP BY ROLLUP (repository)
"""
COVERAGE = """
WITH reviewed AS (
  SELECT DISTINCT repository, change_id FROM read_parquet('{out}/*/verdicts.parquet')
)
SELECT c.repository,
       count(r.change_id) AS reviewed_changes,
       count(*) AS ai_changes,
       count(r.change_id) / count(*) AS coverage
FROM read_parquet('{out}/*/commits.parquet') AS c
LEFT JOIN reviewed AS r USING (repository, change_id)
WHERE c.ai AND c.committed_at IS NOT NULL
GROUP BY ROLLUP (c.repository)
"""


def _rows(sql: str, out: Path) -> list[dict]:
    rel = duckdb.sql(sql.format(out=out.as_posix()))
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def _r(value) -> float | None:
    return None if value is None else round(float(value), 4)


def test_duckdb_recomputes_the_reports_headline_figures(team, cli, tmp_path):  # noqa: F811
    paths = [str(team["a"]), str(team["b"]), str(team["mirror"])]
    out = tmp_path / "warehouse"
    proc = cli("export", "--format", "parquet", "--out", str(out), "--repos", *paths)
    assert proc.returncode == 0, proc.stderr
    assert "3 repositories" in proc.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [m["folder"] for m in manifest["repositories"]] == [
        "orders",
        "orders-2",
        "orders-mirror.git",
    ]
    for m in manifest["repositories"]:
        folder = out / m["folder"]
        assert {p.name for p in folder.iterdir()} == {
            "commits.parquet",
            "verdicts.parquet",
            "critiques.parquet",
            "inputs.json",
        }
    report = json.loads(cli("report", "--format", "json", "--repos", *paths).stdout)
    docs = {None: report, **{r["repository"]: r for r in report["repositories"]}}

    for row in _rows(AI_SHARE, out):
        a = docs[row["repository"]]["automation"]
        assert (row["ai_commits"], row["commits"]) == (a["ai_commits"], a["commits"])
        assert _r(row["commit_share"]) == a["commit_share"]
        assert _r(row["line_share"]) == a["line_share"]

    checked = 0
    for row in _rows(REJECTION_BY_FAMILY, out):
        families = {f["family"]: f for f in docs[row["repository"]]["families"]["authors"]}
        if row["author_family"] in families:
            assert _r(row["rejection_rate"]) == families[row["author_family"]]["rejection_rate"]
            checked += 1
    assert checked >= 4

    stamps = _rows(RUBBER_STAMPS, out)
    for row in stamps:
        s = docs[row["repository"]]["rubber_stamps"]
        assert (row["stamps"], row["approvals"]) == (s["count"], s["approvals"])
        assert _r(row["rate"]) == s["rate"]
    # b's own threshold (100 s) travelled with its rows: the total needs no settings file.
    assert (
        next(r for r in stamps if r["repository"] is None)["stamps"]
        == report["rubber_stamps"]["count"]
    )

    for row in _rows(COVERAGE, out):
        r = docs[row["repository"]]["review"]
        assert (row["reviewed_changes"], row["ai_changes"]) == (
            r["reviewed_changes"],
            r["ai_changes"],
        )
        assert _r(row["coverage"]) == r["coverage"]

    # The input block travels with the tables.
    inputs = json.loads((out / "orders-2" / "inputs.json").read_text())
    assert inputs["revision"] == report["inputs"]["repositories"][1]["revision"]
    assert inputs["thresholds"]["min_active_seconds"] == 100


def test_export_schema_is_the_documented_one(team, cli, tmp_path):  # noqa: F811
    import pyarrow.parquet as pq

    out = tmp_path / "w"
    assert cli("export", "--out", str(out), "--repo", str(team["a"])).returncode == 0
    docs = (Path(__file__).parents[1] / "docs" / "metrics.md").read_text()
    for name in ("commits", "verdicts", "critiques"):
        schema = pq.read_schema(out / "orders" / f"{name}.parquet")
        for field in schema.names:
            assert f"`{field}`" in docs, f"{name}.{field} is not documented"
    commits = pq.read_table(out / "orders" / "commits.parquet").to_pylist()
    ai = [c for c in commits if c["ai"]]
    assert {c["kind"] for c in commits} == {"commit", "inbox"}
    assert all(c["agent"] and c["family"] for c in ai)
    assert not any(c["agent"] for c in commits if not c["ai"])
    assert {"auth+ci", "default"} <= {c["domain"] for c in ai}


_BLOCK_PYARROW = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pyarrow":
            raise ImportError("No module named 'pyarrow'")
        return None

sys.meta_path.insert(0, Block())
from reviewq.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_export_without_pyarrow_says_the_pip_command(demo_repo, tmp_path):
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-P", "-c", _BLOCK_PYARROW, "export", "--out", str(tmp_path / "w")],
        cwd=demo_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "reviewq: export needs pyarrow, which is not installed: pip install 'reviewq[export]'"
    ]
    assert not (tmp_path / "w").exists()


def test_stats_and_report_do_not_import_pyarrow(demo_repo):
    import subprocess

    code = (
        "import sys; from reviewq.cli import main\n"
        "for argv in (['stats', '--json'], ['report', '--format', 'json']):\n"
        "    assert main(argv) == 0\n"
        "sys.stderr.write(repr(sorted(m for m in ('pyarrow', 'duckdb') if m in sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-P", "-c", code],
        cwd=demo_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().endswith("[]")
