"""The queue at scale (slow suite): 10,000 pending items over a 200,000-record log read through
the key index give exactly what a full read gives. Timings are the benchmark's job
(benchmarks/bench_tui_load.py); this checks the answers at that size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewq.context import Context
from reviewq.store.log import ProvenanceLog
from reviewq.tui.services import Services
from reviewq.workflow.recording import load_verdicts, load_verdicts_about, verdict_keys
from reviewq.workflow.scan import scan_history
from tests.load_fixture import NOW, REVIEWER, build

pytestmark = pytest.mark.slow


def test_a_queue_of_ten_thousand_over_a_large_log(tmp_path: Path, monkeypatch) -> None:
    fixture = build(10_000, 2_000, 2_000, 200_000, work=tmp_path)
    for key, value in fixture.git_env.items():
        monkeypatch.setenv(key, value)
    assert not ProvenanceLog(fixture.log_path).verify().failed()
    # The fixture's commits span 300 days; the daily queue shows main's AI commits of the last
    # `[scope] recent` (30 days by default) and leaves the rest to the audit view. Every one is
    # meant to be in this queue.
    (fixture.path / ".reviewq.toml").write_text('[scope]\nrecent = "all"\n', encoding="utf-8")
    ctx = Context.open(fixture.path)
    try:
        services = Services(ctx, now=lambda: NOW)
        items = services.load_queue()
        assert len(items) == 10_000  # the 2,000 approved ones left the queue
        changes = scan_history(ctx).changes
        keys = verdict_keys(ctx, changes)
        expected = [
            r
            for r in load_verdicts(ctx)
            if keys & {r.get("sha"), r.get("patch_id"), r.get("change_id")}
        ]
        assert load_verdicts_about(ctx, changes) == expected
        assert len(expected) == 2_000
        # Again through the warm index, after one more verdict lands at the end.
        count, mine = services.my_progress()
        from datetime import datetime

        own = [
            r
            for r in ProvenanceLog(fixture.log_path).iter_records()
            if r["reviewer"]["email"] == REVIEWER[1]
        ]
        today = [r for r in own if datetime.fromisoformat(r["at"]).date() == NOW.date()]
        assert count == len(today) >= 12
        assert mine == {r["change_id"]: r["verdict"] for r in own}
        assert len(services.load_queue()) == 10_000
    finally:
        ctx.close()
    assert os.path.exists(ctx.state_dir / "verdict-columns.arrays")
