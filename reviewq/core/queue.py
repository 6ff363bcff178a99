"""The pending queue: AI-authored changes still waiting for a settled human verdict."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from reviewq.core.families import model_label
from reviewq.core.model import Change, DiffStats
from reviewq.core.risk import Risk, assess
from reviewq.core.text import one_line

# scan.py reads commit times through this name too (one parser: core.times)
from reviewq.core.times import parse_instant as parse_time
from reviewq.core.units import Unit

SORT_KEYS = ("risk", "age", "size")


@dataclass(frozen=True, slots=True)
class QueueItem:
    change: Change
    risk: Risk
    domain: str = "default"
    #: What the item still needs before it may pass (policy); empty when only a verdict is owed.
    needs: tuple[str, ...] = ()
    age_seconds: float = 0.0
    #: The unit of review this item stands for (`core.units`); None: a lone commit as before.
    unit: Unit | None = None

    @property
    def stats(self) -> DiffStats | None:
        """The size the queue shows and sorts by: the unit's (`core.units.unit_size`) when the
        item stands for one, else its commit's."""
        unit = self.unit
        if unit is not None and unit.size is not None:
            return unit.size
        return self.change.stats

    @property
    def size(self) -> int:
        stats = self.stats
        return stats.lines_changed if stats else 0

    def to_json(self) -> dict[str, Any]:
        record = self.change.to_json()
        record.update(
            {
                "id": self.change.id,
                # Where it lives (branch, pull request, main, inbox) and whether main has it.
                "location": self.change.location,
                "merged": bool(self.change.merged),
                "risk": self.risk.to_json(),
                "domain": self.domain,
                "needs": list(self.needs),
                "age_seconds": round(self.age_seconds),
            }
        )
        if self.unit is not None:
            unit = self.unit
            record["unit"] = unit.to_json()
            record["commits"] = list(unit.commits)
            record["human_commits"] = list(unit.human)
            record["new_since_verdict"] = list(unit.new_since_verdict)
            if unit.size is not None:
                # `additions`/`deletions` above stay the commit's; this is the unit's.
                record["unit_size"] = {
                    "additions": unit.size.additions,
                    "deletions": unit.size.deletions,
                    "sizes": unit.size.sizes,
                    "of": "ai-commits",
                }
            if unit.kind != "inbox":
                record["sha"] = unit.tip
        return record


def age_seconds(change: Change, now: datetime) -> float:
    return age_from(change.commit.committed_at, now)


def age_from(committed_at: str | None, now: datetime) -> float:
    """Seconds since `committed_at` (a recorded instant), 0 when unreadable or in the future."""
    when = parse_time(committed_at)
    if when is None or when.tzinfo is None:
        return 0.0
    return max(0.0, (now - when).total_seconds())


def build_queue(
    changes: Iterable[Change],
    *,
    now: datetime,
    is_settled: Callable[[Change], bool] = lambda _change: False,
    domain_of: Callable[[Change], str] = lambda _change: "default",
    needs_of: Callable[[Change], tuple[str, ...]] = lambda _change: (),
) -> list[QueueItem]:
    """Pending items: every change not settled, with risk, domain, needs and age."""
    items = []
    for change in changes:
        if is_settled(change):
            continue
        items.append(
            QueueItem(
                change=change,
                risk=assess(change),
                domain=domain_of(change),
                needs=needs_of(change),
                age_seconds=age_seconds(change, now),
            )
        )
    return items


def sort_queue(items: list[QueueItem], key: str = "risk") -> list[QueueItem]:
    """risk: riskiest first; age: oldest first; size: smallest first (quick wins)."""
    if key == "risk":
        return sorted(items, key=lambda i: (-i.risk.score, -i.age_seconds))
    if key == "age":
        return sorted(items, key=lambda i: -i.age_seconds)
    if key == "size":
        return sorted(items, key=lambda i: (i.size, -i.age_seconds))
    raise ValueError(f"unknown sort key {key!r}")


def is_unmerged(item: QueueItem) -> bool:
    """The item stands for unmerged work (a branch, a pull/merge request, a change, an inbox
    series), not an AI commit already on main."""
    return item.unit is not None and item.unit.kind != "commit"


def queue_order(items: list[QueueItem], key: str = "risk") -> list[QueueItem]:
    """The queue as the CLI and the TUI show it: unmerged work first, then AI commits on main,
    each group in the order `key` gives (`sort_queue`)."""
    unmerged = [i for i in items if is_unmerged(i)]
    rest = [i for i in items if not is_unmerged(i)]
    return sort_queue(unmerged, key) + sort_queue(rest, key)


def human_age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    if seconds < 86400 * 60:
        return f"{int(seconds // 86400)}d"
    return f"{int(seconds // (86400 * 30))}mo"


# -- rows: what a queue screen shows of an item ------------------------------------------------

#: A row's subject is cut to this many characters (the table's widest subject column, plus one
#: so that a longer one ends in an ellipsis there).
ROW_SUBJECT = 73
#: Where the item lives, cut to this many characters.
ROW_WHERE = 200


#: The risk levels `core.risk.assess` gives (a stored row names one of them).
RISK_LEVELS = ("low", "medium", "high")


class RowRisk(NamedTuple):
    level: str
    score: int


class _RowUnit(NamedTuple):
    kind: str


#: `QueueRow.unit` of unmerged work: `is_unmerged` and `queue_order` read only its kind.
_UNMERGED = _RowUnit("unit")


