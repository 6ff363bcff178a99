"""`log verify`'s checkpoint (store/log_checkpoint.py): used when it still matches, never trusted
otherwise, and the attacks on it by someone with a local shell, push access or the notes ref.

What a checkpoint proves: the bytes [0, size) of the log hash to the digests it holds, and a full
pass over exactly those bytes found an unbroken chain, these ids at these lines and these
signatures. It is sealed with an HMAC key kept in the user's state directory (0600). A checkpoint
that does not match the bytes, is not sealed with this user's key, or is malformed means a full
pass, with the full pass's report: an edit anywhere is still named the same way.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from reviewq.core.verdict import BROKEN_LINK, EDITED, record_line, seal
from reviewq.store import log_checkpoint, log_verify
from reviewq.store.log import Head, ProvenanceLog
from tests.verdict_kit import ai_commit, make_record, raw_lines, rechain, write_log


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl"
    records = [make_record(i, record_id=f"{i:032x}", note=f"note {i}") for i in range(20)]
    records[7] = make_record(7, record_id="not-hex-7", note="note 7")  # the odd-id table
    write_log(path, records)
    return path


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The byte ranges checked line by line (a checkpoint that is used leaves out its bytes)."""
    seen: list[tuple[int, int]] = []
    real = log_verify.check_range

    def check_range(job, start: int, end: int):
        seen.append((start, end))
        return real(job, start, end)

    monkeypatch.setattr(log_verify, "check_range", check_range)
    return seen


def verify(path: Path, *, checkpoint: bool = True, notes=None):
    return ProvenanceLog(path).verify(notes=notes, checkpoint=checkpoint, workers=1)


def report(path: Path, *, checkpoint: bool = True, notes=None) -> dict:
    out = asdict(verify(path, checkpoint=checkpoint, notes=notes))
    out["notes_in_log"] = sorted(out["notes_in_log"])
    return out


def _edit(path: Path, number: int, old: bytes, new: bytes) -> None:
    lines = raw_lines(path)
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_bytes(b"".join(lines))


def _append(path: Path, count: int, start: int = 100) -> None:
    write_log(path, [make_record(start + i, record_id=f"{start + i:032x}") for i in range(count)])


# -- used when it matches -------------------------------------------------------------------------


def test_a_clean_pass_writes_a_checkpoint_and_the_next_run_hashes_instead(
    log_path: Path, spy: list
) -> None:
    full = report(log_path, checkpoint=False)
    assert not log_checkpoint.path_for(log_path).exists()  # --full writes none
    assert report(log_path) == full
    assert log_checkpoint.path_for(log_path).exists()
    spy.clear()
    assert report(log_path) == full
    assert spy == []  # no line was parsed: every byte was covered by the checkpoint


def test_lines_after_the_checkpoint_are_checked_line_by_line(log_path: Path, spy: list) -> None:
    verify(log_path)
    size = log_path.stat().st_size
    _append(log_path, 3)
    full = report(log_path, checkpoint=False)
    spy.clear()
    assert report(log_path) == full
    assert spy == [(size, log_path.stat().st_size)]


