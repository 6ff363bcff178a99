"""The queue screen's stored answer (reviewq/workflow/queue_answer.py) is the plain build: the
same rows, order fields, counts and risk figures, on the same repository; any change to an
input (a commit, a verdict in the log or only in the notes, the settings, who the reviewer is,
time passing a cooldown or the daily cutoff) means no stored answer is shown. The gate never
reads it."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.core.jsonio import dump_json, parse_line
from reviewq.core.queue import QueueRow, RowRisk, age_from, human_age, queue_order, row_of
from reviewq.store.log_checkpoint import _key_path, load_key
from reviewq.tui.services import Services
from reviewq.workflow.queue_answer import MAGIC, _seal, answer_path, load
from tests.conftest import FIXED_NOW

AI_TRAILER = "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def read_answer(path: Path) -> tuple[dict, list[list]]:
    """A stored answer's header and rows, as plain JSON values (the seal not checked)."""
    raw = path.read_bytes()
    seal_end = raw.index(b"\n")
    header_end = raw.index(b"\n", seal_end + 1)
    header = json.loads(raw[seal_end + 1 : header_end])
    blob, rows, start = raw[header_end + 1 :], [], 0
    for end in header["ends"]:
        rows.append(json.loads(blob[start:end]))
        start = end
    return header, rows


def write_answer(path: Path, header: dict, rows: list[list], *, key: bytes | None = None) -> None:
    """Write `rows` under `header` as `store` would, sealed with `key` (default: this user's
    key, as a shell of this user that reads it could; another key: a foreign answer)."""
    lines = [dump_json(row) for row in rows]
    ends, at = [], 0
    for line in lines:
        at += len(line)
        ends.append(at)
    body = dump_json({**header, "ids": [r[0] for r in rows], "ends": ends}) + b"\n"
    body += b"".join(lines)
    secret = key if key is not None else load_key(create=False)
    assert secret is not None
    path.write_bytes(MAGIC + _seal(secret, body) + b"\n" + body)


def first_open(repo: Path, now: datetime):
    """What the queue screen's worker does: the inputs' key, the plain build, the answer kept."""
    ctx = Context.open(repo)
    try:
        services = Services(ctx, now=lambda: now)
        key, _stored = services.stored_queue()
        items, rows, count, mine = services.load_queue_rows(key)
        return items, rows, count, mine, services.hidden_audit()
    finally:
        ctx.close()


def stored(repo: Path, now: datetime):
    """What the next open would draw first (None: it waits for the real queue)."""
    ctx = Context.open(repo)
    try:
        return Services(ctx, now=lambda: now).stored_queue()[1]
    finally:
        ctx.close()


def commit_ai(repo: Path, subject: str, when: datetime) -> str:
    (repo / f"{subject.replace(' ', '_')}.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    env_date = when.isoformat()
    subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", f"{subject}\n\n{AI_TRAILER}"],
        cwd=repo,
        check=True,
        env={
            **__import__("os").environ,
            "GIT_AUTHOR_DATE": env_date,
            "GIT_COMMITTER_DATE": env_date,
        },
    )
    return git(repo, "rev-parse", "HEAD")


def test_the_stored_answer_is_the_plain_build(demo_repo: Path, cli) -> None:
    first = first_open(demo_repo, FIXED_NOW)[0]
    # A verdict of this reviewer's (today, at the clock the app runs at) on a queued item.
    assert (
        cli(
            "--repo", str(demo_repo), "verdict", first[0].change.id, "escalate", "--note", "x"
        ).returncode
        == 0
    )
    now = local_now()
    items, rows, count, mine, hidden = first_open(demo_repo, now)
    assert rows and count >= 1 and any(r.id in mine for r in rows)
    got = stored(demo_repo, now)
    assert got is not None
    # Row for row: every cell's text, the lines under the table, the filter's words, the risk
    # figures, and what the order reads (score, age, size, unmerged).
    assert got.rows == rows == [row_of(i) for i in items]
    assert [r.id for r in queue_order(got.rows, "risk")] == [
        i.change.id for i in queue_order(items, "risk")
    ]
    for key in ("age", "size"):
        assert [r.id for r in queue_order(got.rows, key)] == [
            i.change.id for i in queue_order(items, key)
        ]
    assert got.mine == {cid: v for cid, v in mine.items() if cid in {r.id for r in rows}}
    assert got.reviewed_today(now) == count
    assert got.hidden_audit == hidden
    # Ages are counted when shown, as the plain build counts them at its own `now`.
    later = now + timedelta(hours=5)
    assert [r.age_seconds for r in stored(demo_repo, later).rows] == [
        r.age_seconds for r in first_open(demo_repo, later)[1]
    ]


