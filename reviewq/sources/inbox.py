"""A patch inbox: a folder of agent output waiting for review, outside git history.

Each `.patch` / `.diff` file (plain unified diff, `git format-patch` output, or an mbox of several
patches) may have a sidecar beside it holding what the agent was asked and which model ran:

- `NAME.json` or `NAME.patch.json`: `{"prompt": "...", "agent": "codex", "model": "gpt-5",
  "prompted_by": "Ada <ada@example.com>", "created_at": "2026-11-20T10:00:00+00:00"}`
- `NAME.md` or `NAME.patch.md`: optional front matter (`---` / `key: value` lines / `---`), then
  the prompt as Markdown.

An inbox item is AI output by definition (that is what the folder is for); the sidecar says which
agent, and markers in the patch itself still count.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewq.core import safejson
from reviewq.core.families import normalize_model
from reviewq.core.model import Commit, Diff, Identity
from reviewq.core.provenance import ProvenanceHint, agent_slug
from reviewq.core.text import clean_text
from reviewq.errors import ReviewqError
from reviewq.sources.diffs import BrokenDiff, parse_unified_diff

PATCH_SUFFIXES = (".patch", ".diff", ".mbox", ".eml")
_MBOX_FROM = re.compile(rb"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$", re.MULTILINE)
_PATCH_TAG = re.compile(r"^\s*(\[[^\]]*\]\s*)+")


class BrokenPatch(ReviewqError):
    """An inbox file that cannot be read as a patch."""


@dataclass(frozen=True, slots=True)
class Sidecar:
    prompt: str | None
    agent: str | None
    model: str | None
    prompted_by: Identity | None
    created_at: str | None
    path: str

    def hint(self) -> ProvenanceHint:
        return ProvenanceHint(
            source="sidecar",
            agent=self.agent,
            model=self.model,
            ai_lines=-1,
            prompt=self.prompt,
            prompted_by=self.prompted_by,
            marker=f"sidecar {Path(self.path).name}",
        )


@dataclass(frozen=True, slots=True)
class InboxPatch:
    """One patch from the inbox: its pseudo-commit, parsed diff and sidecar."""

    path: Path
    index: int  # position inside an mbox holding several patches
    commit: Commit
    diff: Diff
    raw: bytes
    sidecar: Sidecar | None

    @property
    def key(self) -> str:
        """Stable id before git computes a patch-id: content hash of the patch text."""
        return hashlib.sha256(self.raw).hexdigest()[:40]


def _identity(value: Any) -> Identity | None:
    if not isinstance(value, str) or not value.strip():
        return None
    name, addr = email.utils.parseaddr(value)
    return Identity(name or value.strip(), addr)


def sidecar_candidates(patch: Path) -> tuple[Path, ...]:
    """Where a patch's sidecar may be, in the order they are tried."""
    stem = patch.with_suffix("")
    return (
        patch.with_name(patch.name + ".json"),
        stem.with_name(stem.name + ".json"),
        patch.with_name(patch.name + ".md"),
        stem.with_name(stem.name + ".md"),
    )


def read_sidecar(patch: Path) -> Sidecar | None:
    for candidate in sidecar_candidates(patch):
        if candidate.is_file():
            return _parse_sidecar(candidate)
    return None


def _parse_sidecar(path: Path) -> Sidecar:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokenPatch(f"{path}: unreadable sidecar ({exc}); fix or remove it") from None
    meta: dict[str, Any]
    prompt: str | None
    if path.suffix == ".json":
        try:
            meta = safejson.loads(text)
        except ValueError as exc:
            raise BrokenPatch(f"{path}: sidecar is not valid JSON ({exc}); fix it") from None
        if not isinstance(meta, dict):
            raise BrokenPatch(f"{path}: sidecar must be a JSON object; fix it")
        # JSON escapes can spell lone surrogates, which no UTF-8 output can carry.
        meta = {k: clean_text(v) if isinstance(v, str) else v for k, v in meta.items()}
        prompt = meta.get("prompt") if isinstance(meta.get("prompt"), str) else None
    else:
        meta, prompt = {}, text
        if text.startswith("---\n"):
            head, sep, rest = text[4:].partition("\n---")
            if sep:
                for line in head.splitlines():
                    key, colon, value = line.partition(":")
                    if colon:
                        meta[key.strip().lower()] = value.strip().strip("\"'")
                prompt = rest.lstrip("-").lstrip("\n")
    agent = meta.get("agent")
    model = meta.get("model")
    return Sidecar(
        prompt=prompt.strip() if isinstance(prompt, str) and prompt.strip() else None,
        agent=agent_slug(agent) if isinstance(agent, str) and agent.strip() else None,
        model=normalize_model(model) if isinstance(model, str) else None,
        prompted_by=_identity(meta.get("prompted_by")),
        created_at=meta.get("created_at") if isinstance(meta.get("created_at"), str) else None,
        path=str(path),
    )


def _split_mbox(data: bytes) -> list[bytes]:
    starts = [m.start() for m in _MBOX_FROM.finditer(data)]
    if len(starts) <= 1:
        return [data]
    ends = [*starts[1:], len(data)]
    return [data[s:e] for s, e in zip(starts, ends)]


def _mail_parts(data: bytes) -> tuple[dict[str, str], str, bytes] | None:
    """format-patch mail -> (headers, commit message, diff bytes); None for a bare diff."""
    head = data.lstrip()
    if head.startswith(b"From "):
        head = head.split(b"\n", 1)[1] if b"\n" in head else b""
    if not re.match(rb"^(From|Subject|Date):", head):
        return None
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(head)
    payload = msg.get_payload(decode=True)
    body = payload if isinstance(payload, bytes) else str(msg.get_payload()).encode()
    text_part, sep, diff_part = body.partition(b"\n---\n")
    if not sep:
        idx = body.find(b"diff --git ")
        text_part, diff_part = (body[:idx], body[idx:]) if idx >= 0 else (body, b"")
    headers = {k.lower(): str(v) for k, v in msg.items()}
    subject = _PATCH_TAG.sub("", " ".join(headers.get("subject", "").split()))
    message = subject + (
        "\n\n" + text_part.decode("utf-8", "replace").strip() if text_part.strip() else ""
    )
    return headers, message, diff_part


def read_patch_file(path: Path, mtime_iso: str) -> list[InboxPatch]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BrokenPatch(
            f"{path}: cannot read patch ({exc.strerror or exc}); check permissions"
        ) from None
    sidecar = read_sidecar(path)
    patches = []
    for index, part in enumerate(_split_mbox(data)):
        mail = _mail_parts(part)
        if mail is None:
            headers, message, diff_bytes = {}, f"{path.name}", part
        else:
            headers, message, diff_bytes = mail
        try:
            diff = parse_unified_diff(diff_bytes, source=str(path))
        except BrokenDiff as exc:
            raise BrokenPatch(f"{path}: not a readable patch ({exc.message})") from None
        if not diff.files:
            raise BrokenPatch(f"{path}: no diff found in the file; is it a patch?")
        author = _identity(headers.get("from")) or Identity("(inbox)", "")
        date = headers.get("date")
        when = mtime_iso
        if date:
            try:
                when = email.utils.parsedate_to_datetime(date).isoformat()
            except (TypeError, ValueError):
                pass
        if sidecar is not None and sidecar.created_at:
            when = sidecar.created_at
        commit = Commit(
            sha="",
            parents=(),
            author=author,
            committer=author,
            authored_at=when,
            committed_at=when,
            message=message,
        )
        patches.append(InboxPatch(path, index, commit, diff, part, sidecar))
    return patches


def list_inbox(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PATCH_SUFFIXES)
