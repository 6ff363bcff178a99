"""The automation disclosure report: figures -> one document, as Markdown, JSON or HTML.

Pure rendering. `disclosure()` picks, from `Stats`, what outsiders need to judge how automated
the work is and how often humans say no; `render_markdown`, `render_json` and `render_html`
print that one dict, so the three formats cannot disagree.

Every string that came from a record, a commit or a setting is untrusted: HTML output escapes
it (`html.escape`), Markdown output escapes its markup characters, both after `visible()`
(no control or bidi characters). The HTML is one self-contained file: inline CSS and SVG, no
script, and a Content-Security-Policy that forbids every fetch, so opening it contacts nobody.
Reviewer names are not in the report: it measures the process, not people (Cohen 2006:
metrics used against reviewers stop being honest).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from reviewq.core.metrics import Period, Stats
from reviewq.core.text import one_line

REPORT_VERSION = 1
FORMATS = ("md", "json", "html")


# -- formatting shared by stats, the screen and the report --------------------------------------


def count(n: int, word: str) -> str:
    """`1 reviewer`, `4 reviewers`: a number with its noun agreeing."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def fmt_pct(rate: float | None, digits: int = 1) -> str:
    return "–" if rate is None else f"{rate * 100:.{digits}f}%"


def fmt_duration(seconds: float | None) -> str:
    """`42s`, `3m 05s`, `2h 10m`, `3d 4h`: two units at most, for people."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def fmt_int(n: float | None) -> str:
    return "–" if n is None else f"{round(n):,}"


def zone_words(tz: str) -> str:
    """Where days end, for people: "record" is each verdict's (and commit's) own offset."""
    return "each record's own time zone" if tz == "record" else f"time zone {tz}"


def fmt_ratio(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,} ({fmt_pct(part / whole if whole else None)})"


# -- the document -------------------------------------------------------------------------------


def said_no_rate(figures: Any) -> float | None:
    """Reject or request changes, over decisive verdicts: how often humans said no."""
    decisive = figures.decisive
    return (figures.reject + figures.changes) / decisive if decisive else None


def disclosure(
    stats: Stats,
    *,
    repository: str,
    models: Mapping[str, Sequence[str]] | None = None,
    violations: Sequence[Mapping[str, Any]] | None = None,
    weeks: int = 26,
) -> dict[str, Any]:
    """The report as data (what `--format json` prints; md and html render this)."""
    t, flow = stats.totals, stats.flow
    trend = stats.by_week[-weeks:]
    return {
        "report": "reviewq automation disclosure",
        "version": REPORT_VERSION,
        "repository": repository,
        "generated_at": stats.generated_at,
        "since": stats.since,
        "tz": stats.tz,
        "automation": {
            "known": stats.automation_known,
            "commits": flow.commits,
            "ai_commits": flow.ai_commits,
            "commit_share": _r(flow.commit_share),
            "lines": flow.lines,
            "ai_lines": flow.ai_lines,
            "line_share": _r(flow.line_share),
        },
        "families": {
            "authors": [
                {
                    "family": family,
                    "changes": total,
                    "reviewed": reviewed,
                    "models": list((models or {}).get(family, [])),
                    **_family_verdicts(stats, family),
                }
                for family, (total, reviewed) in sorted(
                    stats.coverage_by_family.items(), key=lambda kv: (-kv[1][0], kv[0])
                )
            ],
            "critics": [
                {"family": family, "verdicts": n} for family, n in stats.critic_families.items()
            ],
        },
        "agents": [
            {"agent": agent, "changes": total, "reviewed": reviewed}
            for agent, (total, reviewed) in sorted(
                stats.coverage_by_agent.items(), key=lambda kv: (-kv[1][0], kv[0])
            )
        ],
        "review": {
            "ai_changes": flow.ai_changes,
            "reviewed_changes": flow.reviewed_changes,
            "coverage": _r(flow.coverage),
            "reviewers": len(stats.by_reviewer),
            "verdicts": t.verdicts,
            "approve": t.approve,
            "reject": t.reject,
            "changes": t.changes,
            "escalate": t.escalate,
            "acceptance_rate": _r(t.acceptance_rate),
            "rejection_rate": _r(t.rejection_rate),
            "changes_rate": _r(t.changes_rate),
            "said_no_rate": _r(said_no_rate(t)),
        },
        "review_time": {
            "median_seconds": _r(t.active_median_seconds, 1),
            "p90_seconds": _r(t.active_p90_seconds, 1),
            "lines_per_hour": _r(t.lines_per_hour, 1),
            "histogram": [{"bin": b, "verdicts": n} for b, n in stats.review_time_histogram],
        },
        "critique": {
            "critiqued": t.critiqued,
            "second_family": t.second_family,
            "second_family_rate": _r(t.second_family_rate),
            "same_family_overrides": t.same_family,
            "findings_known": stats.critique_findings_known,
            "severe_findings_verdicts": t.severe,
            "overrides": t.overrides,
            "override_rate": _r(t.override_rate),
        },
        "rubber_stamps": {
            "approvals": t.approve,
            "count": t.rubber_stamps,
            "rate": _r(t.rubber_stamp_rate),
            "reasons": {
                "too_fast": t.too_fast,
                "too_short": t.too_short,
                "hunks_unviewed": t.hunks_unviewed,
                "critique_unopened": t.critique_unopened,
            },
            "thresholds": stats.thresholds.to_json(),
        },
        "queue": stats.queue.to_json(),
        "policy": {
            "configured": violations is not None,
            "violations": [dict(v) for v in violations or ()],
        },
        "weekly": [_week(p) for p in trend],
        "invalid_records": stats.invalid_records,
    }


def _family_verdicts(stats: Stats, family: str) -> dict[str, Any]:
    """Verdicts on the family's changes and how often they were a no (rejection by family)."""
    row = next((r for r in stats.by_family if r.key == family), None)
    if row is None:
        return {"verdicts": 0, "reject": 0, "changes_requested": 0, "rejection_rate": None}
    return {
        "verdicts": row.verdicts,
        "reject": row.reject,
        "changes_requested": row.changes,
        "rejection_rate": _r(row.rejection_rate),
        "said_no_rate": _r(said_no_rate(row)),
    }


