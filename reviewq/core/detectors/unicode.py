"""Trojan Source (CVE-2021-42574) and its relatives: text that reads differently than it runs.

Bidirectional controls reorder what an editor shows; zero-width characters hide inside names and
strings; an identifier mixing Latin with Cyrillic or Greek letters looks like another one. The
character sets are `core.text`'s, the ones the viewer already replaces with placeholders.
"""

from __future__ import annotations

import re

from reviewq.core.detectors.base import Line, Scope, line_finding, rule
from reviewq.core.model import Finding
from reviewq.core.text import BIDI_CONTROLS, INVISIBLES, visible

BIDI = rule("bidi-control", "critical", "security", "bidirectional control character")
INVISIBLE = rule("invisible-character", "warning", "security", "invisible character")
CONFUSABLE = rule("confusable-identifier", "error", "security", "identifier mixes scripts")

_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_INVISIBLE = re.compile("[" + "".join(sorted(INVISIBLES)) + "]")
_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[A-Za-z]")
_LOOKALIKE = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]")


def detect(scope: Scope) -> list[Finding]:
    out: list[Finding] = []
    for added in scope.texts.values():
        if added.text.isascii():
            continue
        out.extend(_detect_rows(added.rows))
    return out


def _detect_rows(rows: list[Line]) -> list[Finding]:
    out: list[Finding] = []
    for line in rows:
        text = line.text
        if _BIDI.search(text):
            out.append(
                line_finding(
                    BIDI,
                    line,
                    "A bidirectional control character makes this line display in a different "
                    f"order than the compiler reads it: {visible(text).strip()[:120]}",
                    severity="warning" if line.lang == "doc" else None,
                )
            )
            continue
        m = _INVISIBLE.search(text)
        if m and not (line.no == 1 and m.start() == 0 and m.group(0) == "\ufeff"):
            out.append(
                line_finding(
                    INVISIBLE,
                    line,
                    "An invisible character hides in this line; two names or strings that look "
                    f"equal can differ: {visible(text).strip()[:120]}",
                    severity="note" if line.lang == "doc" else None,
                )
            )
            continue
        if line.lang == "doc":
            continue
        for word in _WORD.findall(text):
            if _LATIN.search(word) and _LOOKALIKE.search(word):
                out.append(
                    line_finding(
                        CONFUSABLE,
                        line,
                        f"`{word}` mixes Latin letters with Cyrillic or Greek look-alikes, so it "
                        "can shadow a name it resembles.",
                    )
                )
                break
    return out
