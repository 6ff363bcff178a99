"""`stats` right after a verdict: the summary of the history is kept across appends to the log.

The summary cache (`metric-summary.npz`) holds what `stats` gathers from the history, the
critique cache and the settings. Only its critiques depend on the log (which changes are
reviewed), so it is kept when the log only grew and the new records review no change whose
critique it left out; anything else runs the full path. Each test compares with a plain run
(no summary at all).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from reviewq.core.verdict import new_record
from reviewq.store.log import ProvenanceLog
from reviewq.workflow import stats as stats_module
from tests.metrics_support import DANA, RULES_OPENED, record_demo_verdicts


def _sha(repo: Path, subject: str) -> str:
    return subprocess.run(
        ["git", "log", "--format=%H", "-1", f"--grep={subject}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _verdict(repo: Path, sha: str, n: int, verdict: str = "approve") -> None:
    ProvenanceLog(repo / ".git" / "reviewq" / "log.jsonl").append(
        new_record(
            record_id=f"after-{n}",
            sha=sha,
            change_id=sha,
            patch_id=None,
            verdict=verdict,
            reviewer=DANA,
            at=f"2026-11-19T1{n}:00:00+01:00",
            active_seconds=20.0,
            wall_seconds=20.0,
            lines_changed=1,
            hunks_total=1,
            hunks_viewed=1,
            critique=RULES_OPENED,
            author_family="anthropic",
            agent="claude-code",
        )
    )


def _without_inbox(repo: Path) -> Path:
    """The demo without its patch inbox (a repository with one always takes the full path)."""
    from reviewq.context import Context

    ctx = Context.open(repo)
    try:
        inbox = ctx.inbox_dir()
    finally:
        ctx.close()
    if inbox is not None and inbox.exists():
        shutil.rmtree(inbox)
    return repo


def _stats(cli, repo: Path) -> dict:
    proc = cli("stats", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    doc.pop("generated_at")  # the lines that differ between two runs a second apart
    doc["queue"].pop("oldest_pending_seconds")
    return doc


def _plain(cli, repo: Path) -> dict:
    (repo / ".git" / "reviewq" / "metric-summary.npz").unlink(missing_ok=True)
    return _stats(cli, repo)


def test_a_verdict_on_an_uncritiqued_change_keeps_the_summary(demo_repo: Path, cli, monkeypatch):
    record_demo_verdicts(_without_inbox(demo_repo))
    first = _stats(cli, demo_repo)  # the summary is stored
    _verdict(demo_repo, _sha(demo_repo, "Use constant-time"), 1, "reject")

    def no_scan(*_a, **_k):
        raise AssertionError("the history was scanned again after a plain append")

    with monkeypatch.context() as m:
        m.setattr(stats_module, "scan_history", no_scan)
        kept = _stats(cli, demo_repo)
    assert kept["totals"]["verdicts"] == first["totals"]["verdicts"] + 1
    assert kept == _plain(cli, demo_repo)
    # Stored again at the new end: a second append is checked from there.
    _verdict(demo_repo, _sha(demo_repo, "Use constant-time"), 2)
    with monkeypatch.context() as m:
        m.setattr(stats_module, "scan_history", no_scan)
        again = _stats(cli, demo_repo)
    assert again == _plain(cli, demo_repo)


def test_a_verdict_on_a_critiqued_change_reads_its_critique(demo_repo: Path, cli):
    """The CSV export has an error-level finding: approving it after the summary was stored
    is an override, which only the full path (critiques of every reviewed change) sees."""
    csv = _sha(_without_inbox(demo_repo), "Add CSV export")
    assert cli("critique", csv, cwd=demo_repo).returncode == 0
    before = _stats(cli, demo_repo)  # the summary is stored; the CSV change is unreviewed
    assert before["totals"]["overrides"] == 0
    _verdict(demo_repo, csv, 1, "approve")
    after = _stats(cli, demo_repo)
    assert after["totals"]["overrides"] == 1
    assert after == _plain(cli, demo_repo)


def test_a_log_rewritten_under_the_summary_is_read_again(demo_repo: Path, cli):
    """The record that ended the log when the summary was stored is gone (cut, and another
    written in its place): the summary's key no longer describes a prefix of this log."""
    csv = _sha(_without_inbox(demo_repo), "Add CSV export")
    assert cli("critique", csv, cwd=demo_repo).returncode == 0
    _verdict(demo_repo, _sha(demo_repo, "Use constant-time"), 1)
    _stats(cli, demo_repo)
    log = demo_repo / ".git" / "reviewq" / "log.jsonl"
    log.write_bytes(b"")
    (demo_repo / ".git" / "reviewq" / "log.jsonl.head").unlink(missing_ok=True)
    _verdict(demo_repo, csv, 2, "approve")  # same kind of line, another record
    _verdict(demo_repo, csv, 3, "approve")
    after = _stats(cli, demo_repo)
    assert after["totals"]["overrides"] == 2
    assert after == _plain(cli, demo_repo)


