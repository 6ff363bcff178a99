"""The digests kept beside the cache file: a reader keyed on one table (the critiques, which
the figures of `stats` read) is not made stale by writes to the others, and any file the
digests do not describe (another tool's edit, a write in between) is keyed as a whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from reviewq.store.cache import Cache
from reviewq.store.cache_digests import CRITIQUES_TABLE, DIGESTS_SUFFIX, table_digest


def _write(path: Path, table: str, key: str, value: object) -> None:
    cache = Cache(path, digested=(CRITIQUES_TABLE,))
    cache.put(table, key, value)
    cache.close()


def test_a_write_to_another_table_keeps_the_critiques_digest(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    _write(path, CRITIQUES_TABLE, "c1", {"change_id": "a", "highest_severity": "high"})
    first = table_digest(path, CRITIQUES_TABLE)
    assert first is not None
    stamp = path.stat().st_mtime_ns, path.stat().st_ino
    _write(path, "patch_ids", "patch-ids", {"a" * 40: "b" * 40})
    assert (path.stat().st_mtime_ns, path.stat().st_ino) != stamp  # the file was rewritten
    assert table_digest(path, CRITIQUES_TABLE) == first
    _write(path, CRITIQUES_TABLE, "c2", {"change_id": "b", "highest_severity": "low"})
    assert table_digest(path, CRITIQUES_TABLE) not in (None, first)


def test_a_file_the_digests_do_not_describe_has_no_digest(tmp_path: Path) -> None:
    """An edit by another hand (the digests left as they were), a file put back from a copy,
    digests copied from another cache: no digest, so the caller keys on the file itself."""
    path = tmp_path / "cache.json"
    _write(path, CRITIQUES_TABLE, "c1", {"change_id": "a", "highest_severity": "high"})
    assert table_digest(path, CRITIQUES_TABLE) is not None
    data = json.loads(path.read_text())
    data[CRITIQUES_TABLE]["1"]["v"]["highest_severity"] = "medium"
    path.write_text(json.dumps(data))  # a hand edit of the critiques
    assert table_digest(path, CRITIQUES_TABLE) is None
    other = tmp_path / "other" / "cache.json"
    _write(other, CRITIQUES_TABLE, "c1", {"change_id": "a", "highest_severity": "high"})
    shutil.copy(f"{other}{DIGESTS_SUFFIX}", f"{path}{DIGESTS_SUFFIX}")
    assert table_digest(path, CRITIQUES_TABLE) is None
    Path(f"{path}{DIGESTS_SUFFIX}").write_text("{not json")
    assert table_digest(path, CRITIQUES_TABLE) is None
    assert table_digest(tmp_path / "missing.json", CRITIQUES_TABLE) is None


def test_a_cache_watching_no_table_keeps_no_digests(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    cache = Cache(path)
    cache.put("scan", "k", {"v": 1})
    cache.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]
    assert table_digest(path, CRITIQUES_TABLE) is None
