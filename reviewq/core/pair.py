"""Pair sessions as data: who takes part, who drives, the handovers and the notes per hunk.

Two or three people walk through a risky change together and the verdict records who was there:
the driver at the moment of the verdict is the record's `reviewer`, the others its
`co_reviewers`; the handovers and the notes each person left on a hunk go into the record's
`session` and `hunk_notes` fields. The policy judges such an approval like any other, with one
addition it already makes: if the person who prompted the change took part, even only as a
co-reviewer, the approval does not count.

Pure: times come in as RFC 3339 strings from the caller's clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewq.core.identity import is_machine, same_person
from reviewq.core.model import Identity

#: Co-reviewers besides the driver: a pair or a trio, not a meeting.
MAX_CO_REVIEWERS = 2
_PERSON = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<\s*(?P<email>[^<>\s]+)\s*>\s*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
PERSON_EXAMPLE = "Dana Reyes <dana@acme.example>"


class PersonError(ValueError):
    """A participant written in a way we cannot record; the message says how to write it."""


def parse_person(text: str) -> Identity:
    """`Name <email>` -> Identity; anything else raises PersonError saying what is wrong."""
    text = " ".join(text.split())
    if not text:
        raise PersonError("empty: write Name <email>")
    match = _PERSON.match(text)
    if match is None:
        if _EMAIL.match(text):
            raise PersonError(f"{text!r} has no name: write Name <{text}>")
        raise PersonError(f"{text!r} is not Name <email> (for example {PERSON_EXAMPLE})")
    name, email = match.group("name").strip(), match.group("email")
    if not name:
        raise PersonError(f"<{email}> has no name: write Name <{email}>")
    if not _EMAIL.match(email):
        raise PersonError(f"{email!r} is not an email address")
    if any(ord(ch) < 32 for ch in name):
        raise PersonError("a name cannot contain control characters")
    return Identity(name, email)


def format_person(person: Identity) -> str:
    return f"{person.name} <{person.email}>"


def check_participants(driver: Identity, co_reviewers: Sequence[Identity]) -> list[str]:
    """What is wrong with this line-up (empty: nothing)."""
    problems = []
    if not co_reviewers:
        problems.append("name at least one co-reviewer: a pair session needs two people")
    if len(co_reviewers) > MAX_CO_REVIEWERS:
        problems.append(f"at most {MAX_CO_REVIEWERS} co-reviewers")
    people = [driver, *co_reviewers]
    for i, person in enumerate(people):
        if is_machine(person):
            problems.append(f"{format_person(person)} is a machine; pair sessions are for people")
        for other in people[:i]:
            if same_person(person, other):
                problems.append(f"{format_person(person)} is named twice")
    return problems


@dataclass(frozen=True, slots=True)
class Handover:
    at: str
    #: Walkthrough step (1-based) shown when the driver changed; None before the first.
    step: int | None
    previous: Identity
    driver: Identity

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "step": self.step,
            "from": self.previous.to_json(),
            "to": self.driver.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Handover:
        return cls(
            str(data.get("at", "")),
            data.get("step") if isinstance(data.get("step"), int) else None,
            _identity(data.get("from")),
            _identity(data.get("to")),
        )


@dataclass(frozen=True, slots=True)
class HunkNote:
    """A participant's note on one hunk (or on a file without hunks: `hunk` None)."""

    file: str
    hunk: str | None
    new_start: int | None
    note: str
    by: Identity

    def key(self) -> tuple[str, str | None, int | None]:
        return (self.file, self.hunk, self.new_start)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "hunk": self.hunk,
            "new_start": self.new_start,
            "note": self.note,
            "by": self.by.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HunkNote:
        start = data.get("new_start")
        return cls(
            str(data.get("file", "")),
            str(data["hunk"]) if isinstance(data.get("hunk"), str) else None,
            start if isinstance(start, int) and not isinstance(start, bool) else None,
            str(data.get("note", "")),
            _identity(data.get("by")),
        )


def _identity(data: Any) -> Identity:
    if isinstance(data, Mapping):
        return Identity(str(data.get("name") or ""), str(data.get("email") or ""))
    return Identity("", "")


def set_note(
    notes: Sequence[HunkNote],
    where: tuple[str, str | None, int | None],
    by: Identity,
    text: str,
) -> list[HunkNote]:
    """`notes` with `by`'s note on `where` replaced (an empty text removes it).

    One note per person per hunk: each participant's words stay theirs when the driver changes.
    """
    text = text.strip()
    out = [n for n in notes if not (n.key() == where and same_person(n.by, by))]
    if text:
        out.append(HunkNote(where[0], where[1], where[2], text, by))
    return out


def notes_on(
    notes: Iterable[HunkNote], where: tuple[str, str | None, int | None]
) -> list[HunkNote]:
    return [n for n in notes if n.key() == where]


@dataclass
class PairSession:
    """The people of one session; the driver is `participants[driver_index]`."""

    participants: tuple[Identity, ...]
    started_at: str
    driver_index: int = 0
    handovers: list[Handover] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.participants) < 2:
            raise ValueError("a pair session needs at least two participants")
        self.driver_index %= len(self.participants)

    @classmethod
    def start(cls, driver: Identity, co_reviewers: Sequence[Identity], at: str) -> PairSession:
        problems = check_participants(driver, co_reviewers)
        if problems:
            raise ValueError("; ".join(problems))
        return cls((driver, *co_reviewers), at)

    @property
    def driver(self) -> Identity:
        return self.participants[self.driver_index]

    @property
    def co_reviewers(self) -> tuple[Identity, ...]:
        """Everyone but the driver, in the order they were named."""
        return tuple(p for i, p in enumerate(self.participants) if i != self.driver_index)

    def hand_over(self, at: str, step: int | None = None) -> Handover:
        """The next participant drives (round the table); returns the recorded handover."""
        previous = self.driver
        self.driver_index = (self.driver_index + 1) % len(self.participants)
        handover = Handover(at, step, previous, self.driver)
        self.handovers.append(handover)
        return handover

    def includes(self, person: Identity) -> bool:
        return any(same_person(person, p) for p in self.participants)

    def record_fields(
        self,
        *,
        host: Identity,
        since: int = 0,
        notes: Sequence[HunkNote] = (),
    ) -> dict[str, Any]:
        """The verdict record's extra fields: `session` and `hunk_notes`.

        `since`: the index of the first handover made while this change was open (a session
        walks several changes; each record carries its own handovers). `host` is the git
        identity of the machine that records (and may sign) the verdict.
        """
        return {
            "session": {
                "mode": "pair",
                "started_at": self.started_at,
                "host": host.to_json(),
                "participants": [p.to_json() for p in self.participants],
                "driver_changes": [h.to_json() for h in self.handovers[since:]],
            },
            "hunk_notes": [n.to_json() for n in notes],
        }


__all__ = [
    "MAX_CO_REVIEWERS",
    "PERSON_EXAMPLE",
    "Handover",
    "HunkNote",
    "PairSession",
    "PersonError",
    "check_participants",
    "format_person",
    "notes_on",
    "parse_person",
    "set_note",
]