@pytest.mark.parametrize(
    "change",
    ["commit", "log-verdict", "notes-only-verdict", "config", "reviewer", "log-bytes"],
)
def test_any_changed_input_means_no_stored_answer(demo_repo: Path, cli, change: str) -> None:
    items = first_open(demo_repo, FIXED_NOW)[0]
    assert stored(demo_repo, FIXED_NOW) is not None
    target = items[0].change.id
    if change == "commit":
        commit_ai(demo_repo, "feat add a thing", FIXED_NOW - timedelta(hours=1))
    elif change == "log-verdict":
        assert (
            cli("--repo", str(demo_repo), "verdict", target, "reject", "--note", "no").returncode
            == 0
        )
    elif change == "notes-only-verdict":
        # Someone else's verdict arrives through the notes ref alone (a `reviewq sync`).
        git(demo_repo, "notes", "--ref=reviewq", "append", "-m", "{}", target)
    elif change == "config":
        config = demo_repo / ".reviewq.toml"
        text = config.read_text() if config.exists() else ""
        config.write_text(text + '\n[scope]\nrecent = "45 days"\n')
    elif change == "reviewer":
        git(demo_repo, "config", "user.email", "someone-else@example.com")
    elif change == "log-bytes":
        # A log edited in place (same size) still moves its mtime and its head check.
        log = demo_repo / ".git" / "reviewq" / "log.jsonl"
        if not log.exists():
            assert (
                cli(
                    "--repo", str(demo_repo), "verdict", target, "reject", "--note", "no"
                ).returncode
                == 0
            )
            first_open(demo_repo, FIXED_NOW)
            assert stored(demo_repo, FIXED_NOW) is not None
        data = log.read_bytes()
        log.write_bytes(data.replace(b'"reject"', b'"approve"', 1))
    assert stored(demo_repo, FIXED_NOW) is None
    # The next open keeps the new answer, and that one is the plain build again.
    _items, rows, *_rest = first_open(demo_repo, FIXED_NOW)
    again = stored(demo_repo, FIXED_NOW)
    assert again is not None and again.rows == rows


def test_time_alone_expires_the_answer_where_it_would_change_the_queue(demo_repo: Path) -> None:
    """With a daily cutoff that counts back from now, the answer holds until the first recent
    commit would leave the daily view, and up to then the plain build agrees with it. (The
    cutoff counts back from main's newest commit when that is older than now: here it is not.)"""
    (demo_repo / ".reviewq.toml").write_text('[scope]\nrecent = "2 days"\n')
    newest = datetime.fromisoformat(git(demo_repo, "log", "-1", "--format=%cI", "main"))
    now = newest - timedelta(minutes=1)
    ctx = Context.open(demo_repo)
    try:
        services = Services(ctx, now=lambda: now)
        key, _ = services.stored_queue()
        services.load_queue_rows(key)
        until = services.units.valid_until
        recent = services.units.recent
    finally:
        ctx.close()
    assert until is not None and until > now
    assert until == min(
        datetime.fromisoformat(i.change.commit.committed_at) + timedelta(days=2) for i in recent
    )
    just_before = until - timedelta(seconds=1)
    held = stored(demo_repo, just_before)
    assert held is not None
    assert stored(demo_repo, until) is None
    assert stored(demo_repo, until + timedelta(days=1)) is None
    assert held.rows == first_open(demo_repo, just_before)[1]


