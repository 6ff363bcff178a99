"""The disclosure report as one self-contained HTML page (`reviewq report --format html`).

It renders `core.report.disclosure`'s dict, as the Markdown does. Inline CSS and SVG, no script,
no URL (not even to itself): opening the file contacts nobody. Every untrusted string goes
through `h`. Charts tell their series apart by marks as well as colour, and keep their text
readable on a phone (the SVG scales down with the page, so its font sizes are set for that).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from reviewq.core.report import (
    _DEFINITIONS_MD,
    _INPUT_HEADERS,
    _REPOSITORY_HEADERS,
    _headline,
    _input_rows,
    _policy_rows,
    _repository_rows,
    _thresholds,
    count,
    fmt_pct,
    fmt_ratio,
    render_json,
    render_markdown,
    zone_words,
)
from reviewq.core.text import one_line
from reviewq.core.times import duration


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
.legend i.line { width: 14px; height: 3px; border-radius: 2px; vertical-align: 3px; }
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
  /* the 520-unit charts draw at ~360 px here (x0.7): 16 units is ~11 px on the screen */
  figure svg text { font-size: 16px; }
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
    left, right, top, bottom = 48, 10, 12, 42
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
    # no y-axis labels (each bar carries its count): the bins' labels get the width, and
    # take two rows when they would touch at a phone's font size (16 units, see _CSS)
    left, right = 8, 8
    slot = (width - left - right) / max(1, len(bins))
    stagger = max((len(str(b["bin"])) for b in bins), default=0) * 16 * 0.68 > slot - 4
    top, bottom = 20, 52 if stagger else 36
    plot_h = height - top - bottom
    peak = max([b["verdicts"] for b in bins] + [1])
    out = [_svg_open(width, height, "Distribution of active review time per verdict")]
    out.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>'
    )
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
        row = 16 if stagger and i % 2 else 0
        out.append(
            f'<text class="muted" x="{x + slot * 0.38:.1f}" y="{height - bottom + 16 + row}" '
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
    left, right, top, bottom = 48, 10, 22, 42
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
        '<span><i class="line" style="background:var(--ai)"></i>changed lines</span></span>'
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
                h(duration(w["active_median_seconds"])),
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
        f", the oldest for {h(duration(q['oldest_pending_seconds']))}" if q["depth"] else ""
    }; median pickup {h(duration(q["pickup_median_seconds"]))}.</p>

<h2>Trends</h2>
{trend}

<h2>Model families in the loop</h2>
{families}
<p>Critic families: {critics}. Agents: {agents}.</p>

<h2>Review time and rubber stamps</h2>
<div class="grid2">
<figure>{svg_histogram(doc["review_time"]["histogram"])}<figcaption>Active review time per verdict
(idle time excluded; striped amber: under 30 seconds); median
{h(duration(doc["review_time"]["median_seconds"]))},
p90 {h(duration(doc["review_time"]["p90_seconds"]))}</figcaption></figure>
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
    """The report in one of `core.report.FORMATS` (the Markdown and JSON live in core.report)."""
    if fmt == "md":
        return render_markdown(doc)
    if fmt == "json":
        return render_json(doc)
    if fmt == "html":
        return render_html(doc)
    raise ValueError(f"unknown format {fmt!r}")
