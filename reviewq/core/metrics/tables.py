"""Inputs as columns: verdict records (`VerdictTable`), AI-authored changes and commit sizes,
and the constants every figure shares (part of `core.metrics`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np

from reviewq.core.alloc import gc_paused
from reviewq.core.metrics.timeparse import parse_instants
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


def _field(rows: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
    """`row.get(key)` of every row, in one C-level loop."""
    return list(map(dict.get, rows, repeat(key)))


def _profiles(
    verdict: Sequence[Any],
    reviewer: Sequence[Any],
    family: Sequence[Any],
    agent: Sequence[Any],
    domain: Sequence[Any],
    critique: Sequence[Any],
) -> list[tuple[Any, ...]]:
    """(verdict, reviewer email, name, author family, agent, domain, critic family, opened
    before the verdict, same family allowed, has a critique) of each record, from its fields.
    When every reviewer and critique is an object (every record the writer makes) in C-level
    loops; any other mix, the loop that spells the rule out (tests compare the two)."""
    if set(map(type, reviewer)) == {dict} and set(map(type, critique)) == {dict}:
        get = dict.get
        return list(
            zip(
                verdict,
                map(get, reviewer, repeat("email")),
                map(get, reviewer, repeat("name")),
                family,
                agent,
                domain,
                map(get, critique, repeat("family")),
                map(get, critique, repeat("opened_before_verdict")),
                map(get, critique, repeat("same_family_allowed")),
                repeat(True),
            )
        )
    is_dict = dict
    return [
        (
            v,
            rv.get("email") if (named := type(rv) is is_dict) else None,
            named and rv.get("name"),
            fam,
            ag,
            dom,
            c.get("family") if (has := type(c) is is_dict) else None,
            has and c.get("opened_before_verdict"),
            has and c.get("same_family_allowed"),
            has,
        )
        for v, rv, fam, ag, dom, c in zip(verdict, reviewer, family, agent, domain, critique)
    ]


#: The record fields a VerdictTable reads, in `fields_from_columns`' order.
TABLE_FIELDS = (
    "verdict",
    "reviewer",
    "author_family",
    "agent",
    "domain",
    "critique",
    "change_id",
    "sha",
    "patch_id",
    "active_seconds",
    "lines_changed",
    "hunks_total",
    "hunks_viewed",
    "at",
)


@dataclass
class RecordFields:
    """What a VerdictTable reads of each record, field by field (`fields_from_columns`)."""

    profiles: list[tuple[Any, ...]]  # see `_profiles`
    change_ids: list[Any]  # the record's change key: change_id, else sha, else patch_id
    active: Sequence[Any]
    lines: Sequence[Any]
    hunks_total: Sequence[Any]
    hunks_viewed: Sequence[Any]
    at: Sequence[Any]


def fields_from_columns(
    columns: Sequence[Sequence[Any]], profiles: list[tuple[Any, ...]] | None = None
) -> RecordFields:
    """`RecordFields` of records given as one column per TABLE_FIELDS name (a missing field
    is None, as `dict.get` gives it): a reader that has the columns already (the column
    cache's builder) needs no dict per record. `profiles`: `_profiles` of the records worked
    out by the caller (whose reviewer and critique columns are not dicts)."""
    (
        verdict,
        reviewer,
        family,
        agent,
        domain,
        critique,
        change,
        sha,
        patch,
        active,
        lines,
        hunks_total,
        hunks_viewed,
        at,
    ) = columns
    change_ids = list(change)
    if None in change_ids or "" in change_ids:
        change_ids = [
            c or _first_key(s, p) or "" for c, s, p in zip(change_ids, sha, patch, strict=True)
        ]
    return RecordFields(
        _profiles(verdict, reviewer, family, agent, domain, critique)
        if profiles is None
        else profiles,
        change_ids,
        list(active),
        list(lines),
        list(hunks_total),
        list(hunks_viewed),
        list(at),
    )


def _first_key(sha: Any, patch: Any) -> Any:
    """The change a record without a change_id is about: its sha, else its patch_id."""
    if isinstance(sha, str) and sha:
        return sha
    if isinstance(patch, str) and patch:
        return patch
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
        fields = fields_from_columns([_field(rows, name) for name in TABLE_FIELDS])
        return cls.from_fields(fields, dropped=len(records) - len(rows))

    @classmethod
    def from_fields(
        cls,
        fields: RecordFields,
        dropped: int = 0,
        change_codes: tuple[np.ndarray, Sequence[str]] | None = None,
        profile_codes: tuple[np.ndarray, Sequence[tuple[Any, ...]]] | None = None,
    ) -> VerdictTable:
        """The table of records given as `RecordFields` (`fields_from_columns`); `dropped`
        records that were not objects count as invalid. `change_codes`: the change column's
        codes and labels worked out already (the column cache's builder numbers a million
        change ids once, with numpy, not per block with a dict); by default `change_ids`
        numbered in order of first appearance. `profile_codes`: the profiles' codes and
        labels (`_profiles` of each distinct one) worked out already, as `_factorize` gives
        them (`fields.profiles` is then not read)."""
        n = len(fields.change_ids)
        if profile_codes is None:
            pcodes, plabels = _factorize(fields.profiles)
        else:
            pcodes, plabels = profile_codes[0], list(profile_codes[1])
        if change_codes is None:
            ccodes, clabels = _factorize(fields.change_ids)
        else:
            ccodes, clabels = change_codes[0], list(change_codes[1])
        active = _numbers(fields.active)
        lines = _numbers(fields.lines)
        hunks_total = _numbers(fields.hunks_total)
        hunks_viewed = _numbers(fields.hunks_viewed)
        epoch, offset, when_ok = parse_instants(fields.at)

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
        # Each label's agent name (a number of `names`), found in the labels themselves (a
        # million change ids kept as text stay text); "unknown" for a change of no agent.
        names = ["unknown"]
        named = {"unknown": 0}
        of_change = {}
        for change, agent in agent_of.items():
            of_change[change] = named.setdefault(agent or "unknown", len(named))
            if len(named) > len(names):
                names.append(agent)
        per_name = labels_rows(self.changes, of_change)
        per_name[per_name < 0] = 0
        # Names not among the agents yet are appended in order of their first label.
        distinct, first = np.unique(per_name, return_index=True)
        for k in distinct[np.argsort(first, kind="stable")].tolist():
            index.setdefault(names[k], len(agents))
            if len(index) > len(agents):
                agents.append(names[k])
        codes = np.array([index.get(name, 0) for name in names], dtype=np.int32)  # 0: unused
        per_change = codes[per_name] if len(per_name) else np.zeros(0, dtype=np.int32)
        missing = self.agent == index[MISSING]
        agent = np.where(missing, per_change[self.change] if len(per_change) else 0, self.agent)
        agent = agent.astype(np.int32)
        labels = self.labels()
        labels["agents"] = tuple(agents)
        columns = self.columns()
        columns["agent"] = agent
        return VerdictTable(**columns, **labels, invalid=self.invalid)

    @classmethod
    def concat(
        cls, tables: Sequence[VerdictTable], room: Mapping[str, Any] | None = None
    ) -> VerdictTable:
        """One table of all rows; labels are merged and codes renumbered.

        `room`: column name -> an array as long as all rows together whose first rows are the
        first table's column itself (read with room after it): the later rows are written
        there instead of copying the first table's column again."""
        tables = list(tables)
        if len(tables) == 1:
            return tables[0]
        columns: dict[str, list[np.ndarray]] = {name: [] for name in COLUMNS}
        merged: dict[str, _Labels] = {}
        names: dict[str, str] = {}
        for name, labels in tables[0].labels().items():
            if name != "reviewer_names":
                later = sum(len(getattr(t, name)) for t in tables[1:])
                merged[name] = _Labels(labels, later)
        for position, t in enumerate(tables):
            remap: dict[str, np.ndarray | None] = {}
            for name, labels in t.labels().items():
                if name == "reviewer_names":
                    continue
                # The first table's codes stay as they are (its labels are distinct by
                # construction, numbered 0..n-1): a cached million-row table plus a short tail
                # costs neither a gather over every column nor a dict of a million labels.
                remap[name] = None if position == 0 else merged[name].codes(labels)
            for key, name in zip(t.reviewers, t.reviewer_names):
                names.setdefault(key, name)
            for name, column in t.columns().items():
                label_set = CODED.get(name)
                if label_set is not None and len(column):
                    codes = remap[label_set]
                    if codes is not None:
                        column = codes[column]
                columns[name].append(column)
        merged_labels = {name: labels.all() for name, labels in merged.items()}
        reviewers = merged_labels["reviewers"]
        return cls(
            **{name: _joined(parts, (room or {}).get(name)) for name, parts in columns.items()},
            **merged_labels,
            reviewer_names=tuple(names[k] for k in reviewers),
            invalid=sum(t.invalid for t in tables),
        )


def _joined(parts: list[np.ndarray], room: Any) -> np.ndarray:
    """`np.concatenate(parts)`, written into `room` when the first part is `room`'s start."""
    first = parts[0]
    if (
        isinstance(room, np.ndarray)
        and room.ndim == 1
        and len(room) == sum(len(p) for p in parts)
        and all(p.dtype == room.dtype for p in parts)
        and first.base is room
        and first.__array_interface__["data"][0] == room.__array_interface__["data"][0]
    ):
        at = len(first)
        for part in parts[1:]:
            room[at : at + len(part)] = part
            at += len(part)
        return room
    return np.concatenate(parts)


class LineLabels(Sequence[str]):
    """Labels kept as the stored lines of text they were read from (`source`: what they were
    read from, e.g. a column cache's generation), split into strings only when iterated: a
    million change ids cost a stats run nothing unless a figure walks them. `index` finds one
    label in the text itself; `+` appends labels without splitting the rest."""

    __slots__ = ("_added", "_count", "_split", "_text", "source")

    def __init__(
        self, text: bytes, count: int, source: str | None = None, added: tuple[str, ...] = ()
    ) -> None:
        self._text, self._count, self._added, self.source = text, count, added, source
        self._split: tuple[str, ...] | None = None

    @property
    def base_count(self) -> int:
        """How many labels the stored text holds (the rest were appended)."""
        return self._count

    @property
    def added(self) -> tuple[str, ...]:
        return self._added

    @property
    def text(self) -> bytes:
        """The stored labels, one a line (UTF-8): what `base_count` counts."""
        return self._text

    def _all(self) -> tuple[str, ...]:
        if self._split is None:
            base = self._text.decode("utf-8", "surrogatepass").split("\n") if self._count else []
            if len(base) != self._count:
                raise ValueError("the labels do not fit their count")
            self._split = tuple(base) + self._added
        return self._split

    def __len__(self) -> int:
        return self._count + len(self._added)

    def __getitem__(self, i: Any) -> Any:
        return self._all()[i]

    def __iter__(self) -> Any:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def index(self, label: Any, start: int = 0, stop: Any = None) -> int:
        if self._split is not None or start or stop is not None or not isinstance(label, str):
            return self._all().index(label, start, *(() if stop is None else (stop,)))
        if "\n" not in label and self._count:
            needle = label.encode("utf-8", "surrogatepass")
            text = self._text
            at = 0
            while True:
                at = text.find(needle, at)
                if at < 0:
                    break
                end = at + len(needle)
                if (at == 0 or text[at - 1] == 10) and (end == len(text) or text[end] == 10):
                    return text.count(b"\n", 0, at)
                at += 1
        try:
            return self._count + self._added.index(label)
        except ValueError:
            raise ValueError(f"{label!r} is not a label") from None

    def rows(self, positions: Mapping[str, int]) -> np.ndarray:
        """Each label's value in `positions`, -1 for a label it lacks (int64, one a label):
        what `[positions.get(x, -1) for x in self]` gives, found in the text itself, without
        a string a label. Lines are told apart by their length and first and last 8 bytes,
        and those that could be a wanted label compared whole; a text that does not split
        into `base_count` lines takes the plain path (which says so)."""
        if self._split is not None:
            return _plain_rows(self._split, positions)
        base = self._base_rows(positions)
        if base is None:
            return _plain_rows(self._all(), positions)
        if not self._added:
            return base
        return np.concatenate([base, _plain_rows(self._added, positions)])

    def _base_rows(self, positions: Mapping[str, int]) -> np.ndarray | None:
        count, text = self._count, self._text
        out = np.full(count, -1, dtype=np.int64)
        if not count:
            return out if not text else None
        arr = np.frombuffer(text, dtype=np.uint8)
        size = len(arr)
        newlines = _newlines(arr)
        if len(newlines) + 1 != count:
            return None
        wanted: dict[bytes, int] = {}
        for label, row in positions.items():
            if isinstance(label, str) and "\n" not in label:
                wanted[label.encode("utf-8", "surrogatepass")] = int(row)
        if not wanted:
            return out
        prints = np.unique(_line_prints(list(wanted)))
        # A bit a print's top 20 bits: a line whose bit is clear is no wanted label, so only
        # the few others are looked up among the prints (a million lookups cost ~0.1 s).
        maybe = np.zeros(1 << 20, dtype=bool)
        maybe[(prints >> np.uint64(44)).astype(np.intp)] = True
        step = 1 << 16
        window = (
            np.lib.stride_tricks.as_strided(arr, shape=(size - 7, 8), strides=(1, 1))
            if size >= 8
            else None
        )
        for at in range(0, count, step):
            stop = min(at + step, count)
            starts = np.empty(stop - at, dtype=np.int64)
            starts[0] = 0 if at == 0 else newlines[at - 1] + 1
            starts[1:] = newlines[at : stop - 1] + 1
            ends = newlines[at:stop] if stop < count else np.append(newlines[at:], size)
            lengths = ends - starts
            kept = np.minimum(lengths, 8)
            tails = ends - kept
            if window is None:
                edge = np.ones(len(starts), dtype=bool)
            else:
                edge = (starts > size - 8) | (tails > size - 8)
            check = np.flatnonzero(edge)
            if window is not None:
                mask = _MASKS[kept]
                head = window[np.minimum(starts, size - 8)].view("<u8").ravel() & mask
                tail = window[np.minimum(tails, size - 8)].view("<u8").ravel() & mask
                got = _combine(head, tail, lengths.astype(np.uint64))
                del head, tail, mask
                near = np.flatnonzero(maybe[(got >> np.uint64(44)).astype(np.intp)] & ~edge)
                got = got[near]
                found = np.searchsorted(prints, got)
                found[found == len(prints)] = 0
                check = np.concatenate([check, near[prints[found] == got]])
            for i in check.tolist():
                row = wanted.get(bytes(text[starts[i] : ends[i]]))
                if row is not None:
                    out[at + i] = row
        return out

    def __add__(self, more: Any) -> LineLabels:
        joined = LineLabels(self._text, self._count, self.source, self._added + tuple(more))
        if self._split is not None:
            joined._split = self._split + tuple(more)
        return joined


#: `_MASKS[m]`: the low m bytes of a little-endian 64-bit word.
_MASKS = np.array([(1 << (8 * m)) - 1 for m in range(9)], dtype=np.uint64)
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))


