"""The cache file (`store.cache`): TinyDB's layout read and written without TinyDB.

Files written by earlier versions (through TinyDB) hold `{table: {document id: {"k": key,
"v": value}}}` with a `_meta` table; the cache reads them alike, numbers new documents as TinyDB
did, writes only on `flush`/`close` (or after `WRITES_BEFORE_FLUSH` writes), and rebuilds a file
it cannot read with one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from reviewq.store import cache as cache_module
from reviewq.store.cache import Cache

#: What TinyDB 4.x wrote for two tables (ids need not be dense: a removed document leaves a gap).
TINYDB_FILE = {
    "scan": {
        "1": {"k": "HEAD", "v": {"v": 3, "records": [[1, 2]]}},
        "4": {"k": "main", "v": None},
    },
    "viewed": {"2": {"k": "c1:a.py", "v": "h1"}},
    "_meta": {"1": {"version": 1}},
}


def written(path: Path) -> dict:
    return json.loads(path.read_bytes())


def test_a_file_tinydb_wrote_reads_and_grows_as_tinydb_numbers_it(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    path.write_text(json.dumps(TINYDB_FILE))
    cache = Cache(path)
    assert cache.get("scan", "HEAD") == {"v": 3, "records": [[1, 2]]}
    assert cache.get("scan", "main") is None
    assert cache.get("scan", "absent") is None
    assert cache.get("no-such-table", "HEAD") is None
    assert cache.items("scan") == [("HEAD", {"v": 3, "records": [[1, 2]]}), ("main", None)]
    cache.put("scan", "main", [1])  # an update keeps its document
    cache.put("scan", "topic", "new")  # a new document: one past the largest id
    cache.put("fresh", "k", 1)  # a new table starts at 1
    cache.delete("viewed", "c1:a.py")
    cache.delete("viewed", "never there")
    assert path.read_text() == json.dumps(TINYDB_FILE)  # nothing written before the flush
    cache.close()
    data = written(path)
    assert data["scan"] == {
        "1": {"k": "HEAD", "v": {"v": 3, "records": [[1, 2]]}},
        "4": {"k": "main", "v": [1]},
        "5": {"k": "topic", "v": "new"},
    }
    assert data["fresh"] == {"1": {"k": "k", "v": 1}}
    assert data["viewed"] == {}
    assert data["_meta"] == {"1": {"version": 1}}
    again = Cache(path)  # what was written reads back the same
    assert again.items("scan") == [
        ("HEAD", {"v": 3, "records": [[1, 2]]}),
        ("main", [1]),
        ("topic", "new"),
    ]
    again.put("scan", "later", 0)
    again.close()
    assert "6" in written(path)["scan"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[1, 2]",
        b'{"scan": []}',  # a table that is not a dict of documents
        b'{"scan": {"1": "not a document"}}',
        b'{"_meta": {"1": {"version": 99}}}',  # a later layout
    ],
)
def test_an_unreadable_file_is_rebuilt_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "cache.json"
    path.write_bytes(content)
    cache = Cache(path)
    err = capsys.readouterr().err
    assert err == f"reviewq: the cache at {path} was unreadable and is being rebuilt\n"
    assert written(path) == {"_meta": {"1": {"version": 1}}}
    assert cache.get("scan", "1") is None
    cache.put("scan", "k", "v")
    cache.close()
    assert Cache(path).get("scan", "k") == "v"


def test_duplicate_keys_read_as_the_first_one(tmp_path: Path) -> None:
    """A key in two documents (another tool's edit) reads as TinyDB's walk found it; the
    later document, which no read could reach, is gone once the table is used."""
    path = tmp_path / "cache.json"
    path.write_text(json.dumps({"t": {"1": {"k": "a", "v": 1}, "2": {"k": "a", "v": 2}}}))
    cache = Cache(path)
    assert cache.items("t") == [("a", 1)]
    assert cache.get("t", "a") == 1
    cache.put("t", "a", 3)
    assert cache.get("t", "a") == 3
    cache.delete("t", "a")
    assert cache.get("t", "a") is None and cache.items("t") == []
    cache.close()
    assert written(path)["t"] == {}


def test_ids_another_tool_wrote_do_not_break_the_numbering(tmp_path: Path) -> None:
    """Document ids that are not short ASCII numerals (`²` is a digit to `isdigit` but not to
    `int`; a numeral past 4,300 digits is refused by `int`) are kept, and numbered past."""
    path = tmp_path / "cache.json"
    odd = {"²": {"k": "a", "v": 1}, "x": {"k": "b", "v": 2}, "9" * 5000: {"k": "c", "v": 3}}
    path.write_text(json.dumps({"t": {**odd, "7": {"k": "d", "v": 4}}}))
    cache = Cache(path)
    assert [cache.get("t", k) for k in "abcd"] == [1, 2, 3, 4]
    cache.put("t", "e", 5)
    cache.close()
    assert written(path)["t"]["8"] == {"k": "e", "v": 5}
    assert set(written(path)["t"]) == {*odd, "7", "8"}


def test_many_writes_reach_the_file_without_a_flush(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cache_module, "WRITES_BEFORE_FLUSH", 5)
    path = tmp_path / "cache.json"
    cache = Cache(path)
    for i in range(4):
        cache.put("t", f"k{i}", i)
    assert not path.exists()
    cache.put("t", "k4", 4)
    assert len(written(path)["t"]) == 5


def test_threads_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    cache = Cache(path)

    def write(n: int) -> None:
        for i in range(200):
            cache.put("t", f"{n}-{i}", i)
            cache.get("t", f"{n}-{i // 2}")
            if i % 7 == 0:
                cache.delete("t", f"{n}-{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.close()
    docs = written(path)["t"]
    expected = {f"{n}-{i}" for n in range(4) for i in range(200) if i % 7}
    assert {doc["k"] for doc in docs.values()} == expected
    assert len(docs) == len(expected)  # one document a key, every id unique


def test_a_cache_in_memory_keeps_nothing_on_disk(tmp_path: Path) -> None:
    cache = Cache(None)
    cache.put("t", "k", [1])
    assert cache.get("t", "k") == [1]
    cache.close()
    assert list(tmp_path.iterdir()) == []


def test_a_place_that_cannot_hold_the_file_means_no_cache_not_an_error(tmp_path: Path) -> None:
    """(A file where the state folder should be: root may write anywhere, so not a mode.)"""
    blocker = tmp_path / "state"
    blocker.write_text("a file, not a folder")
    cache = Cache(blocker / "cache.json")
    cache.put("t", "k", 1)
    cache.close()  # the write fails quietly: the work is redone next time
    assert cache.get("t", "k") == 1
    assert blocker.read_text() == "a file, not a folder"
