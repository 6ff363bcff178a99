"""Repository path globs, as the policy reads them: anchored at the root, strict.

`[[domains]] paths` decide which rule a change must pass, so a glob here is exact or an error:
`**` only as a whole segment, no backslashes, no `..`. (`critic.never_send` takes gitignore's
globs instead, through `pathspec`: a pattern without a slash there matches at any depth.)
"""

from __future__ import annotations

import re

from reviewq.core.tomlcheck import ConfigError


def compile_glob(pattern: str, where: str = "paths") -> re.Pattern[str]:
    """A repository path glob -> compiled regex (see `glob_regex`)."""
    return re.compile(glob_regex(pattern, where))


def glob_regex(pattern: str, where: str = "paths") -> str:
    """A repository path glob -> regex source, anchored at the repository root.

    `**` is a whole path segment matching any number of directories (zero included), `*` and `?`
    never cross a `/`, `[abc]` is a character class, a trailing `/` means everything below. So
    `auth/**` is everything under `auth/`, `**/auth/**` an `auth/` directory at any depth, and
    `orders/auth*` the files directly in `orders/` whose names start with `auth`. Anything else
    (`a**b`, an unclosed `[`, `..`) is an error, never a guess.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise ConfigError(f"{where}: expected a non-empty path glob, got {pattern!r}")
    if pattern != pattern.strip():
        raise ConfigError(f"{where}: {pattern!r} has leading or trailing spaces")
    text = pattern.removeprefix("/")
    if text.endswith("/"):
        text += "**"
    if not text:
        raise ConfigError(f"{where}: {pattern!r} matches nothing; use '**' for every path")
    segments = text.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise ConfigError(f"{where}: {pattern!r} has an empty, '.' or '..' path segment")
        if segment != "**" and "**" in segment:
            raise ConfigError(
                f"{where}: {pattern!r}: '**' must be a whole path segment (as in 'a/**/b')"
            )
    # The segments between two `**` are a run of fixed length (in segments). A `**` before a
    # run that another `**` follows takes the fewest segments that let the run match, and
    # never gives them back (an atomic group): the earliest place is as good as any, since the
    # next `**` takes what lies between. Left to backtrack, each `**` tried every split of the
    # path with every other (`**/**/**/x` on a deep path: polynomial in its depth).
    runs: list[list[str]] = [[]]
    for segment in segments:
        if segment == "**":
            runs.append([])
        else:
            runs[-1].append(_segment_regex(segment, pattern, where))
    out = ["/".join(runs[0])]
    for index, run in enumerate(runs[1:], start=1):
        body = "/".join(run)
        if index < len(runs) - 1:  # another `**` follows
            out.append(f"(?>(?:[^/]+/)*?{body}/)" if body else "")
        elif body:  # the last run ends the path
            out.append(f"(?:[^/]+/)*{body}")
        else:  # a final `**` needs at least one character below
            out.append(".+")
    if runs[0] and len(runs) > 1:
        out[0] += "/"
    source = "^" + "".join(out) + "$"
    try:
        re.compile(source)
    except re.error as exc:  # pragma: no cover - _segment_regex escapes everything it emits
        raise ConfigError(f"{where}: {pattern!r} is not a valid glob ({exc})") from None
    return source


def _segment_regex(segment: str, pattern: str, where: str) -> str:
    """One segment's regex. Its `*`s split it into chunks of fixed length: each chunk that
    another `*` follows is found at its earliest place after the `*` before it and kept there
    (an atomic group), as `fnmatch` does: the earliest place is as good as any, since the next
    `*` takes what lies between. Left to backtrack, `*a*a*a*a*a*a*a*a*b` took 78 s against a
    name of 60 `a`s (paths are anyone's to choose in a diff)."""
    chunks: list[list[str]] = [[]]
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            chunks.append([])
        elif ch == "?":
            chunks[-1].append("[^/]")
        elif ch == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                raise ConfigError(f"{where}: {pattern!r} has an unclosed '['")
            body = segment[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            if not body:
                raise ConfigError(f"{where}: {pattern!r} has an empty character class")
            escaped = _class_items(body)
            # A range can span `/` (`[.-0]`): a class, like `*` and `?`, stays in its segment.
            chunks[-1].append(f"[^/{escaped}]" if negate else f"(?!/)[{escaped}]")
            i = end
        elif ch == "\\":
            raise ConfigError(f"{where}: {pattern!r}: backslashes are not allowed in path globs")
        else:
            chunks[-1].append(re.escape(ch))
        i += 1
    out = ["".join(chunks[0])]
    for index, chunk in enumerate(chunks[1:], start=1):
        body = "".join(chunk)
        if index < len(chunks) - 1:  # another `*` follows
            out.append(f"(?>[^/]*?{body})" if body else "")
        else:
            out.append(f"[^/]*{body}")
    return "".join(out)


def _class_items(body: str) -> str:
    """A character class's body as the regex reads it (a char, or `a-z` when a char follows the
    `-`), every char escaped: `[`, `^`, and the doubled `-`, `&`, `~`, `|` that Python's `re`
    warns of (`[a--b]` printed a FutureWarning to the user's terminal) stay literal chars and
    range ends, as they were read before."""
    items = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            items.append(f"{re.escape(body[i])}-{re.escape(body[i + 2])}")
            i += 3
        else:
            items.append(re.escape(body[i]))
            i += 1
    return "".join(items)
