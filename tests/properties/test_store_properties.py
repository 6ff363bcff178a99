"""Property-based tests of the record's stores: the provenance log and the notes ref's merge.

- Any sequence of appends (with writers killed mid-line in between) verifies, reads back exactly
  what was acknowledged, and keeps its head in step.
- Any single change to the file afterwards (a byte edited, inserted or removed, a record removed,
  duplicated or moved, the file cut anywhere) is caught by `log verify`.
- Merging the notes of any two clones keeps every record exactly once: the pure merge
  (`merge_note_lines`, what `git notes merge -s cat_sort_uniq` does) on any input, and the real
  `git notes merge` through `reviewq.store.sync` on fewer inputs (each example runs git).

Runs with the default profile in the normal suite, 10,000 examples each with
`--hypothesis-profile=thorough` (docs/reliability.md).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.core.jsonio import parse_line
from reviewq.core.verdict import (
    content_digest,
    dedupe_records,
    line_hash_matches,
    record_line,
    seal,
    verify_chain,
)
from reviewq.store.log import Head, ProvenanceLog
from reviewq.store.notes_log import NOTES_REF, merge_note_lines, read_verdict_notes
from tests.properties.strategies import at_most, scratch_dir, verdict_records

pytestmark = pytest.mark.property


# -- the log: appends ------------------------------------------------------------------------

#: One step of a writer's life: append one record, append several at once (a rebuild), or die
#: in the middle of writing a line (the bytes of a prefix of a record, no newline).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("append"), verdict_records()),
        st.tuples(st.just("many"), st.lists(verdict_records(), min_size=1, max_size=3)),
        st.tuples(st.just("torn"), st.tuples(verdict_records(), st.floats(0, 0.999))),
    ),
    min_size=1,
    max_size=8,
)


@at_most(1_000)
@given(steps)
def test_any_sequence_of_appends_verifies_and_reads_back(plan) -> None:
    with scratch_dir() as tmp:
        log = ProvenanceLog(Path(tmp) / "log.jsonl")
        acknowledged: list[dict] = []
        for kind, arg in plan:
            if kind == "append":
                acknowledged.append(log.append(arg))
            elif kind == "many":
                acknowledged.extend(log.append_many(arg))
            else:
                record, fraction = arg
                line = record_line(seal(record, "f" * 64))
                with open(log.path, "ab") as fh:  # a writer killed after a partial write()
                    fh.write(line[: int(len(line) * fraction)])
        # Whatever torn tail the last step left is not a record; the next append cuts it.
        assert log.records() == acknowledged
        report = log.verify()
        assert not report.failed(), (report.chain, report.tail)
        assert report.records == len(acknowledged)
        assert verify_chain(acknowledged) is None
        head = log.read_head()
        if acknowledged:
            assert head is not None and head.records == len(acknowledged)
            assert head.hash == acknowledged[-1]["hash"]
        for raw in log.path.read_bytes().split(b"\n")[: len(acknowledged)]:
            assert line_hash_matches(raw, parse_line(raw))


# -- the log: tampering ----------------------------------------------------------------------


def _mutate(data: bytes, lines: list[bytes], kind: str, a: int, b: int, byte: int) -> bytes:
    """One change to the file's bytes; always a change (the caller checks)."""
    if kind == "edit":
        pos = a % len(data)
        new = byte if byte != data[pos] else (byte + 1) % 256
        return data[:pos] + bytes([new]) + data[pos + 1 :]
    if kind == "insert":
        pos = a % (len(data) + 1)
        return data[:pos] + bytes([byte]) + data[pos:]
    if kind == "delete-byte":
        pos = a % len(data)
        return data[:pos] + data[pos + 1 :]
    if kind == "truncate":
        return data[: a % len(data)]
    i, j = a % len(lines), b % len(lines)
    out = list(lines)
    if kind == "drop-record":
        del out[i]
    elif kind == "duplicate-record":
        out.insert(j, lines[i])
    elif kind == "move-record":
        out.insert(j, out.pop(i))
    return b"".join(out)


