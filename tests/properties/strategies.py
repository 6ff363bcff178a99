"""Hypothesis strategies shared by the property suites: verdict records and scratch space."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from reviewq.core.model import VERDICTS, Identity
from reviewq.core.verdict import CritiqueState, new_record

#: Scratch files for properties that write (the log): tmpfs when there is one, so ten thousand
#: examples measure the code, not the disk's fsync.
SCRATCH = Path("/dev/shm") if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def at_most(examples: int) -> settings:
    """The loaded profile's example count, capped for a property whose examples do real I/O.

    The thorough run draws 10,000 examples of every cheap property; one that writes a log, builds
    column files or runs git per example stops at `examples` there (docs/reliability.md lists
    each count), so `.ci/run` stays inside its budget. The quick default run is unchanged.
    """
    return settings(
        max_examples=min(settings.default.max_examples, examples),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def io_examples(quick: int, thorough: int) -> settings:
    """For a property whose every example runs git or writes a log: `quick` examples in the
    default suite (which must stay inside its 5 minutes), `thorough` in the thorough run."""
    wanted = thorough if settings.default.max_examples > 1_000 else quick
    return at_most(wanted)


def scratch_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="reviewq-prop-", dir=SCRATCH)


#: Any text a record may carry: every plane, controls, bidi, quotes and backslashes (JSON's
#: escapes), but no lone surrogates (record_verdict cleans those; see test_text_properties).
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
hexes = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40)
seconds = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
counts = st.integers(min_value=0, max_value=10**6)
json_leaf = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | any_text
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([timezone(timedelta(minutes=m)) for m in (-480, 0, 60, 330, 840)]),
)


@st.composite
def verdict_records(draw, record_id: str | None = None) -> dict:
    """An unsealed verdict record as `record_verdict` builds one, with arbitrary content."""
    sha = draw(st.none() | hexes)
    critique = draw(
        st.none()
        | st.builds(
            CritiqueState,
            st.sampled_from(["static", "anthropic", "openai"]),
            st.sampled_from(["rules", "anthropic", "openai", "qwen"]),
            st.none() | any_text,
            st.booleans(),
            st.booleans(),
        )
    )
    extra = draw(
        st.dictionaries(
            st.sampled_from(["checklist", "x_team", "pair", "ticket"]), json_value, max_size=2
        )
    )
    return new_record(
        record_id=record_id or draw(st.uuids()).hex,
        sha=sha,
        change_id=sha or f"inbox:{draw(hexes)}",
        patch_id=draw(st.none() | hexes),
        verdict=draw(st.sampled_from(VERDICTS)),
        reviewer=Identity(draw(any_text), draw(any_text)),
        at=draw(instants).isoformat(timespec="milliseconds"),
        active_seconds=draw(seconds),
        wall_seconds=draw(seconds),
        lines_changed=draw(counts),
        hunks_total=draw(counts),
        hunks_viewed=draw(counts),
        critique=critique,
        author_family=draw(st.sampled_from(["anthropic", "openai", "google", "unknown"])),
        domain=draw(st.sampled_from(["default", "auth", "ci, auth"])),
        note=draw(any_text),
        co_reviewers=draw(st.lists(st.builds(Identity, any_text, any_text), max_size=2)),
        agent=draw(st.none() | any_text),
        model=draw(st.none() | any_text),
        extra=extra,
    )
