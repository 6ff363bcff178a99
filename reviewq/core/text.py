"""Untrusted text made visible: nothing in a diff, prompt or message may drive the terminal.

AI-authored changes are untrusted input. ANSI and OSC escape sequences (colour, title changes,
OSC 52 clipboard writes), other control characters, bidi overrides (Trojan Source) and
zero-width characters are replaced by visible placeholders. Markup is not this module's concern:
the TUI renders text as plain `Content`, never parses it.
"""

from __future__ import annotations

from reviewq.core.lazy_re import lazy

#: Bidirectional controls (CVE-2021-42574) and invisible formatting characters.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
INVISIBLES = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e")

_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "BS",
    0x0B: "VT",
    0x0C: "FF",
    0x0D: "CR",
    0x1B: "ESC",
    0x7F: "DEL",
}

#: Lone surrogates come from JSON escapes (`"\\ud800"` in a sidecar or a note): printing one
#: raises UnicodeEncodeError, so they are shown as placeholders too.
_SUSPICIOUS = lazy(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"
    + "".join(BIDI_CONTROLS)
    + "".join(INVISIBLES)
    + "\u2028\u2029\ud800-\udfff]"
)


def _placeholder(ch: str) -> str:
    code = ord(ch)
    if code in _CONTROL_NAMES:
        return f"<{_CONTROL_NAMES[code]}>"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return f"<0x{code:02X}>"
    return f"<U+{code:04X}>"


def has_hidden(text: str) -> bool:
    """True when the text holds anything `visible()` would replace."""
    return _SUSPICIOUS.search(text) is not None


def visible(text: str, *, keep_newlines: bool = True, keep_tabs: bool = True) -> str:
    """`text` with every control, bidi and invisible character replaced by `<NAME>`.

    Newlines and tabs survive when asked (a prompt keeps its paragraphs); a carriage return never
    does, because `\\r` lets later text overwrite what a reader already saw.
    """
    if (
        not _SUSPICIOUS.search(text)
        and (keep_newlines or "\n" not in text)
        and (keep_tabs or "\t" not in text)
    ):
        return text
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\n" if keep_newlines else "↵")
        elif ch == "\t":
            out.append("\t" if keep_tabs else "→")
        elif _SUSPICIOUS.match(ch):
            out.append(_placeholder(ch))
        else:
            out.append(ch)
    return "".join(out)


def clean_text(text: str) -> str:
    """`text` without lone surrogates (each becomes U+FFFD): what JSON from an agent can hold
    but UTF-8 cannot, so it can be stored and printed."""
    return _SURROGATE.sub("\ufffd", text)


_SURROGATE = lazy("[\ud800-\udfff]")


def one_line(text: str, width: int | None = None) -> str:
    """A single visible line (for tables): newlines shown as ↵, cut to `width` with …."""
    line = visible(text, keep_newlines=False, keep_tabs=False)
    if width is not None and len(line) > width:
        return line[: max(0, width - 1)] + "…"
    return line
