"""Helpers shared by the provenance-log tests: AI commits, records, re-chaining, SSH keys."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from reviewq.core.model import Identity
from reviewq.core.verdict import CritiqueState, new_record, record_line, seal
from reviewq.store.log import Head, ProvenanceLog

CLAUDE = "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>"
AT = "2026-11-20T12:00:00.000+01:00"


def ai_commit(repo, subject: str, files: dict[str, str] | None = None, **kw: Any) -> str:
    """A commit Claude Code made (its trailer), so reviewq puts it in the queue."""
    return repo.commit(f"{subject}\n\nWhy: tests.\n\n{CLAUDE}\n", files=files, **kw)


def make_record(i: int, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "record_id": f"rec-{i:06d}",
        "sha": f"{i:040x}",
        "change_id": f"{i:040x}",
        "patch_id": f"{i + 7:040x}",
        "verdict": "approve",
        "reviewer": Identity("Test Reviewer", "reviewer@example.com"),
        "at": AT,
        "active_seconds": 60 + i,
        "wall_seconds": 90 + i,
        "lines_changed": 10,
        "hunks_total": 2,
        "hunks_viewed": 2,
        "critique": CritiqueState("static", "rules", None, True),
        "author_family": "anthropic",
    }
    fields.update(overrides)
    return new_record(**fields)


def write_log(path: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    log = ProvenanceLog(path)
    return [log.append(r) for r in records]


def raw_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def rechain(path: Path, records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """What a careful forger does after editing records: recompute every hash and the head."""
    log = ProvenanceLog(path)
    if records is None:
        records = [json.loads(line) for line in raw_lines(path)]
    prev = "0" * 64
    out, data = [], b""
    for record in records:
        sealed = seal(record, prev)
        prev = sealed["hash"]
        out.append(sealed)
        data += record_line(sealed)
    path.write_bytes(data)
    log._write_head(Head(len(out), len(data), prev))
    return out


def rehashed(line: bytes, head: bytes, tail: bytes = b"") -> bytes:
    """`line` with `head` put after its opening brace (and `tail` before its closing one) and
    its own hash recomputed over the bytes as they now are: a forged line whose own hash is
    right (its link to the next line is then broken, as any edit breaks it)."""
    body = line.rstrip(b"\n")
    start = body.index(b',"hash":"')
    old = body[start : start + 74]
    body = b"{" + head + body[1:-1] + tail + b"}"
    digest = hashlib.sha256(body.replace(old, b"", 1)).hexdigest().encode()
    return body.replace(old, b',"hash":"' + digest + b'"', 1) + b"\n"


def keygen(directory: Path, name: str, passphrase: str = "") -> Path:
    """A real ed25519 key pair made by ssh-keygen; returns the private key path."""
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return key


def allowed_line(email: str, key: Path, options: str = "") -> str:
    public = key.with_name(key.name + ".pub").read_text().strip()
    return f"{email} {options + ' ' if options else ''}{public}\n"


def git_config(*args: str) -> None:
    """Set a value in the test's own global git config (conftest points GIT_CONFIG_GLOBAL)."""
    subprocess.run(["git", "config", "--global", *args], check=True, capture_output=True)
