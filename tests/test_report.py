"""The disclosure report: figures, escaping, self-containment, and the real page in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reviewq.core.metrics import AuthoredChange, CommitSize, compute_stats
from reviewq.core.report import (
    disclosure,
    fmt_pct,
    md,
    render_json,
    render_markdown,
)
from reviewq.core.report_html import render, render_html
from tests.metrics_support import RULES_UNOPENED, record, record_demo_verdicts

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CET)
EVIL = '<script>alert("x")</script>|**bold**[link](http://evil.example)\x1b[31m'


def small_doc(violations=None, family="anthropic", models=None):
    changes = [
        AuthoredChange("a" * 40, "2026-11-18T10:00:00+01:00", family, "claude-code"),
        AuthoredChange("b" * 40, "2026-11-18T11:00:00+01:00", "openai", "codex"),
    ]
    records = [
        record(1, "approve", "2026-11-18T12:00:00+01:00", change="a" * 40, family=family),
        record(2, "reject", "2026-11-18T13:00:00+01:00", change="b" * 40, family="openai"),
        record(
            3,
            "approve",
            "2026-11-18T14:00:00+01:00",
            change="b" * 40,
            active=5,
            critique=RULES_UNOPENED,
            family="openai",
        ),
    ]
    commits = [CommitSize(c.id, c.committed_at, 50) for c in changes] + [
        CommitSize("c" * 40, "2026-11-17T10:00:00+01:00", 100)
    ]
    stats = compute_stats(records, now=NOW, changes=changes, commits=commits)
    return disclosure(
        stats,
        repository="orders",
        models=models or {"openai": ["gpt-5-codex"]},
        violations=violations,
    )


def test_disclosure_figures():
    doc = small_doc()
    assert doc["automation"] == {
        "known": True,
        "commits": 3,
        "ai_commits": 2,
        "commit_share": 0.6667,
        "lines": 200,
        "ai_lines": 100,
        "line_share": 0.5,
    }
    r = doc["review"]
    assert (r["verdicts"], r["approve"], r["reject"], r["reviewers"]) == (3, 2, 1, 1)
    assert r["said_no_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert (r["ai_changes"], r["reviewed_changes"], r["coverage"]) == (2, 2, 1.0)
    assert doc["rubber_stamps"]["count"] == 1 and doc["rubber_stamps"]["rate"] == 0.5
    assert doc["rubber_stamps"]["reasons"] == {
        "too_fast": 1,
        "too_short": 1,
        "hunks_unviewed": 0,
        "critique_unopened": 1,
    }
    assert [f["family"] for f in doc["families"]["authors"]] == ["anthropic", "openai"]
    assert doc["families"]["authors"][1]["models"] == ["gpt-5-codex"]
    assert doc["families"]["critics"] == [{"family": "rules", "verdicts": 3}]
    assert doc["policy"] == {"configured": False, "violations": []}
    assert [w["week"] for w in doc["weekly"]] == ["2026-W47"]
    assert json.loads(render_json(doc)) == doc


def test_formatting_helpers():
    from reviewq.core.times import duration

    assert [duration(s) for s in (None, 42, 185, 7260, 97200)] == [
        "–",
        "42s",
        "3m 05s",
        "2h 01m",
        "1d 3h",
    ]
    assert fmt_pct(None) == "–" and fmt_pct(0.6667) == "66.7%"


def test_policy_section_states():
    assert "policy: not configured" in render_markdown(small_doc())
    assert "policy: every AI-authored change meets it" in render_markdown(small_doc(violations=[]))
    violations = [
        {
            "change": "a" * 40,
            "sha": "a" * 40,
            "domain": "auth",
            "rule": "approvals",
            "subject": EVIL,
        }
    ]
    text = render_markdown(small_doc(violations=violations))
    assert "policy: 1 AI-authored change fall" in text
    assert "| aaaaaaaaaaaa | auth | approvals |" in text and "<script>" not in text
    page = render_html(small_doc(violations=violations))
    assert "<td>approvals</td>" in page and "<script>" not in page
    many = [dict(violations[0], sha=f"{i:040x}") for i in range(60)]
    text = render_markdown(small_doc(violations=many))
    assert "60 AI-authored changes" in text and "the first 50 are listed" in text
    assert text.count("| auth | approvals |") == 50


def test_untrusted_strings_are_escaped_in_every_format():
    doc = small_doc(family=EVIL, models={EVIL: [EVIL]})
    page = render_html(doc)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "\x1b" not in page and "<ESC>" not in page  # the placeholder itself is escaped
    assert "&lt;ESC&gt;" in page
    text = render_markdown(doc)
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\|" in text and "\\*\\*bold\\*\\*" in text and "\\[link\\]" in text
    assert "\x1b" not in text
    assert md("a|b") == "a\\|b"
    assert json.loads(render(doc, "json"))["families"]["authors"][0]["family"] == EVIL


def test_html_is_self_contained():
    page = render_html(small_doc())
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=|url\(|@import|<script|<link|<img""", page, re.I)
    # The only URL is the SVG namespace, which is a name, not a fetch.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert page.count("<svg") == 4