@at_most(1_000)
@given(
    st.lists(verdict_records(), min_size=1, max_size=6),
    st.sampled_from(
        [
            "edit",
            "insert",
            "delete-byte",
            "truncate",
            "drop-record",
            "duplicate-record",
            "move-record",
        ]
    ),
    st.integers(0, 2**31),
    st.integers(0, 2**31),
    st.integers(0, 255),
)
def test_any_change_to_the_file_is_caught(records, kind, a, b, byte) -> None:
    with scratch_dir() as tmp:
        log = ProvenanceLog(Path(tmp) / "log.jsonl")
        log.append_many(records)
        data = log.path.read_bytes()
        lines = data.splitlines(keepends=True)
        changed = _mutate(data, lines, kind, a, b, byte)
        if changed == data:
            # Moving a record onto its own place, or duplicating nothing: not a change.
            assert kind in ("move-record",)
            return
        log.path.write_bytes(changed)
        report = log.verify()
        if kind == "insert" and a % (len(data) + 1) == len(data) and byte != ord("\n"):
            # Bytes after the last newline are what a writer killed mid-line leaves: never
            # acknowledged, reported, and cut by the next append (not an edit of any record).
            assert not report.failed()
            assert any("interrupted write" in w for w in report.warnings)
            return
        assert report.failed(), (kind, a, b, byte)
        assert report.chain is not None or report.tail is not None


@given(st.binary(max_size=300))
def test_a_damaged_head_is_never_trusted(data: bytes) -> None:
    head = Head.decode(data)
    if head is not None:
        assert head.records >= 0 and head.size >= 0
        assert Head.decode(head.encode()) == head


# -- the notes ref: merge --------------------------------------------------------------------


@st.composite
def two_clones(draw):
    """Records known to two clones: some shared, some only on one side; a shared record may
    sit in the other clone's log re-chained (other prev and hash, same content)."""
    pool = draw(st.lists(verdict_records(), min_size=1, max_size=10, unique_by=lambda r: r["id"]))
    sides = draw(
        st.lists(
            st.sampled_from(["a", "b", "both", "both-rechained"]),
            min_size=len(pool),
            max_size=len(pool),
        )
    )
    a, b = [], []
    for record, side in zip(pool, sides):
        first = seal(record, draw(st.sampled_from(["0" * 64, "1" * 64])))
        if side in ("a", "both", "both-rechained"):
            a.append(first)
        if side in ("b", "both"):
            b.append(first)
        if side == "both-rechained":
            b.append(seal(record, "2" * 64))
    return pool, a, b


def _notes_of(
    records: list[dict], target_of: Callable[[str], str] = lambda key: key
) -> dict[str, list[bytes]]:
    """target -> note lines, as `add_records` writes them (one canonical line per record)."""
    notes: dict[str, list[bytes]] = {}
    for record in records:
        target = target_of(record["sha"] or record["change_id"])
        notes.setdefault(target, []).append(record_line(record).rstrip(b"\n"))
    return notes


def _read_back(notes: dict[str, list[bytes]]) -> list[dict]:
    """What `read_verdict_notes` makes of the lines: intact records, one per id."""
    records = []
    for target in sorted(notes):
        for line in notes[target]:
            record = parse_line(line)
            assert line_hash_matches(line, record)
            records.append(record)
    return dedupe_records(records)


@at_most(500)
@given(two_clones())
def test_merging_any_two_clones_notes_keeps_every_record_once(clones) -> None:
    pool, a, b = clones
    notes_a, notes_b = _notes_of(a), _notes_of(b)
    merged = {
        target: merge_note_lines(notes_a.get(target, []), notes_b.get(target, []))
        for target in set(notes_a) | set(notes_b)
    }
    for lines in merged.values():
        assert lines == sorted(set(lines))  # sorted, unique: what cat_sort_uniq leaves
    records = _read_back(merged)
    ids = [r["id"] for r in records]
    assert sorted(ids) == sorted(r["id"] for r in pool)  # every record, each once
    original = {r["id"]: content_digest(r) for r in pool}
    assert all(content_digest(r) == original[r["id"]] for r in records)
    # The merge is a union: order and repetition do not matter.
    for target, lines in merged.items():
        again = merge_note_lines(notes_b.get(target, []), notes_a.get(target, []), lines)
        assert again == lines


