"""What is kept beside the cache file (`store.cache`): a digest of each watched table and the
file it describes. Apart from the cache itself so that a reader of a digest (`stats`' summary
key) neither imports the cache nor parses its file."""

from __future__ import annotations

import os
from pathlib import Path

from reviewq.core.jsonio import parse_line

#: The table of stored critiques (`workflow.critiquing`): the one table the figures of
#: `stats` read, so the one whose digest is kept beside the file (`table_digest`).
CRITIQUES_TABLE = "critiques"
#: Beside the cache file (`cache.json.digests`): which file it describes and a digest of each
#: table the `Cache` was asked to watch.
DIGESTS_SUFFIX = ".digests"


def file_stamp(path: str | os.PathLike[str]) -> list[int] | None:
    """Size, times and inode of a file (each write of the cache is a new file), or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def table_digest(path: str | os.PathLike[str], table: str) -> str | None:
    """The digest of `table` as the cache file at `path` holds it, when the digests beside
    it describe this very file (`file_stamp`); None otherwise (none kept, a write between the
    two files, another tool's edit, a table not watched): the caller then keys on the file as
    a whole. A reader that depends on one table (the figures of `stats`, on the critiques) is
    thus not made stale by the writes of the others (a verdict's patch id, a scan's changes:
    each rewrites the whole file)."""
    try:
        kept = parse_line(Path(f"{os.fspath(path)}{DIGESTS_SUFFIX}").read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("file") != file_stamp(path):
        return None
    tables = kept.get("tables")
    value = tables.get(table) if isinstance(tables, dict) else None
    return value if isinstance(value, str) else None