def team_disclosure(total: dict[str, Any], parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The report over several repositories: the total (computed from every repository's rows
    at once, never averaged) and each repository's own report, in order."""
    skip = {"report", "version", "generated_at", "since"}
    return {
        **total,
        "repositories": [{k: v for k, v in part.items() if k not in skip} for part in parts],
    }


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _week(p: Period) -> dict[str, Any]:
    v, f = p.verdicts, p.flow
    return {
        "week": p.key,
        "start": p.start,
        "commits": f.commits,
        "ai_commits": f.ai_commits,
        "commit_share": _r(f.commit_share),
        "lines": f.lines,
        "ai_lines": f.ai_lines,
        "line_share": _r(f.line_share),
        "verdicts": v.verdicts,
        "approve": v.approve,
        "reject": v.reject,
        "changes": v.changes,
        "escalate": v.escalate,
        "said_no_rate": _r(said_no_rate(v)),
        "rubber_stamps": v.rubber_stamps,
        "rubber_stamp_rate": _r(v.rubber_stamp_rate),
        "active_median_seconds": _r(v.active_median_seconds, 1),
        "review_coverage": _r(f.coverage),
        "queue_depth_at_end": f.queue_depth_at_end,
    }


# -- JSON -----------------------------------------------------------------------------------------


def render_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


# -- Markdown -------------------------------------------------------------------------------------

#: Characters that start Markdown markup anywhere in a line. Untrusted strings never begin a
#: line here, so line-start markers (#, -, +, 1.) need no escape; `[` and `]` do (no links).
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>|~"})


def md(text: Any) -> str:
    """Untrusted text as literal Markdown: one visible line, markup characters escaped."""
    return one_line(str(text)).translate(_MD_SPECIAL)


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _headline(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(label, value, detail) of the headline figures, shared by Markdown and HTML."""
    a, r, c, s, t, q = (
        doc["automation"],
        doc["review"],
        doc["critique"],
        doc["rubber_stamps"],
        doc["review_time"],
        doc["queue"],
    )
    known = a["known"]
    return [
        (
            "AI-authored commits",
            fmt_pct(a["commit_share"]) if known else "unknown",
            f"{a['ai_commits']:,} of {a['commits']:,} commits" if known else "history not read",
        ),
        (
            "AI-authored lines",
            fmt_pct(a["line_share"]) if known else "unknown",
            f"{a['ai_lines']:,} of {a['lines']:,} changed lines" if known else "history not read",
        ),
        (
            "Humans said no",
            fmt_pct(r["said_no_rate"]),
            f"{r['reject']:,} rejected and {r['changes']:,} sent back for changes, "
            f"of {r['approve'] + r['reject'] + r['changes']:,} decisions",
        ),
        (
            "Review coverage",
            fmt_pct(r["coverage"]),
            f"{r['reviewed_changes']:,} of {r['ai_changes']:,} AI-authored changes have a human verdict",
        ),
        (
            "Second-family critique",
            fmt_pct(c["second_family_rate"]),
            f"{c['second_family']:,} of {r['verdicts']:,} verdicts had a critic of another family",
        ),
        (
            "Possible rubber stamps",
            fmt_pct(s["rate"]),
            f"{s['count']:,} of {s['approvals']:,} approvals",
        ),
        (
            "Median review time",
            fmt_duration(t["median_seconds"]),
            f"p90 {fmt_duration(t['p90_seconds'])}; {fmt_int(t['lines_per_hour'])} lines/hour",
        ),
        (
            "Waiting for a decision",
            f"{q['depth']:,}",
            (f"oldest {fmt_duration(q['oldest_pending_seconds'])}; " if q["depth"] else "")
            + f"median pickup {fmt_duration(q['pickup_median_seconds'])}",
        ),
    ]


class _EachRepository:
    """Rubber-stamp thresholds of a team report whose repositories set different ones."""

    def __format__(self, spec: str) -> str:
        return "its repository's limit of"

    def __getitem__(self, key: str) -> _EachRepository:
        return self


def _thresholds(s: Mapping[str, Any]) -> Any:
    return s["thresholds"] if s["thresholds"] is not None else _EachRepository()


def _repository_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    """One row of headline figures per repository, then the total (Markdown and HTML)."""

    def row(name: str, d: Mapping[str, Any]) -> list[str]:
        a, r, c, s, q = d["automation"], d["review"], d["critique"], d["rubber_stamps"], d["queue"]
        return [
            name,
            fmt_pct(a["commit_share"]) if a["known"] else "unknown",
            fmt_pct(a["line_share"]) if a["known"] else "unknown",
            f"{r['reviewed_changes']:,} of {r['ai_changes']:,} ({fmt_pct(r['coverage'])})",
            f"{r['verdicts']:,}",
            fmt_pct(r["said_no_rate"]),
            fmt_pct(r["rejection_rate"]),
            f"{s['count']:,} ({fmt_pct(s['rate'])})",
            fmt_pct(c["second_family_rate"]),
            fmt_duration(d["review_time"]["median_seconds"]),
            f"{q['depth']:,}",
        ]

    return [row(str(p["repository"]), p) for p in doc["repositories"]] + [row("All", doc)]


_REPOSITORY_HEADERS = (
    "Repository",
    "AI commits",
    "AI lines",
    "Reviewed changes",
    "Verdicts",
    "Said no",
    "Rejected",
    "Rubber stamps",
    "2nd family",
    "Median time",
    "Waiting",
)


def _repositories_md(doc: Mapping[str, Any]) -> list[str]:
    if "repositories" not in doc:
        return []
    rows = _repository_rows(doc)
    rows = [[md(r[0]), *r[1:]] for r in rows[:-1]] + [[f"**{c}**" for c in rows[-1]]]
    return [
        "",
        "## Repositories",
        "",
        "Each repository under its own settings and policy; the last row is computed from all "
        "their rows at once (not an average of the rows above).",
        "",
        *_md_table(list(_REPOSITORY_HEADERS), rows),
    ]


def _input_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    out = []
    for x in doc.get("inputs", {}).get("repositories", ()):
        log = x.get("log") or {}
        out.append(
            [
                str(x.get("repository")),
                str(x.get("path")) + (" (bare)" if x.get("bare") else ""),
                str(x.get("revision") or "none"),
                str(x.get("notes_tip") or "none"),
                f"{log.get('head') or 'empty'} at byte {log.get('size', 0):,}",
                str((x.get("settings") or {}).get("sha256") or "built-in defaults"),
                str(x.get("reviewq_version")),
            ]
        )
    return out


_INPUT_HEADERS = (
    "Repository",
    "Path",
    "Revision scanned",
    "Notes ref tip",
    "Log head",
    "Settings SHA-256",
    "reviewq",
)


def _inputs_md(doc: Mapping[str, Any]) -> list[str]:
    if "inputs" not in doc:
        return []
    rows = [[md(c) for c in row] for row in _input_rows(doc)]
    return [
        "",
        "## Inputs",
        "",
        "Every figure above is computed from exactly these inputs; `reviewq report --check` on "
        "this report's JSON recomputes them and names any figure that differs.",
        "",
        *_md_table(list(_INPUT_HEADERS), rows),
    ]


def _repositories_html(doc: Mapping[str, Any]) -> str:
    if "repositories" not in doc:
        return ""
    rows = _repository_rows(doc)
    body = [[h(c) for c in r] for r in rows[:-1]] + [[f"<b>{h(c)}</b>" for c in rows[-1]]]
    return (
        "<h2>Repositories</h2>\n<p>Each repository under its own settings and policy; the last "
        "row is computed from all their rows at once (not an average of the rows above).</p>\n"
        + _html_table([(t, i > 0) for i, t in enumerate(_REPOSITORY_HEADERS)], body)
    )


def _inputs_html(doc: Mapping[str, Any]) -> str:
    if "inputs" not in doc:
        return ""
    rows = [
        [
            h(c) if i in (0, 1) else f'<code style="word-break:break-all">{h(c)}</code>'
            for i, c in enumerate(row)
        ]
        for row in _input_rows(doc)
    ]
    return (
        '<h2>Inputs</h2>\n<p class="note">Every figure above is computed from exactly these '
        "inputs; <code>reviewq report --check</code> on this report's JSON recomputes them and "
        "names any figure that differs.</p>\n"
        + _html_table([(t, False) for t in _INPUT_HEADERS], rows)
    )


def render_markdown(doc: Mapping[str, Any]) -> str:
    r, c, s, q = (
        doc["review"],
        doc["critique"],
        doc["rubber_stamps"],
        doc["queue"],
    )
    period = f"since {md(doc['since'])}" if doc["since"] else "all recorded history"
    out = [
        f"# Automation disclosure: {md(doc['repository'])}",
        "",
        f"Generated {md(doc['generated_at'])} by reviewq, covering {period} "
        f"(days end in {md(zone_words(doc['tz']))}).",
        "",
        "## Headline",
        "",
    ]
    # Headline values and details are built from numbers and fixed words only.
    out += [f"- **{label}: {value}**, {detail}" for label, value, detail in _headline(doc)]
    out += _repositories_md(doc)
    out += ["", "## Model families in the loop", ""]
    authors = doc["families"]["authors"]
    if authors:
        out += _md_table(
            ["Author family", "AI-authored changes", "Reviewed", "Models named"],
            [
                [
                    md(f["family"]),
                    f"{f['changes']:,}",
                    f"{f['reviewed']:,}",
                    ", ".join(md(m) for m in f["models"]) or "–",
                ]
                for f in authors
            ],
        )
    else:
        out.append("No AI-authored changes found.")
    critics = doc["families"]["critics"]
    out += [
        "",
        "Critic families: "
        + (", ".join(f"{md(x['family'])} ({x['verdicts']:,} verdicts)" for x in critics) or "none")
        + ".",
    ]
    if doc["agents"]:
        out += [
            "",
            "Agents: "
            + ", ".join(f"{md(x['agent'])} ({x['changes']:,})" for x in doc["agents"])
            + ".",
        ]
    out += [
        "",
        "## Human decisions",
        "",
        f"- Verdicts: {r['verdicts']:,} by {count(r['reviewers'], 'reviewer')}: "
        f"{r['approve']:,} approved, "
        f"{r['reject']:,} rejected, {r['changes']:,} changes requested, {r['escalate']:,} escalated.",
        f"- Rejection rate {fmt_pct(r['rejection_rate'])}; changes requested "
        f"{fmt_pct(r['changes_rate'])}; acceptance {fmt_pct(r['acceptance_rate'])}.",
        f"- Pending: {count(q['depth'], 'change')} "
        f"{'waits' if q['depth'] == 1 else 'wait'} for a decision"
        + (f", the oldest for {fmt_duration(q['oldest_pending_seconds'])}" if q["depth"] else "")
        + f"; median pickup {fmt_duration(q['pickup_median_seconds'])}.",
        "",
        "## Review time",
        "",
    ]
    out += _md_table(
        ["Active time", "Verdicts"],
        [[md(h["bin"]), f"{h['verdicts']:,}"] for h in doc["review_time"]["histogram"]],
    )
    th = _thresholds(s)
    reasons = s["reasons"]
    out += [
        "",
        "## Critique and rubber stamps",
        "",
        f"- Second-family critique in front of the reviewer: {c['second_family']:,} of "
        f"{r['verdicts']:,} verdicts ({fmt_pct(c['second_family_rate'])}); "
        f"same-family critiques allowed: {c['same_family_overrides']:,}.",
        "- Overrides (approved although the critic reported error or critical findings): "
        + (
            f"{fmt_ratio(c['overrides'], c['severe_findings_verdicts'])} of decisions on such changes."
            if c["findings_known"]
            else "not known (no critique findings cached)."
        ),
        f"- Possible rubber stamps: {fmt_ratio(s['count'], s['approvals'])} of approvals: "
        f"{reasons['too_fast']:,} faster than {th['max_lines_per_hour']:g} lines/hour, "
        f"{reasons['too_short']:,} under {th['min_active_seconds']:g} s, "
        f"{reasons['hunks_unviewed']:,} with under {th['min_hunks_viewed_share']:.0%} of hunks viewed, "
        f"{reasons['critique_unopened']:,} with the critique never opened.",
        "",
        "## Policy",
        "",
    ]
    summary, rows = _policy_rows(doc)
    out.append(summary)
    if rows:
        headers = ["Change", "Domain", "Falls short on", "Subject"]
        out += ["", *_md_table(headers, [[md(c) for c in row] for row in rows])]
    if doc["weekly"]:
        out += ["", "## By week", ""]
        out += _md_table(
            ["Week", "AI commits", "AI lines", "Verdicts", "Said no", "Rubber stamps", "Coverage"],
            [
                [
                    md(w["week"]),
                    f"{w['ai_commits']:,} of {w['commits']:,}",
                    fmt_pct(w["line_share"]),
                    f"{w['verdicts']:,}",
                    fmt_pct(w["said_no_rate"]),
                    fmt_pct(w["rubber_stamp_rate"]),
                    fmt_pct(w["review_coverage"]),
                ]
                for w in doc["weekly"]
            ],
        )
    out += _inputs_md(doc)
    out += ["", _DEFINITIONS_MD, ""]
    if doc["invalid_records"]:
        out.insert(4, f"> {doc['invalid_records']:,} unreadable verdict records were left out.\n")
    return "\n".join(out)


_DEFINITIONS_MD = (
    "Definitions: AI-authored means the commit carries an agent's marker (trailer, identity, "
    "note). Shares count non-merge commits of the current branch. A possible rubber stamp is an "
    "approval faster than the line rate, shorter than the minimum time, with too few hunks "
    "viewed, or with the critique never opened. Full definitions: docs/metrics.md."
)


# -- HTML -----------------------------------------------------------------------------------------


def h(text: Any) -> str:
    """Untrusted text for HTML: visible characters only, then escaped (quotes included)."""
    return html.escape(one_line(str(text)), quote=True)


_CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#d9dee8; --bg:#ffffff; --panel:#f5f7fb;
        --ai:#6a4cdb; --ai2:#b3a3f0; --human:#9aa4b6; --ok:#2e8b57; --no:#c0392b;
        --warn:#d68910; --esc:#7f8c8d; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 34px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 20px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
@media (max-width: 900px) { .cards { grid-template-columns: repeat(2, 1fr); } }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 28px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card .detail { color: var(--muted); font-size: 12.5px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
@media (max-width: 860px) { .grid2 { grid-template-columns: 1fr; } }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; fill: var(--ink); }
svg .axis { stroke: var(--line); }
svg .muted { fill: var(--muted); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 13px; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
.legend span { display: inline-block; margin-right: 14px; font-size: 13px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.note { color: var(--muted); font-size: 13px; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 36px; color: var(--muted); font-size: 12.5px; }
:root { color-scheme: light dark; }
@media (prefers-color-scheme: dark) {
  :root { --ink:#e4e7ee; --muted:#a2abbd; --line:#363d4b; --bg:#12151b; --panel:#1c212a;
          --ai:#9b85f0; --ai2:#5c4aa8; --human:#6f7889; --ok:#3fa56b; --no:#e0584a;
          --warn:#e3a034; --esc:#98a4a6; }
}
.scroll { overflow-x: auto; }
@media (max-width: 600px) {
  main { padding: 16px 14px 32px; }
  h1 { font-size: 22px; }
  th, td { padding: 5px 6px; }
  td:last-child { overflow-wrap: anywhere; }
  .card .value { font-size: 24px; }
  .mix text { display: none; }
}
"""

#: Marks that tell the verdict kinds apart without colour (print, colour blindness): approved
#: plain, rejected striped across, changes requested striped along, escalated checked; the
#: histogram's fast-review bin striped too. Drawn shapes, not SVG patterns: the page refers to
#: nothing by URL, not even to itself.
_MARKS = {"reject": "v", "changes": "h", "escalate": "vh", "fast": "v"}
_MARK_STYLE = 'fill="#fff" fill-opacity=".55"'
#: The same marks on the legend's swatches (CSS gradients, not images).
_SWATCH = {
    "approve": "var(--ok)",
    "reject": "repeating-linear-gradient(90deg, var(--no) 0 3px, #fff 3px 5px)",
    "changes": "repeating-linear-gradient(0deg, var(--warn) 0 3px, #fff 3px 5px)",
    "escalate": "repeating-linear-gradient(90deg, transparent 0 3px, #fff 3px 5px), "
    "repeating-linear-gradient(0deg, var(--esc) 0 3px, #fff 3px 5px)",
}


def _marks(kind: str, x: float, y: float, w: float, h_: float) -> str:
    """Stripes over a bar of `kind` (see `_MARKS`), inside the bar."""
    how = _MARKS.get(kind, "")
    out = []
    if "v" in how:
        step = 5.0
        at = x + 2.0
        while at + 1.5 <= x + w:
            out.append(
                f'<rect x="{at:.1f}" y="{y:.1f}" width="1.5" height="{h_:.1f}" {_MARK_STYLE}/>'
            )
            at += step
    if "h" in how:
        step = 5.0
        at = y + 2.0
        while at + 1.5 <= y + h_:
            out.append(
                f'<rect x="{x:.1f}" y="{at:.1f}" width="{w:.1f}" height="1.5" {_MARK_STYLE}/>'
            )
            at += step
    return "".join(out)


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{h(label)}">'
    )


def svg_weekly_share(
    weeks: Sequence[Mapping[str, Any]], width: int = 520, height: int = 220
) -> str:
    """Bars: share of commits AI-authored per week; dots and line: share of lines."""
    left, right, top, bottom = 40, 10, 12, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    out = [_svg_open(width, height, "AI-authored share of commits and lines by week")]
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - frac)
        out.append(
            f'<line class="axis" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="muted" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{int(frac * 100)}%</text>'
        )
    n = max(1, len(weeks))
    slot = plot_w / n
    bar = max(2.0, slot * 0.62)
    points = []
    for i, w in enumerate(weeks):
        x = left + slot * i + (slot - bar) / 2
        share = w.get("commit_share")
        title = (
            f"{w['week']}: {w['ai_commits']} of {w['commits']} commits AI-authored "
            f"({fmt_pct(share)}), lines {fmt_pct(w.get('line_share'))}"
        )
        if share is not None:
            bh = plot_h * share
            out.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
                f'fill="var(--ai2)"><title>{h(title)}</title></rect>'
            )
        line_share = w.get("line_share")
        if line_share is not None:
            points.append((left + slot * i + slot / 2, top + plot_h * (1 - line_share), title))
        if n <= 12 or i % math.ceil(n / 8) == 0 or i == n - 1:
            out.append(
                f'<text class="muted" x="{left + slot * i + slot / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{h(str(w["week"])[-3:])}</text>'
            )
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="var(--ai)" stroke-width="2"/>')
    for x, y, title in points:
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="var(--ai)"><title>{h(title)}</title></circle>'
        )
    if len(weeks) > 12:  # the ticks name weeks only; say which years they are in
        out.append(
            f'<text class="muted" x="{left}" y="{height - 6}">{h(weeks[0]["week"])}</text>'
            f'<text class="muted" x="{width - right}" y="{height - 6}" text-anchor="end">'
            f"{h(weeks[-1]['week'])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def svg_histogram(bins: Sequence[Mapping[str, Any]], width: int = 520, height: int = 220) -> str:
    left, right, top, bottom = 40, 10, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([b["verdicts"] for b in bins] + [1])
    out = [_svg_open(width, height, "Distribution of active review time per verdict")]
    out.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    slot = plot_w / max(1, len(bins))
    for i, b in enumerate(bins):
        bh = plot_h * b["verdicts"] / peak
        x = left + slot * i + slot * 0.12
        fast = i == 0
        out.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - bh:.1f}" width="{slot * 0.76:.1f}" height="{bh:.1f}" '
            f'fill="{"var(--warn)" if fast else "var(--ai)"}"><title>{h(b["bin"])}: {b["verdicts"]} verdicts</title></rect>'
        )
        if fast:
            out.append(_marks("fast", x, top + plot_h - bh, slot * 0.76, bh))
        if b["verdicts"]:
            out.append(
                f'<text x="{x + slot * 0.38:.1f}" y="{top + plot_h - bh - 4:.1f}" text-anchor="middle">'
                f"{b['verdicts']:,}</text>"
            )
        out.append(
            f'<text class="muted" x="{x + slot * 0.38:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{h(b["bin"])}</text>'
        )
    out.append("</svg>")
    return "".join(out)


