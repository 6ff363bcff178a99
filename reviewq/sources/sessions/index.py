"""A cache of what each session file holds, keyed by the file's path, mtime and size.

`<cache dir>/reviewq/sessions/index.json` holds one small summary per file (agent, session id,
working directories, time window, the abbreviated shas it shows); the parsed sessions themselves
sit one file each beside it and are read only for sessions that may have made a commit asked
about. A file that changed is parsed again; a file that is gone drops out. The cache holds text
from transcripts (prompts, commands), so it is written owner-only, like the stores it reads.

A file that does not parse is skipped with one line on stderr (once: the failure is cached with
the file's mtime and size) and never stops a command.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reviewq.core import safejson
from reviewq.core.jsonio import dump_json, parse_line
from reviewq.core.session_formats import (
    parse_aider,
    parse_claude,
    parse_codex,
    parse_gemini,
    parse_opencode,
    parse_specstory,
)
from reviewq.core.session_link import Session, SessionFormatError
from reviewq.files import replace_file
from reviewq.sources.sessions.stores import INDEX_NAME, Found, discover, index_dir

INDEX_VERSION = 1
#: A session file larger than this is skipped (with its line): a transcript that size is not
#: one a reviewer reads, and reading it must not stall every command that shows prompts.
MAX_SESSION_BYTES = 256 * 1024 * 1024


def cache_dir(env: Mapping[str, str]) -> Path:
    return index_dir(env)


@dataclass(frozen=True, slots=True)
class Summary:
    """What deciding "could this session have made that commit" needs, without its events."""

    agent: str
    id: str
    path: str
    cwds: tuple[str, ...]
    start: float | None
    end: float | None
    shas: tuple[str, ...]
    blob: str
    index: int  # which session of the file (an aider history holds several)


def _key(found: Found) -> list[Any] | None:
    try:
        st = found.path.stat()
    except OSError:
        return None
    key: list[Any] = [st.st_mtime_ns, st.st_size, found.root]
    if found.agent == "opencode-db":  # SQLite in WAL mode: recent writes sit in the -wal file
        try:
            st = Path(str(found.path) + "-wal").stat()
            key += [st.st_mtime_ns, st.st_size]
        except OSError:
            key += [None, None]
    if found.agent == "opencode":  # messages and parts live in other files
        for sub in ("message",):
            d = found.path.parent.parent.parent / sub / found.path.stem
            try:
                key.append(d.stat().st_mtime_ns)
            except OSError:
                key.append(None)
    return key


def _local_offset(ts: float | None = None) -> float:
    lt = time.localtime(ts)
    return float(lt.tm_gmtoff or 0)


def parse_found(found: Found) -> list[Session]:
    """The sessions in one store file (raises on anything unreadable)."""
    path = str(found.path)
    if found.agent == "opencode":
        return [_opencode(found.path)]
    if found.agent == "opencode-db":
        return [_resolved(s) for s in _opencode_db(found.path)]
    data = found.path.read_bytes()
    if found.agent == "claude-code":
        sessions = [parse_claude(data, path)]
    elif found.agent == "codex":
        sessions = [parse_codex(data, path)]
    elif found.agent == "gemini-cli":
        sessions = [parse_gemini(data, path, found.root)]
    elif found.agent == "aider":
        text = data.decode("utf-8", "replace")
        sessions = parse_aider(text, path, found.root or "", _local_offset())
    elif found.agent == "specstory":
        text = data.decode("utf-8", "replace")
        sessions = [parse_specstory(text, path, found.root or "", _local_offset())]
    else:  # pragma: no cover - discover() names only the kinds above
        raise SessionFormatError(f"unknown store kind {found.agent}")
    return [_resolved(s) for s in sessions]


def _resolved(s: Session) -> Session:
    """Working directories with symlinks resolved, so they compare with resolved worktrees."""
    cwds = tuple(dict.fromkeys(os.path.realpath(c) if os.path.isabs(c) else c for c in s.cwds))
    return s if cwds == s.cwds else replace(s, cwds=tuple(dict.fromkeys((*cwds, *s.cwds))))


def _opencode(path: Path) -> Session:
    storage = path.parent.parent.parent
    session = safejson.loads(path.read_bytes())
    if not isinstance(session, dict):
        raise SessionFormatError("the session document is not an object")
    messages = []
    parts = []
    for mp in sorted((storage / "message" / path.stem).glob("*.json")):
        try:
            m = safejson.loads(mp.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(m, dict):
            messages.append(m)
            for pp in sorted((storage / "part" / str(m.get("id"))).glob("*.json")):
                try:
                    part = safejson.loads(pp.read_bytes())
                except (OSError, ValueError):
                    continue
                if isinstance(part, dict):
                    parts.append(part)
    return _resolved(parse_opencode(session, messages, parts, str(path)))


def _opencode_db(path: Path) -> list[Session]:
    """OpenCode >= 1.2 keeps sessions in SQLite: `session` rows, and `message` and `part` rows
    whose `data` column is the JSON document the older JSON files held. Opened read-only."""
    # start-up: SQLite only for an OpenCode store
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
    try:
        con.row_factory = sqlite3.Row
        sessions = con.execute("SELECT * FROM session").fetchall()
        out = []
        for row in sessions:
            cols = row.keys()
            sid = row["id"]
            doc = {
                "id": sid,
                "directory": row["directory"] if "directory" in cols else None,
                "parentID": row["parent_id"] if "parent_id" in cols else None,
                "time": {
                    "created": row["time_created"] if "time_created" in cols else None,
                    "updated": row["time_updated"] if "time_updated" in cols else None,
                },
            }
            messages = [
                {**_json_object(m["data"]), "id": m["id"]}
                for m in con.execute("SELECT * FROM message WHERE session_id = ?", (sid,))
            ]
            parts = [
                {**_json_object(pt["data"]), "id": pt["id"], "messageID": pt["message_id"]}
                for pt in con.execute("SELECT * FROM part WHERE session_id = ?", (sid,))
            ]
            try:
                out.append(parse_opencode(doc, messages, parts, f"{path}#{sid}"))
            except SessionFormatError:
                continue  # one unreadable session; the others still count
        if sessions and not out:
            raise SessionFormatError("no readable OpenCode session in the database")
        return out
    finally:
        con.close()


def _json_object(text: object) -> dict[str, Any]:
    try:
        value = safejson.loads(text) if isinstance(text, (str, bytes)) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class SessionIndex:
    """Summaries of every session file, refreshed by mtime and size; full sessions on demand."""

    def __init__(
        self,
        directory: Path,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = directory
        self.warn = warn or (lambda line: print(line, file=sys.stderr))
        self.parsed = 0  # files parsed this time (not answered from the cache)
        self._entries: dict[str, dict[str, Any]] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            data = parse_line((self.directory / INDEX_NAME).read_bytes())
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("v") == INDEX_VERSION:
            files = data.get("files")
            if isinstance(files, dict):
                self._entries = files

    def refresh(self, found: Sequence[Found]) -> list[Summary]:
        self._load()
        entries: dict[str, dict[str, Any]] = {}
        changed = False
        for f in found:
            path = str(f.path)
            key = _key(f)
            if key is None:
                continue
            old = self._entries.get(path)
            if old is not None and old.get("key") == key and old.get("agent") == f.agent:
                entries[path] = old
                continue
            changed = True
            entries[path] = self._parse(f, key)
        if set(entries) != set(self._entries):
            changed = True
        if changed:
            try:  # owner-only: the cache holds text from transcripts
                self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.directory.chmod(0o700)
            except OSError:
                pass
            self._remove_stale(entries)
            self._entries = entries
            self._save()
        out = []
        for path, e in entries.items():
            for i, s in enumerate(e.get("sessions") or ()):
                out.append(
                    Summary(
                        agent=s["agent"],
                        id=s["id"],
                        path=path,
                        cwds=tuple(s.get("cwds") or ()),
                        start=s.get("start"),
                        end=s.get("end"),
                        shas=tuple(s.get("shas") or ()),
                        blob=e["blob"],
                        index=i,
                    )
                )
        return out

    def _parse(self, f: Found, key: list[Any]) -> dict[str, Any]:
        self.parsed += 1
        blob = hashlib.sha256(str(f.path).encode()).hexdigest()[:32] + ".json"
        entry: dict[str, Any] = {"key": key, "agent": f.agent, "blob": blob, "sessions": []}
        try:
            if key[1] > MAX_SESSION_BYTES:
                raise SessionFormatError(f"larger than {MAX_SESSION_BYTES >> 20} MiB")
            sessions = parse_found(f)
        except Exception as exc:  # any unreadable file is skipped, never fatal
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.warn(f"reviewq: skipped session file {f.path}: {reason}")
            entry["error"] = reason[:200]
            return entry
        entry["sessions"] = [
            {
                "agent": s.agent,
                "id": s.id,
                "cwds": list(s.cwds),
                "start": s.start,
                "end": s.end,
                "shas": sorted({e.sha for e in s.events if e.kind == "commit" and e.sha}),
            }
            for s in sessions
        ]
        try:
            replace_file(
                self.directory / blob,
                lambda fh: fh.write(dump_json([s.to_json() for s in sessions])),
                prefix=".session-",
            )
        except OSError:
            entry["sessions"] = []
        return entry

    def _remove_stale(self, entries: Mapping[str, dict[str, Any]]) -> None:
        keep = {e.get("blob") for e in entries.values()}
        for e in self._entries.values():
            blob = e.get("blob")
            if blob and blob not in keep:
                try:
                    (self.directory / blob).unlink()
                except OSError:
                    pass

    def _save(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            replace_file(
                self.directory / INDEX_NAME,
                lambda fh: fh.write(dump_json({"v": INDEX_VERSION, "files": self._entries})),
                prefix=".index-",
            )
        except OSError:
            pass  # no cache: the next command parses again

    def file_key(self, path: str) -> Any:
        entry = self._entries.get(path)
        return entry.get("key") if entry else None

    def cached_links(self, key: str) -> list[Any] | None:
        """Links computed before for exactly these sessions (by mtime and size) and commits."""
        try:
            data = parse_line((self.directory / f"links-{key}.json").read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, list) else None

    def store_links(self, key: str, rows: list[Any], keep: int = 16) -> None:
        """Remember links (the newest `keep` sets: one per kind of question, scan or show)."""
        try:
            replace_file(
                self.directory / f"links-{key}.json",
                lambda fh: fh.write(dump_json(rows)),
                prefix=".links-",
            )
            old = sorted(
                self.directory.glob("links-*.json"), key=lambda q: q.stat().st_mtime, reverse=True
            )
            for stale in old[keep:]:
                stale.unlink()
        except OSError:
            pass

    def sessions(self, summaries: Sequence[Summary]) -> list[Session]:
        """The parsed sessions behind `summaries` (their blobs read once each)."""
        blobs: dict[str, list[Any]] = {}
        out = []
        for s in summaries:
            if s.blob not in blobs:
                try:
                    data = parse_line((self.directory / s.blob).read_bytes())
                except (OSError, ValueError):
                    data = []
                blobs[s.blob] = data if isinstance(data, list) else []
            rows = blobs[s.blob]
            if s.index < len(rows):
                try:
                    out.append(Session.from_json(rows[s.index]))
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue  # a damaged cache file: that session is read again once it changes
        return out


def load_index(env: Mapping[str, str], roots: Sequence[str]) -> tuple[SessionIndex, list[Summary]]:
    index = SessionIndex(cache_dir(env))
    return index, index.refresh(discover(env, roots))
