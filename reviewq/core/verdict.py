"""The verdict record (../CONTRACT.md), its hash chain and what "settled" means, as pure functions.

Two digests, for two different guarantees:

- `content_digest`: sha256 of the canonical JSON without `prev`, `hash` and `signature`. This is
  what the reviewer's SSH key signs. It does not depend on where the record sits in a chain, so a
  verdict copied into another clone's log (re-chained there) or read from the notes ref keeps a
  valid signature.
- `hash`: sha256 of the canonical JSON without `hash` (so it covers `prev` and `signature`). Each
  record's `prev` is the `hash` of the record before it (64 zeros for the first). Changing a byte,
  removing, reordering or inserting records breaks the chain at a place `verify_chain` names;
  stripping or swapping a signature breaks it too.

A stored line is the canonical JSON of the whole record plus a newline, in the log and in the
notes ref alike. Checking a stored line hashes its bytes, not a re-serialisation, so a change that
would survive a parse (an added space, `1.0` written `1.00`) is still a changed byte.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewq.core.model import VERDICTS, Identity
from reviewq.core.times import parse_instant

RECORD_VERSION = 1
GENESIS = "0" * 64
#: Verdicts that settle a change; `escalate` keeps it pending until someone senior decides.
SETTLING_VERDICTS: tuple[str, ...] = ("approve", "reject", "changes")
#: Fields the signed content digest leaves out (the chain and the signature itself).
CHAIN_FIELDS = ("prev", "hash", "signature")


def canonical_json(record: Mapping[str, Any]) -> str:
    """The one serialisation every digest is computed over (sorted keys, no spaces, UTF-8)."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def record_line(record: Mapping[str, Any]) -> bytes:
    """The stored form of a sealed record: one canonical JSON line (log and notes ref)."""
    return canonical_json(record).encode("utf-8") + b"\n"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(record: Mapping[str, Any]) -> str:
    """The chain hash: everything but `hash` itself (so `prev` and `signature` are covered)."""
    return _sha256(canonical_json({k: v for k, v in record.items() if k != "hash"}))


def content_digest(record: Mapping[str, Any]) -> str:
    """What a signature covers: the verdict itself, independent of any chain."""
    return _sha256(canonical_json({k: v for k, v in record.items() if k not in CHAIN_FIELDS}))


def content_digest_or_none(record: Mapping[str, Any]) -> str | None:
    """`content_digest`, or None for a record that has no canonical JSON (NaN or an infinity,
    a lone surrogate, nesting deeper than the encoder goes): no reviewq wrote it and nobody
    can have signed it. A reader comparing copies takes None as "not the same"; a forged line
    must not crash it."""
    try:
        return content_digest(record)
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return None


def signing_payload(record: Mapping[str, Any]) -> bytes:
    """The exact bytes handed to `ssh-keygen -Y sign -n reviewq`."""
    return content_digest(record).encode("ascii")


def seal(record: Mapping[str, Any], prev: str) -> dict[str, Any]:
    """`record` chained after `prev`: sets `prev` and `hash` (a signature must already be set)."""
    sealed = {k: v for k, v in record.items() if k not in ("prev", "hash")}
    sealed["prev"] = prev
    sealed.setdefault("signature", None)
    sealed["hash"] = record_hash(sealed)
    return sealed


def line_hash_matches(raw: bytes, record: Mapping[str, Any], *, strict: bool = False) -> bool:
    """True when the stored line `raw` (parsed as `record`) hashes to its own `hash` field.

    The line is canonical JSON, so removing its `"hash":"..."` member gives exactly the bytes
    the writer hashed. Any other byte change, including ones a parser would not notice, fails.
    `strict`: `record` was read by a parser that refuses what has no canonical form
    (`jsonio.STRICT_FAST_LOADS`), so `has_canonical_form` need not look (a few µs a line).
    """
    value = record.get("hash")
    if not isinstance(value, str) or len(value) != 64:
        return False
    body = raw.rstrip(b"\n")
    member = b'"hash":"' + value.encode("ascii", "replace") + b'"'
    for needle in (b"," + member, member + b","):
        if needle in body:
            body = body.replace(needle, b"", 1)
            break
    else:
        return False
    return hashlib.sha256(body).hexdigest() == value and (strict or has_canonical_form(raw, record))


#: What a line whose record has no canonical form holds: NaN or an infinity, a lone surrogate
#: (escaped, or encoded: json reads all of them). A line without any of these has one.
_NOT_CANONICAL_HINTS = (b"NaN", b"Infinity", b"\\ud", b"\\uD", b"\xed")