_VERDICT_COLOURS = (
    ("approve", "approved", "var(--ok)"),
    ("reject", "rejected", "var(--no)"),
    ("changes", "changes requested", "var(--warn)"),
    ("escalate", "escalated", "var(--esc)"),
)


def svg_verdict_mix(review: Mapping[str, Any], width: int = 1040, height: int = 34) -> str:
    total = sum(review[k] for k, _, _ in _VERDICT_COLOURS)
    out = [_svg_open(width, height, "Verdicts by kind")]
    if not total:
        out.append(f'<rect x="0" y="4" width="{width}" height="26" rx="4" fill="var(--panel)"/>')
        out.append('<text class="muted" x="10" y="22">no verdicts recorded</text></svg>')
        return "".join(out)
    x = 0.0
    for key, label, colour in _VERDICT_COLOURS:
        w = width * review[key] / total
        if w <= 0:
            continue
        out.append(
            f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="26" fill="{colour}">'
            f"<title>{review[key]:,} {label}</title></rect>"
        )
        out.append(_marks(key, x, 4, w, 26))
        if w > 16 + 7.2 * len(f"{review[key]:,} {label}"):
            out.append(
                f'<text x="{x + 8:.1f}" y="22" style="fill:#fff;paint-order:stroke;'
                f'stroke:rgba(0,0,0,.6);stroke-width:3px">{review[key]:,} {label}</text>'
            )
        x += w
    out.append("</svg>")
    return "".join(out)


