"""One rule for recorded times: an instant carries its offset (core.times.parse_instant), and
every reader of a record's `at` (the log's order, metrics, the gate) agrees about it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reviewq.core.metrics import parse_instants
from reviewq.core.policy import evaluate
from reviewq.core.policy_rules import merge_rules
from reviewq.core.queue import age_seconds
from reviewq.core.times import duration, parse_instant
from reviewq.core.verdict import dedupe_records, record_order

AT = [
    "2026-11-20T09:00:00+01:00",  # the writer's form
    "2026-11-20T08:30:00Z",  # Z is UTC
    "2026-11-20T08:45:00",  # no offset: not an instant
    "2026-11-20",  # a date: not an instant
    "yesterday",
    "",
]


@pytest.mark.parametrize("text", AT)
def test_metrics_and_the_log_reader_agree_on_each_records_time(text: str) -> None:
    epoch, _offset, valid = parse_instants([text])
    when = parse_instant(text)
    order = record_order({"id": "r", "at": text})[0]
    assert bool(valid[0]) is (when is not None)
    if when is None:
        assert order == 0.0
    else:
        assert order == epoch[0] == when.timestamp()


def test_records_are_ordered_the_same_by_metrics_and_by_the_log_reader() -> None:
    records = [{"id": f"r{i}", "at": at} for i, at in enumerate(AT)]
    by_log = [r["id"] for r in dedupe_records(records)]
    epoch, _offset, valid = parse_instants([r["at"] for r in records])
    keyed = [(e if v else 0.0, r["id"]) for e, v, r in zip(epoch, valid, records, strict=True)]
    assert by_log == [rid for _, rid in sorted(keyed)]
    # the naive time sorts with the unparseable ones, not between the two real instants
    assert by_log.index("r2") < by_log.index("r0") < by_log.index("r1")


def test_a_naive_time_is_no_instant_anywhere() -> None:
    # it used to parse in the queue (then compared with aware times) and in the log's order
    from reviewq.core.queue import parse_time

    assert parse_instant("2026-11-20T08:45:00") is None
    assert parse_time("2026-11-20T08:45:00") is None
    assert parse_instant("2026-11-20T08:45:00+00:00") == datetime(2026, 11, 20, 8, 45, tzinfo=UTC)


def test_the_gate_does_not_count_an_approval_without_an_offset_as_metrics_do() -> None:
    from tests.test_policy_invariants import ANA, NOW, approval, change

    good = approval(ANA)
    naive = dict(good, at=parse_instant(good["at"]).replace(tzinfo=None).isoformat())
    assert evaluate(change(), merge_rules([]), [good], now=NOW).passed
    result = evaluate(change(), merge_rules([]), [naive], now=NOW)
    assert not result.passed
    assert "bad-time" in {n.code for n in result.needs}
    assert not parse_instants([naive["at"]])[2][0]


@pytest.mark.parametrize(
    ("seconds", "words", "clock"),
    [
        (0, "0s", "0:00"),
        (4, "4s", "0:04"),
        (13.205, "13s", "0:13"),
        (130, "2m 10s", "2:10"),
        (3723, "1h 02m", "1:02:03"),
        (3 * 86400 + 4 * 3600, "3d 4h", "76:00:00"),
        (None, "–", "–"),
        (float("nan"), "–", "–"),
    ],
)
def test_one_duration_formatter(seconds, words: str, clock: str) -> None:
    assert duration(seconds) == words
    assert duration(seconds, "clock") == clock


def test_queue_age_needs_an_offset() -> None:
    from tests.test_policy_invariants import change

    c = change()
    assert age_seconds(c, datetime(2030, 1, 1, tzinfo=UTC)) > 0


def test_one_short_id_for_commits_and_inbox_patches() -> None:
    from reviewq.core.model import short_id

    sha = "3f2a9c10e4b1" + "0" * 28
    assert short_id(sha) == "3f2a9c10e4b1"
    assert short_id(sha, narrow=True) == "3f2a9c10e4"
    assert short_id("inbox:9d8e7f6a5b4c3d2e") == "inbox:9d8e7f6a5b4c"
    assert short_id("inbox:9d8e7f6a5b4c3d2e", narrow=True) == "inbox:9d8e7f6a"
