"""The verdict record (../CONTRACT.md) and its hash chain, as pure functions.

A record's `hash` is the sha256 of its canonical JSON without `hash` and `signature`; `prev` is
the hash of the record before it (64 zeros for the first). Changing a byte, removing, reordering
or truncating records breaks the chain at a point `verify_chain` names. The signature (when the
reviewer has an SSH key) signs the `hash` string, so it covers every field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reviewq.core.model import VERDICTS, Identity

RECORD_VERSION = 1
GENESIS = "0" * 64
#: Fields the hash does not cover (the hash itself, and the signature over the hash).
UNHASHED = ("hash", "signature")


def canonical_json(record: Mapping[str, Any]) -> str:
    """The one serialisation every hash is computed over (sorted keys, no spaces, UTF-8)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: Mapping[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in UNHASHED}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def seal(record: Mapping[str, Any], prev: str) -> dict[str, Any]:
    """`record` chained after `prev`: sets `prev` and `hash` (signature stays as given)."""
    sealed = dict(record)
    sealed["prev"] = prev
    sealed.setdefault("signature", None)
    sealed["hash"] = record_hash(sealed)
    return sealed


@dataclass(frozen=True, slots=True)
class CritiqueState:
    """What the reviewer had of the critique when deciding (anchoring matters: Tufano 2024)."""

    critic: str | None
    family: str | None
    model: str | None
    opened_before_verdict: bool
    same_family_allowed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "critic": self.critic,
            "family": self.family,
            "model": self.model,
            "opened_before_verdict": self.opened_before_verdict,
            "same_family_allowed": self.same_family_allowed,
        }


def new_record(
    *,
    record_id: str,
    sha: str | None,
    change_id: str,
    patch_id: str | None,
    verdict: str,
    reviewer: Identity,
    at: str,
    active_seconds: float,
    wall_seconds: float,
    lines_changed: int,
    hunks_total: int,
    hunks_viewed: int,
    critique: CritiqueState | None,
    author_family: str,
    domain: str = "default",
    note: str = "",
    co_reviewers: Iterable[Identity] = (),
    agent: str | None = None,
    model: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An unsealed verdict record in the contract's shape (`seal` chains it)."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    record: dict[str, Any] = {
        "v": RECORD_VERSION,
        "id": record_id,
        "sha": sha,
        "change_id": change_id,
        "patch_id": patch_id,
        "verdict": verdict,
        "reviewer": reviewer.to_json(),
        "co_reviewers": [c.to_json() for c in co_reviewers],
        "at": at,
        "active_seconds": round(float(active_seconds), 3),
        "wall_seconds": round(float(wall_seconds), 3),
        "lines_changed": int(lines_changed),
        "hunks_total": int(hunks_total),
        "hunks_viewed": int(hunks_viewed),
        "critique": critique.to_json() if critique else None,
        "author_family": author_family,
        "agent": agent,
        "model": model,
        "domain": domain,
        "note": note,
    }
    if extra:
        for key, value in extra.items():
            if key in record or key in ("prev", "hash", "signature"):
                raise ValueError(f"extra field {key!r} would overwrite a contract field")
            record[key] = value
    return record


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first place the chain breaks: 1-based record number and what is wrong."""

    index: int
    record_id: str | None
    problem: str


def verify_chain(records: Iterable[Mapping[str, Any]]) -> ChainProblem | None:
    """None when every record hashes to its `hash` and points at the one before it."""
    prev = GENESIS
    for index, record in enumerate(records, start=1):
        rid = record.get("id") if isinstance(record, Mapping) else None
        if not isinstance(record, Mapping):
            return ChainProblem(index, None, "not a JSON object")
        if record.get("prev") != prev:
            return ChainProblem(
                index,
                rid,
                "points at the wrong previous record (a record was removed, reordered or "
                "inserted before it)",
            )
        if record_hash(record) != record.get("hash"):
            return ChainProblem(index, rid, "content does not match its hash (edited)")
        prev = str(record["hash"])
    return None