@dataclass(slots=True, eq=True)
class QueueRow:
    """One queue item as a screen shows it: the cells' texts (not yet made safe for a
    terminal), the lines under the table, the words a filter searches, and what the queue's
    order reads (`queue_order` sorts rows as it sorts items).

    Built from an item (`row_of`) or read back from a stored queue answer
    (`reviewq.workflow.queue_answer`): the same fields either way, so what is drawn from one
    is what is drawn from the other. Pure text: a row can open nothing (the screen opens the
    real item of the same id from the queue it loaded)."""

    id: str
    risk: RowRisk
    #: The item's commit time (what its age counts from) and its age at the load's `now`.
    committed_at: str | None
    age_seconds: float
    size: int
    unmerged: bool
    agent: str
    subject: str
    model: str
    size_text: str
    domain: str
    where: str
    #: Lines under the table, up to (not with) the reviewer's own verdict; then the prompt's.
    reasons: tuple[str, ...]
    prompt_line: str
    #: Lower-case text of every field a filter matches (`matches`).
    haystack: str

    @property
    def unit(self) -> _RowUnit | None:
        return _UNMERGED if self.unmerged else None

    def matches(self, terms: Sequence[str]) -> bool:
        """Every term appears in one of the fields a reviewer filters by (case-insensitive)."""
        return all(term in self.haystack for term in terms)

    def to_list(self) -> list[Any]:
        return [
            self.id,
            self.risk.level,
            self.risk.score,
            self.committed_at,
            self.size,
            self.unmerged,
            self.agent,
            self.subject,
            self.model,
            self.size_text,
            self.domain,
            self.where,
            list(self.reasons),
            self.prompt_line,
            self.haystack,
        ]

    @classmethod
    def from_list(cls, data: Sequence[Any], now: datetime) -> QueueRow:
        """A stored row (`to_list`), its age counted at `now` as `age_seconds` counts it.
        Raises ValueError for anything not in that shape."""
        if type(data) is not list or len(data) != 15:
            raise ValueError("a stored row is not a list of 15 fields")
        (
            cid,
            level,
            score,
            committed_at,
            size,
            unmerged,
            agent,
            subject,
            model,
            size_text,
            domain,
            where,
            reasons,
            prompt_line,
            haystack,
        ) = data
        if (
            type(cid) is not str
            or type(level) is not str
            or type(score) is not int
            or (committed_at is not None and type(committed_at) is not str)
            or type(size) is not int
            or type(unmerged) is not bool
            or type(agent) is not str
            or type(subject) is not str
            or type(model) is not str
            or type(size_text) is not str
            or type(domain) is not str
            or type(where) is not str
            or type(reasons) is not list
            or type(prompt_line) is not str
            or type(haystack) is not str
            or not all(type(r) is str for r in reasons)
            or level not in RISK_LEVELS
        ):
            raise ValueError("a stored row holds a field of the wrong type")
        return cls(
            cid,
            RowRisk(level, score),
            committed_at,
            age_from(committed_at, now),
            size,
            unmerged,
            agent,
            subject,
            model,
            size_text,
            domain,
            where,
            tuple(reasons),
            prompt_line,
            haystack,
        )


def haystack_of(item: QueueItem) -> str:
    """The words a queue filter searches in an item (lower case)."""
    change = item.change
    auth = change.authorship
    return " ".join(
        [
            change.id,
            auth.agent,
            auth.model or "",
            auth.family,
            item.domain,
            item.risk.level,
            change.commit.subject,
            change.commit.author.name,
            " ".join(change.paths),
            " ".join(change.refs) or change.location or "",
        ]
    ).lower()


def row_of(item: QueueItem) -> QueueRow:
    """What a queue screen shows of `item` (see `QueueRow`)."""
    change = item.change
    auth = change.authorship
    stats = item.stats
    unit = item.unit
    subject = change.commit.subject
    where = change.location or ""
    if unit is not None and unit.kind != "commit":
        # The kind shows where unmerged work ends and main's commits begin.
        where = f"{unit.kind} {unit.name}"
        counts = [f"{len(unit.commits)} commits"] if len(unit.commits) > 1 else []
        if unit.new_since_verdict:
            counts.append(f"{len(unit.new_since_verdict)} new since your verdict")
        if counts:
            subject = f"[{', '.join(counts)}] {subject}"
    lines = [f"• {one_line(r)}" for r in item.risk.reasons] or ["• no risk signals"]
    lines.append(
        f"agent: {one_line(auth.agent)}, model: {one_line(auth.model or 'not recorded')}"
        f" (family {one_line(auth.family)}), domain: {one_line(item.domain)}"
    )
    if change.location:
        others = [r for r in change.refs if r != change.location]
        place = change.location + (f" (also {', '.join(others)})" if others else "")
        if change.merged and change.merged_from:
            place += f", merged from {change.merged_from}"
        elif change.merged is False and change.source == "git":
            place += ", not merged"
        lines.append(f"where: {one_line(place, 200)}")
    if item.needs:
        lines.append(f"needs: {one_line('; '.join(item.needs), 200)}")
    prompt = change.prompt
    return QueueRow(
        id=change.id,
        risk=RowRisk(item.risk.level, item.risk.score),
        committed_at=change.commit.committed_at,
        age_seconds=item.age_seconds,
        size=item.size,
        unmerged=is_unmerged(item),
        agent=auth.agent,
        subject=one_line(subject, ROW_SUBJECT),
        model=model_label(auth.family, auth.model),
        size_text=stats.brief() if stats else "?",
        domain=item.domain,
        where=one_line(where, ROW_WHERE),
        reasons=tuple(lines),
        prompt_line=f"prompt: {one_line(prompt.text, 140)}" if prompt else "prompt: none recorded",
        haystack=haystack_of(item),
    )