def has_canonical_form(raw: bytes, record: Mapping[str, Any]) -> bool:
    """Does `record` (parsed from the line `raw`) have a canonical form? Its hash is defined
    over that form, so a record without one (NaN, an infinity, a lone surrogate: json reads
    them, no writer of canonical lines wrote them) does not hash to anything, whatever bytes
    its line hashes to. Cheap for every line: only one holding a hint is serialised."""
    if not any(hint in raw for hint in _NOT_CANONICAL_HINTS):
        return True
    try:
        canonical_json(record).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return True


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


def _seconds(name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, not {value!r}")
    return round(number, 3)


def _count(name: str, value: int) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, not {value!r}")
    return number


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
    parsed_at = parse_instant(at)
    if parsed_at is None or parsed_at.tzinfo is None:
        raise ValueError(f"at must be an RFC 3339 time with an offset, not {at!r}")
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
        "active_seconds": _seconds("active_seconds", active_seconds),
        "wall_seconds": _seconds("wall_seconds", wall_seconds),
        "lines_changed": _count("lines_changed", lines_changed),
        "hunks_total": _count("hunks_total", hunks_total),
        "hunks_viewed": _count("hunks_viewed", hunks_viewed),
        "critique": critique.to_json() if critique else None,
        "author_family": author_family,
        "agent": agent,
        "model": model,
        "domain": domain,
        "note": note,
    }
    if extra:
        for key, value in extra.items():
            if key in record or key in CHAIN_FIELDS:
                raise ValueError(f"extra field {key!r} would overwrite a contract field")
            record[key] = value
    canonical_json(record)  # fails now, not at write time, on NaN or unserialisable extras
    return record


# -- the chain --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first place the chain breaks: 1-based record number and what is wrong."""

    index: int
    record_id: str | None
    problem: str

    def to_json(self) -> dict[str, Any]:
        return {"record": self.index, "id": self.record_id, "problem": self.problem}


BROKEN_LINK = (
    "points at the wrong previous record (a record was removed, reordered or inserted before it)"
)
EDITED = "content does not match its hash (edited)"


def verify_chain(records: Iterable[Mapping[str, Any]]) -> ChainProblem | None:
    """None when every record hashes to its `hash` and points at the one before it."""
    prev = GENESIS
    for index, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            return ChainProblem(index, None, "not a JSON object")
        rid = record.get("id")
        if record.get("prev") != prev:
            return ChainProblem(index, rid, BROKEN_LINK)
        try:
            same = record_hash(record) == record.get("hash")
        except (ValueError, RecursionError):  # no canonical form (NaN, a lone surrogate)
            same = False
        if not same:
            return ChainProblem(index, rid, EDITED)
        prev = str(record["hash"])
    return None


# -- signatures, as a verifier reports them ---------------------------------------------------

SIG_GOOD = "good"
SIG_UNSIGNED = "unsigned"
#: Signed, but there is no allowed-signers file to check the signer against.
SIG_UNCHECKED = "unchecked"
SIG_UNKNOWN_SIGNER = "unknown-signer"
SIG_BAD = "bad-signature"
SIGNATURE_STATES = (SIG_GOOD, SIG_UNSIGNED, SIG_UNCHECKED, SIG_UNKNOWN_SIGNER, SIG_BAD)


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    status: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RecordFinding:
    """One record that is not fine, for `log verify` (1-based record number)."""

    index: int
    record_id: str | None
    kind: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.index,
            "id": self.record_id,
            "kind": self.kind,
            "detail": self.detail,
        }


#: Finding kinds that fail `log verify` (a `notes:` prefix marks findings in the notes ref).
FAILING_KINDS = frozenset({SIG_BAD, SIG_UNKNOWN_SIGNER, "edited", "notes-mismatch"})