def test_a_summary_forged_to_skip_a_critique_fools_stats_only(demo_repo: Path, cli, tmp_path):
    """A local shell empties the summary's list of critiqued changes, so that a verdict on a
    critiqued change keeps the summary and its override is not counted. `stats` believes its
    cache (as with any forged cache); the report of a repository with a policy reads no
    summary, and `report --check` reads no cache at all: they count the override."""
    import numpy as np

    csv = _sha(_without_inbox(demo_repo), "Add CSV export")
    assert cli("critique", csv, cwd=demo_repo).returncode == 0
    _stats(cli, demo_repo)
    summary = demo_repo / ".git" / "reviewq" / "metric-summary.npz"
    with np.load(summary) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(bytes(arrays["meta"]).decode())
    assert csv in meta["critiqued"]
    meta["critiqued"] = []
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(summary, "wb") as fh:
        np.savez(fh, **arrays)
    _verdict(demo_repo, csv, 1, "approve")
    assert _stats(cli, demo_repo)["totals"]["overrides"] == 0  # the forgery took
    out = tmp_path / "report.json"
    proc = cli("report", "--format", "json", "--out", str(out), cwd=demo_repo)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["critique"]["overrides"] == 1
    assert cli("report", "--check", str(out), cwd=demo_repo).returncode == 0


def test_notes_records_the_log_lacks_are_kept_and_dropped_when_they_arrive(
    demo_repo: Path, cli, monkeypatch, tmp_path: Path
):
    """A teammate's record only in the notes counts once: the summary keeps the notes
    records the log lacks (neither the notes nor the log's ids are read again after an
    append), and when the same record arrives in the local log it is no longer added."""
    import reviewq.store.verdict_columns as columns
    from reviewq.context import Context
    from reviewq.store.notes_log import add_records

    # A tail after the cached end is read, not stored again (as after one verdict on a long log).
    monkeypatch.setattr(columns, "STORE_FRACTION", 1000.0)
    record_demo_verdicts(_without_inbox(demo_repo))
    sha = _sha(demo_repo, "Use constant-time")
    theirs = ProvenanceLog(tmp_path / "theirs.jsonl").append(
        new_record(
            record_id="teammate-1",
            sha=sha,
            change_id=sha,
            patch_id=None,
            verdict="reject",
            reviewer=DANA,
            at="2026-11-19T08:00:00+01:00",
            active_seconds=40.0,
            wall_seconds=40.0,
            lines_changed=1,
            hunks_total=1,
            hunks_viewed=1,
            critique=RULES_OPENED,
            author_family="anthropic",
            agent="claude-code",
        )
    )
    ctx = Context.open(demo_repo)
    try:
        assert add_records(ctx.git, [theirs], ctx.state_dir / "notes.lock") == 1
    finally:
        ctx.close()
    before = _stats(cli, demo_repo)  # full path: the notes tip moved
    assert before == _plain(cli, demo_repo)
    _stats(cli, demo_repo)  # the summary now holds the lacking record

    def no_notes(*_a, **_k):
        raise AssertionError("the notes were read again after a plain append")

    _verdict(demo_repo, sha, 1)
    with monkeypatch.context() as m:
        m.setattr(stats_module, "read_verdict_notes", no_notes)
        kept = _stats(cli, demo_repo)
    assert kept["totals"]["verdicts"] == before["totals"]["verdicts"] + 1
    assert kept == _plain(cli, demo_repo)
    _stats(cli, demo_repo)
    # The teammate's record arrives in the local log (same id): counted once, not twice.
    ProvenanceLog(demo_repo / ".git" / "reviewq" / "log.jsonl").append(dict(theirs))
    with monkeypatch.context() as m:
        m.setattr(stats_module, "read_verdict_notes", no_notes)
        arrived = _stats(cli, demo_repo)
    assert arrived["totals"]["verdicts"] == kept["totals"]["verdicts"]
    assert arrived == _plain(cli, demo_repo)


