"""`stats` and `report` over several repositories, and `report --check`: real repositories
(the demo twice, one with settings of its own, and a bare mirror), the real CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from reviewq.core.verdict import new_record
from reviewq.store.log import ProvenanceLog, read_records
from tests.metrics_support import DANA, RULES_OPENED, record_demo_verdicts


def _append_reject(repo: Path, subject: str, *, active: float = 40.0, n: int = 0) -> None:
    """One more verdict in `repo`'s log: a quick rejection of the change with `subject`."""
    from reviewq.context import Context
    from reviewq.workflow.scan import scan_history

    ctx = Context.open(repo)
    try:
        change = next(c for c in scan_history(ctx).changes if c.commit.subject.startswith(subject))
        at = datetime.fromisoformat(change.commit.committed_at) + timedelta(hours=30 + n)
        ProvenanceLog(ctx.log_path).append(
            new_record(
                record_id=f"extra-{n}",
                sha=change.sha,
                change_id=change.id,
                patch_id=None,
                verdict="reject",
                reviewer=DANA,
                at=at.isoformat(timespec="seconds"),
                active_seconds=active,
                wall_seconds=active,
                lines_changed=change.stats.lines_changed if change.stats else 0,
                hunks_total=1,
                hunks_viewed=1,
                critique=RULES_OPENED,
                author_family=change.authorship.family,
                agent=change.authorship.agent,
            )
        )
    finally:
        ctx.close()


@pytest.fixture
def team(demo_template: Path, tmp_path: Path) -> dict[str, Path]:
    """Two clones of the demo with their own logs (b rejects one more change and counts an
    approval under 100 s as a stamp), and a bare mirror of a with no log at all."""
    a = tmp_path / "a" / "orders"
    b = tmp_path / "b" / "orders"
    shutil.copytree(demo_template, a, symlinks=True)
    shutil.copytree(demo_template, b, symlinks=True)
    record_demo_verdicts(a)
    record_demo_verdicts(b)
    _append_reject(b, "Add order notes")
    settings = b / ".reviewq.toml"
    settings.write_text(
        settings.read_text() + "\n[metrics]\nrubber_stamp_min_seconds = 100\n", encoding="utf-8"
    )
    mirror = tmp_path / "orders-mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(a), str(mirror)], check=True)
    return {"a": a, "b": b, "mirror": mirror, "root": tmp_path}


def _json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_team_report_gives_each_repository_its_own_figures_and_totals_from_rows(team, cli):
    paths = [str(team["a"]), str(team["b"]), str(team["mirror"])]
    doc = _json(cli("report", "--format", "json", "--repos", *paths))
    singles = [_json(cli("report", "--format", "json", "--repo", p)) for p in paths]

    assert doc["repository"] == "3 repositories"
    assert [r["repository"] for r in doc["repositories"]] == [
        str(team["a"]),  # two clones share a folder name: the path as given tells them apart
        str(team["b"]),
        "orders-mirror.git",
    ]
    # Each repository's figures are exactly its own single-repository report's.
    for part, single in zip(doc["repositories"], singles):
        for section in ("automation", "review", "rubber_stamps", "critique", "families"):
            assert part[section] == single[section], section
        assert part["queue"]["depth"] == single["queue"]["depth"]  # (its ages run with the clock)
    # b's own settings applied to b: an approval under 100 s is a stamp there, not in a.
    a_stamps, b_stamps = (singles[i]["rubber_stamps"] for i in (0, 1))
    assert b_stamps["thresholds"]["min_active_seconds"] == 100
    assert b_stamps["count"] > a_stamps["count"]
    # Totals: counts add up, rates come from the summed counts (never an average of rates).
    total = doc["review"]
    assert total["verdicts"] == 11 + 12 + 0
    assert total["reject"] == 1 + 2
    decisive = sum(
        s["review"]["approve"] + s["review"]["reject"] + s["review"]["changes"] for s in singles
    )
    assert total["rejection_rate"] == round(3 / decisive, 4)
    averaged = (singles[0]["review"]["rejection_rate"] + singles[1]["review"]["rejection_rate"]) / 2
    assert total["rejection_rate"] != round(averaged, 4)
    assert doc["rubber_stamps"]["count"] == a_stamps["count"] + b_stamps["count"]
    assert doc["rubber_stamps"]["thresholds"] is None  # they differ: each repository's own
    # The same commits in three repositories count three times: shares are of all of them.
    autos = [s["automation"] for s in singles]
    assert doc["automation"]["commits"] == sum(x["commits"] for x in autos)
    assert doc["automation"]["ai_lines"] == sum(x["ai_lines"] for x in autos)
    assert doc["review"]["ai_changes"] == sum(s["review"]["ai_changes"] for s in singles)
    assert doc["review"]["reviewed_changes"] == sum(
        s["review"]["reviewed_changes"] for s in singles
    )
    # The median review time is the median of every verdict's time, not a median of medians.
    times = [r["active_seconds"] for p in (team["a"], team["b"]) for r in _log(p)]
    assert doc["review_time"]["median_seconds"] == round(float(np.median(times)), 1)
    # One reviewer reviewing in two repositories is one reviewer.
    assert doc["review"]["reviewers"] == 2
    # Every repository is named in the input block.
    assert [x["revision"] for x in doc["inputs"]["repositories"]] == [
        _git(Path(p), "rev-parse", "HEAD") for p in paths
    ]


