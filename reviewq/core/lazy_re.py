"""Regular expressions compiled on first use.

A module's patterns were compiled when it was imported: ~100 patterns, several milliseconds of
every command's start, most of them never used by the command that paid for them (a cold scan
of a history without aider or Gas Town commits uses 9 of reviewq's 25 module-level ones).
`lazy(pattern, flags)` stands for `re.compile(pattern, flags)`: the first attribute asked of it
compiles the pattern and keeps the compiled pattern's methods and attributes on the object, so
every later `P.match(...)` is one attribute look-up, as on the compiled pattern itself.

Only attribute use is supported (`P.search(text)`, `P.pattern`); a lazy pattern is not a
`re.Pattern` to pass to `re.sub(P, ...)` or `isinstance` (`tests/test_scan_lean.py` checks
every module's lazy patterns against `re.compile`).
"""

from __future__ import annotations

import re

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: What the compiled pattern hands over on first use (everything of `re.Pattern`'s interface).
_ATTRIBUTES = (
    "match",
    "search",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "scanner",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class LazyPattern:
    """`re.compile(pattern, flags)`, compiled when first used (see the module)."""

    def __init__(self, pattern: Any, flags: int = 0) -> None:
        self._source = (pattern, flags)

    def compiled(self) -> re.Pattern[Any]:
        return re.compile(*self._source)

    def __getattr__(self, name: str) -> Any:
        # Only for attributes not yet on the object: the first use, or a name no pattern has.
        if name.startswith("__") or name == "_source":  # copy/pickle probing a bare object
            raise AttributeError(name)
        compiled = self.compiled()
        for attribute in _ATTRIBUTES:
            self.__dict__[attribute] = getattr(compiled, attribute)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._source[0]!r}, {self._source[1]!r})"


def lazy(pattern: Any, flags: int = 0) -> LazyPattern:
    """`re.compile(pattern, flags)`, compiled on first use."""
    return LazyPattern(pattern, flags)