def svg_weekly_verdicts(
    weeks: Sequence[Mapping[str, Any]], width: int = 520, height: int = 220
) -> str:
    """Stacked bars of verdicts per week; a marker on weeks with rubber stamps."""
    left, right, top, bottom = 40, 10, 12, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([w["verdicts"] for w in weeks] + [1])
    out = [_svg_open(width, height, "Verdicts per week by kind")]
    out.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
    for tick in sorted({peak, peak // 2} - {0}):
        y = top + plot_h * (1 - tick / peak)
        label = f"{tick:,}"
        out.append(
            f'<line class="axis" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="muted" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>'
        )
    n = max(1, len(weeks))
    slot = plot_w / n
    bar = max(2.0, slot * 0.62)
    for i, w in enumerate(weeks):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for key, label, colour in _VERDICT_COLOURS:
            bh = plot_h * w[key] / peak
            if bh <= 0:
                continue
            y -= bh
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bh:.1f}" fill="{colour}">'
                f"<title>{h(w['week'])}: {w[key]} {label}</title></rect>"
            )
            out.append(_marks(key, x, y, bar, bh))
        if w["rubber_stamps"]:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" style="fill:var(--warn)">'
                f"▲<title>{h(w['week'])}: {w['rubber_stamps']} possible rubber stamps</title></text>"
            )
        if n <= 12 or i % math.ceil(n / 8) == 0 or i == n - 1:
            out.append(
                f'<text class="muted" x="{left + slot * i + slot / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{h(str(w["week"])[-3:])}</text>'
            )
    out.append("</svg>")
    return "".join(out)