def _log(repo: Path) -> list[dict]:
    return read_records(repo / ".git" / "reviewq" / "log.jsonl")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_team_list_in_a_settings_file_is_the_same_as_repos(team, cli):
    root = team["root"]
    (root / "team.toml").write_text(
        '[team]\nrepos = ["a/orders", "b/orders", "orders-mirror.git"]\n', encoding="utf-8"
    )
    by_file = _json(cli("stats", "--json", "--config", str(root / "team.toml"), cwd=root))
    by_flag = _json(
        cli("stats", "--json", "--repos", "a/orders", "b/orders", "orders-mirror.git", cwd=root)
    )
    for doc in (by_file, by_flag):
        for part in (doc["total"], *doc["repositories"]):
            del part["generated_at"]  # the clock runs between the two commands
            del part["queue"]["oldest_pending_seconds"]
    assert by_file["total"] == by_flag["total"]
    assert [p["totals"]["verdicts"] for p in by_file["repositories"]] == [11, 12, 0]
    assert by_file["total"]["totals"]["verdicts"] == 23


def test_team_stats_table_names_each_repository_and_all(team, cli):
    proc = cli("stats", "--repos", str(team["a"]), str(team["mirror"]))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("reviewq stats: 2 repositories, all time")
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "REPOSITORY" in rows and "ALL" in rows and "orders-mirror.git" in rows
    assert rows["ALL"].split()[1] == "22/34"  # AI commits / commits of both


@pytest.mark.parametrize(
    ("extra", "expect"),
    [
        (["--log", "x.jsonl"], "--log with --repos"),
        (["--repo", "."], "--repo with --repos"),
    ],
)
def test_repos_refuses_single_repository_options(team, cli, extra, expect):
    proc = cli("report", "--repos", str(team["a"]), *extra, cwd=team["root"])
    assert proc.returncode == 2
    assert expect in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_repos_names_a_missing_or_repeated_repository(team, cli):
    proc = cli("report", "--repos", str(team["a"]), str(team["root"] / "nope"))
    assert proc.returncode == 2 and "nope: no such repository" in proc.stderr
    proc = cli("stats", "--repos", str(team["a"]), str(team["a"]) + "/")
    assert proc.returncode == 2 and "listed twice" in proc.stderr
    (team["root"] / "bad.toml").write_text('[team]\nrepos = "a"\n', encoding="utf-8")
    proc = cli("stats", "--config", str(team["root"] / "bad.toml"), cwd=team["root"])
    assert proc.returncode == 2 and "team.repos" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- reproducible: report --check ------------------------------------------------------------------


