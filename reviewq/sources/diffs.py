"""Unified diffs -> `Diff` (files, hunks, rows), with what real diffs throw at a reader.

unidiff reads each file's header; the hunks are found and checked here with C-level scans of
the text and build their rows when first asked for (`core/lazy_hunk.LazyHunk`: opening a
56,000-line change no longer builds 56,000 row objects first). Anything unusual in a file, and
unidiff reads all of it. This module feeds it safely:

- the diff is split per file *as bytes* and each file decoded on its own, so one Latin-1 file
  does not turn a whole commit into replacement characters (the file is marked instead);
- lines are split on '\\n' only: `str.splitlines` would also break on \\r, \\x0b, \\x1c-\\x1e,
  \\x85 and \\u2028, which appear in real files and would corrupt hunk counts;
- files over `MAX_FILE_BYTES` keep their header and counts but not their rows (`truncated`);
- binary files, renames, copies and mode changes come out as flags, not as text.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from itertools import pairwise

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from reviewq.core.lazy_hunk import NO_NEWLINE, LazyHunk
from reviewq.core.model import Diff, DiffLine, FileChange, FileDiff, Hunk
from reviewq.core.pace import pause
from reviewq.errors import ReviewqError
from reviewq.sources.git_log import NO_LAZY_FETCH, exclude_pathspecs, missing_paths
from reviewq.sources.gitcmd import Git, GitError

#: Per-file diff text kept as rows; larger files are listed with counts only.
MAX_FILE_BYTES = 16 * 1024 * 1024

_MODE = re.compile(r"^(old|new|deleted file|new file) mode (\d+)")
_SIMILARITY = re.compile(r"^similarity index (\d+)%")


class BrokenDiff(ReviewqError):
    """A patch that is not a well-formed unified diff."""


def diff_args(sha: str) -> list[str]:
    """`git show` arguments for the change a commit makes, immune to the user's diff config and
    to the repository's attributes: `--text` (a `-diff` or `binary` attribute, which the change
    itself may add to `.gitattributes`, must not turn its lines into "Binary files differ"), no
    textconv, no external diff. What really is binary is decided by content afterwards."""
    return [
        "-c",
        "core.quotepath=off",
        "show",
        "--format=",
        "--patch",
        "-M",
        "--diff-merges=first-parent",
        "--no-color",
        "--text",
        "--no-ext-diff",
        "--no-textconv",
        "--no-relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        sha,
        "--",
    ]


#: Diffs read lately, per `Git` runner: the review screen, the critic and the rationale of one
#: change read one parse (a commit's diff is fixed by its id). Not kept: a diff with files left
#: out because their objects were missing (they may arrive).
_RECENT: weakref.WeakKeyDictionary[Git, OrderedDict[str, Diff]] = weakref.WeakKeyDictionary()
_RECENT_KEEP = 3
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_RECENT_LOCK = threading.Lock()


def read_commit_diff(git: Git, sha: str) -> Diff:
    """The diff a commit introduces (against its first parent; roots against nothing).

    Files whose objects are missing (a partial clone) are left out rather than failing the
    whole diff; `commit_stats` marks them `size_unknown` for whoever shows the change.
    The same `git` asked again for the same commit gets the same `Diff` (treat it as read-only).
    """
    keep = _OBJECT_ID.fullmatch(sha) is not None  # a name ("HEAD") may move: read it each time
    with _RECENT_LOCK:
        recent = _RECENT.setdefault(git, OrderedDict())
        found = recent.get(sha) if keep else None
        if found is not None:
            recent.move_to_end(sha)
            return found
    try:
        data = git.run(diff_args(sha), env=NO_LAZY_FETCH, what="show")
    except GitError:
        gone = missing_paths(git, sha)
        if gone is None:  # even its trees are missing: nothing of it can be shown
            return Diff()
        try:
            data = git.run(
                [*diff_args(sha), *exclude_pathspecs(gone)], env=NO_LAZY_FETCH, what="show"
            )
        except GitError:
            data = b""
        return parse_unified_diff(binary_by_content(git, data), source=sha[:12])
    diff = parse_unified_diff(binary_by_content(git, data), source=sha[:12])
    if not keep:
        return diff
    with _RECENT_LOCK:
        recent[sha] = diff
        while len(recent) > _RECENT_KEEP:
            recent.popitem(last=False)
    return diff


_INDEX = re.compile(rb"^index ([0-9a-f]+)\.\.([0-9a-f]+)", re.MULTILINE)


def binary_by_content(git: Git, data: bytes) -> bytes:
    """A `--text` diff with the files whose content really is binary (a NUL byte in the first
    8,000 bytes of either side, git's own rule) put back as "Binary files ... differ".

    Only a file whose diff text holds a NUL byte can be one; its blobs decide (a text file with
    a NUL far into it stays text, as in git).
    """
    if b"\0" not in data:
        return data
    chunks = _split_files(data)
    suspects: dict[int, tuple[bytes, bytes]] = {}
    for i, chunk in enumerate(chunks):
        if b"\0" in chunk and (m := _INDEX.search(chunk.split(b"\n@@ ", 1)[0])):
            suspects[i] = (m.group(1), m.group(2))
    if not suspects:
        return data
    oids = [o.decode() for pair in suspects.values() for o in pair]
    binary = {o.encode() for o in git.binary_blobs(oids)}
    out = []
    for i, chunk in enumerate(chunks):
        pair = suspects.get(i)
        if pair is not None and (pair[0] in binary or pair[1] in binary):
            chunk = _binary_stub(chunk)
        out.append(chunk)
    preamble = data[: data.find(b"diff --git ")] if chunks else b""
    return preamble + b"".join(out)


def _binary_stub(chunk: bytes) -> bytes:
    """One file's text diff -> its header and "Binary files A and B differ" (no rows)."""
    head, sep, rest = chunk.partition(b"\n--- ")
    if not sep:
        return chunk
    old_line, _, after = rest.partition(b"\n")
    new_line = after.split(b"\n", 1)[0].removeprefix(b"+++ ")
    return head + b"\nBinary files " + old_line + b" and " + new_line + b" differ\n"


def _starts(text: str | bytes, line_start: str | bytes) -> list[int]:
    """Offsets of every line beginning with `line_start` (a find loop: C-level scans, where a
    multi-line `^` regex steps through every position in Python's regex engine)."""
    out = [0] if text.startswith(line_start) else []
    needle = ("\n" if isinstance(text, str) else b"\n") + line_start
    find = text.find
    at = find(needle)
    while at >= 0:
        out.append(at + 1)
        at = find(needle, at + 1)
    return out


def _split_files(data: bytes) -> list[bytes]:
    starts = _starts(data, b"diff --git ")
    if not starts:
        return [data] if data.strip() else []
    # A mail preamble (format-patch) before the first file belongs to no file.
    ends = [*starts[1:], len(data)]
    return [data[start:end] for start, end in zip(starts, ends)]


def _decode(chunk: bytes) -> tuple[str, str]:
    try:
        return chunk.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Latin-1 maps every byte to a character: nothing is lost or replaced, and the file is
        # marked so the reviewer knows the bytes were not UTF-8.
        return chunk.decode("latin-1"), "latin-1"


def _decode_file(chunk: bytes) -> tuple[str, str, str]:
    """(text, encoding of the rows, encoding of the header): git writes paths as UTF-8 bytes
    whatever the file holds, so a Latin-1 file must not turn its own name into mojibake."""
    cut = chunk.find(b"\n@@ ")
    if cut < 0:
        text, encoding = _decode(chunk)
        return text, encoding, encoding
    head, head_encoding = _decode(chunk[: cut + 1])
    rows, encoding = _decode(chunk[cut + 1 :])
    return head + rows, encoding, head_encoding


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1] + "\n")
    return lines


