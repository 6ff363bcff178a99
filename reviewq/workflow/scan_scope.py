"""The queue's scope scan's two records (`reviewq.workflow.scan`'s `ScopeScan`, `ScopeState`),
made when first asked for: a plain scan makes neither, and each dataclass is about a
millisecond of start-up. Import them from `reviewq.workflow.scan` (its module `__getattr__`
loads this file); their `__module__` is `reviewq.workflow.scan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reviewq.core.model import Change
from reviewq.workflow.scan import STATE_VERSION, StoredChange, load_state_map

if TYPE_CHECKING:
    from reviewq.sources.refs import RefView


@dataclass
class ScopeScan:
    """AI-authored changes in scope, each placed (`location`, `merged`, `refs`)."""

    __module__ = "reviewq.workflow.scan"

    changes: list[Change]
    commits_read: int
    view: RefView
    from_cache: bool = False
    incremental: bool = False
    #: Parents of every unmerged commit (AI or not), when known: units group them without git.
    graph: dict[str, list[str]] | None = None
    #: What "recent" counted back from (`recent_anchor`), when the daily scan asked git for it.
    anchor: datetime | None = None


@dataclass
class ScopeState:
    """What a scope scan keeps between runs (the cache's `scope` table holds it as JSON).

    Valid for one detector, rules and scope (the key) and one set of notes tips. `main` holds
    main's AI commits since `cutoff` as found under `main_tips`; `branch` the unmerged ones
    found under `work_tips`, `placements` where each lives (location, kind, refs) for the refs
    in `work`; `graph` the unmerged commits' parent links (membership without git while main
    stays put); `landed_memo` what main's messages say landed (`_landed_review_refs`); `was_on`
    the branch a main commit was seen on before it landed.
    """

    __module__ = "reviewq.workflow.scan"

    notes: dict[str, str]
    main_tips: list[str] = field(default_factory=list)
    cutoff: str | None = None
    main: dict[str, StoredChange] = field(default_factory=dict)
    work: dict[str, str] = field(default_factory=dict)
    work_tips: list[str] = field(default_factory=list)
    branch: dict[str, StoredChange] = field(default_factory=dict)
    placements: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)
    landed_memo: dict[str, Any] | None = None
    was_on: dict[str, str] = field(default_factory=dict)
    graph: dict[str, list[str]] | None = None

    @classmethod
    def load(cls, data: Any) -> ScopeState | None:
        """From the cache; None when absent, of another version, or not in this shape."""
        if not isinstance(data, dict) or data.get("v") != STATE_VERSION:
            return None
        try:
            return cls(
                notes=data["notes"],
                main_tips=data.get("main_tips", []),
                cutoff=data.get("cutoff"),
                main=load_state_map(data.get("main", {})),
                work=data.get("work", {}),
                work_tips=data.get("work_tips", []),
                branch=load_state_map(data.get("branch", {})),
                placements={sha: tuple(p) for sha, p in data.get("placements", {}).items()},
                landed_memo=data.get("landed_memo"),
                was_on=data.get("was_on", {}),
                graph=data.get("graph"),
            )
        except (TypeError, KeyError, AttributeError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "notes": self.notes,
            "main_tips": self.main_tips,
            "cutoff": self.cutoff,
            "main": {sha: list(st) for sha, st in self.main.items()},
            "work": self.work,
            "work_tips": self.work_tips,
            "branch": {sha: list(st) for sha, st in self.branch.items()},
            "placements": {sha: list(p) for sha, p in self.placements.items()},
            "landed_memo": self.landed_memo,
            "was_on": self.was_on,
            "graph": self.graph,
        }
