"""Unified diffs -> `Diff` (files, hunks, rows), with what real diffs throw at a reader.

Parsing is unidiff's; this module feeds it safely:

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

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from reviewq.core.model import Diff, DiffLine, FileChange, FileDiff, Hunk
from reviewq.core.pace import pause
from reviewq.errors import ReviewqError
from reviewq.sources.git_log import NO_LAZY_FETCH, exclude_pathspecs, missing_paths
from reviewq.sources.gitcmd import Git, GitError

#: Per-file diff text kept as rows; larger files are listed with counts only.
MAX_FILE_BYTES = 16 * 1024 * 1024

_FILE_START = re.compile(rb"^diff --git ", re.MULTILINE)
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


def read_commit_diff(git: Git, sha: str) -> Diff:
    """The diff a commit introduces (against its first parent; roots against nothing).

    Files whose objects are missing (a partial clone) are left out rather than failing the
    whole diff; `commit_stats` marks them `size_unknown` for whoever shows the change.
    """
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


def _split_files(data: bytes) -> list[bytes]:
    starts = [m.start() for m in _FILE_START.finditer(data)]
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
        lines = _lines(text)
        rows = None
        try:
            if truncated:
                patch = PatchSet(lines, metadata_only=True)
            else:
                # unidiff checks the structure and reads the headers (metadata only: no regex
                # and no object per row); the rows are read here, several times faster, and
                # checked against unidiff's counts. Anything unusual: unidiff reads it all.
                patch = PatchSet(lines, metadata_only=True)
                rows = _fast_rows(lines, patch) if len(patch) == 1 else None
                if rows is None:
                    patch = PatchSet(lines)
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
_NO_NEWLINE = "\\ No newline at end of file"


def _fast_rows(lines: list[str], patch: PatchSet) -> list[Hunk] | None:
    """The hunks of a one-file patch with their rows, read straight from its lines; exactly
    what unidiff's full parse gives (same kinds, texts, line numbers, markers), or None when
    the text holds anything this reader does not expect (then unidiff reads it).

    `patch` is unidiff's metadata-only parse of the same lines: its hunk headers and counts
    are what each hunk read here must agree with.
    """
    pf = patch[0]
    hunks: list[Hunk] = []
    pos, n = 0, len(lines)
    for h in pf:
        # the next hunk header; only file headers may stand before the first one
        while pos < n and not lines[pos].startswith("@@ "):
            if hunks:
                return None
            pos += 1
        header = _HUNK_HEADER.match(lines[pos]) if pos < n else None
        if header is None or (int(header[1]), int(header[3])) != (h.source_start, h.target_start):
            return None
        old_no, new_no = h.source_start, h.target_start
        old_end, new_end = old_no + h.source_length, new_no + h.target_length
        if old_no == old_end and new_no == new_end:
            return None
        hunk = Hunk(h.source_start, h.source_length, h.target_start, h.target_length,
                    h.section_header)  # fmt: skip
        rows = hunk.lines
        append = rows.append
        pos += 1
        added = removed = 0
        while old_no < old_end or new_no < new_end:
            if pos >= n:
                return None
            line = lines[pos]
            pos += 1
            kind = line[0]
            if kind == " ":
                append(DiffLine(" ", line[1:-1], old_no, new_no))
                old_no += 1
                new_no += 1
            elif kind == "+":
                append(DiffLine("+", line[1:-1], None, new_no))
                new_no += 1
                added += 1
            elif kind == "-":
                append(DiffLine("-", line[1:-1], old_no, None))
                old_no += 1
                removed += 1
            elif kind == "\\":
                append(DiffLine("\\", line[1:-1], None, None))
            elif line == "\n":  # an empty line: context, as git's diff may strip its space
                append(DiffLine(" ", "", old_no, new_no))
                old_no += 1
                new_no += 1
            else:
                return None
        if old_no != old_end or new_no != new_end or (added, removed) != (h.added, h.removed):
            return None
        # What unidiff hangs on the hunk after its last row: the "no newline" marker (as the
        # text it gives that marker) and empty lines (as context rows without numbers).
        while pos < n:
            line = lines[pos]
            if line == "\n":
                append(DiffLine(" ", "", None, None))
            elif line.startswith(_NO_NEWLINE):
                append(DiffLine("\\", _NO_NEWLINE[1:], None, None))
            else:
                break
            pos += 1
        hunks.append(hunk)
    if hunks and pos < n:
        return None
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
    if pf.is_added_file:
        status = "added"
    elif pf.is_removed_file:
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
