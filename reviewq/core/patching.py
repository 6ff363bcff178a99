"""Rebuilding a file's new text from its old text and a diff (for patches that have no commit).

An inbox patch carries hunks, not files; ruff and the structural summary want whole files. When
the old text (from HEAD) matches every hunk's context, the new text follows exactly; when it does
not, the answer is None and callers fall back to what the hunks alone say.
"""

from __future__ import annotations

from reviewq.core.model import FileDiff


def apply_file_diff(old_text: str | None, fd: FileDiff) -> str | None:
    """The new side of `fd` applied to `old_text`, or None when the hunks do not fit it."""
    if fd.is_binary or fd.truncated or fd.status == "deleted":
        return None
    if fd.status == "added" or old_text is None:
        if fd.status != "added":
            return None
        rows = [r for h in fd.hunks for r in h.lines if r.kind in "+ "]
        return "".join(r.text + "\n" for r in rows) if rows else ""
    old = old_text.split("\n")
    trailing_newline = old_text.endswith("\n")
    if trailing_newline:
        old = old[:-1]
    out: list[str] = []
    pos = 0  # index into `old` of the next line not yet copied
    for hunk in fd.hunks:
        start = max(hunk.old_start - 1, 0) if hunk.old_count else hunk.old_start
        if start < pos or start > len(old):
            return None
        out.extend(old[pos:start])
        pos = start
        for row in hunk.lines:
            if row.kind == " ":
                if pos >= len(old) or old[pos] != row.text:
                    return None
                out.append(row.text)
                pos += 1
            elif row.kind == "-":
                if pos >= len(old) or old[pos] != row.text:
                    return None
                pos += 1
            elif row.kind == "+":
                out.append(row.text)
    out.extend(old[pos:])
    ends_without_newline = any(
        r.kind == "\\" and prev.kind in "+ "
        for h in fd.hunks
        for prev, r in zip(h.lines, h.lines[1:])
    )
    text = "\n".join(out)
    if out and not ends_without_newline:
        text += "\n"
    return text