def test_a_verdict_during_the_history_scan_is_counted(demo_repo: Path, cli, monkeypatch):
    """The log's columns are read before the history is scanned (a first build's memory
    peak without the changes beside it): a verdict appended meanwhile is read all the same,
    and the provenance block names the log with it, as a run after it does."""
    record_demo_verdicts(demo_repo)
    before = _plain(cli, demo_repo)
    sha = _sha(demo_repo, "Use constant-time")
    during = _with_history_scan_then(
        cli, demo_repo, monkeypatch, lambda: _verdict(demo_repo, sha, 5, "reject")
    )
    assert during["totals"]["verdicts"] == before["totals"]["verdicts"] + 1
    assert during == _plain(cli, demo_repo)


def _with_history_scan_then(cli, repo: Path, monkeypatch, action) -> dict:
    """`stats --json` of `repo` with `action` run once, right after its history scan."""
    real = stats_module.scan_history
    done = []

    def scan_then(*args, **kwargs):
        result = real(*args, **kwargs)
        if not done:
            action()
            done.append(True)
        return result

    with monkeypatch.context() as m:
        m.setattr(stats_module, "scan_history", scan_then)
        during = _plain(cli, repo)
    assert done
    return during


def _share_a_teammates_verdict(repo: Path, local: list[dict], name: str) -> None:
    from reviewq.context import Context
    from reviewq.core.verdict import seal
    from reviewq.store.notes_log import add_records

    ctx = Context.open(repo)
    try:
        body = {k: v for k, v in local[0].items() if k not in ("prev", "hash", "signature")}
        teammate = seal({**body, "id": name, "verdict": "reject"}, local[-1]["hash"])
        add_records(ctx.git, [*local, teammate], ctx.state_dir / "notes.lock")
    finally:
        ctx.close()


def test_notes_shared_during_the_history_scan_are_counted(demo_repo: Path, cli, monkeypatch):
    """Which of the notes' records the log lacks is worked out before the history is scanned
    (the log's million ids let go before the changes are made): a record shared on the notes
    ref meanwhile is counted all the same, as a run after it counts it."""
    local = record_demo_verdicts(demo_repo)
    _share_a_teammates_verdict(demo_repo, local, "teammate-1")
    before = _plain(cli, demo_repo)
    during = _with_history_scan_then(
        cli,
        demo_repo,
        monkeypatch,
        lambda: _share_a_teammates_verdict(demo_repo, local, "teammate-2"),
    )
    assert during["totals"]["verdicts"] == before["totals"]["verdicts"] + 1
    assert during["totals"]["reject"] == before["totals"]["reject"] + 1
    assert during == _plain(cli, demo_repo)


def test_a_first_build_under_a_valid_summary_reads_no_notes(demo_repo: Path, cli, monkeypatch):
    """The column cache gone, the summary still valid (same notes tip, the log only grew):
    the rebuilt columns hold every id of the log, so the notes' records it lacks are those
    the summary kept less the ones appended since; the notes are not read again. The figures
    are the plain path's, with a teammate's record only on the notes counted once, and one
    appended to the log since counted once too."""
    local = record_demo_verdicts(_without_inbox(demo_repo))
    _share_a_teammates_verdict(demo_repo, local, "teammate-1")
    _share_a_teammates_verdict(demo_repo, local, "teammate-2")
    state = demo_repo / ".git" / "reviewq"
    _stats(cli, demo_repo)  # the summary, at this end of the log
    assert (state / "metric-summary.npz").exists()
    body = {k: v for k, v in local[0].items() if k not in ("prev", "hash", "signature")}
    # On a change the critique cache has no row for (else the summary is not used at all).
    elsewhere = {"sha": "f" * 40, "change_id": "f" * 40, "patch_id": "e" * 40}
    ProvenanceLog(state / "log.jsonl").append(
        {**body, **elsewhere, "id": "teammate-2", "verdict": "reject"}
    )
    (state / "verdict-columns.arrays").unlink()
    reads = []
    real = stats_module.read_verdict_notes

    def counted(*args, **kwargs):
        reads.append(args)
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(stats_module, "read_verdict_notes", counted)
        warm = _stats(cli, demo_repo)
    assert reads == []
    assert (state / "verdict-columns.arrays").exists()
    plain = _plain(cli, demo_repo)
    assert warm == plain
    assert plain["totals"]["verdicts"] == len(local) + 2


