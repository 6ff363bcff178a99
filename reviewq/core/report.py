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

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reviewq.core.metrics import Period, Stats
from reviewq.core.text import one_line
from reviewq.core.times import duration

REPORT_VERSION = 1
FORMATS = ("md", "json", "html")
#: Policy shortfalls listed one by one in the report; the rest are counted.
POLICY_ROWS = 50


# -- formatting shared by stats, the screen and the report --------------------------------------


def count(n: int, word: str) -> str:
    """`1 reviewer`, `4 reviewers`: a number with its noun agreeing."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def fmt_pct(rate: float | None, digits: int = 1) -> str:
    return "–" if rate is None else f"{rate * 100:.{digits}f}%"


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
            duration(t["median_seconds"]),
            f"p90 {duration(t['p90_seconds'])}; {fmt_int(t['lines_per_hour'])} lines/hour",
        ),
        (
            "Waiting for a decision",
            f"{q['depth']:,}",
            (f"oldest {duration(q['oldest_pending_seconds'])}; " if q["depth"] else "")
            + f"median pickup {duration(q['pickup_median_seconds'])}",
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
            duration(d["review_time"]["median_seconds"]),
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
        + (f", the oldest for {duration(q['oldest_pending_seconds'])}" if q["depth"] else "")
        + f"; median pickup {duration(q['pickup_median_seconds'])}.",
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
