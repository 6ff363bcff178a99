"""The queue read through the log's cached key index (only the arrays each reader needs) is the
queue read from the whole log: same items, order, domains, needs and counts, after appends."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewq.context import Context
from reviewq.core.identity import Identity
from reviewq.store.log import ProvenanceLog
from reviewq.store.verdict_columns import CACHE_NAME
from reviewq.tui.services import Services
from tests.load_fixture import NOW, REVIEWER, build
from tests.verdict_kit import make_record


def _snapshot(repo: Path, *, plain: bool, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        if plain:  # no column cache: every reader parses the whole log
            patch.setattr(Context, "log_cache", lambda self, name: None)
        ctx = Context.open(repo)
        try:
            services = Services(ctx, now=lambda: NOW)
            items = services.load_queue()
            rows = [(i.change.id, i.domain, i.needs, i.risk.to_json()) for i in items]
            return rows, services.my_progress()
        finally:
            ctx.close()


def test_the_queue_through_the_key_index_equals_the_plain_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = build(300, 60, 20, 3_000, work=tmp_path)
    for key, value in fixture.git_env.items():
        monkeypatch.setenv(key, value)
    (fixture.path / ".reviewq.toml").write_text('[scope]\nrecent = "all"\n')
    first, _ = _snapshot(fixture.path, plain=False, monkeypatch=monkeypatch)  # builds the cache
    assert len(first) >= 300
    cache = fixture.path / ".git" / "reviewq" / CACHE_NAME
    assert cache.exists()
    log = ProvenanceLog(fixture.log_path)
    me = Identity(*REVIEWER)
    at = NOW.isoformat()
    # Appends after the cached end (a short tail: read beside the cache, not stored again).
    for n, (sha, verdict) in enumerate(
        [(first[0][0], "approve"), (first[1][0], "reject"), (first[2][0], "escalate")]
    ):
        log.append(
            make_record(
                900_000 + n,
                sha=sha,
                change_id=sha,
                patch_id=sha,
                verdict=verdict,
                reviewer=me,
                at=at,
            )
        )
        fast = _snapshot(fixture.path, plain=False, monkeypatch=monkeypatch)
        plain = _snapshot(fixture.path, plain=True, monkeypatch=monkeypatch)
        assert fast == plain
        assert fast[0] != first  # the appended verdict is seen
        assert first[n][0] in fast[1][1]  # and counted in the reviewer's progress
