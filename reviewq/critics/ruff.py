"""ruff as the offline critic's engine for Python: security (S) and bug (B) rules.

The changed Python files' new text is written to a temporary directory and checked in one ruff
process with `--isolated` and `--ignore-noqa` (a change cannot switch rules off through its own
pyproject.toml or inline comments).
Findings are kept only where they touch added lines. When ruff is missing or fails, the critic
still runs its own rules and the critique says ruff did not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reviewq.core import safejson
from reviewq.core.detectors.base import lowered
from reviewq.core.detectors.dangerous import RUFF_EQUIVALENT
from reviewq.core.model import Finding
from reviewq.core.risk import is_test_path

#: Rules whose hits are mostly noise in review: S101 (assert) fires on every test, S311 on every
#: shuffle, S603/S607/S404 on every argument-list subprocess call. S105-S107 (password-like names)
#: are covered by the critic's own `hardcoded-credential`, which knows `token_type = "bearer"`
#: names no secret.
IGNORED = ("S101", "S311", "S603", "S607", "S404", "S105", "S106", "S107", "B905")
_ERROR = frozenset(
    {"S102", "S103", "S105", "S106", "S107", "S202", "S301", "S302", "S307", "S501", "S506",
     "S602", "S604", "S605", "S608", "S701", "S702"}
)  # fmt: skip
_NOTE = frozenset({"S110", "S112", "S324", "B904", "B007", "B009", "B010", "B018"})
TIMEOUT = 30.0
NO_RUFF = "ruff is not installed, so its Python rules did not run"


def find_ruff() -> str | None:
    """The ruff next to this Python (a venv's bin/), else on PATH."""
    name = "ruff.exe" if os.name == "nt" else "ruff"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("ruff")


@dataclass
class RuffResult:
    findings: list[Finding] = field(default_factory=list)
    #: Why ruff did not run (or failed), for the critique's notes; None when it ran.
    problem: str | None = None


def _severity(code: str) -> str:
    if code in _ERROR:
        return "error"
    if code in _NOTE:
        return "note"
    return "warning"


def run_ruff(
    files: Mapping[str, str],
    added: Mapping[str, set[int]],
    *,
    binary: str | None = None,
    runner: Callable[..., subprocess.CompletedProcess] = subprocess.run,
    find: Callable[[], str | None] = find_ruff,
) -> RuffResult:
    """ruff's S and B findings on the added lines of `files` (path -> new text)."""
    targets = {p: t for p, t in files.items() if added.get(p)}
    if not targets:
        return RuffResult()
    binary = binary or find()
    if binary is None:
        return RuffResult(problem=NO_RUFF)
    with tempfile.TemporaryDirectory(prefix="reviewq-ruff-") as tmp:
        root = Path(tmp).resolve()
        paths = []
        for rel, text in targets.items():
            target = root / rel
            if root not in target.resolve().parents:
                continue  # a path escaping the directory is not ours to write
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            paths.append(str(target))
        if not paths:
            return RuffResult()
        args = [
            binary,
            "check",
            "--isolated",
            # An inline suppression comment is the change's own say-so; the reviewer still sees it
            # (and the offline rules flag the suppression itself).
            "--ignore-noqa",
            "--no-cache",
            "--exit-zero",
            "--quiet",
            "--select",
            "S,B",
            "--ignore",
            ",".join(IGNORED),
            "--output-format",
            "json",
            *paths,
        ]
        try:
            proc = runner(args, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            return RuffResult(problem=f"ruff could not run ({exc}); its Python rules were skipped")
        if proc.returncode != 0:
            first = (proc.stderr or "").strip().splitlines()[:1]
            why = first[0] if first else f"exit {proc.returncode}"
            return RuffResult(problem=f"ruff failed ({why}); its Python rules were skipped")
        try:
            records = safejson.loads(proc.stdout or "[]")
        except ValueError:
            return RuffResult(problem="ruff's output was not JSON; its Python rules were skipped")
        out: list[Finding] = []
        for rec in records:
            try:
                rel = Path(rec["filename"]).resolve().relative_to(root).as_posix()
                start = int(rec["location"]["row"])
                end = int((rec.get("end_location") or rec["location"])["row"])
                code = str(rec.get("code") or "invalid-syntax")
            except (KeyError, TypeError, ValueError):
                continue
            lines = added.get(rel, set())
            anchor = next((n for n in range(start, end + 1) if n in lines), None)
            if anchor is None:
                continue  # pre-existing code: not this change's doing
            text_lines = targets[rel].split("\n")
            quote = text_lines[anchor - 1].strip() if anchor <= len(text_lines) else ""
            own = RUFF_EQUIVALENT.get(code)
            if code in ("invalid-syntax", "E999", "None") or not code[:1].isalpha():
                own = "syntax-error"
            severity = "error" if own == "syntax-error" else _severity(code)
            if code.startswith("S") and is_test_path(rel):
                severity = lowered(severity)  # as the critic's own rules do in tests
            out.append(
                Finding(
                    file=rel,
                    start_line=anchor,
                    # The whole statement (bounded): a call spanning lines is one finding.
                    end_line=max(anchor, min(end, anchor + 20)),
                    severity=severity,
                    label="security"
                    if code.startswith("S") and own != "syntax-error"
                    else "possible_bug",
                    rule=own or f"ruff-{code}",
                    body=f"{rec.get('message', code)} (ruff {code})",
                    quote=quote,
                )
            )
        return RuffResult(out)