#: git's C-style escapes in quoted paths (quote.c, `quote_c_style`).
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote_path(path: str, encoding: str = "utf-8") -> str:
    """A path as git writes it in a diff header -> the path.

    git quotes a name holding a control character, `"` or `\\` (and, with core.quotepath on,
    any non-ASCII byte): `"b/ev\\033]0;t\\a.md"`. Left quoted, the name would not match the file
    the commit holds (the sidebar, finding locations, viewed marks, a critic's path rules).
    """
    if len(path) < 2 or path[0] != '"' or path[-1] != '"':
        return path
    body = path[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _C_ESCAPES:
                out.append(_C_ESCAPES[nxt])
                i += 2
                continue
            digits = body[i + 1 : i + 4]
            if len(digits) == 3 and all(c in "01234567" for c in digits) and digits[0] in "0123":
                out.append(int(digits, 8))
                i += 4
                continue
        out += ch.encode(encoding, "replace")
        i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        return out.decode("latin-1")


def _strip_prefix(path: str | None, encoding: str = "utf-8") -> str | None:
    if path is None or path == "/dev/null":
        return None
    path = unquote_path(path, encoding)
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def parse_unified_diff(data: bytes, source: str = "patch") -> Diff:
    """Bytes of a unified diff (git or plain) -> Diff; BrokenDiff names the file on failure."""
    diff = Diff()
    for chunk in _split_files(data):
        pause()
        digest = hashlib.sha256(chunk).hexdigest()
        truncated = len(chunk) > MAX_FILE_BYTES
        text, encoding, path_encoding = _decode_file(chunk)
        rows = None
        try:
            if truncated:
                patch = PatchSet(_lines(text), metadata_only=True)
            else:
                # unidiff reads the file's header; the hunks are found and checked here with
                # C-level scans of the text, and their rows are built when first asked for
                # (`LazyHunk`). Anything unusual: unidiff reads it all.
                cut = -1 if text.startswith("@@ ") else text.find("\n@@ ")
                head = text if cut < 0 else text[: cut + 1]
                patch = PatchSet(_lines(head), metadata_only=True)
                if len(patch) == 1 and not text.startswith("@@ "):
                    rows = _fast_rows("" if cut < 0 else text[cut + 1 :], patch)
                if rows is None:
                    patch = PatchSet(_lines(text))
        except UnidiffParseError as exc:
            first = text.split("\n", 1)[0][:120]
            raise BrokenDiff(
                f"broken diff in {source} ({first!r}): {exc}; regenerate the patch with `git diff`"
                " or `git format-patch`"
            ) from None
        for pf in patch:
            # A plain (non-git) diff can hold several files in one chunk: hash each on its own.
            file_digest = (
                digest if len(patch) == 1 else hashlib.sha256(str(pf).encode()).hexdigest()
            )
            fd = _file_from(pf, encoding, truncated, file_digest, text, path_encoding, rows)
            diff.files.append(fd)
    return diff


_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))?\ @@[ ]?(.*)")
_NO_NEWLINE_ROW = "\n" + NO_NEWLINE + "\n"


