"""`stats`' summary under a moving notes ref: whatever reaches the team's notes and the local
log between two runs (one's own verdicts, noted too; teammates' verdicts only in the notes;
those arriving in the log; the notes forced back to an earlier tip), the summary's way gives
the plain path's figures. Slow (a repository and several `stats` runs an example): the
deterministic cases are in test_stats_after_append.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.context import Context
from reviewq.core.verdict import seal
from reviewq.store.log import ProvenanceLog
from reviewq.store.notes_log import add_records
from tests.conftest import run_reviewq
from tests.metrics_support import record_demo_verdicts
from tests.test_stats_after_append import _notes_tip, _plain, _stats, _without_inbox

pytestmark = pytest.mark.slow

step = st.sampled_from(["own", "teammate", "arrive", "rewind", "stats"])


def _note(repo: Path, records: list[dict]) -> None:
    ctx = Context.open(repo)
    try:
        add_records(ctx.git, records, ctx.state_dir / "notes.lock")
    finally:
        ctx.close()


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(step, min_size=1, max_size=6), st.integers(0, 3))
def test_the_summary_under_moving_notes_gives_the_plain_figures(
    demo_template: Path, tmp_path_factory, steps: list[str], pick: int
) -> None:
    repo = tmp_path_factory.mktemp("moves") / "orders"
    shutil.copytree(demo_template, repo, symlinks=True)
    local = record_demo_verdicts(_without_inbox(repo))
    log = ProvenanceLog(repo / ".git" / "reviewq" / "log.jsonl")
    body = {k: v for k, v in local[0].items() if k not in ("prev", "hash", "signature")}
    theirs: list[dict] = []
    tips: list[str] = []
    _stats(run_reviewq, repo)  # the summary
    for n, what in enumerate(steps):
        if what == "own":  # as `reviewq verdict`: the log, then the notes
            mine = log.append({**body, "id": f"own-{n}", "verdict": "reject"})
            _note(repo, [mine])
        elif what == "teammate":  # on the change of one of the local records: its note
            on = local[(n + pick) % len(local)]
            about = {k: on[k] for k in ("sha", "change_id", "patch_id") if k in on}
            theirs.append(
                seal({**body, **about, "id": f"teammate-{n}", "verdict": "changes"}, "0" * 64)
            )
            _note(repo, [theirs[-1]])
        elif what == "arrive" and theirs:  # pulled into the local log (same id)
            log.append({k: v for k, v in theirs[pick % len(theirs)].items() if k != "prev"})
        elif what == "rewind" and tips:  # the notes forced back to an earlier tip
            tip = tips[pick % len(tips)]
            subprocess.run(["git", "update-ref", "refs/notes/reviewq", tip], cwd=repo, check=True)
        elif what == "stats":
            assert _stats(run_reviewq, repo) == _plain(run_reviewq, repo)
        if (tip := _notes_tip(repo)) and tip not in tips:
            tips.append(tip)
    assert _stats(run_reviewq, repo) == _plain(run_reviewq, repo)
