"""Untrusted text as Textual `Content`: literal, never markup, hidden characters shown and styled.

Diff lines, prompts, commit messages and critiques come from AI agents and the repositories they
touched. Textual parses a plain `str` handed to `Static`/`Label` as markup and `DataTable` does the
same for cells, so every untrusted string goes through `safe()` (or `safe_line()`) first: the text
becomes a `Content` with no markup parsing, and each control, ANSI/OSC, bidi or zero-width
character is replaced by its `<NAME>` placeholder from `reviewq.core.text.visible` and styled so a
reader sees it stands for something that is not there.
"""

from __future__ import annotations

from textual.content import Content, Span

from reviewq.core.text import has_hidden, visible

#: Style of a placeholder; theme variable defined in `reviewq.tui.themes`.
HIDDEN_STYLE = "$diff-hidden-fg on $diff-hidden-bg"
TAB_SIZE = 4


def placeholders(text: str, *, keep_newlines: bool = True) -> tuple[str, list[tuple[int, int]]]:
    """`text` made visible, with the (start, end) offsets of every placeholder in the result.

    Tabs are expanded here, once, so that highlighting spans, search hits and placeholder spans
    all refer to the same offsets as what is drawn.
    """
    if not has_hidden(text):
        if "\t" in text:
            text = text.expandtabs(TAB_SIZE)
        if keep_newlines or "\n" not in text:
            return text, []
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    column = 0
    offset = 0
    for ch in text:
        if ch == "\n":
            if keep_newlines:
                out.append(ch)
                offset += 1
                column = 0
                continue
            piece = "↵"
            spans.append((offset, offset + 1))
        elif ch == "\t":
            piece = " " * (TAB_SIZE - column % TAB_SIZE)
        else:
            piece = visible(ch, keep_newlines=False, keep_tabs=False)
            if piece != ch:
                spans.append((offset, offset + len(piece)))
        out.append(piece)
        offset += len(piece)
        column += len(piece)
    return "".join(out), spans


def safe(text: str | None, style: str = "", *, keep_newlines: bool = True) -> Content:
    """Literal `Content` for untrusted text (markup is never parsed; hidden characters marked)."""
    plain, marks = placeholders(text or "", keep_newlines=keep_newlines)
    spans = [Span(0, len(plain), style)] if style and plain else []
    spans += [Span(start, end, HIDDEN_STYLE) for start, end in marks]
    return Content(plain, spans=spans)


def safe_line(text: str | None, style: str = "") -> Content:
    """One line of untrusted text (newlines shown as ↵) for tables and titles."""
    return safe(text, style, keep_newlines=False)
