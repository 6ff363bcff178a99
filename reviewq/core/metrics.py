"""Review-throughput and automation metrics, as pure functions over verdict records and scans.

Every figure is defined once in docs/metrics.md; the names here follow it. Nothing here reads
the clock, git or files: `now`, the time zone, the AI-authored changes, all commits' sizes,
critique severities and thresholds come in as arguments.

Why columns and numpy: a lead's log grows to a million verdicts, and grouping a million dicts
seven ways in a Python loop takes seconds. So records are turned into columns once
(`VerdictTable.from_records`, the only per-record Python work) and every figure is a
vectorised count, sum or sort over those columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np

from reviewq.core.alloc import gc_paused
from reviewq.core.model import VERDICTS, Change
from reviewq.core.verdict import SETTLING_VERDICTS

#: Verdicts are stored as their index in VERDICTS.
APPROVE, REJECT, CHANGES, ESCALATE = (
    VERDICTS.index(v) for v in ("approve", "reject", "changes", "escalate")
)
#: Verdict codes that settle a change (the contract's rule, `core.verdict.SETTLING_VERDICTS`);
#: they are also the decisions (escalate decides nothing).
SETTLING = np.array([VERDICTS.index(v) for v in SETTLING_VERDICTS], dtype=np.int8)
#: Critique severities that make an approval an override (docs/metrics.md: override rate).
SEVERE = frozenset({"error", "critical"})
#: Author families that name no model: a second family cannot be proved against them.
UNKNOWN_FAMILIES = frozenset({"unknown", "other"})
#: Critic families that are not language models, hence never the author's family.
NON_MODEL_CRITICS = frozenset({"rules"})
#: Upper bounds (seconds) of the review-time histogram's bins; the last bin is open.
TIME_BINS: tuple[tuple[str, float], ...] = (
    ("<30s", 30),
    ("30s-1m", 60),
    ("1-2m", 120),
    ("2-5m", 300),
    ("5-10m", 600),
    ("10-30m", 1800),
    ("30-60m", 3600),
    (">60m", float("inf")),
)
_DAY = 86400
# Attribute readers for map(): the change lists can be hundreds of thousands long.
_id, _family, _agent = (attrgetter(a) for a in ("id", "family", "agent"))
_committed_at = attrgetter("committed_at")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When an approval counts as a possible rubber stamp (Cisco/SmartBear; docs/metrics.md)."""

    max_lines_per_hour: float = 500.0
    min_active_seconds: float = 30.0
    min_hunks_viewed_share: float = 0.5

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# -- inputs from the scan side ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthoredChange:
    """What the metrics need of an AI-authored change (from `scan_history`)."""

    id: str
    committed_at: str
    family: str
    agent: str
    role: str = "primary"
    lines_changed: int = 0
    domain: str | None = None


def authored_changes(
    changes: Iterable[Change], domain_of: Mapping[str, str] | None = None
) -> list[AuthoredChange]:
    return [
        AuthoredChange(
            id=c.id,
            committed_at=c.commit.committed_at,
            family=c.authorship.family,
            agent=c.authorship.agent,
            role=c.authorship.role,
            lines_changed=c.stats.lines_changed if c.stats else 0,
            domain=(domain_of or {}).get(c.id),
        )
        for c in changes
    ]


@dataclass(frozen=True)
class ChangeTable:
    """The AI-authored changes as columns, built once (the stats screen recomputes per period)."""

    ids: list[str]
    epoch: np.ndarray  # commit time; NaN when unreadable
    offset: np.ndarray  # committer's UTC offset, seconds
    family: np.ndarray  # int32 -> families
    agent: np.ndarray  # int32 -> agents
    families: tuple[str, ...]
    agents: tuple[str, ...]
    #: change id -> row
    position: dict[str, int]

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_changes(cls, changes: Sequence[AuthoredChange]) -> ChangeTable:
        epoch, offset, ok = parse_instants(list(map(_committed_at, changes)))
        epoch[~ok] = np.nan
        family, families = _factorize(list(map(_family, changes)))
        agent, agents = _factorize(list(map(_agent, changes)))
        ids = list(map(_id, changes))
        return cls(
            ids=ids,
            epoch=epoch,
            offset=offset,
            family=family,
            agent=agent,
            families=tuple(families),
            agents=tuple(agents),
            position=dict(zip(ids, range(len(ids)))),
        )

    def agent_of(self) -> dict[str, str]:
        return dict(zip(self.ids, (self.agents[a] for a in self.agent.tolist())))


@dataclass(frozen=True, slots=True)
class CommitSize:
    """One commit of the history and the lines it changed (for the automation share)."""

    sha: str
    committed_at: str
    lines_changed: int


@dataclass(frozen=True)
class CommitTable:
    """Every commit of the history as columns (a long history is hundreds of thousands).

    `epoch` is NaN where the commit time was unreadable; `offset` is the committer's UTC
    offset in seconds.
    """

    sha: list[str]
    epoch: np.ndarray
    offset: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.sha)

    @classmethod
    def from_sizes(cls, sizes: Sequence[CommitSize]) -> CommitTable:
        epoch, offset, ok = parse_instants([c.committed_at for c in sizes])
        epoch[~ok] = np.nan
        return cls(
            sha=[c.sha for c in sizes],
            epoch=epoch,
            offset=offset,
            lines=np.array([max(0, c.lines_changed) for c in sizes], dtype=np.float64),
        )


# -- time --------------------------------------------------------------------------------------


def parse_instant(text: Any) -> datetime | None:
    """An RFC 3339 time with an offset, or None (a time without an offset is not an instant)."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None and value.utcoffset() is not None else None


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (Howard Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _parse_fixed(strings: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Vectorised parse of same-length `YYYY-MM-DDTHH:MM:SS[.fff...](+HH:MM|Z)` strings.

    Returns (epoch seconds, offset seconds, valid mask), or None when the shape is not that.
    """
    length = len(strings[0])
    if length < 20:
        return None
    try:
        raw = "".join(strings).encode("ascii")
    except (TypeError, UnicodeEncodeError):
        return None
    b = np.frombuffer(raw, dtype=np.uint8).reshape(len(strings), length)
    zulu = length in (20, 24, 27) and bool(np.all(b[:, -1] == ord("Z")))
    if not zulu and length not in (25, 29, 32):
        return None
    frac_len = length - (20 if zulu else 25)  # "." and the fraction's digits
    ok = np.ones(len(strings), dtype=bool)
    for pos, ch in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
        ok &= b[:, pos] == ord(ch)
    digit_pos = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
    if frac_len:
        ok &= b[:, 19] == ord(".")
        digit_pos += list(range(20, 19 + frac_len))
    if not zulu:
        sign_col = b[:, length - 6]
        ok &= ((sign_col == ord("+")) | (sign_col == ord("-"))) & (b[:, length - 3] == ord(":"))
        digit_pos += [length - 5, length - 4, length - 2, length - 1]
    # One gather of the digit columns, transposed so each digit is a contiguous row; below
    # "0" wraps around in uint8 and fails the <= 9 test.
    digits = np.ascontiguousarray((b[:, digit_pos] - np.uint8(48)).T)
    ok &= np.all(digits <= 9, axis=0)
    row = {pos: i for i, pos in enumerate(digit_pos)}

    def num(start: int, n: int) -> np.ndarray:
        out = digits[row[start]].astype(np.int64)
        for i in range(1, n):
            out = out * 10 + digits[row[start + i]]
        return out

    year, month, day = num(0, 4), num(5, 2), num(8, 2)
    hour, minute, second = num(11, 2), num(14, 2), num(17, 2)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    if zulu:
        offset = np.zeros(len(strings), dtype=np.int64)
    else:
        sign = np.where(b[:, length - 6] == ord("-"), -1, 1)
        offset = sign * (num(length - 5, 2) * 3600 + num(length - 2, 2) * 60)
        ok &= np.abs(offset) < _DAY
    # Day overflow (Feb 30) is caught by comparing with the calendar below.
    days = _days_from_civil(year, np.clip(month, 1, 12), day)
    days_next_month = _days_from_civil(
        year + (month == 12), np.where(month == 12, 1, np.clip(month + 1, 1, 12)), np.ones_like(day)
    )
    ok &= days < days_next_month
    local = days * _DAY + hour * 3600 + minute * 60 + second
    epoch = local - offset
    return (
        epoch.astype(np.float64)
        + (num(20, frac_len - 1) / 10 ** (frac_len - 1) if frac_len else 0),
        offset,
        ok,
    )