def test_a_few_new_records_leave_the_summary_where_it_was_stored(demo_repo: Path, cli, monkeypatch):
    """A few records past the summary's end do not rewrite it; the next reader checks every
    line after that end, so a critiqued change reviewed two appends later is still seen."""
    csv = _sha(_without_inbox(demo_repo), "Add CSV export")
    assert cli("critique", csv, cwd=demo_repo).returncode == 0
    # A log with a record already: the run below builds the column cache, and the summary it
    # stores keeps the change rows of that cache (a first build's rows are kept at once).
    _verdict(demo_repo, _sha(demo_repo, "Use constant-time"), 0)
    _stats(cli, demo_repo)  # the summary is stored
    summary = demo_repo / ".git" / "reviewq" / "metric-summary.npz"
    stored = summary.read_bytes()
    _verdict(demo_repo, _sha(demo_repo, "Use constant-time"), 1)
    assert _stats(cli, demo_repo)["totals"]["overrides"] == 0
    assert summary.read_bytes() == stored  # not rewritten for one record
    _verdict(demo_repo, csv, 2, "approve")  # an override, two records past the summary's end
    after = _stats(cli, demo_repo)
    assert after["totals"]["overrides"] == 1
    assert after == _plain(cli, demo_repo)
    # Far enough behind (here: any distance), it is stored again at the new end.
    _stats(cli, demo_repo)
    stored = summary.read_bytes()
    monkeypatch.setattr(stats_module, "SUMMARY_BEHIND_BYTES", 0)
    _verdict(demo_repo, _sha(demo_repo, "Use constant-time"), 3)
    _stats(cli, demo_repo)
    assert summary.read_bytes() != stored


def test_the_run_after_a_first_build_keeps_its_change_rows(demo_repo: Path, cli, monkeypatch):
    """`stats` right after a first build of the column cache (the summary valid) stores the
    summary's change rows for the cache it built, so the next `stats` looks up no stored
    change label again (a million of them and ~100 MB more at its peak, at 1M records)."""
    from reviewq.core.metrics import LineLabels

    record_demo_verdicts(_without_inbox(demo_repo))
    state = demo_repo / ".git" / "reviewq"
    before = _stats(cli, demo_repo)  # the summary and the cache
    (state / "verdict-columns.arrays").unlink()
    first = _stats(cli, demo_repo)  # a first build under the valid summary
    looked_up = []
    real = LineLabels.rows

    def counted(self, positions):
        looked_up.append(self.base_count)
        return real(self, positions)

    with monkeypatch.context() as m:
        m.setattr(LineLabels, "rows", counted)
        second = _stats(cli, demo_repo)
    assert looked_up == []
    assert before == first == second == _plain(cli, demo_repo)
    assert second["totals"]["verdicts"] > 0