def test_the_checkpoint_moves_forward_once_the_tail_is_large(
    log_path: Path, spy: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify(log_path)
    monkeypatch.setattr(log_verify, "REFRESH_BYTES", 1)
    _append(log_path, 3)
    verify(log_path)
    full = report(log_path, checkpoint=False)
    spy.clear()
    assert report(log_path) == full
    assert spy == []  # the checkpoint now covers the appended records too


def test_notes_cross_check_and_unsigned_count_come_out_the_same_from_a_checkpoint(
    log_path: Path, spy: list
) -> None:
    records = [json.loads(line) for line in raw_lines(log_path)]
    notes = {r["id"]: r for r in records[::3]}
    changed = dict(records[4], note="changed on the other side")
    notes[changed["id"]] = changed
    seconds = records[6]["active_seconds"]  # 66 and 66.0: equal in Python, not in JSON
    odd = dict(
        records[6], active_seconds=int(seconds) if isinstance(seconds, float) else float(seconds)
    )
    notes[odd["id"]] = odd
    notes["not-hex-7"] = dict(records[7], verdict="reject")
    full = report(log_path, checkpoint=False, notes=notes)
    assert [f["kind"] for f in full["findings"]].count("notes-mismatch") == 3
    verify(log_path)
    spy.clear()
    assert report(log_path, notes=notes) == full
    assert spy == []


# -- fail closed: attacks ------------------------------------------------------------------------


@pytest.mark.parametrize("number", [1, 2, 8, 13, 20])
def test_local_shell_edit_under_the_checkpoint_is_reported_as_the_full_pass_does(
    log_path: Path, number: int
) -> None:
    """Someone with a shell edits a record the checkpoint covers (same length, hash not
    recomputed): the digests no longer match, the run is a full pass."""
    verify(log_path)
    _edit(log_path, number, b'"hunks_total":2', b'"hunks_total":3')
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (number, EDITED)
    assert report(log_path) == report(log_path, checkpoint=False)


def test_rechained_edit_under_the_checkpoint_gets_what_it_gets_without_one(
    log_path: Path,
) -> None:
    """A forger who recomputes every hash and the head after an edit passes the chain with or
    without a checkpoint (only signatures and the notes ref catch that: test_signing.py)."""
    verify(log_path)
    records = [json.loads(line) for line in raw_lines(log_path)]
    records[3]["verdict"] = "reject"
    rechain(log_path, records)
    assert report(log_path) == report(log_path, checkpoint=False)


def _reseal_digests(log_path: Path) -> None:
    """Recompute a checkpoint's digests for the bytes now in the log, keeping its seal: what
    someone without the user's key can do to the file."""
    path = log_checkpoint.path_for(log_path)
    data = path.read_bytes()
    cut = data.find(b"\n")
    header = json.loads(data[:cut])
    blob = log_path.read_bytes()
    header["segments"] = [
        [a, b, log_checkpoint.hashlib.sha256(blob[a:b]).hexdigest()]
        for a, b, _ in header["segments"]
    ]
    path.write_bytes(json.dumps(header).encode() + b"\n" + data[cut + 1 :])


def test_a_checkpoint_whose_digests_were_recomputed_without_the_key_is_not_used(
    log_path: Path, spy: list
) -> None:
    verify(log_path)
    _edit(log_path, 5, b'"verdict":"approve"', b'"verdict":"reject!"')
    _reseal_digests(log_path)
    spy.clear()
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (5, EDITED)
    assert spy and spy[0][0] == 0


def _forge(log_path: Path, key: bytes) -> None:
    """A whole checkpoint for the log as it is now, claiming a clean chain, sealed with `key`."""
    log = ProvenanceLog(log_path)
    size = log_path.stat().st_size
    job = log_verify._Job(log_path, False, None, None, index=True)
    part = log_verify.check_range(job, 0, size)
    part.problem = None
    part.first = (True, "0" * 64, part.first[2] if part.first else None, True)
    forged = log_verify._merged(None, [part], size)
    assert forged is not None and log is not None
    log_checkpoint.write(log_path, forged, key)


def test_a_checkpoint_sealed_with_another_key_is_not_used(log_path: Path, spy: list) -> None:
    """A pusher (files committed beside a `--log` in the work tree), another account, or a
    copied repository: a checkpoint made elsewhere, with a key other than this user's."""
    verify(log_path)
    _edit(log_path, 12, b'"hunks_total":2', b'"hunks_total":9')
    _forge(log_path, b"k" * 32)
    spy.clear()
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (12, EDITED)
    assert spy and spy[0][0] == 0


def test_with_this_users_key_a_forger_still_fails_full(log_path: Path) -> None:
    """Someone with this user's shell can read the key and forge a checkpoint, as they can
    rewrite the log with recomputed hashes; `--full` trusts no checkpoint."""
    verify(log_path)
    _edit(log_path, 12, b'"hunks_total":2', b'"hunks_total":9')
    key = log_checkpoint.load_key(create=False)
    assert key is not None
    _forge(log_path, key)
    got = verify(log_path, checkpoint=False)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (12, EDITED)


def test_the_key_is_private_to_the_user(log_path: Path) -> None:
    verify(log_path)
    key_path = log_checkpoint._key_path()
    assert key_path.stat().st_mode & 0o077 == 0
    assert not str(key_path).startswith(str(log_path.parent))


@pytest.mark.parametrize(
    "damage",
    ["garbage", "empty", "header-lines", "entries-cut", "entries-swapped", "bigger", "version"],
)
def test_a_damaged_or_edited_checkpoint_means_a_full_pass(
    log_path: Path, spy: list, damage: str
) -> None:
    verify(log_path)
    path = log_checkpoint.path_for(log_path)
    data = path.read_bytes()
    cut = data.find(b"\n")
    header = json.loads(data[:cut])
    entries = data[cut + 1 :]
    if damage == "garbage":
        data = b"\x00garbage"
    elif damage == "empty":
        data = b""
    elif damage == "header-lines":
        header["lines"] += 1
        data = json.dumps(header).encode() + b"\n" + entries
    elif damage == "entries-cut":
        data = data[:-7]
    elif damage == "entries-swapped":
        size = log_checkpoint.ENTRY.size
        data = data[: cut + 1] + entries[size : 2 * size] + entries[:size] + entries[2 * size :]
    elif damage == "bigger":
        header["size"] += 10
        data = json.dumps(header).encode() + b"\n" + entries
    else:
        header["v"] = 99
        data = json.dumps(header).encode() + b"\n" + entries
    path.write_bytes(data)
    _edit(log_path, 9, b'"hunks_total":2', b'"hunks_total":4')
    spy.clear()
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (9, EDITED)
    assert spy[0][0] == 0


def test_an_older_checkpoint_put_back_still_covers_only_its_bytes(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay: the checkpoint of a shorter log, restored after records were appended and one of
    the new ones was edited."""
    verify(log_path)
    old = log_checkpoint.path_for(log_path).read_bytes()
    monkeypatch.setattr(log_verify, "REFRESH_BYTES", 1)
    _append(log_path, 4)
    verify(log_path)  # moves the checkpoint past the new records
    _edit(log_path, 22, b'"hunks_total":2', b'"hunks_total":5')
    log_checkpoint.path_for(log_path).write_bytes(old)
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (22, EDITED)
    assert report(log_path) == report(log_path, checkpoint=False)


def test_truncation_below_the_checkpoint_is_reported(log_path: Path) -> None:
    verify(log_path)
    lines = raw_lines(log_path)
    log_path.write_bytes(b"".join(lines[:10]))
    got = verify(log_path)
    assert got.tail is not None and "truncated" in got.tail.problem
    assert report(log_path) == report(log_path, checkpoint=False)


def test_a_record_removed_and_the_file_padded_to_the_same_size_is_reported(
    log_path: Path,
) -> None:
    verify(log_path)
    lines = raw_lines(log_path)
    removed = lines.pop(4)
    lines[-1] = lines[-1][:-1] + b" " * len(removed) + b"\n"
    log_path.write_bytes(b"".join(lines))
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (5, BROKEN_LINK)
    assert report(log_path) == report(log_path, checkpoint=False)


def test_edit_in_the_lines_after_the_checkpoint(log_path: Path) -> None:
    verify(log_path)
    _append(log_path, 3)
    _edit(log_path, 22, b'"hunks_total":2', b'"hunks_total":6')
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (22, EDITED)


def test_head_behind_the_checkpoint_is_judged_as_without_one(log_path: Path) -> None:
    verify(log_path)
    lines = raw_lines(log_path)
    head_record = json.loads(lines[14])
    ProvenanceLog(log_path)._write_head(Head(15, len(b"".join(lines[:15])), head_record["hash"]))
    assert report(log_path) == report(log_path, checkpoint=False)
    ProvenanceLog(log_path)._write_head(Head(15, len(b"".join(lines[:15])), "e" * 64))
    got = verify(log_path)
    assert got.tail is not None and "rewritten" in got.tail.problem
    assert report(log_path) == report(log_path, checkpoint=False)


def test_no_key_and_no_way_to_make_one_means_full_passes(
    log_path: Path, spy: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = log_path.parent / "state-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    full = report(log_path, checkpoint=False)
    assert report(log_path) == full
    spy.clear()
    assert report(log_path) == full
    assert spy[0][0] == 0
    assert not log_checkpoint.path_for(log_path).exists()


def test_a_broken_log_gets_no_checkpoint(log_path: Path) -> None:
    _edit(log_path, 3, b'"hunks_total":2', b'"hunks_total":7')
    verify(log_path)
    assert not log_checkpoint.path_for(log_path).exists()


# -- a log written to while the pass reads it ------------------------------------------------------
#
# Someone who can write the log (another account with group write access, a process racing the
# user's own run) edits it while `log verify` reads it, to get the run to seal a checkpoint for
# bytes it never checked. A checkpoint may only cover bytes the pass read, parsed as complete
# lines and found clean: the checkpointed report must stay the full pass's report.


def _hash_of(line: bytes) -> str:
    return json.loads(line)["hash"]


def test_a_tail_rewritten_after_the_size_was_taken_gets_no_checkpoint_over_unread_bytes(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run takes the log's size; before it reads, the attacker overwrites the last record
    with bytes of the same length and no newline (the pass reads them as an unterminated tail
    and parses nothing there). Then the attacker appends the last record again: a checkpoint
    that had covered the overwritten bytes would pass a log whose line 20 is not JSON."""
    lines = raw_lines(log_path)
    real = log_verify.check_all

    def racing(path: Path, size: int, **kw):
        path.write_bytes(b"".join(lines[:-1]) + b"x" * len(lines[-1]))
        return real(path, size, **kw)

    monkeypatch.setattr(log_verify, "check_all", racing)
    verify(log_path)
    monkeypatch.setattr(log_verify, "check_all", real)
    with open(log_path, "ab") as fh:
        fh.write(lines[-1])
    ProvenanceLog(log_path)._write_head(
        Head(len(lines), log_path.stat().st_size, _hash_of(lines[-1]))
    )
    full = report(log_path, checkpoint=False)
    assert full["chain"]["index"] == len(lines) and full["chain"]["problem"] == log_verify.NOT_JSON
    assert report(log_path) == full
    cp = log_checkpoint.path_for(log_path)
    assert not cp.exists() or log_checkpoint.read(log_path, _key(), 1 << 40) is None


def _key() -> bytes:
    key = log_checkpoint.load_key(create=False)
    assert key is not None
    return key


def test_a_range_boundary_moved_after_the_split_gets_no_checkpoint_over_unread_bytes(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ranges: after the run has cut the log at a line boundary, the attacker overwrites
    the line before the cut with bytes of the same length and no newline, and rechains the
    lines after it to the line before that one. The first range reads the overwritten bytes as
    an unterminated tail (parsed by no one); the second starts at the cut with a good link."""
    lines = raw_lines(log_path)
    real = log_verify.split

    def racing(path: Path, size: int, parts: int, start: int = 0):
        bounds = real(path, size, parts, start)
        cut = bounds[1][0]
        ends = [len(b"".join(lines[: k + 1])) for k in range(len(lines))]
        k = ends.index(cut)  # line k (from 0) ends at the cut
        prev = _hash_of(lines[k - 1])
        tail = []
        for line in lines[k + 1 :]:
            sealed = seal(json.loads(line), prev)
            prev = sealed["hash"]
            tail.append(record_line(sealed))
        data = b"".join(lines[:k]) + b"x" * len(lines[k]) + b"".join(tail)
        assert len(data) == size
        path.write_bytes(data)
        ProvenanceLog(path)._write_head(Head(len(lines), size, prev))
        return bounds

    monkeypatch.setattr(log_verify, "split", racing)
    ProvenanceLog(log_path).verify(checkpoint=True, workers=2)
    monkeypatch.setattr(log_verify, "split", real)
    full = report(log_path, checkpoint=False)
    assert full["chain"] is not None and full["chain"]["problem"] == log_verify.NOT_JSON
    assert report(log_path) == full


@pytest.mark.parametrize("where", ["read", "unread"])
def test_a_record_edited_while_the_pass_reads_is_reported_as_the_full_pass_does(
    log_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The attacker edits a record (same length) once the pass has read its first chunk: a
    record it has already read (the checkpoint covers the bytes as they were, checked, and the
    next run's digests differ) or one still to come (the pass reads the edit and reports it)."""
    monkeypatch.setattr(log_verify, "_CHUNK", 512)
    number = 2 if where == "read" else 18
    real = log_verify._batches

    def racing(*args, **kw):
        for n, batch in enumerate(real(*args, **kw)):
            yield batch
            if n == 0:
                _edit(log_path, number, b'"hunks_total":2', b'"hunks_total":8')

    monkeypatch.setattr(log_verify, "_batches", racing)
    first = verify(log_path)
    monkeypatch.setattr(log_verify, "_batches", real)
    if where == "unread":
        assert first.chain is not None and first.chain.index == number
    got = verify(log_path)
    assert got.chain is not None and (got.chain.index, got.chain.problem) == (number, EDITED)
    assert report(log_path) == report(log_path, checkpoint=False)


# -- through the CLI ----------------------------------------------------------------------------


def test_cli_tampered_record_same_message_and_exit_code_with_and_without_checkpoint(
    repo, cli
) -> None:
    sha = ai_commit(repo, "feat: one", files={"a.py": "x = 1\n"})
    for note in ("first", "second", "third"):
        assert cli("verdict", sha, "approve", "--note", note, cwd=repo.path).returncode == 0
    first = cli("log", "verify", cwd=repo.path)
    assert first.returncode == 0, first.stderr
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    assert log_checkpoint.path_for(log_path).exists()
    _edit(log_path, 2, b'"note":"second"', b'"note":"secund"')
    default = cli("log", "verify", cwd=repo.path)
    full = cli("log", "verify", "--full", cwd=repo.path)
    assert default.returncode == full.returncode == 1
    assert default.stderr == full.stderr and "record 2" in default.stderr
    assert default.stdout == full.stdout


def test_cli_pushed_log_and_checkpoint_in_the_work_tree_are_not_trusted(
    repo, cli, tmp_path: Path
) -> None:
    """Push access: a CI that runs `reviewq --log ci/log.jsonl log verify` on a checkout gets the
    log and whatever lies beside it from the pusher, who has no key of the CI's user."""
    pushed = repo.path / "ci"
    pushed.mkdir()
    log_path = pushed / "log.jsonl"
    write_log(log_path, [make_record(i, record_id=f"{i:032x}") for i in range(5)])
    _edit(log_path, 3, b'"hunks_total":2', b'"hunks_total":8')
    _forge(log_path, os.urandom(32))  # the pusher's own key
    out = cli("--log", str(log_path), "log", "verify", cwd=repo.path)
    assert out.returncode == 1 and "record 3" in out.stderr and "edited" in out.stderr


def test_cli_notes_ref_edit_is_reported_with_a_checkpoint_in_use(repo, cli) -> None:
    """Notes-ref-only access: the team's copy of a record changed (and re-hashed); the notes
    cross-check runs every time, whatever the local checkpoint says."""
    sha = ai_commit(repo, "feat: two", files={"b.py": "y = 2\n"})
    assert cli("verdict", sha, "approve", "--note", "fine", cwd=repo.path).returncode == 0
    assert cli("log", "rebuild", "--to-notes", cwd=repo.path).returncode == 0
    assert cli("log", "verify", cwd=repo.path).returncode == 0
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    assert log_checkpoint.path_for(log_path).exists()
    record = json.loads(raw_lines(log_path)[0])
    forged = seal({**record, "verdict": "reject"}, record["prev"])
    repo.git("notes", "--ref=reviewq", "add", "-f", "-m", record_line(forged).decode(), sha)
    default = cli("log", "verify", cwd=repo.path)
    full = cli("log", "verify", "--full", cwd=repo.path)
    assert default.returncode == full.returncode == 1
    assert default.stdout == full.stdout and "notes-mismatch" in default.stdout


def test_cli_full_reads_and_writes_no_checkpoint(repo, cli) -> None:
    sha = ai_commit(repo, "feat: three", files={"c.py": "z = 3\n"})
    assert cli("verdict", sha, "approve", cwd=repo.path).returncode == 0
    assert cli("log", "verify", "--full", cwd=repo.path).returncode == 0
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    assert not log_checkpoint.path_for(log_path).exists()


def test_cli_checkpoint_that_cannot_be_written_still_verifies(repo, cli) -> None:
    sha = ai_commit(repo, "feat: four", files={"d.py": "w = 4\n"})
    assert cli("verdict", sha, "approve", cwd=repo.path).returncode == 0
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    log_checkpoint.path_for(log_path).mkdir()  # in the way: neither readable nor replaceable
    for _ in range(2):
        out = cli("log", "verify", cwd=repo.path)
        assert out.returncode == 0, out.stderr
    assert log_checkpoint.path_for(log_path).is_dir()
    assert not list(log_path.parent.glob("*.tmp"))


def test_cli_log_verify_starts_without_numpy(repo, cli) -> None:
    """Start-up: `log verify` reads no column cache, so it does not load numpy for the notice
    the column readers give (about 0.2 s of a run that a checkpoint brings under a second)."""
    import subprocess
    import sys

    sha = ai_commit(repo, "feat: five", files={"e.py": "v = 5\n"})
    assert cli("verdict", sha, "approve", cwd=repo.path).returncode == 0
    probe = (
        "import sys\nfrom reviewq.cli import main\n"
        "code = main(['log', 'verify'])\n"
        "print('numpy' in sys.modules, code)\n"
    )
    for _ in range(2):  # the first run writes the checkpoint (numpy sorts its id table)
        out = subprocess.run(
            [sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True
        )
    assert out.stdout.strip().splitlines()[-1] == "False 0", out.stderr


def test_cli_full_trusts_no_checkpoint_even_one_sealed_with_the_users_key(repo, cli) -> None:
    """This user's own shell can seal a checkpoint over edited bytes (it can read the key, as it
    can rewrite the log with recomputed hashes); `log verify --full` reads no checkpoint."""
    sha = ai_commit(repo, "feat: six", files={"f.py": "u = 6\n"})
    for note in ("one", "two", "three"):
        assert cli("verdict", sha, "approve", "--note", note, cwd=repo.path).returncode == 0
    assert cli("log", "verify", cwd=repo.path).returncode == 0
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    _edit(log_path, 2, b'"note":"two"', b'"note":"owt"')
    key = log_checkpoint.load_key(create=False)
    assert key is not None
    _forge(log_path, key)
    full = cli("log", "verify", "--full", cwd=repo.path)
    assert full.returncode == 1 and "record 2" in full.stderr and "edited" in full.stderr


def test_a_link_planted_where_the_checkpoint_is_written_is_not_followed(
    log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone who can write the log's folder plants links at the names a write could use
    (the pid-based name it had): the checkpoint is written to a new file of its own, and the
    linked file is untouched."""
    victim = log_path.parent / "victim.txt"
    victim.write_text("keep me\n")
    target = log_checkpoint.path_for(log_path)
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    for name in (f"{target.name}.4242.tmp", f"{target.name}.tmp"):
        (target.parent / name).symlink_to(victim)
    verify(log_path)
    assert victim.read_text() == "keep me\n"
    assert target.is_file() and not target.is_symlink()
    key = log_checkpoint.load_key(create=False)
    assert key is not None
    assert log_checkpoint.read(log_path, key, log_path.stat().st_size) is not None