def parse_instants(strings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(epoch seconds, UTC offset seconds, valid) for RFC 3339 strings.

    Strings of one shape (what one writer produces) are parsed together as a byte matrix;
    anything else falls back to `parse_instant`, one at a time, with the same result.
    """
    n = len(strings)
    epoch = np.zeros(n, dtype=np.float64)
    offset = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    try:
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=n)
    except TypeError:
        lengths = np.array([len(s) if isinstance(s, str) else -1 for s in strings], np.int64)
    distinct = np.unique(lengths)
    for length in distinct.tolist():
        idx = np.arange(n) if len(distinct) == 1 else np.nonzero(lengths == length)[0]
        group = list(strings) if len(distinct) == 1 else [strings[i] for i in idx.tolist()]
        parsed = _parse_fixed(group) if length > 0 else None
        retry = idx
        if parsed is not None:
            epoch[idx], offset[idx], valid[idx] = parsed
            retry = idx[~parsed[2]]
        for i in retry.tolist():
            when = parse_instant(strings[i])
            if when is not None:
                delta = when.utcoffset()
                epoch[i] = when.timestamp()
                offset[i] = int(delta.total_seconds()) if delta is not None else 0
                valid[i] = True
    return epoch, offset, valid


def local_days(epoch: np.ndarray, offset: np.ndarray, tz: tzinfo | None) -> np.ndarray:
    """Day number (days since 1970-01-01) of each instant: in its own offset, or in `tz`."""
    seconds = np.floor(epoch).astype(np.int64)
    if tz is None:
        return np.floor_divide(seconds + offset, _DAY)
    return np.floor_divide(seconds + tz_offsets(seconds, tz), _DAY)


def tz_offsets(seconds: np.ndarray, tz: tzinfo) -> np.ndarray:
    """UTC offset of `tz` at each instant; computed once per distinct hour (DST moves on hours)."""
    if isinstance(tz, timezone):
        off = tz.utcoffset(None)
        return np.full(len(seconds), int(off.total_seconds()), dtype=np.int64)
    hours, inverse = np.unique(np.floor_divide(seconds, 3600), return_inverse=True)
    per_hour = np.array(
        [
            int(
                datetime.fromtimestamp(int(h) * 3600, UTC)
                .astimezone(tz)
                .utcoffset()
                .total_seconds()
            )  # type: ignore[union-attr]
            for h in hours.tolist()
        ],
        dtype=np.int64,
    )
    return per_hour[inverse] if len(per_hour) else np.zeros(0, dtype=np.int64)


def day_label(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=int(day))).isoformat()


def week_of(day: np.ndarray) -> np.ndarray:
    """Monday-based week number: 1970-01-01 was a Thursday, so day 0 sits in week 0 (Mon 12-29)."""
    return np.floor_divide(day + 3, 7)


def week_label(week: int) -> str:
    monday = date(1970, 1, 1) + timedelta(days=int(week) * 7 - 3)
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


def week_start(week: int) -> str:
    return day_label(int(week) * 7 - 3)


# -- verdict records as columns ----------------------------------------------------------------


def _factorize(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """Integer codes and their labels, in order of first appearance."""
    try:
        labels = list(dict.fromkeys(values))
    except TypeError:  # a malformed record put a list or dict where a string belongs
        values = [_hashable(v) for v in values]
        labels = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(labels)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values))
    return codes, labels


def _hashable(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_hashable(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _numbers(values: Sequence[Any]) -> np.ndarray:
    """Floats; anything that is not a finite, non-negative number becomes NaN (an invalid row)."""
    try:
        out = np.fromiter(values, dtype=np.float64, count=len(values))
    except (TypeError, ValueError):
        out = np.array(
            [
                float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
                for v in values
            ],
            dtype=np.float64,
        )
    out[~np.isfinite(out) | (out < 0)] = np.nan
    return out


def _change_key(record: Mapping[str, Any]) -> str | None:
    for key in ("change_id", "sha", "patch_id"):
        value = record.get(key)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class VerdictTable:
    """Valid verdict records as parallel columns; labels decode the integer code columns.

    A record without a known verdict, a readable `at` with an offset, or non-negative numbers is
    left out and counted in `invalid` (figures must not silently mix in broken evidence).
    """

    verdict: np.ndarray  # int8, index into VERDICTS
    epoch: np.ndarray  # float64 seconds since 1970 UTC
    offset: np.ndarray  # int64 seconds east of UTC, as the record wrote it
    active: np.ndarray  # float64 seconds
    lines: np.ndarray  # float64
    hunks_total: np.ndarray  # float64
    hunks_viewed: np.ndarray  # float64
    reviewer: np.ndarray  # int32 -> reviewers
    agent: np.ndarray  # int32 -> agents
    family: np.ndarray  # int32 -> families
    domain: np.ndarray  # int32 -> domains
    critique: np.ndarray  # int8: 0 none, 1 present
    critique_opened: np.ndarray  # bool
    critic_family: np.ndarray  # int32 -> critic_families ("" when none)
    same_family_allowed: np.ndarray  # bool
    change: np.ndarray  # int32 -> changes (record's change id)
    reviewers: tuple[str, ...]
    reviewer_names: tuple[str, ...]
    agents: tuple[str, ...]
    families: tuple[str, ...]
    domains: tuple[str, ...]
    critic_families: tuple[str, ...]
    changes: tuple[str, ...]
    invalid: int = 0

    def __len__(self) -> int:
        return len(self.verdict)

    @classmethod
    def from_records(
        cls,
        records: Sequence[Mapping[str, Any]],
        agent_of: Mapping[str, str] | None = None,
    ) -> VerdictTable:
        """Columns from contract-shaped verdict dicts (in any order; order never matters).

        `agent_of` (change id -> agent) fills in records written before the record carried
        its agent (see `with_agents`); without it they keep the MISSING agent until
        `compute_stats` fills it from its changes.
        """
        with gc_paused():
            table = cls._from_records(records)
        return table if agent_of is None else table.with_agents(agent_of)

    @classmethod
    def _from_records(cls, records: Sequence[Mapping[str, Any]]) -> VerdictTable:
        rows = [r for r in records if isinstance(r, dict)]
        dropped = len(records) - len(rows)
        n = len(rows)
        is_dict = dict
        # Everything categorical in one flat tuple per record, factorised once: tens of
        # thousands of distinct profiles instead of eight factorisations of a million values.
        profiles = [
            (
                r.get("verdict"),
                rv.get("email") if (named := type(rv := r.get("reviewer")) is is_dict) else None,
                named and rv.get("name"),
                r.get("author_family"),
                r.get("agent"),
                r.get("domain"),
                c.get("family") if (has := type(c := r.get("critique")) is is_dict) else None,
                has and c.get("opened_before_verdict"),
                has and c.get("same_family_allowed"),
                has,
            )
            for r in rows
        ]
        pcodes, plabels = _factorize(profiles)
        get = dict.get
        change_ids = list(map(get, rows, repeat("change_id")))
        if None in change_ids or "" in change_ids:
            change_ids = [c or _change_key(r) or "" for c, r in zip(change_ids, rows)]
        ccodes, clabels = _factorize(change_ids)
        active = _numbers(list(map(get, rows, repeat("active_seconds"))))
        lines = _numbers(list(map(get, rows, repeat("lines_changed"))))
        hunks_total = _numbers(list(map(get, rows, repeat("hunks_total"))))
        hunks_viewed = _numbers(list(map(get, rows, repeat("hunks_viewed"))))
        epoch, offset, when_ok = parse_instants(list(map(get, rows, repeat("at"))))

        # Decode profiles into per-dimension code tables (a Python loop over the uniques only).
        dims: dict[str, dict[str, int]] = {
            k: {} for k in ("reviewer", "agent", "family", "domain", "critic")
        }
        names: dict[str, str] = {}

        def code(dim: str, label: str) -> int:
            table = dims[dim]
            if label not in table:
                table[label] = len(table)
            return table[label]

        def text(value: Any, default: str) -> str:
            return value.strip() if isinstance(value, str) and value.strip() else default

        p = len(plabels)
        p_verdict = np.full(p, -1, dtype=np.int8)
        p_rev, p_agent, p_fam, p_dom, p_cfam = (np.zeros(p, dtype=np.int32) for _ in range(5))
        p_crit, p_open, p_same = (np.zeros(p, dtype=bool) for _ in range(3))
        code("critic", "")
        for i, profile in enumerate(plabels):
            verdict, email, name, family, agent, domain, cfam, opened, same, has = profile
            if verdict in VERDICTS:
                p_verdict[i] = VERDICTS.index(verdict)
            # One reviewer is one email, however the name was spelled that day.
            key = text(email, "").lower() or text(name, "").lower() or "(unknown)"
            names.setdefault(key, text(name, key))
            p_rev[i] = code("reviewer", key)
            p_fam[i] = code("family", text(family, "unknown"))
            p_agent[i] = code("agent", text(agent, MISSING))
            p_dom[i] = code("domain", text(domain, "default"))
            if has:
                p_crit[i] = True
                p_open[i] = opened is True
                p_same[i] = same is True
                p_cfam[i] = code("critic", text(cfam, "unknown"))

        agent = p_agent[pcodes]
        verdict = p_verdict[pcodes]
        ok = (verdict >= 0) & when_ok
        for column in (active, lines, hunks_total, hunks_viewed):
            ok &= ~np.isnan(column)
        invalid = dropped + int(n - ok.sum())

        everything_valid = invalid == dropped

        def keep(a: np.ndarray) -> np.ndarray:
            return a if everything_valid else a[ok]

        return cls(
            verdict=keep(verdict),
            epoch=keep(epoch),
            offset=keep(offset),
            active=keep(active),
            lines=keep(lines),
            hunks_total=keep(hunks_total),
            hunks_viewed=keep(hunks_viewed),
            reviewer=keep(p_rev[pcodes]),
            agent=keep(agent),
            family=keep(p_fam[pcodes]),
            domain=keep(p_dom[pcodes]),
            critique=keep(p_crit[pcodes].astype(np.int8)),
            critique_opened=keep(p_open[pcodes]),
            critic_family=keep(p_cfam[pcodes]),
            same_family_allowed=keep(p_same[pcodes]),
            change=keep(ccodes),
            reviewers=tuple(dims["reviewer"]),
            reviewer_names=tuple(names[k] for k in dims["reviewer"]),
            agents=tuple(dims["agent"]),
            families=tuple(dims["family"]),
            domains=tuple(dims["domain"]),
            critic_families=tuple(dims["critic"]),
            changes=tuple(clabels),
            invalid=invalid,
        )

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in COLUMNS}

    def labels(self) -> dict[str, tuple[str, ...]]:
        return {name: getattr(self, name) for name in LABELS}

    def select(self, mask: np.ndarray) -> VerdictTable:
        """The rows where `mask` holds (labels unchanged)."""
        columns = {name: column[mask] for name, column in self.columns().items()}
        return VerdictTable(**columns, **self.labels(), invalid=self.invalid)

    def with_agents(self, agent_of: Mapping[str, str]) -> VerdictTable:
        """Rows whose record named no agent get the scan's agent for their change, else
        "unknown" (records written before the record carried its agent)."""
        if MISSING not in self.agents:
            return self
        agents = list(self.agents)
        index = {a: i for i, a in enumerate(agents)}

        def code(label: str) -> int:
            if label not in index:
                index[label] = len(agents)
                agents.append(label)
            return index[label]

        per_change = np.array(
            [code(agent_of.get(c) or "unknown") for c in self.changes], dtype=np.int32
        )
        missing = self.agent == index[MISSING]
        agent = np.where(missing, per_change[self.change] if len(per_change) else 0, self.agent)
        agent = agent.astype(np.int32)
        labels = self.labels()
        labels["agents"] = tuple(agents)
        columns = self.columns()
        columns["agent"] = agent
        return VerdictTable(**columns, **labels, invalid=self.invalid)

    @classmethod
    def concat(cls, tables: Sequence[VerdictTable]) -> VerdictTable:
        """One table of all rows; labels are merged and codes renumbered."""
        tables = list(tables)
        if len(tables) == 1:
            return tables[0]
        columns: dict[str, list[np.ndarray]] = {name: [] for name in COLUMNS}
        merged: dict[str, dict[str, int]] = {name: {} for name in LABELS}
        names: dict[str, str] = {}
        for t in tables:
            remap = {}
            for name, labels in t.labels().items():
                if name == "reviewer_names":
                    continue
                table = merged[name]
                remap[name] = np.array(
                    [table.setdefault(label, len(table)) for label in labels], dtype=np.int32
                )
            for key, name in zip(t.reviewers, t.reviewer_names):
                names.setdefault(key, name)
            for name, column in t.columns().items():
                label_set = CODED.get(name)
                if label_set is not None and len(column):
                    column = remap[label_set][column]
                columns[name].append(column)
        reviewers = tuple(merged["reviewers"])
        return cls(
            **{name: np.concatenate(parts) for name, parts in columns.items()},
            **{name: tuple(table) for name, table in merged.items() if name != "reviewer_names"},
            reviewer_names=tuple(names[k] for k in reviewers),
            invalid=sum(t.invalid for t in tables),
        )


#: Column and label names of a VerdictTable, and which labels each code column indexes.
COLUMNS = (
    "verdict",
    "epoch",
    "offset",
    "active",
    "lines",
    "hunks_total",
    "hunks_viewed",
    "reviewer",
    "agent",
    "family",
    "domain",
    "critique",
    "critique_opened",
    "critic_family",
    "same_family_allowed",
    "change",
)
LABELS = (
    "reviewers",
    "reviewer_names",
    "agents",
    "families",
    "domains",
    "critic_families",
    "changes",
)
CODED = {
    "reviewer": "reviewers",
    "agent": "agents",
    "family": "families",
    "domain": "domains",
    "critic_family": "critic_families",
    "change": "changes",
}
#: The agent label of a record that named none, until `with_agents` fills it in.
MISSING = ""


# -- per-record judgements -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Flags:
    """Per-row booleans every grouping reuses (computed once)."""

    approve: np.ndarray
    decisive: np.ndarray
    too_fast: np.ndarray
    too_short: np.ndarray
    hunks_unviewed: np.ndarray
    critique_unopened: np.ndarray
    rubber: np.ndarray
    second_family: np.ndarray
    same_family: np.ndarray
    severe: np.ndarray
    override: np.ndarray
    timed: np.ndarray
    critiqued: np.ndarray
    #: lines and active seconds of the rows with active time (the review rate's terms)
    timed_lines: np.ndarray
    timed_active: np.ndarray
    #: every counted flag of a row packed into one integer (bit i = _COUNTED[i])
    bits: np.ndarray


#: VerdictFigures field -> _Flags field, for the flags counted per group.
_COUNTED = (
    ("rubber_stamps", "rubber"),
    ("too_fast", "too_fast"),
    ("too_short", "too_short"),
    ("hunks_unviewed", "hunks_unviewed"),
    ("critique_unopened", "critique_unopened"),
    ("critiqued", "critiqued"),
    ("second_family", "second_family"),
    ("same_family", "same_family"),
    ("severe", "severe"),
    ("overrides", "override"),
)
_COMBOS = 1 << len(_COUNTED)
#: _BITS[m, i] is bit i of flag combination m: combination counts @ _BITS = flag counts.
_BITS = (np.arange(_COMBOS)[:, None] >> np.arange(len(_COUNTED))[None, :]) & 1


def _flags(t: VerdictTable, th: Thresholds, severity: Mapping[str, str] | None) -> _Flags:
    approve = t.verdict == APPROVE
    decisive = np.isin(t.verdict, SETTLING)
    # Faster than the limit: lines / (active / 3600) > limit, written without dividing by zero.
    too_fast = approve & (t.lines * 3600.0 > th.max_lines_per_hour * t.active)
    too_short = approve & (t.active < th.min_active_seconds)
    hunks_unviewed = (
        approve & (t.hunks_total > 0) & (t.hunks_viewed < th.min_hunks_viewed_share * t.hunks_total)
    )
    critique_unopened = approve & (t.critique == 1) & ~t.critique_opened
    rubber = too_fast | too_short | hunks_unviewed | critique_unopened

    author_unknown = (
        np.array([f in UNKNOWN_FAMILIES for f in t.families], dtype=bool)[t.family]
        if len(t.families)
        else np.zeros(len(t), dtype=bool)
    )
    cfam = list(t.critic_families)
    critic_rules = np.array([f in NON_MODEL_CRITICS for f in cfam], dtype=bool)[t.critic_family]
    critic_unknown = np.array([f in ("", "unknown") for f in cfam], dtype=bool)[t.critic_family]
    # Compare families by label: author and critic codes live in different tables.
    fam_to_critic = np.array(
        [cfam.index(f) if f in cfam else -1 for f in t.families], dtype=np.int32
    )
    same_label = (
        fam_to_critic[t.family] == t.critic_family
        if len(t.families)
        else np.zeros(len(t), dtype=bool)
    )
    has = t.critique == 1
    second_family = has & (critic_rules | (~critic_unknown & ~author_unknown & ~same_label))
    same_family = has & (t.same_family_allowed | (same_label & ~author_unknown))

    if severity:
        change_severe = np.array([severity.get(c) in SEVERE for c in t.changes], dtype=bool)
        severe = change_severe[t.change] if len(t.changes) else np.zeros(len(t), dtype=bool)
    else:
        severe = np.zeros(len(t), dtype=bool)
    flags = {
        "approve": approve,
        "decisive": decisive,
        "too_fast": too_fast,
        "too_short": too_short,
        "hunks_unviewed": hunks_unviewed,
        "critique_unopened": critique_unopened,
        "rubber": rubber,
        "second_family": second_family,
        "same_family": same_family,
        "severe": severe & decisive,
        "override": severe & approve,
        "timed": t.active > 0,
        "critiqued": has,
    }
    bits = np.zeros(len(t), dtype=np.int64)
    for i, (_, name) in enumerate(_COUNTED):
        bits |= flags[name].astype(np.int64) << i
    return _Flags(
        **flags,
        timed_lines=np.where(flags["timed"], t.lines, 0.0),
        timed_active=np.where(flags["timed"], t.active, 0.0),
        bits=bits,
    )


# -- results ---------------------------------------------------------------------------------------


def _rate(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass
class VerdictFigures:
    """Verdict figures of one group of records (everything, a week, a reviewer, ...)."""

    key: str
    label: str
    approve: int = 0
    reject: int = 0
    changes: int = 0
    escalate: int = 0
    active_median_seconds: float | None = None
    active_p90_seconds: float | None = None
    lines_reviewed: int = 0
    active_seconds: float = 0.0
    lines_per_hour: float | None = None
    rubber_stamps: int = 0
    too_fast: int = 0
    too_short: int = 0
    hunks_unviewed: int = 0
    critique_unopened: int = 0
    critiqued: int = 0
    second_family: int = 0
    same_family: int = 0
    severe: int = 0
    overrides: int = 0

    @property
    def verdicts(self) -> int:
        return self.approve + self.reject + self.changes + self.escalate

    @property
    def decisive(self) -> int:
        return self.approve + self.reject + self.changes

    @property
    def acceptance_rate(self) -> float | None:
        return _rate(self.approve, self.decisive)

    @property
    def rejection_rate(self) -> float | None:
        return _rate(self.reject, self.decisive)

    @property
    def changes_rate(self) -> float | None:
        return _rate(self.changes, self.decisive)

    @property
    def rubber_stamp_rate(self) -> float | None:
        return _rate(self.rubber_stamps, self.approve)

    @property
    def second_family_rate(self) -> float | None:
        return _rate(self.second_family, self.verdicts)

    @property
    def override_rate(self) -> float | None:
        return _rate(self.overrides, self.severe)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "verdicts": self.verdicts,
            "approve": self.approve,
            "reject": self.reject,
            "changes": self.changes,
            "escalate": self.escalate,
            "acceptance_rate": _round(self.acceptance_rate),
            "rejection_rate": _round(self.rejection_rate),
            "changes_rate": _round(self.changes_rate),
            "active_median_seconds": _round(self.active_median_seconds, 1),
            "active_p90_seconds": _round(self.active_p90_seconds, 1),
            "lines_reviewed": self.lines_reviewed,
            "active_seconds": round(self.active_seconds, 1),
            "lines_per_hour": _round(self.lines_per_hour, 1),
            "rubber_stamps": self.rubber_stamps,
            "rubber_stamp_rate": _round(self.rubber_stamp_rate),
            "rubber_stamp_reasons": {
                "too_fast": self.too_fast,
                "too_short": self.too_short,
                "hunks_unviewed": self.hunks_unviewed,
                "critique_unopened": self.critique_unopened,
            },
            "critiqued": self.critiqued,
            "second_family": self.second_family,
            "second_family_rate": _round(self.second_family_rate),
            "same_family_overrides": self.same_family,
            "severe_findings_verdicts": self.severe,
            "overrides": self.overrides,
            "override_rate": _round(self.override_rate),
        }


@dataclass
class Flow:
    """Commit-side figures of one period: what arrived, what was reviewed, what waits."""

    commits: int = 0
    lines: int = 0
    ai_commits: int = 0
    ai_lines: int = 0
    ai_changes: int = 0
    reviewed_changes: int = 0
    pickups: int = 0
    pickup_median_seconds: float | None = None
    pickup_p90_seconds: float | None = None
    queue_depth_at_end: int = 0

    @property
    def commit_share(self) -> float | None:
        return _rate(self.ai_commits, self.commits)

    @property
    def line_share(self) -> float | None:
        return _rate(self.ai_lines, self.lines)

    @property
    def coverage(self) -> float | None:
        return _rate(self.reviewed_changes, self.ai_changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "commits": self.commits,
            "lines": self.lines,
            "ai_commits": self.ai_commits,
            "ai_lines": self.ai_lines,
            "automation_commit_share": _round(self.commit_share),
            "automation_line_share": _round(self.line_share),
            "ai_changes": self.ai_changes,
            "reviewed_changes": self.reviewed_changes,
            "review_coverage": _round(self.coverage),
            "pickups": self.pickups,
            "pickup_median_seconds": _round(self.pickup_median_seconds, 1),
            "pickup_p90_seconds": _round(self.pickup_p90_seconds, 1),
            "queue_depth_at_end": self.queue_depth_at_end,
        }


@dataclass
class Period:
    key: str
    start: str
    verdicts: VerdictFigures
    flow: Flow

    def to_json(self) -> dict[str, Any]:
        data = {"period": self.key, "start": self.start}
        data.update({k: v for k, v in self.verdicts.to_json().items() if k not in ("key", "label")})
        data.update(self.flow.to_json())
        return data


@dataclass
class Queue:
    depth: int = 0
    oldest_pending_id: str | None = None
    oldest_pending_seconds: float | None = None
    pickups: int = 0
    pickup_median_seconds: float | None = None
    pickup_p90_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "depth": self.depth,
            "oldest_pending_id": self.oldest_pending_id,
            "oldest_pending_seconds": _round(self.oldest_pending_seconds, 0),
            "pickups": self.pickups,
            "pickup_median_seconds": _round(self.pickup_median_seconds, 1),
            "pickup_p90_seconds": _round(self.pickup_p90_seconds, 1),
        }


@dataclass
class Stats:
    """Everything `stats`, the stats screen and the report show."""

    generated_at: str
    since: str | None
    tz: str
    thresholds: Thresholds
    records: int
    invalid_records: int
    totals: VerdictFigures
    flow: Flow
    queue: Queue
    by_day: list[Period] = field(default_factory=list)
    by_week: list[Period] = field(default_factory=list)
    by_reviewer: list[VerdictFigures] = field(default_factory=list)
    by_agent: list[VerdictFigures] = field(default_factory=list)
    by_family: list[VerdictFigures] = field(default_factory=list)
    by_domain: list[VerdictFigures] = field(default_factory=list)
    #: family -> (AI-authored changes, of which reviewed); agent likewise.
    coverage_by_family: dict[str, tuple[int, int]] = field(default_factory=dict)
    coverage_by_agent: dict[str, tuple[int, int]] = field(default_factory=dict)
    critic_families: dict[str, int] = field(default_factory=dict)
    #: (bin label, count) of active review time over all verdicts.
    review_time_histogram: list[tuple[str, int]] = field(default_factory=list)
    #: None: no commit history was given (automation share unknown, not zero).
    automation_known: bool = False
    critique_findings_known: bool = False

    def to_json(self) -> dict[str, Any]:
        def with_cov(rows: list[VerdictFigures], cov: dict[str, tuple[int, int]]):
            out = []
            for row in rows:
                data = row.to_json()
                if cov:
                    total, reviewed = cov.get(row.key, (0, 0))
                    data.update(
                        ai_changes=total,
                        reviewed_changes=reviewed,
                        review_coverage=_round(_rate(reviewed, total)),
                    )
                out.append(data)
            return out

        flow = self.flow.to_json()
        return {
            "generated_at": self.generated_at,
            "since": self.since,
            "tz": self.tz,
            "thresholds": self.thresholds.to_json(),
            "records": self.records,
            "invalid_records": self.invalid_records,
            "totals": self.totals.to_json(),
            "queue": self.queue.to_json(),
            "coverage": {
                "ai_changes": self.flow.ai_changes,
                "reviewed_changes": self.flow.reviewed_changes,
                "rate": flow["review_coverage"],
            },
            "automation": {
                "known": self.automation_known,
                "commits": self.flow.commits,
                "ai_commits": self.flow.ai_commits,
                "lines": self.flow.lines,
                "ai_lines": self.flow.ai_lines,
                "commit_share": flow["automation_commit_share"],
                "line_share": flow["automation_line_share"],
            },
            "critique_findings_known": self.critique_findings_known,
            "critic_families": dict(self.critic_families),
            "review_time_histogram": [
                {"bin": label, "verdicts": count} for label, count in self.review_time_histogram
            ],
            "by_week": [p.to_json() for p in self.by_week],
            "by_day": [p.to_json() for p in self.by_day],
            "by_reviewer": [r.to_json() for r in self.by_reviewer],
            "by_agent": with_cov(self.by_agent, self.coverage_by_agent),
            "by_family": with_cov(self.by_family, self.coverage_by_family),
            "by_domain": [r.to_json() for r in self.by_domain],
        }


# -- grouping ----------------------------------------------------------------------------------------


def quantile_sorted(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, "type 7") of sorted values."""
    n = len(values)
    if n == 0:
        return None
    pos = q * (n - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    return float(values[lo] + (pos - lo) * (values[hi] - values[lo]))


def _small(codes: np.ndarray) -> np.ndarray:
    """Codes in the narrowest unsigned type: numpy's stable sort is a radix sort up to 16 bits."""
    top = int(codes.max()) if len(codes) else 0
    if top < 2**8:
        return codes.astype(np.uint8)
    if top < 2**16:
        return codes.astype(np.uint16)
    return codes


def _group_quantiles(
    codes: np.ndarray, values: np.ndarray, groups: int, qs: Sequence[float], order: np.ndarray
) -> list[np.ndarray]:
    """Per-group quantiles. `order` sorts `values`; a stable sort by code keeps that inside groups."""
    by_group = order[np.argsort(_small(codes)[order], kind="stable")]
    sorted_values = values[by_group]
    counts = np.bincount(codes, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if groups else np.zeros(0, np.int64)
    out = []
    for q in qs:
        pos = q * np.maximum(counts - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(counts - 1, 0))
        frac = pos - lo
        if len(sorted_values):
            a = sorted_values[np.minimum(starts + lo, len(sorted_values) - 1)]
            b = sorted_values[np.minimum(starts + hi, len(sorted_values) - 1)]
            res = a + frac * (b - a)
        else:
            res = np.zeros(groups)
        out.append(np.where(counts > 0, res, np.nan))
    return out


def _figures(
    t: VerdictTable,
    f: _Flags,
    codes: np.ndarray,
    groups: int,
    keys: Sequence[str],
    labels: Sequence[str],
    active_order: np.ndarray,
) -> list[VerdictFigures]:
    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=groups)

    kinds = len(VERDICTS)
    per_verdict = np.bincount(codes * kinds + t.verdict, minlength=groups * kinds)
    per_verdict = per_verdict.reshape(groups, kinds)
    median, p90 = _group_quantiles(codes, t.active, groups, (0.5, 0.9), active_order)
    timed_lines, timed_active = total(f.timed_lines), total(f.timed_active)
    all_lines, all_active = total(t.lines), total(t.active)
    # One count of flag combinations per group instead of one pass per flag.
    combos = np.bincount(codes * _COMBOS + f.bits, minlength=groups * _COMBOS)
    counted = combos.reshape(groups, _COMBOS) @ _BITS
    columns = {name: counted[:, i] for i, (name, _) in enumerate(_COUNTED)}
    out = []
    for g in range(groups):
        row = VerdictFigures(
            key=keys[g],
            label=labels[g],
            approve=int(per_verdict[g, APPROVE]),
            reject=int(per_verdict[g, REJECT]),
            changes=int(per_verdict[g, CHANGES]),
            escalate=int(per_verdict[g, ESCALATE]),
            active_median_seconds=None if np.isnan(median[g]) else float(median[g]),
            active_p90_seconds=None if np.isnan(p90[g]) else float(p90[g]),
            lines_reviewed=int(all_lines[g]),
            active_seconds=float(all_active[g]),
            lines_per_hour=_rate(float(timed_lines[g]), float(timed_active[g]) / 3600.0),
            **{k: int(v[g]) for k, v in columns.items()},
        )
        out.append(row)
    return out


def _by_dimension(
    t: VerdictTable,
    f: _Flags,
    codes: np.ndarray,
    keys: Sequence[str],
    labels: Sequence[str],
    active_order: np.ndarray,
) -> list[VerdictFigures]:
    """Figures per label that occurs, most verdicts first (ties by key)."""
    rows = _figures(t, f, codes, len(keys), keys, labels, active_order)
    return sorted((r for r in rows if r.verdicts), key=lambda r: (-r.verdicts, r.key))


def _quantiles(values: np.ndarray) -> tuple[float | None, float | None]:
    ordered = np.sort(values)
    return quantile_sorted(ordered, 0.5), quantile_sorted(ordered, 0.9)


# -- the whole computation ---------------------------------------------------------------------------


def tz_name(tz: tzinfo | None) -> str:
    if tz is None:
        return "record"
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    return "UTC" if tz.utcoffset(None) == timedelta(0) else str(tz)


def compute_stats(
    table: VerdictTable | Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    changes: ChangeTable | Sequence[AuthoredChange] = (),
    commits: CommitTable | Sequence[CommitSize] | None = None,
    severity: Mapping[str, str] | None = None,
    since: datetime | None = None,
    tz: tzinfo | None = None,
    thresholds: Thresholds | RowThresholds = Thresholds(),
    days: bool = True,
) -> Stats:
    """Every figure of docs/metrics.md.

    `table`: verdict records (dicts) or their columns. `changes`: the AI-authored changes of the
    history. `commits`: every commit with its size, or None when unknown (the automation share
    is then reported as unknown, not as zero). `severity`: change id -> the highest severity its
    critique found, for the override rate. `since` limits verdicts, commits and changes to
    those at or after it; the queue is always as of `now`. `tz`: None buckets each record by
    the day in its own offset (the reviewer's day); a tzinfo buckets everything in that zone.
    `days=False` leaves `by_day` empty (the report shows weeks; a team report computes a
    hundred repositories' figures and the day rows were half the work).
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    if not isinstance(changes, ChangeTable):
        changes = ChangeTable.from_changes(changes)
    if not isinstance(table, VerdictTable):
        table = VerdictTable.from_records(table)
    if MISSING in table.agents:
        table = table.with_agents(changes.agent_of())
    since_epoch = since.timestamp() if since is not None else None
    now_epoch = now.timestamp()
    # Pickup and settling look at every verdict: a change reviewed before `since` is reviewed.
    side = _ChangeSide.build(table, changes, since_epoch, now_epoch, tz)
    history = _CommitSide.build(commits, changes.position, since_epoch, tz)
    if since_epoch is not None:
        kept = table.epoch >= since_epoch
        table = table.select(kept)
        if isinstance(thresholds, RowThresholds):
            thresholds = thresholds.select(kept)
    f = _flags(table, thresholds, severity)  # type: ignore[arg-type]
    order = np.argsort(table.active)  # equal values are interchangeable: no need for stable
    totals = _figures(table, f, np.zeros(len(table), np.int64), 1, ["all"], ["all"], order)[0]

    flow = Flow(
        ai_changes=int(side.in_range.sum()),
        reviewed_changes=int((side.in_range & side.reviewed).sum()),
        pickups=side.queue.pickups,
        pickup_median_seconds=side.queue.pickup_median_seconds,
        pickup_p90_seconds=side.queue.pickup_p90_seconds,
        queue_depth_at_end=side.queue.depth,
    )
    if history is not None:
        ok, ai = history.ok, history.ok & history.ai
        flow.commits, flow.ai_commits = int(ok.sum()), int(ai.sum())
        flow.lines, flow.ai_lines = int(history.lines[ok].sum()), int(history.lines[ai].sum())

    rec_day = local_days(table.epoch, table.offset, tz)
    has = table.critique == 1
    critic_counts = np.bincount(table.critic_family[has], minlength=len(table.critic_families))
    bounds = np.array([b for _, b in TIME_BINS[:-1]], dtype=np.float64)
    hist = np.bincount(
        np.searchsorted(bounds, table.active, side="right"), minlength=len(TIME_BINS)
    )
    return Stats(
        generated_at=now.isoformat(timespec="seconds"),
        since=since.isoformat(timespec="seconds") if since is not None else None,
        tz=tz_name(tz),
        thresholds=thresholds,
        records=len(table),
        invalid_records=table.invalid,
        totals=totals,
        flow=flow,
        queue=side.queue,
        by_day=_periods("day", table, f, order, rec_day, side, history, tz, now_epoch)
        if days
        else [],
        by_week=_periods("week", table, f, order, rec_day, side, history, tz, now_epoch),
        by_reviewer=_by_dimension(
            table, f, table.reviewer, table.reviewers, table.reviewer_names, order
        ),
        by_agent=_by_dimension(table, f, table.agent, table.agents, table.agents, order),
        by_family=_by_dimension(table, f, table.family, table.families, table.families, order),
        by_domain=_by_dimension(table, f, table.domain, table.domains, table.domains, order),
        coverage_by_family=side.coverage(changes.family, changes.families),
        coverage_by_agent=side.coverage(changes.agent, changes.agents),
        critic_families=dict(
            sorted(
                ((table.critic_families[i], int(n)) for i, n in enumerate(critic_counts) if n),
                key=lambda kv: (-kv[1], kv[0]),
            )
        ),
        review_time_histogram=[(label, int(n)) for (label, _), n in zip(TIME_BINS, hist)],
        automation_known=history is not None,
        critique_findings_known=bool(severity),
    )


@dataclass
class _ChangeSide:
    """The AI-authored changes as arrays: when each arrived, was picked up and was settled."""

    epoch: np.ndarray  # commit time (NaN when unreadable)
    day: np.ndarray  # commit day
    known: np.ndarray
    in_range: np.ndarray  # known and at or after `since`
    first_any: np.ndarray  # first verdict of any kind (NaN: none)
    settled: np.ndarray  # latest verdict up to now is a settling one
    settles: np.ndarray  # sorted instants at which a change became settled
    unsettles: np.ndarray  # sorted instants at which a settled change became pending again
    pick_day: np.ndarray  # day of the first verdict, in its record's offset or tz
    picked: np.ndarray  # has a first verdict, at or after `since`
    usual_offset: int
    queue: Queue

    @property
    def reviewed(self) -> np.ndarray:
        return ~np.isnan(self.first_any)

    @classmethod
    def build(
        cls,
        t: VerdictTable,
        changes: ChangeTable,
        since_epoch: float | None,
        now_epoch: float,
        tz: tzinfo | None,
    ) -> _ChangeSide:
        epoch, offset = changes.epoch, changes.offset
        known = ~np.isnan(epoch)
        in_range = known & (epoch >= since_epoch) if since_epoch is not None else known
        target = _targets(t, changes)
        first_any, first_offset = _first_verdicts(t, target, len(changes))
        settled, settles, unsettles = _settling(t, target, len(changes), epoch, now_epoch)
        picked = known & ~np.isnan(first_any)
        if since_epoch is not None:
            picked &= first_any >= since_epoch
        return cls(
            epoch=epoch,
            day=local_days(np.nan_to_num(epoch), offset, tz),
            known=known,
            in_range=in_range,
            first_any=first_any,
            settled=settled,
            settles=settles,
            unsettles=unsettles,
            pick_day=local_days(np.nan_to_num(first_any), first_offset, tz),
            picked=picked,
            usual_offset=_usual_offset(offset[known]),
            queue=_queue(changes, epoch, settled, first_any, picked, now_epoch),
        )

    @property
    def waits(self) -> np.ndarray:
        """Pickup time of each picked-up change (a verdict before the commit time counts 0)."""
        return np.maximum(0.0, self.first_any[self.picked] - self.epoch[self.picked])

    def backlog_at(self, ends: np.ndarray) -> np.ndarray:
        """Changes committed by each instant and not settled at it."""
        arrivals = np.sort(self.epoch[self.known])
        return (
            np.searchsorted(arrivals, ends, side="right")
            - np.searchsorted(self.settles, ends, side="right")
            + np.searchsorted(self.unsettles, ends, side="right")
        )

    def coverage(self, codes: np.ndarray, uniques: Sequence[str]) -> dict[str, tuple[int, int]]:
        """label -> (AI-authored changes in range, of which reviewed), per change label."""
        total = np.bincount(codes[self.in_range], minlength=len(uniques))
        done = np.bincount(codes[self.in_range & self.reviewed], minlength=len(uniques))
        return {u: (int(total[i]), int(done[i])) for i, u in enumerate(uniques) if total[i]}


@dataclass
class _CommitSide:
    """Every commit of the history: when, how many lines, whether AI-authored."""

    day: np.ndarray
    lines: np.ndarray
    ai: np.ndarray
    ok: np.ndarray  # readable time, at or after `since`

    @classmethod
    def build(
        cls,
        commits: CommitTable | Sequence[CommitSize] | None,
        ai_ids: Mapping[str, int],
        since_epoch: float | None,
        tz: tzinfo | None,
    ) -> _CommitSide | None:
        if commits is None:
            return None
        if not isinstance(commits, CommitTable):
            commits = CommitTable.from_sizes(commits)
        ok = ~np.isnan(commits.epoch)
        if since_epoch is not None:
            ok &= commits.epoch >= since_epoch
        return cls(
            day=local_days(np.nan_to_num(commits.epoch), commits.offset, tz),
            lines=commits.lines,
            ai=np.fromiter(map(ai_ids.__contains__, commits.sha), bool, len(commits)),
            ok=ok,
        )


def _periods(
    unit: str,
    table: VerdictTable,
    f: _Flags,
    order: np.ndarray,
    rec_day: np.ndarray,
    side: _ChangeSide,
    history: _CommitSide | None,
    tz: tzinfo | None,
    now_epoch: float,
) -> list[Period]:
    """One row per day or ISO week, from the first to the last with any activity, gaps included
    (a trend line must show the quiet weeks)."""

    def to_unit(days: np.ndarray) -> np.ndarray:
        return days if unit == "day" else week_of(days)

    r_units = to_unit(rec_day)
    c_units, p_units = to_unit(side.day), to_unit(side.pick_day)
    m_units = to_unit(history.day) if history is not None else None
    present = [r_units, c_units[side.in_range]]
    if history is not None and m_units is not None:
        present.append(m_units[history.ok])
    present = [u for u in present if len(u)]
    if not present:
        return []
    first = int(min(u.min() for u in present))
    last = int(max(u.max() for u in present))
    span = list(range(first, last + 1))
    groups = len(span)
    keys = [day_label(u) if unit == "day" else week_label(u) for u in span]
    starts = [day_label(u) if unit == "day" else week_start(u) for u in span]
    figs = _figures(table, f, (r_units - first).astype(np.int64), groups, keys, keys, order)

    def per_group(
        units: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None
    ) -> np.ndarray:
        return np.bincount(
            (units[mask] - first).astype(np.int64),
            weights=None if weights is None else weights[mask],
            minlength=groups,
        )

    ai_changes = per_group(c_units, side.in_range)
    reviewed = per_group(c_units, side.in_range & side.reviewed)
    pick_codes = (p_units[side.picked] - first).astype(np.int64)
    waits = side.waits
    pickups = np.bincount(pick_codes, minlength=groups)
    pick_med, pick_p90 = _group_quantiles(pick_codes, waits, groups, (0.5, 0.9), np.argsort(waits))
    ends = np.array([_period_end_epoch(u, unit, tz, side.usual_offset, now_epoch) for u in span])
    depth = side.backlog_at(ends)
    zeros = np.zeros(groups)
    n_commits = n_lines = n_ai = n_ai_lines = zeros
    if history is not None and m_units is not None:
        ai = history.ok & history.ai
        n_commits = per_group(m_units, history.ok)
        n_lines = per_group(m_units, history.ok, history.lines)
        n_ai = per_group(m_units, ai)
        n_ai_lines = per_group(m_units, ai, history.lines)
    out = []
    for g in range(groups):
        flow = Flow(
            commits=int(n_commits[g]),
            lines=int(n_lines[g]),
            ai_commits=int(n_ai[g]),
            ai_lines=int(n_ai_lines[g]),
            ai_changes=int(ai_changes[g]),
            reviewed_changes=int(reviewed[g]),
            pickups=int(pickups[g]),
            pickup_median_seconds=None if np.isnan(pick_med[g]) else float(pick_med[g]),
            pickup_p90_seconds=None if np.isnan(pick_p90[g]) else float(pick_p90[g]),
            queue_depth_at_end=int(depth[g]),
        )
        out.append(Period(keys[g], starts[g], figs[g], flow))
    return out


def _targets(t: VerdictTable, changes: ChangeTable) -> np.ndarray:
    """Row of `changes` each record belongs to, -1 for records of other changes."""
    if not len(changes) or not len(t):
        return np.full(len(t), -1, dtype=np.int64)
    label_to_change = np.fromiter(
        map(changes.position.get, t.changes, repeat(-1)), dtype=np.int64, count=len(t.changes)
    )
    return label_to_change[t.change]


def _first_verdicts(t: VerdictTable, target: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per change (`target`: each record's change row, -1 for none): epoch of its first verdict
    of any kind, and the UTC offset it was recorded in (NaN and 0 without one). Record order
    never matters."""
    first_any = np.full(n, np.inf)
    first_offset = np.zeros(n, dtype=np.int64)
    hit = target >= 0
    np.minimum.at(first_any, target[hit], t.epoch[hit])
    # The offset of the record that holds the minimum (ties: any of them, same instant).
    at_first = np.nonzero(hit)[0]
    at_first = at_first[t.epoch[at_first] == first_any[target[at_first]]]
    first_offset[target[at_first]] = t.offset[at_first]
    first_any[np.isinf(first_any)] = np.nan
    return first_any, first_offset


def _settling(
    t: VerdictTable, target: np.ndarray, n: int, commit_epoch: np.ndarray, now_epoch: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When each change was settled, by the rule of `core.verdict.SettledIndex`: the latest
    verdict decides, approve, reject and changes settle, escalate reopens.

    Returns (settled now, per change), and the sorted instants at which changes became settled
    and became pending again; a transition before the commit time counts at the commit time.
    """
    settled = np.zeros(n, dtype=bool)
    idx = np.nonzero((target >= 0) & (t.epoch <= now_epoch))[0]
    if not len(idx):
        return settled, np.zeros(0), np.zeros(0)
    idx = idx[np.lexsort((t.epoch[idx], target[idx]))]  # by change, then time
    row, when = target[idx], t.epoch[idx]
    state = np.isin(t.verdict[idx], SETTLING)
    first = np.r_[True, row[1:] != row[:-1]]
    last = np.r_[row[1:] != row[:-1], True]
    before = np.r_[False, state[:-1]] & ~first
    moved = state != before
    when = np.maximum(when, commit_epoch[row])
    settled[row[last]] = state[last]
    return settled, np.sort(when[moved & state]), np.sort(when[moved & ~state])


def _usual_offset(offsets: np.ndarray) -> int:
    """The most common UTC offset among the commits: the team's usual zone (UTC when none)."""
    if not len(offsets):
        return 0
    values, counts = np.unique(offsets, return_counts=True)
    return int(values[np.argmax(counts)])


def _period_end_epoch(
    unit_index: int, unit: str, tz: tzinfo | None, record_offset: int, now_epoch: float
) -> float:
    """The instant a day or week ends, capped at now. Bucketing by each record's own offset
    has no single end of day, so the backlog is counted at the end of the day in the usual
    offset of the commits."""
    last_day = unit_index if unit == "day" else unit_index * 7 - 3 + 6
    local_end = (last_day + 1) * _DAY
    if tz is None:
        off = record_offset
    else:
        probe = datetime.fromtimestamp(local_end, UTC).replace(tzinfo=None)
        delta = tz.utcoffset(probe)
        off = int(delta.total_seconds()) if delta is not None else 0
    return min(float(local_end - off), now_epoch)


def _queue(
    changes: ChangeTable,
    change_epoch: np.ndarray,
    settled: np.ndarray,
    first_any: np.ndarray,
    picked: np.ndarray,
    now_epoch: float,
) -> Queue:
    """The backlog as of now (`since` does not shrink it) and the pickup times in range."""
    arrived = ~np.isnan(change_epoch) & (change_epoch <= now_epoch)
    pending = arrived & ~settled
    queue = Queue(depth=int(pending.sum()))
    if queue.depth:
        idx = np.nonzero(pending)[0]
        oldest = int(idx[np.argmin(change_epoch[idx])])
        queue.oldest_pending_id = changes.ids[oldest]
        queue.oldest_pending_seconds = float(now_epoch - change_epoch[oldest])
    waits = np.maximum(0.0, first_any[picked] - change_epoch[picked])
    queue.pickups = int(picked.sum())
    queue.pickup_median_seconds, queue.pickup_p90_seconds = _quantiles(waits)
    return queue


# -- several repositories as one ---------------------------------------------------------------


@dataclass(frozen=True)
class RowThresholds:
    """Rubber-stamp thresholds per verdict row: a team's table joins repositories whose
    `[metrics]` settings differ, and each row is judged by its own repository's thresholds.
    `_flags` reads the same three names, so arrays broadcast where numbers stood."""

    max_lines_per_hour: np.ndarray
    min_active_seconds: np.ndarray
    min_hunks_viewed_share: np.ndarray
    #: The repositories' own thresholds, in order (what the report shows).
    each: tuple[Thresholds, ...] = ()

    def select(self, mask: np.ndarray) -> RowThresholds:
        return RowThresholds(
            self.max_lines_per_hour[mask],
            self.min_active_seconds[mask],
            self.min_hunks_viewed_share[mask],
            self.each,
        )

    def to_json(self) -> None:
        return None  # no one set: each repository's own (the report lists them per repository)


@dataclass(frozen=True)
class RepositoryTables:
    """One repository's metric inputs, as `compute_stats` takes them."""

    table: VerdictTable
    changes: ChangeTable
    commits: CommitTable | None
    severity: Mapping[str, str]
    thresholds: Thresholds


@dataclass(frozen=True)
class CombinedTables:
    table: VerdictTable
    changes: ChangeTable
    commits: CommitTable | None
    severity: dict[str, str]
    thresholds: Thresholds | RowThresholds


def combine_repositories(parts: Sequence[RepositoryTables]) -> CombinedTables:
    """Every row of every repository in one set of tables, so a team's totals are computed from
    rows exactly as one repository's are (never averages of averages).

    Change ids (and the shas of AI-authored commits) are namespaced by the repository's
    position (`3:<sha>`): two clones of one project hold the same shas and must count twice,
    and a verdict belongs to its own repository's change. Reviewers stay one person across
    repositories (by email).
    """

    def tag(i: int, values: Iterable[str]) -> list[str]:
        prefix = f"{i}:"
        return [prefix + v for v in values]

    tables, change_parts, commit_parts = [], [], []
    severity: dict[str, str] = {}
    for i, part in enumerate(parts):
        t = part.table
        tables.append(
            VerdictTable(
                **t.columns(),
                **{**t.labels(), "changes": tuple(tag(i, t.changes))},
                invalid=t.invalid,
            )
        )
        change_parts.append(part.changes)
        if part.commits is not None:
            # Only a commit's membership in its repository's changes matters: AI-authored
            # commits get the namespaced id of their change; the others keep their sha, which
            # no namespaced id (it has a colon) can equal. A million new strings fewer.
            prefix, own = f"{i}:", part.changes.position
            commit_parts.append(
                CommitTable(
                    sha=[prefix + s if s in own else s for s in part.commits.sha],
                    epoch=part.commits.epoch,
                    offset=part.commits.offset,
                    lines=part.commits.lines,
                )
            )
        severity.update(zip(tag(i, part.severity), part.severity.values()))
    table = VerdictTable.concat(tables) if tables else VerdictTable.from_records([])
    families: dict[str, int] = {}
    agents: dict[str, int] = {}
    ids: list[str] = []
    fam_codes, agent_codes = [], []
    for i, c in enumerate(change_parts):
        ids += tag(i, c.ids)
        fmap = np.array([families.setdefault(f, len(families)) for f in c.families], np.int32)
        amap = np.array([agents.setdefault(a, len(agents)) for a in c.agents], np.int32)
        fam_codes.append(fmap[c.family] if len(c) else np.zeros(0, np.int32))
        agent_codes.append(amap[c.agent] if len(c) else np.zeros(0, np.int32))

    def cat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)

    changes = ChangeTable(
        ids=ids,
        epoch=cat([c.epoch for c in change_parts], np.float64),
        offset=cat([c.offset for c in change_parts], np.int64),
        family=cat(fam_codes, np.int32),
        agent=cat(agent_codes, np.int32),
        families=tuple(families),
        agents=tuple(agents),
        position=dict(zip(ids, range(len(ids)))),
    )
    commits = None
    if parts and len(commit_parts) == len(parts):
        commits = CommitTable(
            sha=[s for c in commit_parts for s in c.sha],
            epoch=cat([c.epoch for c in commit_parts], np.float64),
            offset=cat([c.offset for c in commit_parts], np.int64),
            lines=cat([c.lines for c in commit_parts], np.float64),
        )
    each = tuple(p.thresholds for p in parts)
    thresholds: Thresholds | RowThresholds
    if len(set(each)) <= 1:
        thresholds = each[0] if each else Thresholds()
    else:
        sizes = [len(p.table) for p in parts]
        thresholds = RowThresholds(
            *(
                np.repeat(np.array([getattr(th, name) for th in each], np.float64), sizes)
                for name in ("max_lines_per_hour", "min_active_seconds", "min_hunks_viewed_share")
            ),
            each=each,
        )
    return CombinedTables(table, changes, commits, severity, thresholds)
