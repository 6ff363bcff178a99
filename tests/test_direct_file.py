"""`store.direct_file.DirectFile`: a first build's column cache written past the page cache
holds exactly the bytes a buffered write of the same arrays holds, on any file system, for
any sizes around its blocks; and `stats` writes its large cache that way."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import numpy as np
import pytest

from reviewq.store import direct_file, verdict_columns
from reviewq.store.direct_file import DirectFile
from reviewq.store.flat_arrays import read_all, write_arrays

#: Blocks this small in the tests: every path through the block logic in a few KiB.
SMALL_BLOCK = 8192


def _buffered(arrays: dict[str, np.ndarray], meta) -> bytes:
    out = io.BytesIO()
    write_arrays(out, dict(arrays), meta)
    return out.getvalue()


def _direct(path: Path, arrays: dict[str, np.ndarray], meta) -> tuple[bytes, bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        sink = DirectFile(fd)
        write_arrays(sink, dict(arrays), meta, consume=True)  # type: ignore[arg-type]
        sink.finish()
        went_direct = sink.direct
    finally:
        os.close(fd)
    data = path.read_bytes()
    path.unlink()
    return data, went_direct


def _arrays(sizes: list[int]) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(sum(sizes) + len(sizes))
    out: dict[str, np.ndarray] = {}
    for i, n in enumerate(sizes):
        if i % 3 == 2:
            out[f"s{i}"] = rng.integers(65, 91, size=(n, 7), dtype=np.uint8).view("S7").ravel()
        else:
            out[f"a{i}"] = rng.integers(0, 1 << 40, size=n, dtype=np.int64)
    return out


@pytest.mark.parametrize("block", [SMALL_BLOCK, direct_file.BLOCK])
@pytest.mark.parametrize(
    "sizes",
    [[], [0], [1], [511, 512, 513], [1024, 1023], [2048] * 5, [40_000, 3, 9_000], [600_000]],
)
def test_the_same_bytes_as_a_buffered_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, sizes: list[int]
) -> None:
    monkeypatch.setattr(direct_file, "BLOCK", block)
    arrays = _arrays(sizes)
    data, _ = _direct(tmp_path / "direct.arrays", arrays, {"rows": sizes})
    assert data == _buffered(arrays, {"rows": sizes})


def _takes_direct_writes(folder: Path) -> bool:
    """Does `folder`'s file system take an aligned O_DIRECT write?"""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    import mmap

    probe = folder / "probe"
    try:
        fd = os.open(probe, os.O_RDWR | os.O_CREAT | os.O_EXCL | flag, 0o600)
    except OSError:
        return False
    try:
        with mmap.mmap(-1, 4096) as block:
            return os.pwrite(fd, block, 0) == 4096
    except OSError:
        return False
    finally:
        os.close(fd)
        probe.unlink()


def test_past_the_page_cache_where_the_file_system_takes_it(tmp_path: Path) -> None:
    """On this machine's disk O_DIRECT is taken; on tmpfs it is refused and the same bytes go
    through the page cache."""
    arrays = _arrays([70_000, 5])
    data, went_direct = _direct(tmp_path / "f.arrays", arrays, {})
    assert data == _buffered(arrays, {})
    assert went_direct == _takes_direct_writes(tmp_path)
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        place = shm / f".reviewq-test-{os.getpid()}.arrays"
        data, went_direct = _direct(place, arrays, {})
        assert data == _buffered(arrays, {})


def test_a_direct_write_refused_halfway_goes_on_through_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that takes the flag but refuses the writes (EINVAL): the flag is
    dropped and the same write made again; any other error is the caller's."""
    monkeypatch.setattr(direct_file, "BLOCK", SMALL_BLOCK)
    real = os.pwrite
    refused = []

    def pwrite(fd, data, offset):
        if not refused:
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, data, offset)

    monkeypatch.setattr(direct_file, "_set_direct", lambda fd, on: on)
    monkeypatch.setattr(os, "pwrite", pwrite)
    arrays = _arrays([9_000, 17])
    data, went_direct = _direct(tmp_path / "f.arrays", arrays, {"a": 1})
    assert refused and not went_direct
    assert data == _buffered(arrays, {"a": 1})

    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(OSError, match="No space"):
        _direct(tmp_path / "g.arrays", arrays, {})


def test_only_the_held_head_is_written_again(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        sink = DirectFile(fd)
        sink.write(b"a" * (direct_file.BLOCK + 10))
        sink.seek(5)
        sink.write(b"bb")
        with pytest.raises(ValueError, match="held head"):
            sink.seek(direct_file.BLOCK + 2)
        sink.seek(direct_file.BLOCK - 1)
        with pytest.raises(ValueError, match="past the held head"):
            sink.write(b"cc")
        sink.seek(0, os.SEEK_END)
        sink.write(b"z")
        sink.finish()
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == b"aaaaabb" + b"a" * (direct_file.BLOCK + 3) + b"z"


def test_a_large_cache_is_written_directly_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_write_cache` of arrays of `DIRECT_BYTES` or more goes through `DirectFile`; the file
    reads back as the arrays; smaller ones are written as before."""
    made = []
    real = direct_file.DirectFile

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, fd: int) -> None:
            made.append(fd)
            super().__init__(fd)

    monkeypatch.setattr(direct_file, "DirectFile", Spy)
    arrays = _arrays([50_000, 8, 3_000])
    size = sum(a.nbytes for a in arrays.values())
    monkeypatch.setattr(verdict_columns, "DIRECT_BYTES", size + 1)
    verdict_columns._write_cache(tmp_path / "small.arrays", dict(arrays), {"k": 1})
    assert made == []
    monkeypatch.setattr(verdict_columns, "DIRECT_BYTES", size)
    verdict_columns._write_cache(tmp_path / "large.arrays", dict(arrays), {"k": 1})
    assert len(made) == 1
    for name in ("small.arrays", "large.arrays"):
        back, meta = read_all(tmp_path / name)
        assert meta == {"k": 1}
        assert back.keys() == arrays.keys()
        assert all(np.array_equal(back[k], v) for k, v in arrays.items())
    assert (tmp_path / "large.arrays").read_bytes() == (tmp_path / "small.arrays").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.arrays", "small.arrays"]