#: Policy shortfalls listed one by one in the report; the rest are counted.
POLICY_ROWS = 50


def _policy_rows(doc: Mapping[str, Any]) -> tuple[str, list[list[str]]]:
    """The policy section as one summary line and table rows (shared by Markdown and HTML)."""
    policy = doc["policy"]
    if not policy["configured"]:
        return "policy: not configured", []
    violations = policy["violations"]
    if not violations:
        return "policy: every AI-authored change meets it", []
    rows = [
        [
            str(v.get("sha") or v.get("change") or "–")[:12],
            str(v.get("domain") or "–"),
            str(v.get("rule") or "–"),
            str(v.get("subject") or v.get("message") or ""),
        ]
        for v in violations[:POLICY_ROWS]
    ]
    more = len(violations) - len(rows)
    summary = (
        f"policy: {len(violations):,} AI-authored change{'s' if len(violations) != 1 else ''} "
        "fall short of it now (whole history, as reviewq queue and reviewq gate judge them)"
        + (f"; the first {len(rows)} are listed" if more > 0 else "")
    )
    return summary, rows


def _legend(review: Mapping[str, Any] | None = None) -> str:
    """The verdict kinds with their fills, and their counts when given: the chart can be read
    without telling its colours apart."""
    items = "".join(
        f'<span><i style="background:{_SWATCH[key]}"></i>{label}'
        + (f" {review[key]:,}" if review is not None else "")
        + "</span>"
        for key, label, colour in _VERDICT_COLOURS
    )
    return f'<span class="legend">{items}</span>'