def test_a_damaged_or_foreign_answer_is_not_shown(demo_repo: Path) -> None:
    first_open(demo_repo, FIXED_NOW)
    ctx = Context.open(demo_repo)
    try:
        path = answer_path(ctx.state_dir, "daily")
        data, rows = read_answer(path)
        key = data["key"]
        assert load(ctx, "daily", key, FIXED_NOW) is not None
        original = path.read_bytes()
        for broken in (
            b"not json",
            original[: len(original) // 2],
            original.replace(b'"v":2', b'"v":9', 1),
        ):
            path.write_bytes(broken)
            assert load(ctx, "daily", key, FIXED_NOW) is None
        # Sealed as this user's own (a bug, or a shell of this user): still read as rows only
        # when every row is one; a row that is not makes the whole answer unused.
        for header, bad in (
            ({**data, "v": 99}, rows),
            (data, [["short"]]),
            (data, [[*rows[0][:2], "9", *rows[0][3:]]]),
            (data, [["x", *rows[0][1:]]] * 2),
            (data, [[rows[0][0], "lethal", *rows[0][2:]]]),
            ({**data, "mine": {"x": "rm -rf"}}, rows),
        ):
            write_answer(path, header, bad)
            got = load(ctx, "daily", key, FIXED_NOW)
            assert got is None or not got.rows.parse_all()
        assert load(ctx, "daily", "another key", FIXED_NOW) is None
    finally:
        ctx.close()


def test_a_row_round_trips(demo_repo: Path) -> None:
    items = first_open(demo_repo, FIXED_NOW)[0]
    for item in items:
        row = row_of(item)
        assert QueueRow.from_list(json.loads(json.dumps(row.to_list())), FIXED_NOW) == row


def test_the_gate_never_reads_the_stored_answer(demo_repo: Path, cli) -> None:
    """A forged answer (every item shown as approved and low risk) changes nothing the gate,
    `reviewq queue` or `reviewq show` say; none of them imports the module."""
    before = [cli("--repo", str(demo_repo), *args) for args in (("gate", "HEAD"), ("queue",))]
    first_open(demo_repo, FIXED_NOW)
    ctx = Context.open(demo_repo)
    try:
        path = answer_path(ctx.state_dir, "daily")
        data, rows = read_answer(path)
        for row in rows:
            row[1], row[2] = "low", 0
        rows = rows[:1]
        data["mine"] = {r[0]: "approve" for r in rows}
        write_answer(path, data, rows)
    finally:
        ctx.close()
    after = [cli("--repo", str(demo_repo), *args) for args in (("gate", "HEAD"), ("queue",))]
    assert [(r.returncode, r.stdout) for r in after] == [(r.returncode, r.stdout) for r in before]
    assert before[0].returncode == 1  # the demo's AI commits are not all approved
    root = Path(__file__).resolve().parent.parent / "reviewq"
    readers = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "reviewq.workflow.queue_answer import" in p.read_text()
    )
    assert readers == ["tui/services.py"]


_text = st.text(max_size=40)


@settings(max_examples=200, deadline=None)
@given(
    cid=_text,
    level=st.sampled_from(["low", "medium", "high"]),
    score=st.integers(-(2**40), 2**40),
    committed=st.one_of(
        st.none(),
        _text,
        st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
        ).map(lambda d: d.isoformat()),
    ),
    size=st.integers(0, 2**40),
    unmerged=st.booleans(),
    texts=st.lists(_text, min_size=8, max_size=8),
    reasons=st.lists(_text, max_size=5),
)
def test_any_row_survives_the_file_exactly(
    cid, level, score, committed, size, unmerged, texts, reasons
) -> None:
    """Whatever an item's texts hold (controls, bidi, lone surrogates, any date), the stored
    row reads back as the row that was stored: the same cells, lines, words and age."""
    agent, subject, model, size_text, domain, where, prompt, haystack = texts
    row = QueueRow(
        cid,
        RowRisk(level, score),
        committed,
        age_from(committed, FIXED_NOW),
        size,
        unmerged,
        agent,
        subject,
        model,
        size_text,
        domain,
        where,
        tuple(reasons),
        prompt,
        haystack,
    )
    assert QueueRow.from_list(parse_line(dump_json(row.to_list())), FIXED_NOW) == row


def test_a_live_refresh_keeps_the_answer_for_the_next_open(demo_repo: Path) -> None:
    """New agent work noticed by the live poll: the next open draws it at once, as built."""
    first_open(demo_repo, FIXED_NOW)
    ctx = Context.open(demo_repo)
    try:
        services = Services(ctx, now=lambda: FIXED_NOW)
        services.load_queue()
        assert services.poll_queue() is None  # nothing moved
        sha = commit_ai(demo_repo, "feat poll me", FIXED_NOW - timedelta(minutes=5))
        refresh = services.poll_queue()
        assert refresh is not None and sha in {i.change.id for i in refresh.update.items}
    finally:
        ctx.close()
    got = stored(demo_repo, FIXED_NOW)
    assert got is not None and got.rows == refresh.rows
    assert got.rows == first_open(demo_repo, FIXED_NOW)[1]


def _resealed_without_key(path: Path, header: dict, rows: list[list]) -> None:
    """`rows` under `header`, with the seal the file had before (an edit by someone who cannot
    read this user's key)."""
    old_seal = path.read_bytes().split(b"\n", 1)[0]
    write_answer(path, header, rows, key=b"k" * 32)
    body = path.read_bytes().split(b"\n", 1)[1]
    path.write_bytes(old_seal + b"\n" + body)