@given(
    st.lists(
        st.lists(st.binary(max_size=12).filter(lambda s: b"\n" not in s), max_size=6), max_size=4
    )
)
def test_merge_note_lines_is_a_sorted_union(notes) -> None:
    merged = merge_note_lines(*notes)
    assert merged == sorted({line for note in notes for line in note if line})
    assert merge_note_lines(*reversed(notes)) == merged
    assert merge_note_lines(merged, *notes) == merged


# -- the notes ref: the real `git notes merge` ------------------------------------------------


class _NotesRepo:
    """One repository for every example: each example writes two notes commits with
    fast-import and merges them with reviewq's own sync code."""

    TARGETS = 12

    def __init__(self, path: Path) -> None:
        from reviewq.sources.gitcmd import Git

        self.path = path
        self.env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Prop",
            "GIT_AUTHOR_EMAIL": "prop@example.com",
            "GIT_COMMITTER_NAME": "Prop",
            "GIT_COMMITTER_EMAIL": "prop@example.com",
        }
        self.run("init", "-q", "-b", "main")
        for i in range(self.TARGETS):
            self.run("commit", "-q", "--allow-empty", "-m", f"target {i}")
        self.targets = self.run("rev-list", "main").decode().split()
        self.git = Git(path, env=self.env)

    def run(self, *args: str, input: bytes | None = None) -> bytes:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, input=input, capture_output=True, env=self.env
        )
        assert proc.returncode == 0, proc.stderr.decode()
        return proc.stdout

    def target_of(self, key: str) -> str:
        """A commit to note a record on (git notes annotate objects that exist)."""
        return self.targets[int(content_digest({"k": key})[:8], 16) % len(self.targets)]

    def notes_commit(self, ref: str, notes: dict[str, list[bytes]]) -> None:
        """`ref` := a root notes commit holding `notes` (target -> lines)."""
        stream = [f"commit {ref}\ncommitter Prop <prop@example.com> 0 +0000\ndata 0\n".encode()]
        stream.append(b"deleteall\n")
        for target, lines in sorted(notes.items()):
            body = b"\n".join(lines) + b"\n"
            stream.append(f"N inline {target}\ndata {len(body)}\n".encode() + body + b"\n")
        self.run("fast-import", "--quiet", "--force", input=b"".join(stream))


_NOTES_REPO: dict[str, Any] = {}


def _notes_repo() -> _NotesRepo:
    if "repo" not in _NOTES_REPO:
        holder = scratch_dir()
        _NOTES_REPO["holder"] = holder
        _NOTES_REPO["repo"] = _NotesRepo(Path(holder.name))
    return _NOTES_REPO["repo"]


#: git runs several times per example: 400 when thorough (121 s of the thorough run at 1,000,
#: which must stay inside .ci/run's 20 minutes), 15 in the default suite.
GIT_EXAMPLES = max(15, settings.default.max_examples // 25)


@settings(max_examples=GIT_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(two_clones())
def test_git_notes_merge_through_sync_keeps_every_record_once(clones) -> None:
    from reviewq.store.sync import merge_remote, tracking_ref

    pool, a, b = clones
    repo = _notes_repo()
    notes_a = _notes_of(a, repo.target_of)
    notes_b = _notes_of(b, repo.target_of)
    repo.notes_commit(NOTES_REF, notes_a)
    repo.notes_commit(tracking_ref("clone-b"), notes_b)
    lock = repo.path / ".git" / "reviewq" / "notes.lock"
    merge_remote(repo.git, "clone-b", lock)
    read = read_verdict_notes(repo.git, keep_lines=True)
    assert read.bad_lines == 0 and not read.edited
    assert sorted(r["id"] for r in read.records) == sorted(r["id"] for r in pool)
    # git's cat_sort_uniq and the pure merge agree line for line.
    by_target: dict[str, list[bytes]] = {}
    for target, line in read.lines or []:
        by_target.setdefault(target, []).append(line)
    for target in set(notes_a) | set(notes_b):
        expected = merge_note_lines(notes_a.get(target, []), notes_b.get(target, []))
        assert sorted(by_target[target]) == expected