def _fast_rows(body: str, patch: PatchSet) -> list[Hunk] | None:
    """The hunks of a one-file patch, found in `body` (its text from the first hunk header
    on) and checked with C-level scans; each builds its rows when first asked for, exactly
    the rows unidiff's full parse gives. None when the text holds anything this reader does
    not expect (then unidiff reads it all).

    `patch` is unidiff's parse of the file's header alone (no hunks). The checks, per hunk:
    every row starts with ' ', '+' or '-' or is exactly the "no newline" marker (no empty
    rows: a stripped context line is unidiff's to read), and the rows of each side add up to
    the header's counts; the hunks follow each other with nothing in between.
    """
    if len(patch[0]):
        return None
    if not body:
        return []
    if not body.endswith("\n"):
        body += "\n"  # as `_lines` reads the last line
    starts = _starts(body, "@@ ")
    if not starts or starts[0] != 0:
        return None
    starts.append(len(body))
    count, find = body.count, body.find
    hunks: list[Hunk] = []
    for at, end in pairwise(starts):
        eol = find("\n", at)
        header = _HUNK_HEADER.match(body[at:eol])
        if header is None:
            return None
        old_start, new_start = int(header[1]), int(header[3])
        old_count = 1 if header[2] is None else int(header[2])
        new_count = 1 if header[4] is None else int(header[4])
        # rows: [eol + 1, end), each ending in a newline; each starts after a newline in
        # [eol, end - 1), so "\n<sign>" counted over [eol, end) counts rows by their sign
        rows = count("\n", eol + 1, end)
        if find("\n\n", eol, end) >= 0:
            return None
        added, removed = count("\n+", eol, end), count("\n-", eol, end)
        context, markers = count("\n ", eol, end), count("\n\\", eol, end)
        if (
            added + removed + context + markers != rows
            or context + removed != old_count
            or context + added != new_count
            or (old_count == 0 and new_count == 0)
            or (markers and count(_NO_NEWLINE_ROW, eol, end) != markers)
        ):
            return None
        hunks.append(
            LazyHunk.of_text(old_start, old_count, new_start, new_count, header[5],
                             body[eol + 1 : end], rows, added, removed)
        )  # fmt: skip
    return hunks