@dataclass
class VerifyReport:
    """Everything `log verify` found; `failed` decides the exit code."""

    path: str
    records: int = 0
    chain: ChainProblem | None = None
    #: Problems with the end of the file (truncation), reported apart from the chain.
    tail: ChainProblem | None = None
    warnings: list[str] = field(default_factory=list)
    signatures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIGNATURE_STATES, 0))
    findings: list[RecordFinding] = field(default_factory=list)
    signatures_checked: bool = True
    #: The notes ref, when it was checked: records, unreadable lines, signature counts.
    notes: dict[str, Any] | None = None
    #: Ids of the notes records the log holds too (compared while verifying): the others are
    #: the team's alone and are checked apart, without reading the log a second time.
    notes_in_log: set[str] = field(default_factory=set)

    def add_signature(self, index: int, record_id: str | None, check: SignatureCheck) -> None:
        """Count a record's signature state; list it when it is not good. Unsigned records are
        listed only once (the first), so a log that never signed does not list every record."""
        self.signatures[check.status] = self.signatures.get(check.status, 0) + 1
        if check.status == SIG_GOOD:
            return
        if check.status == SIG_UNSIGNED and self.signatures[SIG_UNSIGNED] > 1:
            return
        self.findings.append(RecordFinding(index, record_id, check.status, check.detail))

    def failing_findings(self, require_signed: bool = False) -> list[RecordFinding]:
        """Findings that fail the check: log records in order, then the notes ref's."""
        out = []
        for finding in self.findings:
            kind = finding.kind.removeprefix("notes:")
            if kind in FAILING_KINDS or (require_signed and kind in (SIG_UNSIGNED, SIG_UNCHECKED)):
                out.append(finding)
        rank = {SIG_BAD: 0, SIG_UNKNOWN_SIGNER: 1, "edited": 2, "notes-mismatch": 3}
        return sorted(
            out,
            key=lambda f: (f.index == 0, f.index, rank.get(f.kind.removeprefix("notes:"), 4)),
        )

    def failed(self, require_signed: bool = False) -> bool:
        if self.chain or self.tail:
            return True
        if require_signed and not self.signatures_checked:
            return True
        return bool(self.failing_findings(require_signed))

    def to_json(self, require_signed: bool = False) -> dict[str, Any]:
        return {
            "log": self.path,
            "ok": not self.failed(require_signed),
            "records": self.records,
            "chain": None if self.chain is None else self.chain.to_json(),
            "tail": None if self.tail is None else self.tail.to_json(),
            "signatures": dict(self.signatures) if self.signatures_checked else None,
            "notes": self.notes,
            "findings": [f.to_json() for f in self.findings],
            "warnings": list(self.warnings),
        }


# -- order and "settled" ----------------------------------------------------------------------


def match_keys(sha: Any, content_id: Any, change_id: Any) -> list[str]:
    """What a verdict (or a change) is matched by: its sha, its content id (equal bytes after
    a rebase or cherry-pick) and its change id (an inbox patch). The settled index and the
    gate's record lookup both match through these keys."""
    keys = []
    if isinstance(sha, str) and sha:
        keys.append(f"sha:{sha}")
    if isinstance(content_id, str) and content_id:
        keys.append(f"content:{content_id}")
    if isinstance(change_id, str) and change_id and change_id != sha:
        keys.append(f"change:{change_id}")
    return keys


def record_order(record: Mapping[str, Any]) -> tuple[float, str]:
    """Sort key: the instant of `at` (offsets compared properly), then the id."""
    when = parse_instant(record.get("at"))
    stamp = when.timestamp() if when is not None else 0.0
    return stamp, str(record.get("id") or "")


def dedupe_records(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per `id` (the first seen wins), ordered by time."""
    seen: dict[str, dict[str, Any]] = {}
    for record in records:
        rid = record.get("id")
        if isinstance(rid, str) and rid not in seen:
            seen[rid] = dict(record)
    return sorted(seen.values(), key=record_order)


class SettledIndex:
    """Which changes have a settling verdict, matched by sha, content id or change id.

    The latest verdict matching any of a change's keys decides: an approval later escalated is
    pending again; an escalation later approved is settled. A verdict recorded on one commit
    settles its rebased or cherry-picked copies through the content id (`content_id`: the
    verbatim patch-id, every byte of the change's lines). The whitespace-blind stable
    `patch_id` matches nothing: a copy that differs only in whitespace may behave differently.
    Callers pass a git change's content id as `patch_id`.
    """

    def __init__(self, records: Iterable[Mapping[str, Any]] = ()) -> None:
        self._latest: dict[str, tuple[tuple[float, str], str]] = {}
        for record in records:
            self.add(record)

    def add(self, record: Mapping[str, Any]) -> None:
        verdict = record.get("verdict")
        if verdict not in VERDICTS:
            return
        order = record_order(record)
        content_id = record.get("content_id")
        for key in match_keys(record.get("sha"), content_id, record.get("change_id")):
            current = self._latest.get(key)
            if current is None or current[0] < order:
                self._latest[key] = (order, str(verdict))

    def latest(
        self, *, sha: str | None, patch_id: str | None, change_id: str | None = None
    ) -> str | None:
        """The latest verdict that applies to the change, or None."""
        found = [self._latest[k] for k in match_keys(sha, patch_id, change_id) if k in self._latest]
        return max(found)[1] if found else None

    def is_settled(
        self, *, sha: str | None, patch_id: str | None, change_id: str | None = None
    ) -> bool:
        return self.latest(sha=sha, patch_id=patch_id, change_id=change_id) in SETTLING_VERDICTS

    def __len__(self) -> int:
        return len(self._latest)