def _stats_counting(cli, repo: Path, monkeypatch, name: str) -> tuple[dict, int]:
    """`_stats`, and how many times it called `workflow.stats.<name>` (a history scan, a read
    of every note)."""
    calls = []
    real = getattr(stats_module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(stats_module, name, counted)
        doc = _stats(cli, repo)
    return doc, len(calls)


def _no_scan(*_a, **_k):
    raise AssertionError("the history was scanned again")


def test_a_write_to_another_table_of_the_cache_keeps_the_summary(demo_repo: Path, cli, monkeypatch):
    """The cache file is rewritten whole by every write (a verdict's patch id, a scan's
    changes, a size counted), but the figures read only its critiques: a write to any other
    table keeps the summary (no history scan), with the plain path's figures. Before, any
    write set the summary aside (1.9 s instead of 0.8 s at 1M records)."""
    from reviewq.context import Context

    record_demo_verdicts(_without_inbox(demo_repo))
    first = _stats(cli, demo_repo)  # the summary is stored
    cache = demo_repo / ".git" / "reviewq" / "cache.json"
    before = cache.stat().st_mtime_ns, cache.stat().st_size
    ctx = Context.open(demo_repo)
    try:
        ctx.cache.put("patch_ids", "patch-ids", {"f" * 40: "e" * 40})
        ctx.cache.flush()
    finally:
        ctx.close()
    assert (cache.stat().st_mtime_ns, cache.stat().st_size) != before  # the file was rewritten
    with monkeypatch.context() as m:
        m.setattr(stats_module, "scan_history", _no_scan)
        kept = _stats(cli, demo_repo)
    assert kept == first == _plain(cli, demo_repo)


def test_a_critique_or_a_hand_edit_of_the_critiques_sets_the_summary_aside(
    demo_repo: Path, cli, monkeypatch
):
    """A new critique changes the critiques' digest; an edit of the cache file by any other
    hand leaves digests that describe another file: either way the summary is not used and
    the figures are worked out again from what the file holds now."""
    csv = _sha(_without_inbox(demo_repo), "Add CSV export")
    record_demo_verdicts(demo_repo)
    _stats(cli, demo_repo)
    assert cli("critique", csv, cwd=demo_repo).returncode == 0
    after_critique, scans = _stats_counting(cli, demo_repo, monkeypatch, "scan_history")
    assert scans and after_critique == _plain(cli, demo_repo)
    _stats(cli, demo_repo)  # the summary, with the critique
    cache = demo_repo / ".git" / "reviewq" / "cache.json"
    data = json.loads(cache.read_text())
    for row in data["critiques"].values():
        row["v"]["critique"]["findings"] = []  # every finding gone, by hand
    cache.write_text(json.dumps(data))
    edited, scans = _stats_counting(cli, demo_repo, monkeypatch, "scan_history")
    assert scans and edited == _plain(cli, demo_repo)


def _notes_tip(repo: Path) -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "refs/notes/reviewq"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def _no_notes(*_a, **_k):
    raise AssertionError("every note was read again")


def _summary_only(cli, repo: Path, monkeypatch) -> dict:
    """`stats --json` that must take the summary's way: no history scan, no read of every note."""
    with monkeypatch.context() as m:
        m.setattr(stats_module, "scan_history", _no_scan)
        m.setattr(stats_module, "read_verdict_notes", _no_notes)
        return _stats(cli, repo)


def test_a_verdict_recorded_by_the_cli_keeps_the_summary(demo_repo: Path, cli, monkeypatch):
    """`reviewq verdict` writes its record to the log and to the notes (the tip moves) and a
    patch id to the cache file: the next `stats` reads the one note that changed, not the
    history nor every note, and its figures are the plain path's. Before, the moved tip sent
    it the full way (1.9 s instead of 0.8 s at 1M records)."""
    record_demo_verdicts(_without_inbox(demo_repo))
    first = _stats(cli, demo_repo)  # the summary is stored
    tip = _notes_tip(demo_repo)
    sha = _sha(demo_repo, "Use constant-time")
    done = cli("verdict", sha, "reject", "--note", "timing leak", "--seconds", "90", cwd=demo_repo)
    assert done.returncode == 0, done.stderr
    assert _notes_tip(demo_repo) not in ("", tip)  # the record went to the notes too
    kept = _summary_only(cli, demo_repo, monkeypatch)
    assert kept["totals"]["verdicts"] == first["totals"]["verdicts"] + 1
    assert kept == _plain(cli, demo_repo)


def test_teammates_notes_arriving_under_the_summary_count_once(demo_repo: Path, cli, monkeypatch):
    """A teammate's record that only the notes hold, arriving after the summary was stored:
    read from its note alone and counted once; when the same record reaches the local log, it
    is not counted again; a note rewritten without a record (the record gone from the team's
    copy) no longer counts it."""
    local = record_demo_verdicts(_without_inbox(demo_repo))
    first = _stats(cli, demo_repo)
    _share_a_teammates_verdict(demo_repo, local, "teammate-1")
    one = _notes_tip(demo_repo)
    shared = _summary_only(cli, demo_repo, monkeypatch)
    assert shared["totals"]["verdicts"] == first["totals"]["verdicts"] + 1
    assert shared == _plain(cli, demo_repo)
    _share_a_teammates_verdict(demo_repo, local, "teammate-2")
    both = _summary_only(cli, demo_repo, monkeypatch)
    assert both["totals"]["verdicts"] == first["totals"]["verdicts"] + 2
    assert both == _plain(cli, demo_repo)
    # The notes put back as they were with the first teammate's record only (a force-push):
    # read from the two trees, whatever the history between them; then the ref deleted.
    _stats(cli, demo_repo)
    subprocess.run(["git", "update-ref", "refs/notes/reviewq", one], cwd=demo_repo, check=True)
    back = _summary_only(cli, demo_repo, monkeypatch)
    assert back == shared == _plain(cli, demo_repo)
    # A record on a change no other record is about: its own note, gone with a rewind.
    from reviewq.context import Context
    from reviewq.core.verdict import seal
    from reviewq.store.notes_log import add_records

    csv = _sha(demo_repo, "Add CSV export")
    body = {k: v for k, v in local[0].items() if k not in ("prev", "hash", "signature")}
    alone = seal({**body, "sha": csv, "change_id": csv, "id": "teammate-3"}, "0" * 64)
    ctx = Context.open(demo_repo)
    try:
        add_records(ctx.git, [alone], ctx.state_dir / "notes.lock")
    finally:
        ctx.close()
    three = _summary_only(cli, demo_repo, monkeypatch)
    assert three["totals"]["verdicts"] == shared["totals"]["verdicts"] + 1
    _stats(cli, demo_repo)  # the summary keeps it as a record the log lacks
    subprocess.run(["git", "update-ref", "refs/notes/reviewq", one], cwd=demo_repo, check=True)
    assert _summary_only(cli, demo_repo, monkeypatch) == shared == _plain(cli, demo_repo)
    subprocess.run(["git", "update-ref", "-d", "refs/notes/reviewq"], cwd=demo_repo, check=True)
    gone = _summary_only(cli, demo_repo, monkeypatch)
    assert gone == first == _plain(cli, demo_repo)


def test_a_teammates_approval_of_a_critiqued_change_is_an_override(
    demo_repo: Path, cli, monkeypatch
):
    """A teammate's approval of the CSV export (an error-level finding, critiqued before the
    summary was stored) arriving in the notes: read from its note alone, and counted as the
    override it is, as the plain path counts it."""
    from reviewq.context import Context
    from reviewq.core.verdict import seal
    from reviewq.store.notes_log import add_records

    csv = _sha(_without_inbox(demo_repo), "Add CSV export")
    local = record_demo_verdicts(demo_repo)
    assert cli("critique", csv, cwd=demo_repo).returncode == 0
    before = _stats(cli, demo_repo)  # the summary: the CSV change critiqued, unreviewed
    ctx = Context.open(demo_repo)
    try:
        body = {k: v for k, v in local[0].items() if k not in ("prev", "hash", "signature")}
        on_csv = {"sha": csv, "change_id": csv, "patch_id": None}
        teammate = seal({**body, **on_csv, "id": "teammate-csv", "verdict": "approve"}, "0" * 64)
        add_records(ctx.git, [teammate], ctx.state_dir / "notes.lock")
    finally:
        ctx.close()
    after = _summary_only(cli, demo_repo, monkeypatch)
    assert after["totals"]["overrides"] == before["totals"]["overrides"] + 1
    assert after == _plain(cli, demo_repo)


def test_a_note_under_two_paths_is_read_the_full_way(demo_repo: Path, cli, monkeypatch):
    """Someone with push access to the notes ref writes one commit's note twice, under a
    fanned-out and a flat path: which one git reads is git's to say, so the summary does not
    guess; every note is read (as `read_verdict_notes` reads them) and the figures are the
    plain path's."""
    local = record_demo_verdicts(_without_inbox(demo_repo))
    _share_a_teammates_verdict(demo_repo, local, "teammate-1")
    _stats(cli, demo_repo)
    tip = _notes_tip(demo_repo)

    def git(*args: str, input: str | None = None) -> str:
        done = subprocess.run(
            ["git", *args], cwd=demo_repo, input=input, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    target = local[0]["sha"]
    body = {k: v for k, v in local[0].items() if k not in ("prev", "hash", "signature")}
    from reviewq.core.verdict import record_line, seal

    extra = seal({**body, "id": "teammate-twice", "verdict": "reject"}, "0" * 64)
    blob = git("hash-object", "-w", "--stdin", input=record_line(extra).decode() + "\n")
    listing = git("ls-tree", tip)
    sub = git("mktree", input=f"100644 blob {blob}\t{target[2:]}\n")
    tree = git("mktree", input=f"{listing}\n040000 tree {sub}\t{target[:2]}\n")
    commit = git("commit-tree", tree, "-p", tip, "-m", "two paths")
    git("update-ref", "refs/notes/reviewq", commit)
    seen, reads = _stats_counting(cli, demo_repo, monkeypatch, "read_verdict_notes")
    assert reads and seen == _plain(cli, demo_repo)
