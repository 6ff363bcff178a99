"""`LineLabels.rows` and `labels_among` find labels in the stored text itself (a million change
ids stay one block of text): each answer equals the plain one, a lookup a split label."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewq.core.metrics import (
    LineLabels,
    VerdictTable,
    compute_stats,
    labels_among,
    labels_rows,
)
from tests.verdict_kit import make_record

NOW = datetime(2026, 12, 1, tzinfo=UTC)

#: Short alphabets, so labels share prefixes, suffixes and first and last 8 bytes; non-ASCII
#: (two, three and four bytes in UTF-8) among them.
piece = st.text(st.sampled_from("ab0é€😀"), max_size=10)
label = st.one_of(
    piece,
    st.builds(lambda h, m, t: "hhhhhhhh" + m + "tttttttt", st.none(), piece, st.none()),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=20),
)


def _lazy(base: list[str], more: list[str], as_bytearray: bool) -> LineLabels:
    text = "\n".join(base).encode("utf-8", "surrogatepass")
    return LineLabels(bytearray(text) if as_bytearray else text, len(base), "g") + tuple(more)


def _variants(base: list[str], probes: list[str]) -> list[str]:
    """The probes, and prefixes, extensions and cuts of the labels."""
    out = list(probes)
    for x in base[:6]:
        out += [x[:-1], x + "a", x[1:], x + "\n", "\n" + x, x]
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(label, max_size=40),
    st.lists(label, max_size=3),
    st.lists(label, max_size=8),
    st.booleans(),
)
def test_rows_equal_a_lookup_a_label(
    base: list[str], more: list[str], probes: list[str], as_bytearray: bool
) -> None:
    """Duplicates, empty labels, prefixes of others, non-ASCII, labels sharing their first and
    last 8 bytes, wanted ids with a newline (never a stored line)."""
    lazy = _lazy(base, more, as_bytearray)
    plain = tuple(base) + tuple(more)
    wanted = _variants(base, probes)
    positions = {x: i * 3 + 1 for i, x in enumerate(dict.fromkeys(wanted))}
    expected = np.array([positions.get(x, -1) for x in plain], dtype=np.int64)
    got = lazy.rows(positions)
    assert got.dtype == np.int64 and np.array_equal(got, expected)
    assert np.array_equal(labels_rows(plain, positions), expected)
    assert labels_among(lazy, wanted) == set(plain) & set(wanted)
    assert labels_among(plain, wanted) == set(plain) & set(wanted)
    assert lazy._split is None  # found in the text: no string a label


def test_many_labels_of_one_width() -> None:
    """The shape of a real log's change ids (40 hex digits, a block of lines): every row."""
    rng = np.random.default_rng(7)
    ids = [f"{v:040x}" for v in rng.integers(0, 1 << 62, size=200_000, dtype=np.int64)]
    lazy = LineLabels(bytearray("\n".join(ids).encode()), len(ids))
    picked = [ids[i] for i in rng.integers(0, len(ids), size=3000)] + [
        f"{v:040x}" for v in rng.integers(0, 1 << 62, size=1000, dtype=np.int64)
    ]
    positions = {x: i for i, x in enumerate(dict.fromkeys(picked))}
    expected = np.array([positions.get(x, -1) for x in ids], dtype=np.int64)
    assert np.array_equal(lazy.rows(positions), expected)
    assert labels_among(lazy, picked) == set(ids) & set(picked)
    assert lazy._split is None


def test_text_that_does_not_fit_its_count_says_so() -> None:
    """Damaged text (more lines than its count): the plain path's error, not an answer."""
    lazy = LineLabels(b"a\nb\nc", 2)
    try:
        lazy.rows({"a": 0})
    except ValueError as exc:
        assert "count" in str(exc)
    else:
        raise AssertionError("labels that do not fit their count were read")


def _tables(changes: list[int], agents: list[str | None]) -> tuple[VerdictTable, VerdictTable]:
    """One table of records (change numbers `changes`, some naming no agent), with its
    change labels as a tuple and as text."""
    records = []
    for n, (c, agent) in enumerate(zip(changes, agents)):
        record = make_record(
            n, change_id=f"c{c}é", sha=f"{c:040x}", **({"agent": agent} if agent else {})
        )
        records.append(record)
    plain = VerdictTable.from_records(records)
    labels = tuple(plain.changes)
    text = "\n".join(labels).encode("utf-8")
    return plain, replace(plain, changes=LineLabels(bytearray(text), len(labels)))


agent_name = st.sampled_from([None, "claude-code", "aider", "codex"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), agent_name), max_size=14),
    st.dictionaries(
        st.integers(0, 12).map(lambda c: f"c{c}é"), st.sampled_from(["", "aider", "cursor", "x"])
    ),
)
def test_agents_filled_in_as_from_split_labels(rows: list, agent_of: dict) -> None:
    """`with_agents`: the same agents, in the same order, the same code a row."""
    plain, lazy = _tables([c for c, _ in rows], [a for _, a in rows])
    want, got = plain.with_agents(agent_of), lazy.with_agents(agent_of)
    assert got.agents == want.agents
    assert np.array_equal(got.agent, want.agent)
    assert lazy.changes._split is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 9), max_size=14),
    st.dictionaries(
        st.integers(0, 12).map(lambda c: f"c{c}é"),
        st.sampled_from(["info", "warning", "error", "critical"]),
    ),
)
def test_overrides_as_from_split_labels(changes: list[int], severity: dict) -> None:
    """The override rate's severe changes, looked up in the labels' text."""
    plain, lazy = _tables(changes, [None] * len(changes))
    want = compute_stats(plain, now=NOW, severity=severity).to_json()
    assert compute_stats(lazy, now=NOW, severity=severity).to_json() == want
    assert lazy.changes._split is None