def _combine(head: np.ndarray, tail: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A line's print from its first and last (up to) 8 bytes and its length."""
    with np.errstate(over="ignore"):
        return head ^ (tail * _MIX[0]) ^ (lengths * _MIX[1])


def _line_print(line: bytes) -> np.uint64:
    """The print `LineLabels.rows` gives a line of text holding `line`."""
    return _line_prints([line])[0]


def _line_prints(lines: list[bytes]) -> np.ndarray:
    """`_line_print` of each of `lines` (uint64), combined as one array: a queue's ten
    thousand change ids cost a stats run ~0.2 s as a numpy call each."""
    n = len(lines)
    heads = np.fromiter((int.from_bytes(x[:8], "little") for x in lines), np.uint64, n)
    tails = np.fromiter((int.from_bytes(x[-8:], "little") for x in lines), np.uint64, n)
    lengths = np.fromiter(map(len, lines), np.uint64, n)
    return _combine(heads, tails, lengths)


def _newlines(arr: np.ndarray) -> np.ndarray:
    """Where `arr`'s newlines are (int64), found a slice at a time (no mask of the whole)."""
    step = 1 << 22
    parts = [np.flatnonzero(arr[at : at + step] == 10) + at for at in range(0, len(arr), step)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _plain_rows(labels: Sequence[str], positions: Mapping[str, int]) -> np.ndarray:
    return np.fromiter(map(positions.get, labels, repeat(-1)), dtype=np.int64, count=len(labels))


def labels_rows(labels: Sequence[str], positions: Mapping[str, int]) -> np.ndarray:
    """Each label's value in `positions`, -1 for none (int64): `LineLabels.rows` for labels
    kept as text, else one lookup a label."""
    if isinstance(labels, LineLabels):
        return labels.rows(positions)
    return _plain_rows(labels, positions)


def labels_among(labels: Sequence[str], ids: Iterable[str]) -> set[str]:
    """Which of `ids` are among `labels` (`set(labels) & set(ids)`, without a set of the
    labels: a million change ids kept as text stay text)."""
    wanted = list(dict.fromkeys(ids))
    if not isinstance(labels, LineLabels):
        return set(labels).intersection(wanted)
    rows = labels.rows(dict(zip(wanted, range(len(wanted)))))
    return {wanted[i] for i in np.unique(rows[rows >= 0]).tolist()}


class _Labels:
    """One label list growing as tables are joined: the first table's labels as they are, then
    new ones appended. A few labels to find (a short tail) are looked up by scanning the first
    table's; many, through one dict of every label (the first table's, then the new ones)."""

    #: Up to this many labels of later tables are found by scanning (~5 ms per million).
    SCAN = 16

    def __init__(self, first: tuple[str, ...], later: int) -> None:
        self.first = first
        self.added: dict[str, int] = {}
        self.index: dict[str, int] | None = (
            None if later <= self.SCAN else dict(zip(first, range(len(first))))
        )

    def code(self, label: str) -> int:
        if self.index is not None:
            return self.index.setdefault(label, len(self.index))
        try:
            return self.first.index(label)
        except ValueError:
            pass
        found = self.added.get(label)
        if found is None:
            found = self.added[label] = len(self.first) + len(self.added)
        return found

    def codes(self, labels: Sequence[str]) -> np.ndarray:
        index = self.index
        if index is not None:
            # A new label gets the next code: the dict's length before it is added.
            return np.array([index.setdefault(x, len(index)) for x in labels], dtype=np.int32)
        return np.array([self.code(label) for label in labels], dtype=np.int32)

    def all(self) -> tuple[str, ...]:
        if self.index is not None:
            return self.first if len(self.index) == len(self.first) else tuple(self.index)
        return self.first + tuple(self.added) if self.added else self.first


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