def _file_from(
    pf,
    encoding: str,
    truncated: bool,
    digest: str,
    text: str,
    path_encoding: str,
    fast: list[Hunk] | None = None,
) -> FileDiff:
    old_mode = new_mode = None
    similarity = None
    status = "modified"
    for info in pf.patch_info or ():
        m = _MODE.match(info)
        if m:
            kind, mode = m.groups()
            if kind in ("old", "deleted file"):
                old_mode = mode
            else:
                new_mode = mode
        s = _SIMILARITY.match(info)
        if s:
            similarity = int(s.group(1))
        if info.startswith("copy from "):
            status = "copied"
    source = _strip_prefix(pf.source_file, path_encoding)
    target = _strip_prefix(pf.target_file, path_encoding)
    # unidiff's own rule; the fast reader's hunks are not in `pf` (it read the header alone)
    one = fast[0] if fast is not None and len(fast) == 1 else None
    if pf.is_added_file or (one is not None and one.old_start == 0 and one.old_count == 0):
        status = "added"
    elif pf.is_removed_file or (one is not None and one.new_start == 0 and one.new_count == 0):
        status = "deleted"
    elif pf.is_rename and status != "copied":
        status = "renamed"
    path = target or source or unquote_path(pf.path, path_encoding)
    hunks: list[Hunk] = fast if fast is not None else []
    for h in pf if fast is None else ():
        hunk = Hunk(
            h.source_start, h.source_length, h.target_start, h.target_length, h.section_header
        )
        rows = hunk.lines
        for line in h:
            kind = line.line_type
            if kind not in ("+", "-", " ", "\\"):
                kind = " "
            rows.append(
                DiffLine(kind, line.value.rstrip("\n"), line.source_line_no, line.target_line_no)
            )
        hunks.append(hunk)
    fd = FileDiff(
        path=path,
        old_path=source if source != path else None,
        status=status,
        hunks=hunks,
        is_binary=pf.is_binary_file,
        old_mode=old_mode,
        new_mode=new_mode,
        similarity=similarity,
        encoding=encoding,
        truncated=truncated,
        content_hash=digest,
    )
    if truncated:
        # Counts without rows: a cheap pass over the text, so the queue still shows the size.
        adds = dels = 0
        for line in text.split("\n"):
            if line.startswith("+") and not line.startswith("+++ "):
                adds += 1
            elif line.startswith("-") and not line.startswith("--- "):
                dels += 1
        fd.hunks = []
        fd.counted = (adds, dels)
    return fd


_STATUS = {"added": "A", "deleted": "D", "modified": "M", "renamed": "R", "copied": "C"}


def file_changes(diff: Diff) -> tuple[FileChange, ...]:
    """A parsed diff reduced to what `git log --raw --numstat` would say of it."""
    return tuple(
        FileChange(
            path=f.path,
            status=_STATUS.get(f.status, "M"),
            additions=f.additions,
            deletions=f.deletions,
            binary=f.is_binary,
            old_path=f.old_path,
            mode_change=f.mode_changed,
        )
        for f in diff.files
    )
