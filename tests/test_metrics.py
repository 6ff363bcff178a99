"""Every metric of docs/metrics.md on small fixtures whose figures were worked out by hand."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from reviewq.core.metrics import (
    AuthoredChange,
    CommitSize,
    Thresholds,
    VerdictTable,
    compute_stats,
    parse_instants,
    quantile_sorted,
)
from reviewq.core.model import Identity
from reviewq.core.verdict import CritiqueState
from tests.metrics_support import ANN, BOB, RULES_OPENED, RULES_UNOPENED, record

CET = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CET)


def change(n: int, at: str, family: str = "anthropic", agent: str = "claude-code"):
    return AuthoredChange(f"{n:040x}", at, family, agent)


# -- no verdicts -----------------------------------------------------------------------------------


def test_no_verdicts_gives_zero_counts_and_unknown_rates():
    stats = compute_stats([], now=NOW)
    t = stats.totals
    assert (t.verdicts, t.approve, t.rubber_stamps) == (0, 0, 0)
    assert t.acceptance_rate is None and t.rubber_stamp_rate is None
    assert t.active_median_seconds is None and t.lines_per_hour is None
    assert stats.by_reviewer == [] and stats.by_week == [] and stats.by_day == []
    assert stats.queue.depth == 0 and stats.queue.pickup_median_seconds is None
    assert stats.automation_known is False
    doc = stats.to_json()
    json.dumps(doc)  # serialisable, nulls not NaN
    assert doc["totals"]["acceptance_rate"] is None


def test_no_verdicts_with_changes_everything_is_pending():
    changes = [change(1, "2026-11-18T10:00:00+01:00"), change(2, "2026-11-19T10:00:00+01:00")]
    stats = compute_stats([], now=NOW, changes=changes)
    assert stats.queue.depth == 2
    assert stats.queue.oldest_pending_id == changes[0].id
    assert stats.queue.oldest_pending_seconds == 2 * 86400 + 7200
    assert (stats.flow.ai_changes, stats.flow.reviewed_changes, stats.flow.coverage) == (2, 0, 0.0)


# -- verdict counts, rates, time -------------------------------------------------------------------


def test_counts_and_rates_over_decisive_verdicts():
    verdicts = ["approve"] * 4 + ["reject"] + ["changes"] * 2 + ["escalate"]
    records = [record(i, v, f"2026-11-19T10:0{i}:00+01:00") for i, v in enumerate(verdicts)]
    t = compute_stats(records, now=NOW).totals
    assert (t.approve, t.reject, t.changes, t.escalate, t.verdicts) == (4, 1, 2, 1, 8)
    # escalate is not a decision: the denominator is 7
    assert t.acceptance_rate == pytest.approx(4 / 7)
    assert t.rejection_rate == pytest.approx(1 / 7)
    assert t.changes_rate == pytest.approx(2 / 7)


def test_median_and_p90_interpolate_between_ranks():
    assert quantile_sorted([10, 20, 30, 40], 0.5) == 25
    assert quantile_sorted([10, 20, 30, 40], 0.9) == pytest.approx(37)  # 30 + 0.7 * 10
    assert quantile_sorted([42], 0.9) == 42
    assert quantile_sorted([], 0.5) is None
    records = [
        record(i, "reject", "2026-11-19T10:00:00+01:00", active=a)
        for i, a in enumerate([40, 10, 30, 20])
    ]
    t = compute_stats(records, now=NOW).totals
    assert t.active_median_seconds == 25
    assert t.active_p90_seconds == pytest.approx(37)


def test_review_rate_is_total_lines_over_total_active_hours():
    records = [
        record(1, "reject", "2026-11-19T10:00:00+01:00", lines=100, active=1800),
        record(2, "reject", "2026-11-19T11:00:00+01:00", lines=200, active=1800),
        # no active time: not part of the rate (it would make it infinite)
        record(3, "reject", "2026-11-19T12:00:00+01:00", lines=999, active=0),
    ]
    t = compute_stats(records, now=NOW).totals
    assert t.lines_per_hour == pytest.approx(300.0)  # 300 lines in one hour
    assert t.lines_reviewed == 1299


# -- rubber stamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"lines": 501, "active": 3600}, "too_fast"),  # 501 lines/hour
        ({"lines": 1, "active": 29.9}, "too_short"),
        ({"hunks": (10, 4)}, "hunks_unviewed"),  # 40 % viewed
        ({"critique": RULES_UNOPENED}, "critique_unopened"),
    ],
)
def test_each_rubber_stamp_reason(kwargs, reason):
    base = {"lines": 10, "active": 600, "hunks": (2, 2), "critique": RULES_OPENED}
    base.update(kwargs)
    t = compute_stats([record(1, "approve", "2026-11-19T10:00:00+01:00", **base)], now=NOW).totals
    assert t.rubber_stamps == 1 and t.rubber_stamp_rate == 1.0
    reasons = {
        r: getattr(t, r) for r in ("too_fast", "too_short", "hunks_unviewed", "critique_unopened")
    }
    assert reasons == {r: int(r == reason) for r in reasons}


def test_rubber_stamp_boundaries_are_not_stamps():
    at = "2026-11-19T10:00:00+01:00"
    records = [
        record(1, "approve", at, lines=500, active=3600),  # exactly 500 lines/hour
        record(2, "approve", at, lines=1, active=30),  # exactly the minimum
        record(3, "approve", at, hunks=(10, 5)),  # exactly half viewed
        record(4, "approve", at, critique=None),  # no critique is not "never opened"
        record(5, "approve", at, hunks=(0, 0)),  # nothing to view (binary-only change)
    ]
    t = compute_stats(records, now=NOW).totals
    assert t.rubber_stamps == 0 and t.rubber_stamp_rate == 0.0


def test_only_approvals_can_be_rubber_stamps_and_thresholds_are_settings():
    at = "2026-11-19T10:00:00+01:00"
    records = [
        record(1, "reject", at, lines=5000, active=1),
        record(2, "approve", at, lines=100, active=600),  # 600 lines/hour
    ]
    t = compute_stats(records, now=NOW).totals
    assert (t.rubber_stamps, t.approve, t.rubber_stamp_rate) == (1, 1, 1.0)
    lenient = compute_stats(records, now=NOW, thresholds=Thresholds(max_lines_per_hour=1000))
    assert lenient.totals.rubber_stamps == 0


def test_a_zero_second_approval_of_a_change_is_too_fast_and_too_short():
    t = compute_stats(
        [record(1, "approve", "2026-11-19T10:00:00+01:00", lines=3, active=0)], now=NOW
    ).totals
    assert (t.too_fast, t.too_short, t.rubber_stamps) == (1, 1, 1)


# -- grouping ----------------------------------------------------------------------------------------


def test_one_reviewer_is_one_email_whatever_the_name_or_case():
    records = [
        record(1, "approve", "2026-11-19T10:00:00+01:00", reviewer=ANN),
        record(
            2, "reject", "2026-11-19T11:00:00+01:00", reviewer=Identity("ann", "ANN@Example.com")
        ),
    ]
    stats = compute_stats(records, now=NOW)
    assert len(stats.by_reviewer) == 1
    row = stats.by_reviewer[0]
    assert (row.key, row.label, row.verdicts) == ("ann@example.com", "Ann Reviewer", 2)
    assert row.acceptance_rate == 0.5


def test_groups_by_reviewer_agent_family_and_domain_most_verdicts_first():
    at = "2026-11-19T10:00:00+01:00"
    records = [
        record(1, "approve", at, reviewer=BOB, family="openai", agent="codex", domain="auth"),
        record(2, "approve", at, reviewer=ANN),
        record(3, "reject", at, reviewer=ANN),
    ]
    stats = compute_stats(records, now=NOW)
    assert [(r.key, r.verdicts) for r in stats.by_reviewer] == [
        ("ann@example.com", 2),
        ("bob@example.com", 1),
    ]
    assert [(r.key, r.verdicts) for r in stats.by_agent] == [("claude-code", 2), ("codex", 1)]
    assert [(r.key, r.verdicts) for r in stats.by_family] == [("anthropic", 2), ("openai", 1)]
    assert [(r.key, r.verdicts) for r in stats.by_domain] == [("default", 2), ("auth", 1)]


def test_record_without_agent_takes_the_scans_agent():
    rec = record(7, "approve", "2026-11-19T10:00:00+01:00", agent=None)
    stats = compute_stats(
        [rec], now=NOW, changes=[change(7, "2026-11-19T09:00:00+01:00", agent="aider")]
    )
    assert [r.key for r in stats.by_agent] == ["aider"]
    assert [r.key for r in compute_stats([rec], now=NOW).by_agent] == ["unknown"]


# -- order, time zones, midnight ------------------------------------------------------------------


def test_records_out_of_order_give_the_same_figures():
    changes = [change(i, f"2026-11-1{i}T09:00:00+01:00") for i in range(1, 6)]
    records = [
        record(
            i, v, f"2026-11-1{c}T{10 + i:02d}:00:00+01:00", change=changes[c - 1].id, active=30 * i
        )
        for i, (v, c) in enumerate(
            [("changes", 1), ("approve", 1), ("reject", 2), ("approve", 3), ("escalate", 4)]
        )
    ]
    ordered = compute_stats(records, now=NOW, changes=changes).to_json()
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    assert shuffled != records
    assert compute_stats(shuffled, now=NOW, changes=changes).to_json() == ordered
    # the first verdict of change 1 is the earlier `changes`, 1 hour after its commit
    assert ordered["by_day"][0]["pickups"] == 1


def test_days_are_the_reviewers_own_unless_a_zone_is_chosen():
    # Sunday 23:30 in New York is Monday 04:30 UTC: another day and another ISO week.
    rec = record(1, "approve", "2026-11-22T23:30:00-05:00")
    own = compute_stats([rec], now=NOW)
    assert [p.key for p in own.by_day] == ["2026-11-22"]
    assert [(p.key, p.start) for p in own.by_week] == [("2026-W47", "2026-11-16")]
    utc = compute_stats([rec], now=NOW, tz=UTC)
    assert [p.key for p in utc.by_day] == ["2026-11-23"]
    assert [(p.key, p.start) for p in utc.by_week] == [("2026-W48", "2026-11-23")]
    assert utc.tz == "UTC" and own.tz == "record"


def test_named_zone_follows_daylight_saving():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    # 22:30 UTC is 23:30 in Berlin in winter (+1) but 00:30 the next day in summer (+2).
    winter = record(1, "approve", "2026-01-15T22:30:00+00:00")
    summer = record(2, "approve", "2026-07-15T22:30:00+00:00")
    days = [
        p.key
        for p in compute_stats([winter, summer], now=NOW, tz=berlin).by_day
        if p.verdicts.verdicts
    ]
    assert days == ["2026-01-15", "2026-07-16"]


def test_a_review_across_midnight_belongs_to_the_day_of_its_verdict():
    # Started 23:40 on the 18th, 40 minutes of work, verdict at 00:20 on the 19th.
    rec = record(1, "approve", "2026-11-19T00:20:00+01:00", active=2400, lines=100)
    stats = compute_stats([rec], now=NOW)
    assert [(p.key, p.verdicts.verdicts) for p in stats.by_day] == [("2026-11-19", 1)]


def test_periods_are_contiguous_so_quiet_days_show():
    records = [
        record(1, "approve", "2026-11-16T10:00:00+01:00"),
        record(2, "approve", "2026-11-19T10:00:00+01:00"),
    ]
    days = compute_stats(records, now=NOW).by_day
    assert [(p.key, p.verdicts.verdicts) for p in days] == [
        ("2026-11-16", 1),
        ("2026-11-17", 0),
        ("2026-11-18", 0),
        ("2026-11-19", 1),
    ]


# -- queue, pickup, coverage -------------------------------------------------------------------------


def test_queue_pickup_and_coverage():
    changes = [
        change(1, "2026-11-17T10:00:00+01:00"),  # approved after 2 h
        change(2, "2026-11-17T12:00:00+01:00"),  # changes requested after 6 h: settled
        change(3, "2026-11-18T09:00:00+01:00"),  # escalated after 10 h: still waiting
        change(4, "2026-11-19T08:00:00+01:00", family="openai", agent="codex"),  # untouched
    ]
    records = [
        record(1, "approve", "2026-11-17T12:00:00+01:00", change=changes[0].id),
        record(2, "changes", "2026-11-17T18:00:00+01:00", change=changes[1].id),
        record(3, "escalate", "2026-11-18T19:00:00+01:00", change=changes[2].id),
        record(4, "approve", "2026-11-18T20:00:00+01:00", change="f" * 40),  # not in the scan
    ]
    stats = compute_stats(records, now=NOW, changes=changes)
    q = stats.queue
    assert q.depth == 2
    assert q.oldest_pending_id == changes[2].id
    assert q.oldest_pending_seconds == pytest.approx(
        (NOW - datetime(2026, 11, 18, 9, tzinfo=CET)).total_seconds()
    )
    assert q.pickups == 3
    assert q.pickup_median_seconds == 6 * 3600  # of 2 h, 6 h, 10 h
    assert q.pickup_p90_seconds == pytest.approx(9.2 * 3600)
    assert (stats.flow.ai_changes, stats.flow.reviewed_changes) == (4, 3)
    assert stats.coverage_by_family == {"anthropic": (3, 3), "openai": (1, 0)}
    assert stats.coverage_by_agent == {"claude-code": (3, 3), "codex": (1, 0)}
    # backlog at the end of each day (CET): 17th: change 1 and 2 settled -> 0; 18th: change 3
    # waits -> 1; 19th (running, counted at now): changes 3 and 4 -> 2
    assert [(p.key, p.flow.queue_depth_at_end) for p in stats.by_day] == [
        ("2026-11-17", 0),
        ("2026-11-18", 1),
        ("2026-11-19", 2),
    ]
    assert [(p.key, p.flow.pickups) for p in stats.by_day] == [
        ("2026-11-17", 2),
        ("2026-11-18", 1),
        ("2026-11-19", 0),
    ]


def test_a_verdict_recorded_before_the_commit_time_counts_as_zero_pickup():
    ch = change(1, "2026-11-18T10:00:00+01:00")
    rec = record(
        1, "approve", "2026-11-18T09:00:00+01:00", change=ch.id
    )  # inbox patch, amended later
    assert compute_stats([rec], now=NOW, changes=[ch]).queue.pickup_median_seconds == 0


# -- critique ----------------------------------------------------------------------------------------


def test_second_family_critique_and_same_family_overrides():
    at = "2026-11-19T10:00:00+01:00"
    openai_critic = CritiqueState("openai", "openai", "gpt-5", True)
    anthropic_critic = CritiqueState(
        "anthropic", "anthropic", "claude", True, same_family_allowed=True
    )
    records = [
        record(1, "approve", at, critique=RULES_OPENED),  # rules vs anthropic: second family
        record(2, "approve", at, critique=openai_critic),  # openai vs anthropic: second family
        record(3, "approve", at, critique=anthropic_critic),  # same family, allowed on purpose
        record(4, "approve", at, critique=None),  # no critique
        record(5, "approve", at, critique=openai_critic, family="unknown"),  # cannot be proved
        record(6, "approve", at, critique=RULES_OPENED, family="unknown"),  # rules never match
    ]
    t = compute_stats(records, now=NOW).totals
    assert (t.critiqued, t.second_family, t.same_family) == (5, 3, 1)
    assert t.second_family_rate == pytest.approx(3 / 6)
    stats = compute_stats(records, now=NOW)
    assert stats.critic_families == {"rules": 2, "openai": 2, "anthropic": 1}


def test_override_rate_needs_critique_findings():
    at = "2026-11-19T10:00:00+01:00"
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    records = [
        record(1, "approve", at, change=a),  # approved over a critical finding: override
        record(2, "reject", at, change=b),  # rejected an error: the critic was heeded
        record(3, "approve", at, change=b),  # ... then approved: override
        record(4, "approve", at, change=c),  # only a warning: not severe
        record(5, "escalate", at, change=a),  # not a decision
    ]
    severity = {a: "critical", b: "error", c: "warning"}
    stats = compute_stats(records, now=NOW, severity=severity)
    t = stats.totals
    assert (t.overrides, t.severe, t.override_rate) == (2, 3, pytest.approx(2 / 3))
    assert stats.critique_findings_known is True
    unknown = compute_stats(records, now=NOW)
    assert unknown.totals.override_rate is None and unknown.critique_findings_known is False


# -- automation share ---------------------------------------------------------------------------------


def test_automation_share_of_commits_and_lines_by_week():
    changes = [change(1, "2026-11-10T10:00:00+01:00"), change(3, "2026-11-17T10:00:00+01:00")]
    commits = [
        CommitSize(changes[0].id, "2026-11-10T10:00:00+01:00", 30),
        CommitSize(f"{2:040x}", "2026-11-11T10:00:00+01:00", 70),
        CommitSize(changes[1].id, "2026-11-17T10:00:00+01:00", 90),
        CommitSize(f"{4:040x}", "2026-11-18T10:00:00+01:00", 10),
    ]
    stats = compute_stats([], now=NOW, changes=changes, commits=commits)
    f = stats.flow
    assert (f.commits, f.ai_commits, f.lines, f.ai_lines) == (4, 2, 200, 120)
    assert (f.commit_share, f.line_share) == (0.5, 0.6)
    assert [(p.key, p.flow.commit_share, p.flow.line_share) for p in stats.by_week] == [
        ("2026-W46", 0.5, 0.3),
        ("2026-W47", 0.5, 0.9),
    ]
    assert stats.automation_known is True


def test_since_limits_verdicts_commits_and_changes_but_not_the_queue():
    changes = [change(1, "2026-11-01T10:00:00+01:00"), change(2, "2026-11-18T10:00:00+01:00")]
    records = [
        record(1, "approve", "2026-11-02T10:00:00+01:00", change=changes[0].id),
        record(2, "reject", "2026-11-18T11:00:00+01:00", change=changes[1].id),
    ]
    commits = [CommitSize(c.id, c.committed_at, 10) for c in changes]
    since = datetime(2026, 11, 15, tzinfo=CET)
    stats = compute_stats(records, now=NOW, changes=changes, commits=commits, since=since)
    assert (stats.totals.verdicts, stats.totals.reject) == (1, 1)
    assert (stats.flow.commits, stats.flow.ai_changes, stats.queue.pickups) == (1, 1, 1)
    assert stats.queue.depth == 0
    assert stats.since == "2026-11-15T00:00:00+01:00"


# -- robustness ----------------------------------------------------------------------------------------


def test_unreadable_records_are_left_out_and_counted():
    good = record(1, "approve", "2026-11-19T10:00:00+01:00")
    broken = [
        {**good, "verdict": "lgtm"},
        {**good, "at": "yesterday"},
        {**good, "at": "2026-11-19T10:00:00"},  # no offset: not an instant
        {**good, "at": "2026-02-30T10:00:00+01:00"},
        {**good, "active_seconds": -5},
        {**good, "lines_changed": None},
        {**good, "reviewer": ["not", "a", "dict"], "verdict": ["x"]},
        "not a record",
    ]
    stats = compute_stats([good, *broken], now=NOW)
    assert stats.records == 1 and stats.invalid_records == len(broken)


def test_times_in_any_rfc3339_shape_parse_like_fromisoformat():
    rnd = random.Random(11)
    texts = []
    for _ in range(400):
        offset = timezone(timedelta(minutes=rnd.randrange(-14 * 60, 14 * 60 + 1, 15)))
        when = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=rnd.randrange(0, 10**8))
        local = when.astimezone(offset).replace(microsecond=rnd.randrange(0, 10**6))
        spec = rnd.choice(["seconds", "milliseconds", "microseconds"])
        text = local.isoformat(timespec=spec)
        if rnd.random() < 0.2:
            text = when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        texts.append(text)
    texts += ["2024-02-29T12:00:00+00:00", "2023-02-29T12:00:00+00:00", "2026-11-20 12:00:00+01:00"]
    epoch, offset, valid = parse_instants(texts)
    for i, text in enumerate(texts):
        try:
            expected = datetime.fromisoformat(text)
        except ValueError:
            assert not valid[i], text
            continue
        assert valid[i], text
        assert epoch[i] == pytest.approx(expected.timestamp(), abs=1e-6), text
        assert offset[i] == expected.utcoffset().total_seconds(), text


def test_table_can_be_computed_once_and_reused():
    records = [record(i, "approve", f"2026-11-1{i}T10:00:00+01:00") for i in range(1, 5)]
    table = VerdictTable.from_records(records)
    assert len(table) == 4
    a = compute_stats(table, now=NOW).to_json()
    assert a == compute_stats(records, now=NOW).to_json()
    recent = compute_stats(table, now=NOW, since=datetime(2026, 11, 13, tzinfo=CET))
    assert recent.totals.verdicts == 2


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="time zone"):
        compute_stats([], now=datetime(2026, 11, 20))


def test_the_latest_verdict_decides_like_the_queue():
    """Same rule as `core.verdict.SettledIndex`: an escalation after an approval reopens."""
    ch = change(1, "2026-11-16T10:00:00+01:00")
    records = [
        record(1, "approve", "2026-11-16T12:00:00+01:00", change=ch.id),
        record(2, "escalate", "2026-11-17T12:00:00+01:00", change=ch.id),
    ]
    stats = compute_stats(records, now=NOW, changes=[ch])
    assert stats.queue.depth == 1 and stats.queue.oldest_pending_id == ch.id
    assert stats.queue.pickups == 1 and stats.queue.pickup_median_seconds == 7200
    assert [(p.key, p.flow.queue_depth_at_end) for p in stats.by_day] == [
        ("2026-11-16", 0),
        ("2026-11-17", 1),
    ]
    later = [*records, record(3, "approve", "2026-11-19T09:00:00+01:00", change=ch.id)]
    stats = compute_stats(later, now=NOW, changes=[ch])
    assert stats.queue.depth == 0
    assert [p.flow.queue_depth_at_end for p in stats.by_day] == [0, 1, 1, 0]
    # a verdict dated after `now` (a clock ahead) does not count yet
    future = [record(1, "approve", "2026-11-21T09:00:00+01:00", change=ch.id)]
    assert compute_stats(future, now=NOW, changes=[ch]).queue.depth == 1
