"""The verdict record and its chain as pure functions (reviewq.core.verdict)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.model import Identity
from reviewq.core.verdict import (
    BROKEN_LINK,
    EDITED,
    GENESIS,
    SettledIndex,
    content_digest,
    dedupe_records,
    line_hash_matches,
    new_record,
    record_hash,
    record_line,
    seal,
    verify_chain,
)
from tests.verdict_kit import make_record


def chain(n: int) -> list[dict]:
    prev, out = GENESIS, []
    for i in range(n):
        sealed = seal(make_record(i), prev)
        prev = sealed["hash"]
        out.append(sealed)
    return out


def test_record_has_the_contract_shape() -> None:
    record = seal(make_record(1, note="fine"), GENESIS)
    for key in (
        "v",
        "id",
        "sha",
        "patch_id",
        "verdict",
        "reviewer",
        "co_reviewers",
        "at",
        "active_seconds",
        "wall_seconds",
        "lines_changed",
        "hunks_total",
        "hunks_viewed",
        "critique",
        "author_family",
        "domain",
        "note",
        "prev",
        "hash",
        "signature",
    ):
        assert key in record, key
    assert record["critique"] == {
        "critic": "static",
        "family": "rules",
        "model": None,
        "opened_before_verdict": True,
        "same_family_allowed": False,
    }
    assert record["reviewer"] == {"name": "Test Reviewer", "email": "reviewer@example.com"}
    assert record["prev"] == GENESIS and record["signature"] is None


def test_stored_line_is_canonical_and_one_line() -> None:
    record = seal(make_record(1, note="two\nlines é"), GENESIS)
    line = record_line(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == record
    assert (
        line
        == (
            json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        ).encode()
    )


def test_hash_covers_prev_and_signature_but_digest_does_not() -> None:
    record = seal(make_record(1), GENESIS)
    moved = seal(record, "1" * 64)
    assert moved["hash"] != record["hash"]
    assert content_digest(moved) == content_digest(record)
    signed = dict(record, signature="sig")
    assert record_hash(signed) != record["hash"]
    assert content_digest(signed) == content_digest(record)


def test_verify_chain_names_edit_removal_and_reorder() -> None:
    records = chain(5)
    assert verify_chain(records) is None

    edited = [dict(r) for r in records]
    edited[2]["verdict"] = "reject"
    problem = verify_chain(edited)
    assert problem is not None and (problem.index, problem.problem) == (3, EDITED)
    assert problem.record_id == "rec-000002"

    removed = records[:2] + records[3:]
    problem = verify_chain(removed)
    assert problem is not None and (problem.index, problem.problem) == (3, BROKEN_LINK)

    reordered = [records[0], records[2], records[1], *records[3:]]
    problem = verify_chain(reordered)
    assert problem is not None and problem.index == 2


def test_line_hash_sees_bytes_a_parser_would_forgive() -> None:
    record = seal(make_record(1), GENESIS)
    line = record_line(record)
    assert line_hash_matches(line, record)
    spaced = line.replace(b'"verdict":"approve"', b'"verdict": "approve"')
    assert json.loads(spaced) == record  # same data...
    assert not line_hash_matches(spaced, json.loads(spaced))  # ...but a changed byte
    escaped = record_line(seal(make_record(1, note="é"), GENESIS))
    rewritten = escaped.replace("é".encode(), b"\\u00e9")
    assert not line_hash_matches(rewritten, json.loads(rewritten))


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_fails_the_line_hash(position: int, flip: int) -> None:
    record = seal(make_record(3, note="a note"), GENESIS)
    line = bytearray(record_line(record).rstrip(b"\n"))
    index = position % len(line)
    line[index] ^= flip
    try:
        parsed = json.loads(bytes(line))
    except ValueError:
        return  # not even JSON any more: verify reports that
    if not isinstance(parsed, dict):
        return
    assert not line_hash_matches(bytes(line), parsed)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("verdict", "lgtm", "verdict must be one of"),
        ("active_seconds", float("nan"), "active_seconds"),
        ("wall_seconds", -1, "wall_seconds"),
        ("hunks_viewed", -2, "hunks_viewed"),
        ("at", "2026-11-20T12:00:00", "offset"),
        ("at", "yesterday", "RFC 3339"),
    ],
)
def test_new_record_refuses_bad_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_record(1, **{field: value})


def test_extra_fields_cannot_overwrite_contract_fields() -> None:
    assert make_record(1, extra={"session": "s1"})["session"] == "s1"
    with pytest.raises(ValueError, match="overwrite"):
        make_record(1, extra={"verdict": "reject"})
    with pytest.raises(ValueError, match="overwrite"):
        make_record(1, extra={"hash": "x"})


def test_co_reviewers_are_identities() -> None:
    record = make_record(1, co_reviewers=[Identity("Pat", "pat@example.com")])
    assert record["co_reviewers"] == [{"name": "Pat", "email": "pat@example.com"}]


def test_dedupe_keeps_first_and_orders_by_instant() -> None:
    late = make_record(1, at="2026-11-20T12:00:00.000+00:00")  # 13:00 at +01:00
    early = make_record(2, at="2026-11-20T12:30:00.000+01:00")  # 11:30 UTC
    copy = dict(late, note="copy")
    out = dedupe_records([late, early, copy])
    assert [r["id"] for r in out] == ["rec-000002", "rec-000001"]
    assert out[1]["note"] == ""


def test_settled_by_sha_content_id_and_latest_verdict_wins() -> None:
    def verdict(i: int, v: str, minute: int, **kw: object) -> dict:
        return make_record(i, verdict=v, at=f"2026-11-20T12:{minute:02d}:00.000+01:00", **kw)

    index = SettledIndex(
        [
            verdict(1, "approve", 0, sha="a" * 40, extra={"content_id": "p" * 40}),
            # Written before content ids: its whitespace-blind stable patch-id matches nothing.
            verdict(8, "approve", 0, sha="9" * 40, patch_id="s" * 40),
            verdict(2, "escalate", 0, sha="b" * 40, patch_id=None),
            verdict(3, "escalate", 1, sha="c" * 40, patch_id=None),
            verdict(4, "approve", 2, sha="c" * 40, patch_id=None),
            verdict(5, "approve", 1, sha="d" * 40, patch_id=None),
            verdict(6, "escalate", 2, sha="d" * 40, patch_id=None),
            verdict(7, "changes", 0, sha=None, patch_id="q" * 40, change_id="inbox:" + "q" * 40),
        ]
    )
    assert index.is_settled(sha="a" * 40, patch_id=None)
    # A rebased copy of the first commit: new sha, same content id.
    assert index.is_settled(sha="e" * 40, patch_id="p" * 40)
    assert index.is_settled(sha="9" * 40, patch_id=None)
    assert not index.is_settled(sha="8" * 40, patch_id="s" * 40)
    assert not index.is_settled(sha="b" * 40, patch_id=None)  # escalated: still pending
    assert index.is_settled(sha="c" * 40, patch_id=None)  # escalated, then approved
    assert not index.is_settled(sha="d" * 40, patch_id=None)  # approved, then escalated
    assert index.is_settled(sha=None, patch_id="q" * 40, change_id="inbox:" + "q" * 40)
    assert not index.is_settled(sha="f" * 40, patch_id="r" * 40)
    assert index.latest(sha="d" * 40, patch_id=None) == "escalate"


def test_new_record_is_json_safe_up_front() -> None:
    with pytest.raises(ValueError):
        new_record(
            record_id="x",
            sha=None,
            change_id="x",
            patch_id=None,
            verdict="approve",
            reviewer=Identity("a", "b"),
            at="2026-11-20T12:00:00+01:00",
            active_seconds=1,
            wall_seconds=1,
            lines_changed=1,
            hunks_total=1,
            hunks_viewed=1,
            critique=None,
            author_family="anthropic",
            extra={"bad": float("inf")},
        )
