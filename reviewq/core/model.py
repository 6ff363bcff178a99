"""Plain data that flows between the rooms of reviewq.

Every arrow in the architecture carries one of these dataclasses: never a widget, a repository
handle or an open file. They are frozen where they describe history (a commit cannot change) and
carry `to_json()` where they cross the command-line contract (../CONTRACT.md).

The frozen records below pass `init=False, repr=False, eq=False` (and not `frozen=True`) to
`dataclass`, write their `__init__` out, and get their `__repr__`, `__eq__`, `__hash__`, the frozen
`__setattr__` / `__delattr__` and the pickling state from `_value_methods` (exactly what
`dataclass(frozen=True, slots=True)` would generate: the fields in order; `tests/test_scan_lean.py`
checks them against it): `dataclass` compiles each method it generates at import, ~17 ms of every
command's start for these nine classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass
from operator import attrgetter

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")

#: Model families an author can belong to (CONTRACT: scan record `family`).
AUTHOR_FAMILIES: tuple[str, ...] = (
    "anthropic",
    "openai",
    "google",
    "xai",
    "meta",
    "mistral",
    "deepseek",
    "qwen",
    "zhipu",
    "moonshot",
    "other",
    "unknown",
)
ROLES: tuple[str, ...] = ("primary", "assist")
CONFIDENCES: tuple[str, ...] = ("high", "medium", "low")
EVIDENCE_SOURCES: tuple[str, ...] = (
    "author",
    "committer",
    "trailer",
    "body",
    "note",
    "config-rule",
    "agent-trace",
    "sidecar",
)
VERDICTS: tuple[str, ...] = ("approve", "reject", "changes", "escalate")


#: Hex digits of a commit's sha (or of an inbox patch's id) shown to people in terminal tables
#: and messages; the TUI's narrower tables and titles show 10 of a sha, 8 of a patch's id (its
#: `inbox:` prefix takes the room).
SHORT_ID = 12
SHORT_ID_NARROW = 10
SHORT_INBOX_NARROW = 8
INBOX_PREFIX = "inbox:"


def short_id(change_id: str, *, narrow: bool = False) -> str:
    """A change's id for people: `3f2a9c10e4b1`, `inbox:9d8e7f6a5b4c` (the prefix kept)."""
    if change_id.startswith(INBOX_PREFIX):
        width = SHORT_INBOX_NARROW if narrow else SHORT_ID
        return INBOX_PREFIX + change_id[len(INBOX_PREFIX) :][:width]
    return change_id[: SHORT_ID_NARROW if narrow else SHORT_ID]


SEVERITIES: tuple[str, ...] = ("note", "warning", "error", "critical")


def _value_methods(cls: type[_T] | None = None, *, frozen: bool = True) -> Any:
    """`__repr__`, `__eq__` and `__hash__` over every field in order, as `dataclass(frozen=True)`
    generates them, made from one field getter instead of source compiled at import; with the
    frozen `__setattr__` / `__delattr__` and the slotted pickling state of a frozen class.

    `@_value_methods(frozen=False)`: `__repr__` and `__eq__` of a mutable `dataclass` (which is
    unhashable), nothing else."""
    if cls is None:
        return lambda c: _value_methods(c, frozen=frozen)
    declared = cls.__dataclass_fields__  # type: ignore[attr-defined]
    names = tuple(declared)
    values = _getter(names)
    # A field declared `repr=False` / `compare=False` is left out of the text / the equality
    # and hash, as `dataclass` leaves it out.
    shown = tuple(n for n in names if declared[n].repr)
    compared = tuple(n for n in names if declared[n].compare)
    shown_values = values if shown == names else _getter(shown)
    key = values if compared == names else _getter(compared)

    def __repr__(self: Any) -> str:
        pairs = ", ".join(f"{name}={value!r}" for name, value in zip(shown, shown_values(self)))
        return f"{self.__class__.__qualname__}({pairs})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(key(self))

    if not frozen:
        for method in (__repr__, __eq__):
            method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
            setattr(cls, method.__name__, method)
        cls.__hash__ = None  # type: ignore[assignment]
        return cls

    fields = frozenset(names)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if self.__class__ is cls or name in fields:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if self.__class__ is cls or name in fields:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    def __getstate__(self: Any) -> list[Any]:
        return list(values(self))

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state):
            _set(self, name, value)

    methods = (__repr__, __eq__, __hash__, __setattr__, __delattr__, __getstate__, __setstate__)
    for method in methods:
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        setattr(cls, method.__name__, method)
    return cls


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The fields' values as one tuple, in order (`_value_methods`)."""
    if not names:
        return lambda obj: ()
    getter = attrgetter(*names)
    return getter if len(names) > 1 else lambda obj: (getter(obj),)  # type: ignore[return-value]