def test_empty_history_renders_every_format():
    doc = disclosure(compute_stats([], now=NOW), repository="empty")
    for fmt in ("md", "json", "html"):
        assert render(doc, fmt)
    assert "No activity in this period" in render_html(doc)
    assert "unknown" in render_markdown(doc)  # automation share unknown, not 0 %


# -- the demo repository, end to end ------------------------------------------------------------


@pytest.fixture
def demo_with_verdicts(demo_repo: Path) -> Path:
    record_demo_verdicts(demo_repo)
    return demo_repo


def test_report_for_the_demo_repository(demo_with_verdicts: Path, cli, tmp_path: Path):
    out = tmp_path / "report.json"
    proc = cli("report", "--format", "json", "--out", str(out), cwd=demo_with_verdicts)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "wrote" in proc.stderr
    doc = json.loads(out.read_text())
    assert doc["repository"] == "orders"
    assert doc["review"]["verdicts"] == 11
    assert (doc["review"]["reject"], doc["review"]["changes"], doc["review"]["escalate"]) == (
        1,
        1,
        1,
    )
    assert doc["review"]["ai_changes"] == 12  # eleven commits and the inbox patch
    assert doc["review"]["reviewed_changes"] == 10
    assert doc["automation"]["known"] and doc["automation"]["ai_commits"] == 11
    families = {f["family"] for f in doc["families"]["authors"]}
    assert {"anthropic", "openai", "google", "unknown"} <= families
    assert doc["rubber_stamps"]["count"] >= 2
    md_proc = cli("report", cwd=demo_with_verdicts)
    assert md_proc.returncode == 0 and md_proc.stdout.startswith("# Automation disclosure: orders")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's `chromium` is not installed (apt-get install -y chromium); the HTML report "
    "is still checked for self-containment and escaping above",
)
def test_demo_report_renders_in_headless_chromium(demo_with_verdicts: Path, cli, tmp_path: Path):
    page = tmp_path / "report.html"
    proc = cli("report", "--format", "html", "--out", str(page), cwd=demo_with_verdicts)
    assert proc.returncode == 0, proc.stderr
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert _png_size(shot) == (1280, 2000)
    # A blank page compresses to a few kilobytes; charts, cards and tables do not.
    assert shot.stat().st_size > 60_000


#: What a phone gives the page: 390 px less the page's side padding at that width.
PHONE_CHART_PX = 390 - 2 * 14
#: A generous glyph width (em) for the page's sans-serif digits, letters and dashes.
GLYPH_EM = 0.68


def test_chart_text_is_readable_on_a_phone_and_bin_labels_do_not_touch():
    """The charts' 520-unit drawings shrink to ~360 px on a phone: their text is set bigger
    there (>= 11 px on the screen), and the histogram's bin labels take two rows rather than
    run into each other at that size."""
    from itertools import pairwise

    from reviewq.core.report_html import svg_histogram

    doc = small_doc()
    page = render_html(doc)
    phone = re.search(
        r"@media \(max-width: 600px\) \{.*?figure svg text \{ font-size: (\d+)px", page, re.S
    )
    assert phone, "no phone-size rule for chart text"
    units = int(phone.group(1))
    assert units * PHONE_CHART_PX / 520 >= 11
    bins = [
        {"bin": b, "verdicts": i}
        for i, b in enumerate(
            ["<30s", "30s-1m", "1-2m", "2-5m", "5-10m", "10-30m", "30-60m", ">60m"]
        )
    ]
    labels = re.findall(
        r'<text class="muted" x="([\d.]+)" y="([\d.]+)" text-anchor="middle">([^<]+)</text>',
        svg_histogram(bins),
    )
    assert len(labels) == len(bins)
    rows: dict[str, list[tuple[float, str]]] = {}
    for x, y, text in labels:
        rows.setdefault(y, []).append((float(x), text.replace("&lt;", "<").replace("&gt;", ">")))
    for row in rows.values():
        row.sort()
        for (xa, a), (xb, b) in pairwise(row):
            half = (len(a) + len(b)) / 2 * GLYPH_EM * units
            assert xb - xa >= half, f"{a!r} and {b!r} touch at the phone's font size"
