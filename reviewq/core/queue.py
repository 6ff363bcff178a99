"""The pending queue: AI-authored changes still waiting for a settled human verdict."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reviewq.core.model import Change, DiffStats
from reviewq.core.risk import Risk, assess

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
    when = parse_time(change.commit.committed_at)
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