#: The written-out `__init__`s set their fields as the generated ones do (the class is frozen).
_set = object.__setattr__


class _Factory:
    """The default of a written-out `__init__`'s parameter whose field has a default factory
    (`dataclass` shows it as `<factory>` too): the parameter left out, the factory makes the
    value; anything passed, None included, is the value."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY: Any = _Factory()


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Identity:
    """A git identity: what `Name <email>` says, nothing more."""

    name: str
    email: str

    def __init__(self, name: str, email: str) -> None:
        _set(self, "name", name)
        _set(self, "email", email)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Identity | None:
        if not data:
            return None
        return cls(str(data.get("name", "")), str(data.get("email", "")))


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Commit:
    """One commit as `git log` reports it; the message is decoded, never interpreted here."""

    sha: str
    parents: tuple[str, ...]
    author: Identity
    committer: Identity
    authored_at: str
    committed_at: str
    message: str

    def __init__(
        self,
        sha: str,
        parents: tuple[str, ...],
        author: Identity,
        committer: Identity,
        authored_at: str,
        committed_at: str,
        message: str,
    ) -> None:
        _set(self, "sha", sha)
        _set(self, "parents", parents)
        _set(self, "author", author)
        _set(self, "committer", committer)
        _set(self, "authored_at", authored_at)
        _set(self, "committed_at", committed_at)
        _set(self, "message", message)

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Evidence:
    """One marker that made the detector decide; `marker` is the text exactly as found."""

    source: str
    marker: str

    def __init__(self, source: str, marker: str) -> None:
        _set(self, "source", source)
        _set(self, "marker", marker)

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "marker": self.marker}


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Authorship:
    """Who wrote a change: the agent, the model it names, the model's family and the proof."""

    agent: str
    model: str | None
    family: str
    role: str
    confidence: str
    evidence: tuple[Evidence, ...]
    #: Humans who asked for the change (the assigner, aider's user, the committing person).
    #: Policy refuses their approval of the change they prompted.
    prompted_by: tuple[Identity, ...] = ()

    def __init__(
        self,
        agent: str,
        model: str | None,
        family: str,
        role: str,
        confidence: str,
        evidence: tuple[Evidence, ...],
        prompted_by: tuple[Identity, ...] = (),
    ) -> None:
        _set(self, "agent", agent)
        _set(self, "model", model)
        _set(self, "family", family)
        _set(self, "role", role)
        _set(self, "confidence", confidence)
        _set(self, "evidence", evidence)
        _set(self, "prompted_by", prompted_by)


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Prompt:
    """The originating request, and where it was found."""

    text: str
    source: str  # aider-transcript | note | git-ai | agent-trace | sidecar | session
    prompted_by: Identity | None = None
    #: For a prompt read from an agent's session store (or a note attached from one): how the
    #: session was tied to the commit (exact | strong) and which session it was.
    link: str | None = None
    session: SessionRef | None = None
    #: From the session's span: the agent's own explanations (its claims, not facts) and what
    #: it ran ("ran `pytest -q`: 2 failed"). Shown beside the prompt; never sent to a model.
    claims: tuple[str, ...] = ()
    ran: tuple[str, ...] = ()

    def __init__(
        self,
        text: str,
        source: str,
        prompted_by: Identity | None = None,
        link: str | None = None,
        session: SessionRef | None = None,
        claims: tuple[str, ...] = (),
        ran: tuple[str, ...] = (),
    ) -> None:
        _set(self, "text", text)
        _set(self, "source", source)
        _set(self, "prompted_by", prompted_by)
        _set(self, "link", link)
        _set(self, "session", session)
        _set(self, "claims", claims)
        _set(self, "ran", ran)


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class SessionRef:
    """The agent session a prompt came from; `store` is `local` (this machine's session store)
    or `note` (attached to the commit from someone's session with `prompt --attach`)."""

    agent: str
    id: str
    store: str = "local"
    model: str | None = None

    def __init__(self, agent: str, id: str, store: str = "local", model: str | None = None) -> None:
        _set(self, "agent", agent)
        _set(self, "id", id)
        _set(self, "store", store)
        _set(self, "model", model)

    def to_json(self) -> dict[str, Any]:
        return {"agent": self.agent, "id": self.id, "store": self.store, "model": self.model}


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class DiffStats:
    """Size of a change as git counts it (first parent for merges)."""

    files: int = 0
    additions: int = 0
    deletions: int = 0
    binary_files: int = 0
    #: `known`, or `partial` / `unknown` when objects the counts need are missing (a partial
    #: clone): the counts then cover only what could be read, never 0 for what could not.
    sizes: str = "known"

    def __init__(
        self,
        files: int = 0,
        additions: int = 0,
        deletions: int = 0,
        binary_files: int = 0,
        sizes: str = "known",
    ) -> None:
        _set(self, "files", files)
        _set(self, "additions", additions)
        _set(self, "deletions", deletions)
        _set(self, "binary_files", binary_files)
        _set(self, "sizes", sizes)

    @property
    def lines_changed(self) -> int:
        return self.additions + self.deletions

    @property
    def size_known(self) -> bool:
        return self.sizes == "known"

    def brief(self) -> str:
        """`+40/-2`, `+40/-2 (size partly unknown)` or `size unknown` for tables."""
        if self.sizes == "unknown":
            return "size unknown"
        counts = f"+{self.additions}/-{self.deletions}"
        return counts if self.sizes == "known" else f"{counts} (size partly unknown)"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "files": self.files,
            "additions": self.additions,
            "deletions": self.deletions,
            "binary_files": self.binary_files,
        }
        if self.sizes != "known":
            data["sizes"] = self.sizes
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> DiffStats | None:
        if data is None:
            return None
        return cls(
            int(data.get("files", 0)),
            int(data.get("additions", 0)),
            int(data.get("deletions", 0)),
            int(data.get("binary_files", 0)),
            str(data.get("sizes", "known")),
        )


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class FileChange:
    """One file of a change as `git log --raw --numstat` sees it (sizes only, no rows)."""

    path: str
    status: str  # A added, M modified, D deleted, R renamed, C copied, T type change
    additions: int = 0
    deletions: int = 0
    binary: bool = False
    old_path: str | None = None
    mode_change: bool = False
    #: Its contents could not be read (a missing object): additions/deletions are not counts.
    size_unknown: bool = False

    def __init__(
        self,
        path: str,
        status: str,
        additions: int = 0,
        deletions: int = 0,
        binary: bool = False,
        old_path: str | None = None,
        mode_change: bool = False,
        size_unknown: bool = False,
    ) -> None:
        _set(self, "path", path)
        _set(self, "status", status)
        _set(self, "additions", additions)
        _set(self, "deletions", deletions)
        _set(self, "binary", binary)
        _set(self, "old_path", old_path)
        _set(self, "mode_change", mode_change)
        _set(self, "size_unknown", size_unknown)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "status": self.status,
            "additions": self.additions,
            "deletions": self.deletions,
        }
        if self.size_unknown:
            data["additions"] = data["deletions"] = None
            data["size_unknown"] = True
        if self.binary:
            data["binary"] = True
        if self.old_path:
            data["old_path"] = self.old_path
        if self.mode_change:
            data["mode_change"] = True
        return data

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FileChange:
        return cls(
            d["path"],
            d.get("status", "M"),
            int(d.get("additions") or 0),
            int(d.get("deletions") or 0),
            bool(d.get("binary", False)),
            d.get("old_path"),
            bool(d.get("mode_change", False)),
            bool(d.get("size_unknown", False)),
        )


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Change:
    """An AI-authored change: a commit (or an inbox patch) with its authorship and prompt.

    `id` is what verdicts are keyed by locally: the commit sha, or `inbox:<patch-id>` for a patch
    that has no commit yet. `location` says where it lives (a branch, a pull request, the inbox).
    """

    id: str
    commit: Commit
    authorship: Authorship
    prompt: Prompt | None = None
    stats: DiffStats | None = None
    source: str = "git"  # git | inbox
    location: str | None = None
    patch_path: str | None = None
    #: The files the change touches: domains and risk read them without reading the diff.
    files: tuple[FileChange, ...] = ()
    #: In the main branch? None when nobody asked (a plain `scan`); inbox patches are False.
    merged: bool | None = None
    #: What `location` is: branch, remote-branch, pull-request, merge-request, change, main,
    #: head, inbox.
    location_kind: str | None = None
    #: Every ref (short name) that holds the change; `location` is the nearest of them.
    refs: tuple[str, ...] = ()
    #: The branch a merged change was seen on before it merged (when reviewq saw it there).
    merged_from: str | None = None
    #: What the agent session that made it shows (read from this machine's session store):
    #: `tests-failing` (its last test run before the commit failed), `hooks-skipped`
    #: (committed with --no-verify or hooks pointed away). Raises risk; never from git.
    session_flags: tuple[str, ...] = ()

    def __init__(
        self,
        id: str,
        commit: Commit,
        authorship: Authorship,
        prompt: Prompt | None = None,
        stats: DiffStats | None = None,
        source: str = "git",
        location: str | None = None,
        patch_path: str | None = None,
        files: tuple[FileChange, ...] = (),
        merged: bool | None = None,
        location_kind: str | None = None,
        refs: tuple[str, ...] = (),
        merged_from: str | None = None,
        session_flags: tuple[str, ...] = (),
    ) -> None:
        _set(self, "id", id)
        _set(self, "commit", commit)
        _set(self, "authorship", authorship)
        _set(self, "prompt", prompt)
        _set(self, "stats", stats)
        _set(self, "source", source)
        _set(self, "location", location)
        _set(self, "patch_path", patch_path)
        _set(self, "files", files)
        _set(self, "merged", merged)
        _set(self, "location_kind", location_kind)
        _set(self, "refs", refs)
        _set(self, "merged_from", merged_from)
        _set(self, "session_flags", session_flags)

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path touched, both sides of a rename (a rename out of `auth/` is in `auth/`)."""
        out: list[str] = []
        for f in self.files:
            out.append(f.path)
            if f.old_path:
                out.append(f.old_path)
        return tuple(out)

    @property
    def sha(self) -> str | None:
        return self.commit.sha if self.source == "git" else None

    def to_json(self) -> dict[str, Any]:
        """The `scan --json` record of the contract."""
        commit, auth = self.commit, self.authorship
        stats = self.stats or DiffStats()
        record: dict[str, Any] = {
            "sha": self.sha,
            "subject": commit.subject,
            "author": commit.author.to_json(),
            "committer": commit.committer.to_json(),
            "committed_at": commit.committed_at,
            "agent": auth.agent,
            "model": auth.model,
            "family": auth.family,
            "role": auth.role,
            "confidence": auth.confidence,
            "evidence": [e.to_json() for e in auth.evidence],
            "prompt": self.prompt.text if self.prompt else None,
            "prompt_source": self.prompt.source if self.prompt else None,
            "prompt_link": self.prompt.link if self.prompt else None,
            "session": self.prompt.session.to_json()
            if self.prompt and self.prompt.session
            else None,
            "files": stats.files,
            "additions": stats.additions,
            "deletions": stats.deletions,
            "sizes": stats.sizes,
            "prompted_by": [i.to_json() for i in auth.prompted_by],
            "source": self.source,
        }
        if self.location:
            record["location"] = self.location
        if self.location_kind:
            record["location_kind"] = self.location_kind
        if self.merged is not None:
            record["merged"] = self.merged
        if self.refs:
            record["refs"] = list(self.refs)
        if self.merged_from:
            record["merged_from"] = self.merged_from
        if self.session_flags:
            record["session_flags"] = list(self.session_flags)
        if self.patch_path:
            record["patch"] = self.patch_path
        if self.source != "git":
            record["id"] = self.id
        return record


# --------------------------------------------------------------------------------------------
# Diffs and critiques: `reviewq.core.model_review`, made on first use (a scan needs neither).

_REVIEW_NAMES = frozenset({"DiffLine", "Hunk", "FileDiff", "Diff", "Finding", "Critique"})


def __getattr__(name: str) -> Any:
    if name in _REVIEW_NAMES:
        from reviewq.core import model_review

        globals().update({n: getattr(model_review, n) for n in _REVIEW_NAMES})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
