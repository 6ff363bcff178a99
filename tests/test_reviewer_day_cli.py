"""Issue 20, item 6: the command line's rules and words agree (a reviewer's day)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.metrics_support import record_demo_verdicts


@pytest.fixture
def demo_with_verdicts(demo_repo: Path) -> Path:
    record_demo_verdicts(demo_repo)
    return demo_repo


def test_log_since_reads_durations_as_stats_does(demo_with_verdicts: Path, cli):
    counts = {}
    for since in ("520w", "3650d", "12w", "30d", "3d", "2099-01-01"):
        log = cli("log", "--json", "--since", since, cwd=demo_with_verdicts)
        assert log.returncode == 0, log.stderr
        stats = cli("stats", "--json", "--since", since, cwd=demo_with_verdicts)
        assert stats.returncode == 0, stats.stderr
        counts[since] = len(log.stdout.splitlines())
        assert counts[since] == json.loads(stats.stdout)["totals"]["verdicts"], since
    assert counts["520w"] == counts["3650d"] == 11
    # git's own forms still work, and nonsense is one line, exit 2
    assert (
        len(
            cli(
                "log", "--json", "--since", "20 years ago", cwd=demo_with_verdicts
            ).stdout.splitlines()
        )
        == 11
    )
    bad = cli("log", "--since", "12x", cwd=demo_with_verdicts)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "12w" in bad.stderr


def test_help_texts_name_every_option_and_the_optional_action(demo_repo: Path, cli):
    log = cli("log", "--help", cwd=demo_repo).stdout
    assert "[ACTION]" in log and "\n                   ACTION ..." not in log
    for args, option in (
        (("queue", "--help"), "--sort"),
        (("scan", "--help"), "--max-count"),
        (("prompt", "--help"), "--json"),
    ):
        text = cli(*args, cwd=demo_repo).stdout
        lines = text.split("options:")[1].splitlines()
        index = next(i for i, line in enumerate(lines) if line.strip().startswith(option))
        described = lines[index].strip().split(maxsplit=2 if option == "--max-count" else 1)
        following = lines[index + 1] if index + 1 < len(lines) else ""
        assert len(described) > (2 if option == "--max-count" else 1) or following.startswith(
            " " * 20
        ), f"{option} has no help text: {lines[index]!r}"


def test_report_html_is_readable_by_others_and_counts_agree(
    demo_with_verdicts: Path, cli, tmp_path: Path
):
    out = tmp_path / "report.html"
    proc = cli("report", "--format", "html", "--out", str(out), cwd=demo_with_verdicts)
    assert proc.returncode == 0, proc.stderr
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    out.chmod(0o640)  # a chosen mode is kept when the report is written again
    assert (
        cli("report", "--format", "html", "--out", str(out), cwd=demo_with_verdicts).returncode == 0
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    text = out.read_text()
    assert " 1 reviewers" not in text
    md = cli("report", cwd=demo_with_verdicts).stdout
    assert " by 2 reviewers:" in md


def test_report_counts_agree_with_their_nouns():
    from reviewq.core.report import count

    assert count(1, "reviewer") == "1 reviewer"
    assert count(4, "verdict") == "4 verdicts"
    assert count(0, "change") == "0 changes"
    assert count(1200, "change") == "1,200 changes"


def test_scan_json_names_a_prompter_once(demo_repo: Path, cli):
    proc = cli("scan", "--json", cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    inbox = [json.loads(line) for line in proc.stdout.splitlines() if '"inbox' in line]
    assert inbox
    for item in inbox:
        emails = [p["email"] for p in item["prompted_by"]]
        assert emails and len(emails) == len(set(emails)), emails