def test_an_answer_edited_to_hide_a_pending_item_is_not_shown(demo_repo: Path, tmp_path) -> None:
    """A local shell that edits the stored answer (a row taken out, ids and offsets made to
    agree) without this user's key, or plants one sealed with another key (another account's,
    a copied repository's), gets no first screen: the answer is not read at all. The queue,
    the gate and `reviewq queue` never read it either (test_the_gate_never_reads_...)."""
    items = first_open(demo_repo, FIXED_NOW)[0]
    hidden = items[0].change.id
    ctx = Context.open(demo_repo)
    try:
        path = answer_path(ctx.state_dir, "daily")
        header, rows = read_answer(path)
        kept = [r for r in rows if r[0] != hidden]
        assert len(kept) == len(rows) - 1
        header = {**header, "display": None}
        _resealed_without_key(path, header, kept)
        assert stored(demo_repo, FIXED_NOW) is None
        write_answer(path, header, kept, key=b"another user's key, 32 bytes...")
        assert stored(demo_repo, FIXED_NOW) is None
        # The same bytes sealed with this user's key would be read (the control above is the
        # seal, nothing else): this user's own shell can read the key (docs/policy.md).
        write_answer(path, header, kept)
        got = stored(demo_repo, FIXED_NOW)
        assert got is not None and hidden not in got.rows.ids
        # An answer left by this user under a key they no longer have (a new key file: a
        # copied state directory, another machine's answer) is not read either.
        _key_path().write_bytes(b"n" * 32)
        assert stored(demo_repo, FIXED_NOW) is None
    finally:
        ctx.close()
    # The next open keeps a fresh answer (under the new key) with the item in it.
    first_open(demo_repo, FIXED_NOW)
    again = stored(demo_repo, FIXED_NOW)
    assert again is not None and hidden in again.rows.ids


def _recent_all(repo: Path) -> None:
    (repo / ".reviewq.toml").write_text('[scope]\nrecent = "all"\n')


@pytest.mark.parametrize(
    "later", [timedelta(0), timedelta(hours=5), timedelta(days=40), timedelta(days=400)]
)
def test_the_kept_order_and_widths_are_the_screens_at_a_later_open(
    demo_repo: Path, cli, later
) -> None:
    """The first screen's order and column widths, kept with the answer (`stored_display`),
    are what the screen computes from a fresh build at the later moment it is shown."""
    from reviewq.tui.screens.queue import _RowCells, _stored_view, column_maxes, display_order

    _recent_all(demo_repo)
    items = first_open(demo_repo, FIXED_NOW)[0]
    assert (
        cli(
            "--repo", str(demo_repo), "verdict", items[1].change.id, "escalate", "--note", "x"
        ).returncode
        == 0
    )
    first_open(demo_repo, FIXED_NOW)  # keeps the answer with this reviewer's verdict in it
    when = FIXED_NOW + later
    got = stored(demo_repo, when)
    assert got is not None and got.mine
    view = _stored_view(got)
    assert view is not None
    _items, rows, _count, mine, _hidden = first_open(demo_repo, when)
    fresh = display_order(rows, "risk", mine)
    assert [r.id for r in view] == [r.id for r in fresh] == view.ids
    assert list(view) == fresh  # every field, ages counted at `when`
    assert view.maxes == column_maxes(_RowCells(r, mine.get(r.id)) for r in fresh)
    assert view.unmerged == sum(1 for r in fresh if r.unmerged)


def test_a_commit_dated_after_the_answer_leaves_the_order_to_the_screen(demo_repo: Path) -> None:
    """Its age starts counting later than the others': the kept order could go stale, so none
    is kept and the screen sorts the stored rows itself (the rows are still the build's)."""
    from reviewq.tui.screens.queue import _stored_view

    _recent_all(demo_repo)
    commit_ai(demo_repo, "feat from the future", FIXED_NOW + timedelta(hours=2))
    rows = first_open(demo_repo, FIXED_NOW)[1]
    got = stored(demo_repo, FIXED_NOW)
    assert got is not None and got.display["order"] is None and _stored_view(got) is None
    assert got.rows == rows


@settings(max_examples=300, deadline=None)
@given(ages=st.lists(st.floats(0, 3e9, allow_nan=False), min_size=1, max_size=30))
def test_the_age_column_is_as_wide_as_the_oldest_rows_age(ages) -> None:
    """`age_width` reads only the oldest row: the column's width (at least its title's three
    characters) is the same as from every row's text."""
    from reviewq.tui.screens.queue import age_width

    oldest = max(ages)
    when = (FIXED_NOW - timedelta(seconds=oldest)).isoformat()
    every = max(len(human_age(age_from(when, FIXED_NOW) - oldest + a)) for a in ages)
    assert max(3, age_width(when, FIXED_NOW)) == max(3, every)