@pytest.fixture
def team_report(team, cli) -> Path:
    out = team["root"] / "report.json"
    proc = cli(
        "report",
        "--format",
        "json",
        "--out",
        str(out),
        "--repos",
        str(team["a"]),
        str(team["b"]),
        str(team["mirror"]),
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_check_passes_on_the_inputs_it_names(team_report, cli):
    proc = cli("report", "--check", str(team_report))
    assert proc.returncode == 0, proc.stderr
    assert "figures match the inputs (3 repositories)" in proc.stdout


def test_check_passes_after_history_and_log_grew(team, team_report, cli):
    """New commits, verdicts and notes after the report: the report is of its inputs."""
    a = team["a"]
    (a / "NEW.md").write_text("more\n", encoding="utf-8")
    _git(a, "add", "NEW.md")
    subprocess.run(
        ["git", "commit", "-q", "-m", "More\n\nCo-Authored-By: Claude <noreply@anthropic.com>"],
        cwd=a,
        check=True,
    )
    _append_reject(a, "Add order notes", n=1)
    assert _json(cli("report", "--format", "json", "--repo", str(a)))["review"]["verdicts"] == 12
    proc = cli("report", "--check", str(team_report))
    assert proc.returncode == 0, proc.stderr
    assert "policy shortfalls not rechecked" in proc.stdout


def test_check_names_a_figure_edited_in_the_file(team_report, cli):
    doc = json.loads(team_report.read_text())
    doc["review"]["rejection_rate"] = 0.05
    doc["repositories"][1]["rubber_stamps"]["count"] -= 1
    team_report.write_text(json.dumps(doc))
    proc = cli("report", "--check", str(team_report))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 figures differ" in proc.stderr
    assert "review.rejection_rate (report 0.05, recomputed 0.1429)" in proc.stderr
    assert "rubber_stamps.count" in proc.stderr and "Traceback" not in proc.stderr


def test_check_catches_an_edited_log_record(team, team_report, cli):
    """History that changed under the report: an earlier record of b's log rewritten in
    place (a reject turned into an approve), its last record and size left as they were."""
    log = team["b"] / ".git" / "reviewq" / "log.jsonl"
    data = log.read_bytes()
    # The same length, so the named last record still ends where the report says.
    edited = data.replace(b'"verdict":"approve"', b'"verdict":"changes"', 1)
    assert len(edited) == len(data) and edited != data
    log.write_bytes(edited)
    proc = cli("report", "--check", str(team_report))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # A line that fails its own hash counts in no figure (every reader ignores it): the
    # approval is gone, not turned into a request for changes.
    assert "figures differ from the inputs" in proc.stderr
    assert "agents[claude-code].reviewed (report 4, recomputed 3)" in proc.stderr


def test_check_exits_2_when_an_input_is_missing(team, team_report, cli):
    log = team["b"] / ".git" / "reviewq" / "log.jsonl"
    log.write_bytes(log.read_bytes()[:-200])  # cut: the named last record is gone
    proc = cli("report", "--check", str(team_report))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "input missing: log record" in proc.stderr


def test_check_exits_2_when_the_revision_is_gone(team, cli, tmp_path):
    """A force-push and gc removed the commit a report scanned."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(team["a"]), str(clone)], check=True)
    out = tmp_path / "one.json"
    assert (
        cli("report", "--format", "json", "--out", str(out), "--repo", str(clone)).returncode == 0
    )
    old = _git(clone, "rev-parse", "HEAD")
    _git(clone, "reset", "-q", "--hard", "HEAD~2")
    _git(clone, "remote", "remove", "origin")
    _git(clone, "reflog", "expire", "--expire=now", "--all")
    _git(clone, "gc", "-q", "--prune=now")
    proc = cli("report", "--check", str(out))
    assert proc.returncode == 2
    assert f"input missing: revision {old}" in proc.stderr


def test_check_exits_2_when_the_settings_changed(team, team_report, cli):
    settings = team["a"] / ".reviewq.toml"
    settings.write_text(settings.read_text() + '\n[metrics]\ntimezone = "UTC"\n')
    proc = cli("report", "--check", str(team_report))
    assert proc.returncode == 2
    assert "input missing: the settings of" in proc.stderr


def test_check_refuses_a_file_that_is_not_a_report(tmp_path, cli):
    bad = tmp_path / "x.json"
    bad.write_text('{"report": "something else"}')
    proc = cli("report", "--check", str(bad))
    assert proc.returncode == 2 and "not a reviewq JSON report" in proc.stderr
    proc = cli("report", "--check", str(tmp_path / "absent.json"))
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_markdown_and_html_carry_the_input_block(team, cli, tmp_path):
    paths = [str(team["a"]), str(team["mirror"])]
    head = _git(team["a"], "rev-parse", "HEAD")
    log_head = _log(team["a"])[-1]["hash"]
    for fmt in ("md", "html"):
        proc = cli("report", "--format", fmt, "--repos", *paths)
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout
        assert "Inputs" in text and head in text and log_head in text
        assert "Repositories" in text and "orders-mirror.git" in text
    single = cli("report", "--repo", str(team["a"])).stdout
    assert "## Inputs" in single and head in single and "## Repositories" not in single


@pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's `chromium` is not installed (apt-get install -y chromium)",
)
def test_team_html_report_renders_in_headless_chromium(team, cli, tmp_path):
    import struct

    page = tmp_path / "team.html"
    proc = cli(
        "report",
        "--format",
        "html",
        "--out",
        str(page),
        "--repos",
        str(team["a"]),
        str(team["b"]),
        str(team["mirror"]),
    )
    assert proc.returncode == 0, proc.stderr
    shot = tmp_path / "team.png"
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,4200",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert struct.unpack(">II", data[16:24]) == (1280, 4200)
    assert shot.stat().st_size > 60_000  # cards, charts and the two tables, not a blank page
    html = page.read_text()
    assert "Repositories" in html and "Inputs" in html and "word-break:break-all" in html


# -- the summary cache (a warm team report without rebuilding every change) -------------------


def _verdict_on(repo: Path, sha: str, n: int, verdict: str = "approve") -> None:
    ProvenanceLog(repo / ".git" / "reviewq" / "log.jsonl").append(
        new_record(
            record_id=f"s-{n}",
            sha=sha,
            change_id=sha,
            patch_id=None,
            verdict=verdict,
            reviewer=DANA,
            at=f"2026-11-19T1{n}:00:00+01:00",
            active_seconds=20.0,
            wall_seconds=20.0,
            lines_changed=1,
            hunks_total=1,
            hunks_viewed=1,
            critique=RULES_OPENED,
            author_family="anthropic",
            agent="claude-code",
        )
    )


def test_summary_cache_answers_exactly_and_follows_every_input(make_repo, cli):
    repo = make_repo("plain")
    claude = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
    repo.commit("Human change")
    ai = repo.commit("Agent change" + claude)
    summary = repo.path / ".git" / "reviewq" / "metric-summary.npz"

    def totals() -> dict:
        doc = _json(cli("stats", "--json", "--repo", str(repo.path)))
        return {
            "verdicts": doc["totals"]["verdicts"],
            "stamps": doc["totals"]["rubber_stamps"],
            "ai": doc["automation"]["ai_commits"],
            "commits": doc["automation"]["commits"],
        }

    first = totals()
    assert summary.exists()
    stamp = summary.stat().st_mtime_ns
    assert totals() == first == {"verdicts": 0, "stamps": 0, "ai": 1, "commits": 2}
    assert summary.stat().st_mtime_ns == stamp  # answered from it, not rebuilt
    _verdict_on(repo.path, ai, 1)  # the log grew
    assert totals()["verdicts"] == 1
    repo.commit("Second agent change" + claude)  # HEAD moved
    assert totals()["ai"] == 2
    repo.write(".reviewq.toml", "[metrics]\nrubber_stamp_min_seconds = 10\n")  # settings
    assert totals()["stamps"] == 0
    repo.write(".reviewq.toml", "[metrics]\nrubber_stamp_min_seconds = 30\n")
    assert totals()["stamps"] == 1
    # A damaged summary is rebuilt, never believed.
    summary.write_bytes(b"not an npz")
    assert totals() == {"verdicts": 1, "stamps": 1, "ai": 2, "commits": 3}


def test_check_catches_a_forged_summary_cache(make_repo, cli, tmp_path):
    """A local shell rewrites the summary cache so the report undercounts AI-authored commits:
    the report believes its cache, the check reads none and names the figures."""
    repo = make_repo("forged")
    repo.commit("Human change")
    repo.commit("Agent change\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n")
    assert _json(cli("stats", "--json", "--repo", str(repo.path)))["automation"]["ai_commits"] == 1
    summary = repo.path / ".git" / "reviewq" / "metric-summary.npz"
    with np.load(summary) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["ids"] = np.array([b"0" * 40], dtype=np.bytes_)
    with open(summary, "wb") as fh:
        np.savez(fh, **arrays)
    out = tmp_path / "forged.json"
    proc = cli("report", "--format", "json", "--out", str(out), "--repo", str(repo.path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["automation"]["ai_commits"] == 0  # the forgery took
    proc = cli("report", "--check", str(out))
    assert proc.returncode == 1
    assert "automation.ai_commits (report 0, recomputed 1)" in proc.stderr


def test_check_reads_the_notes_as_of_their_named_tip(make_repo, cli, tmp_path):
    """A teammate's verdicts arrive on the notes ref after the report: the check reads the
    notes commit the report names (its tree, not the moved ref) and still matches; a report
    naming a notes commit that is gone exits 2."""
    from reviewq.core.verdict import GENESIS, seal
    from reviewq.sources.gitcmd import Git
    from reviewq.store.notes_log import add_records

    repo = make_repo("noted")
    repo.commit("Human change")
    ai = repo.commit("Agent change\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n")
    git = Git.open(repo.path)
    lock = repo.path / ".git" / "reviewq" / "notes.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)

    def noted(n: int, verdict: str) -> dict:
        rec = new_record(
            record_id=f"note-{n}",
            sha=ai,
            change_id=ai,
            patch_id=None,
            verdict=verdict,
            reviewer=DANA,
            at=f"2026-11-19T1{n}:00:00+01:00",
            active_seconds=200.0,
            wall_seconds=200.0,
            lines_changed=1,
            hunks_total=1,
            hunks_viewed=1,
            critique=RULES_OPENED,
            author_family="anthropic",
            agent="claude-code",
        )
        return seal(rec, GENESIS)

    add_records(git, [noted(1, "reject")], lock)
    out = tmp_path / "noted.json"
    assert (
        cli("report", "--format", "json", "--out", str(out), "--repo", str(repo.path)).returncode
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["review"]["reject"] == 1
    tip = doc["inputs"]["repositories"][0]["notes_tip"]
    assert tip == _git(repo.path, "rev-parse", "refs/notes/reviewq")
    add_records(git, [noted(2, "approve")], lock)  # the ref moves on
    now = _json(cli("report", "--format", "json", "--repo", str(repo.path)))
    assert now["review"]["verdicts"] == 2
    proc = cli("report", "--check", str(out))
    assert proc.returncode == 0, proc.stderr
    doc["inputs"]["repositories"][0]["notes_tip"] = "0" * 40
    out.write_text(json.dumps(doc))
    proc = cli("report", "--check", str(out))
    assert proc.returncode == 2 and f"notes commit {'0' * 40}" in proc.stderr