def _html_table(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th{' class=num' if num else ''}>{h(t)}</th>" for t, num in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if headers[i][1] else ''}>{cell}</td>" for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(doc: Mapping[str, Any]) -> str:
    r, c, s, q = doc["review"], doc["critique"], doc["rubber_stamps"], doc["queue"]
    period = f"since {h(doc['since'])}" if doc["since"] else "all recorded history"
    cards = "".join(
        f'<div class="card"><div class="label">{h(label)}</div><div class="value">{h(value)}</div>'
        f'<div class="detail">{h(detail)}</div></div>'
        for label, value, detail in _headline(doc)
    )
    authors = doc["families"]["authors"]
    families = (
        _html_table(
            [
                ("Author family", False),
                ("AI-authored changes", True),
                ("Reviewed", True),
                ("Models named", False),
            ],
            [
                [
                    h(f["family"]),
                    f"{f['changes']:,}",
                    f"{f['reviewed']:,} ({h(fmt_pct(f['reviewed'] / f['changes'] if f['changes'] else None))})",
                    h(", ".join(f["models"]) or "–"),
                ]
                for f in authors
            ],
        )
        if authors
        else '<p class="empty">No AI-authored changes found.</p>'
    )
    critics = (
        ", ".join(f"{h(x['family'])} ({x['verdicts']:,})" for x in doc["families"]["critics"])
        or "none"
    )
    agents = ", ".join(f"{h(x['agent'])} ({x['changes']:,})" for x in doc["agents"]) or "none"
    th = _thresholds(s)
    reasons = s["reasons"]
    summary, rows = _policy_rows(doc)
    policy_html = (
        f'<p class="{"empty" if not doc["policy"]["configured"] else ""}">{h(summary)}</p>'
    )
    if rows:
        policy_html += _html_table(
            [("Change", False), ("Domain", False), ("Falls short on", False), ("Subject", False)],
            [[h(c) for c in row] for row in rows],
        )
    weeks = doc["weekly"]
    trend = (
        f'<div class="grid2"><figure>{svg_weekly_share(weeks)}'
        '<figcaption><span class="legend"><span><i style="background:var(--ai2)"></i>commits</span>'
        '<span><i style="background:var(--ai)"></i>changed lines</span></span>'
        "AI-authored share by week</figcaption></figure>"
        f"<figure>{svg_weekly_verdicts(weeks)}<figcaption>"
        + _legend()
        + "Human verdicts by week; ▲ marks weeks with possible rubber stamps</figcaption></figure></div>"
        if weeks
        else '<p class="empty">No activity in this period.</p>'
    )
    week_rows = _html_table(
        [
            ("Week", False),
            ("AI commits", True),
            ("AI lines", True),
            ("Verdicts", True),
            ("Said no", True),
            ("Rubber stamps", True),
            ("Median time", True),
            ("Coverage", True),
        ],
        [
            [
                h(w["week"]),
                f"{w['ai_commits']:,} / {w['commits']:,}",
                h(fmt_pct(w["line_share"])),
                f"{w['verdicts']:,}",
                h(fmt_pct(w["said_no_rate"])),
                h(fmt_pct(w["rubber_stamp_rate"])),
                h(fmt_duration(w["active_median_seconds"])),
                h(fmt_pct(w["review_coverage"])),
            ]
            for w in reversed(weeks)
        ],
    )
    invalid = (
        f'<p class="note">{doc["invalid_records"]:,} unreadable verdict records were left out.</p>'
        if doc["invalid_records"]
        else ""
    )
    overrides = (
        f"{h(fmt_ratio(c['overrides'], c['severe_findings_verdicts']))} of decisions on changes whose "
        "critique reported error or critical findings were approvals"
        if c["findings_known"]
        else "not known: no critique findings are cached"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reviewq">
<title>Automation disclosure: {h(doc["repository"])}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>Automation disclosure: {h(doc["repository"])}</h1>
<p class="sub">How much of {
        "these repositories'" if "repositories" in doc else "this repository's"
    } change AI agents wrote, and how humans reviewed it.
Generated {h(doc["generated_at"])} by reviewq, covering {period}; days end in {
        h(zone_words(doc["tz"]))
    }.</p>
{invalid}
<section class="cards">{cards}</section>
{_repositories_html(doc)}

<h2>Human decisions</h2>
<figure class="mix">{svg_verdict_mix(r)}<figcaption>{_legend(r)}</figcaption></figure>
<p>{count(r["verdicts"], "verdict")} by {count(r["reviewers"], "reviewer")} on {
        count(r["reviewed_changes"], "AI-authored change")
    }.
Rejected {h(fmt_pct(r["rejection_rate"]))}, changes requested {h(fmt_pct(r["changes_rate"]))},
accepted {h(fmt_pct(r["acceptance_rate"]))} of decisions.
{count(q["depth"], "change")} {"waits" if q["depth"] == 1 else "wait"} for a decision{
        f", the oldest for {h(fmt_duration(q['oldest_pending_seconds']))}" if q["depth"] else ""
    }; median pickup {h(fmt_duration(q["pickup_median_seconds"]))}.</p>

<h2>Trends</h2>
{trend}

<h2>Model families in the loop</h2>
{families}
<p>Critic families: {critics}. Agents: {agents}.</p>

<h2>Review time and rubber stamps</h2>
<div class="grid2">
<figure>{svg_histogram(doc["review_time"]["histogram"])}<figcaption>Active review time per verdict
(idle time excluded; striped amber: under 30 seconds); median
{h(fmt_duration(doc["review_time"]["median_seconds"]))},
p90 {h(fmt_duration(doc["review_time"]["p90_seconds"]))}</figcaption></figure>
<div>
{
        _html_table(
            [("Possible rubber stamp", False), ("Approvals", True)],
            [
                [
                    f"faster than {th['max_lines_per_hour']:g} changed lines per hour",
                    f"{reasons['too_fast']:,}",
                ],
                [
                    f"under {th['min_active_seconds']:g} seconds of active review",
                    f"{reasons['too_short']:,}",
                ],
                [
                    f"under {th['min_hunks_viewed_share']:.0%} of hunks viewed",
                    f"{reasons['hunks_unviewed']:,}",
                ],
                ["critique never opened", f"{reasons['critique_unopened']:,}"],
                ["<b>any of these</b>", f"<b>{s['count']:,} of {s['approvals']:,}</b>"],
            ],
        )
    }
<p class="note">One approval can meet several conditions. Flags, not verdicts: a one-line fix approved
quickly is fine; a pattern is not.</p>
<p>A critic of another model family than the author's was in front of the reviewer for
{c["second_family"]:,} of {r["verdicts"]:,} verdicts ({h(fmt_pct(c["second_family_rate"]))}).
Same-family critiques allowed: {c["same_family_overrides"]:,}. Overrides: {overrides}.</p>
</div>
</div>

<h2>Policy</h2>
{policy_html}

<h2>By week</h2>
{week_rows if weeks else '<p class="empty">No activity in this period.</p>'}

{_inputs_html(doc)}

<footer>{h(_DEFINITIONS_MD)}</footer>
</main>
</body>
</html>
"""


def render(doc: Mapping[str, Any], fmt: str) -> str:
    if fmt == "md":
        return render_markdown(doc)
    if fmt == "json":
        return render_json(doc)
    if fmt == "html":
        return render_html(doc)
    raise ValueError(f"unknown format {fmt!r}")
