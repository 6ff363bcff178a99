"""Commit messages -> trailers and marker lines, the way a careful reader sees them.

git's own trailer parser only looks at the last paragraph. Real history needs more: squash merges
keep each sub-commit's `Co-authored-by:` in its own paragraph, and Copilot's `Agent-Logs-Url:` sits
above the final block. So every paragraph made only of trailer lines counts (plus git's own rule
for the last paragraph), while text that merely *talks about* a marker does not:

- lines inside code fences (``` or ~~~) and quoted lines (`> ...`) never count;
- indented lines are code or continuations, never a new trailer;
- a paragraph that mixes prose with a trailer-looking line is prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewq.core.lazy_re import lazy
from reviewq.core.model import _FACTORY, _set, _value_methods

# git: the key is ASCII alphanumerics and '-', no whitespace inside; spaces may precede ':'.
_TRAILER = lazy(r"^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:(.*)$")
_GIT_GENERATED = ("signed-off-by", "(cherry picked from commit")
#: What a trailer's key opens with (`_TRAILER`).
_KEY_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

#: A body line that is itself a marker (not a trailer), e.g. Claude Code's
#: `🤖 Generated with [Claude Code](https://claude.com/claude-code)`.
GENERATED_WITH = lazy(
    r"^\W{0,4}\s*Generated\s+(?:with|by|using)\s+"
    r"(?:\[(?P<linked>[^\]\n]{1,60})\]\((?P<url>[^)\s]{1,300})\)|(?P<plain>[A-Za-z][\w .+-]{0,40}?))"
    r"\s*[.!]?\s*$",
    re.IGNORECASE,
)
AIDER_TRANSCRIPT = "# aider chat conversation:"
#: aider's older transcript header: `# Context:` then `USER:` / `ASSISTANT:` turns.
AIDER_CONTEXT = "# context:"
_TURN_LINE = lazy(r"^(?:USER|ASSISTANT|SYSTEM)\s*:", re.MULTILINE)
_USER_AND_ASSISTANT = (
    lazy(r"^USER\s*:", re.MULTILINE),
    lazy(r"^ASSISTANT\s*:", re.MULTILINE),
)
_HTML_COMMENT = lazy(r"^<!--.*-->$")
_RULE_LINE = lazy(r"^(?:-{3,}|\*{3,}|_{3,})$")
_HEREDOC_LEFTOVERS = frozenset({"EOF", ")", '")', "')", "EOF)", 'EOF")', "EOF2"})
#: The first characters (of the stripped line) after which `parse_message`'s line loop looks
#: further: a blank line, a tag or an HTML comment, a quote, a fence, a rule or a list item.
#: Any other line is text in a paragraph (`tests/test_scan_lean.py` compares the two loops).
_LOOKED_AT_HEADS = frozenset(["", "<", ">", "`", "~", "-", "*", "_"])
_LIST_HEADS = frozenset("-*_")
#: How every rule line (`_RULE_LINE`) opens.
_RULE_HEADS = frozenset(["---", "***", "___"])
#: A line that opens a tagged block agents append (`<claude-plan>` … `</claude-plan>`).
_TAG_OPEN = lazy(r"^<([a-z][a-z0-9_-]{0,40})>\s*$", re.IGNORECASE)


def has_turns(transcript: str) -> bool:
    """Does an aider transcript hold any conversation turn (not just its header)?"""
    return _TURN_LINE.search(transcript) is not None


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Trailer:
    """One `Key: value` trailer line of a commit message that counts as a trailer."""

    key: str  # as written
    value: str  # unfolded, stripped
    line: str  # the original line (for evidence)

    def __init__(self, key: str, value: str, line: str) -> None:
        _set(self, "key", key)
        _set(self, "value", value)
        _set(self, "line", line)

    @property
    def lkey(self) -> str:
        return self.key.lower()


@_value_methods(frozen=False)
@dataclass(slots=True, init=False, repr=False, eq=False)
class ParsedMessage:
    """What the detector reads of a commit message (`parse_message`)."""

    subject: str
    trailers: list[Trailer] = field(default_factory=list)
    #: Visible body lines that are markers in their own right (Generated with ...).
    marker_lines: list[str] = field(default_factory=list)
    #: The text after `# Aider chat conversation:` or `# Context:` (aider's transcript forms).
    aider_transcript: str | None = None
    #: The header line the transcript followed, as written.
    aider_header: str = "# Aider chat conversation:"

    def __init__(
        self,
        subject: str,
        trailers: list[Trailer] = _FACTORY,
        marker_lines: list[str] = _FACTORY,
        aider_transcript: str | None = None,
        aider_header: str = "# Aider chat conversation:",
    ) -> None:
        self.subject = subject
        self.trailers = [] if trailers is _FACTORY else trailers
        self.marker_lines = [] if marker_lines is _FACTORY else marker_lines
        self.aider_transcript = aider_transcript
        self.aider_header = aider_header

    def values(self, key: str) -> list[str]:
        k = key.lower()
        return [t.value for t in self.trailers if t.lkey == k]


def _trailer_match(line: str) -> re.Match[str] | None:
    m = _TRAILER.match(line)
    if m is None:
        return None
    # `https://...` is not key `https` with value `//...` (git's rule).
    if m.group(2).startswith("//"):
        return None
    return m


def _is_fence(line: str) -> str | None:
    """The fence character when `line` opens or closes a code fence (cheap test first)."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return None
    head = stripped[:3]
    if head == "```" or head == "~~~":
        return head[0]
    return None


def _split_transcript(lowered: str, body: list[str]) -> tuple[str | None, str, list[str]]:
    """(aider's transcript, its header line, the body lines before it) of a message's body
    lines (`lowered`: the whole normalised message in lower case); (None, "", body) when
    there is none."""
    # aider's transcript is the model's conversation, not the commit's own words: markers inside
    # it were typed by a model or a user, so they are cut off before anything is counted.
    if AIDER_TRANSCRIPT in lowered:
        for i, line in enumerate(body):
            if line.strip().lower() == AIDER_TRANSCRIPT:
                return "\n".join(body[i + 1 :]), line.strip(), body[:i]
    elif AIDER_CONTEXT in lowered:
        # The older form counts only when turns of both sides follow (a `# Context:` heading
        # in a person's message is just a heading).
        for i, line in enumerate(body):
            if line.strip().lower() == AIDER_CONTEXT:
                rest = "\n".join(body[i + 1 :])
                if all(p.search(rest) for p in _USER_AND_ASSISTANT):
                    return rest, line.strip(), body[:i]
                break
    return None, "", body


def aider_transcript_of(message: str) -> str | None:
    """`parse_message(message).aider_transcript` without parsing the rest of the message (the
    prompt's choice needs only the transcript; the detector parsed the message already)."""
    text = message.replace("\r\n", "\n").replace("\r", "\n") if "\r" in message else message
    lines = text.split("\n")
    return _split_transcript(text.lower(), lines[1:])[0]


def parse_message(message: str) -> ParsedMessage:
    """Split a commit message into subject, countable trailers and marker lines.

    This runs on every commit that passes the detector's prefilter, so the loop avoids regexes
    on lines that cannot matter (no ':' and no 'generated').
    """
    text = message.replace("\r\n", "\n").replace("\r", "\n") if "\r" in message else message
    lines = text.split("\n")
    parsed = ParsedMessage(subject=lines[0].strip())
    lowered = text.lower()
    transcript, header, body = _split_transcript(lowered, lines[1:])
    if transcript is not None:
        parsed.aider_transcript, parsed.aider_header = transcript, header
    may_generate = "generated" in lowered

    # Group visible lines into paragraphs; fenced and quoted lines are invisible and also end
    # a paragraph (a fence is never part of a trailer block).
    paragraphs: list[list[str]] = []
    current: list[str] = []
    in_fence = False
    fence_char = ""
    tag_end = ""  # inside `<tag>` … `</tag>` (e.g. `<claude-plan>`): hidden like a fence
    for line in body:
        if not (in_fence or tag_end):
            # The usual line opens with none of what the checks below look for: it is text
            # (`_LOOKED_AT_HEADS`; a list's `- item` is text unless it is a rule line).
            head = line.strip()[:3]
            if head[:1] not in _LOOKED_AT_HEADS or (
                head[:1] in _LIST_HEADS and head not in _RULE_HEADS
            ):
                current.append(line)
                continue
            if not head:  # a blank line ends the paragraph
                if current:
                    paragraphs.append(current)
                    current = []
                continue
        if tag_end:
            if line.strip().lower() == tag_end:
                tag_end = ""
            continue
        if (
            line[:1] == "<"
            and (tag := _TAG_OPEN.match(line)) is not None
            and f"</{tag.group(1).lower()}>" in lowered
        ):
            tag_end = f"</{tag.group(1).lower()}>"
            if current:
                paragraphs.append(current)
                current = []
            continue
        if "`" in line or "~" in line:
            char = _is_fence(line)
            if char is not None:
                if not in_fence:
                    in_fence, fence_char = True, char
                elif char == fence_char:
                    in_fence = False
                if current:
                    paragraphs.append(current)
                    current = []
                continue
        stripped = line.strip()
        if (
            in_fence
            or not stripped
            or stripped[0] == ">"
            # Each pattern is anchored at a first character the line must have (no regex
            # call for the usual line).
            or (stripped[0] == "<" and _HTML_COMMENT.match(stripped))
            or (stripped[0] in "-*_" and _RULE_LINE.match(stripped))
        ):
            # Quotes, and HTML comments a bot appends (`<!-- devin-review-badge-begin -->`),
            # are not the commit's own words; a rule line (GitHub's squash `---------`) ends
            # a paragraph like a blank line.
            if current:
                paragraphs.append(current)
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append(current)

    last = len(paragraphs) - 1
    for index, para in enumerate(paragraphs):
        if may_generate:
            for line in para:
                stripped = line.strip()
                if "enerated" in stripped.lower() and GENERATED_WITH.match(stripped):
                    parsed.marker_lines.append(stripped)
        if index != last and not _may_open_a_block(para[0], may_generate):
            continue  # prose: most paragraphs of an agent's summary or a squash merge's list
        block = _paragraph_trailers(para, index == last, may_generate)
        if block:
            parsed.trailers.extend(block)
    return parsed


#: (is last, may generate, *lines) -> the paragraph's trailers. An agent signs commit after
#: commit with the same block (`Co-authored-by: Claude <noreply@anthropic.com>`): a real
#: history's 8,000 candidate paragraphs hold ~1,900 distinct ones. Bounded: emptied when full.
_PARAGRAPH_MEMO: dict[tuple, tuple[Trailer, ...]] = {}
_PARAGRAPH_MEMO_MAX = 4096


def _paragraph_trailers(para: list[str], is_last: bool, may_generate: bool) -> tuple[Trailer, ...]:
    """`_plain_paragraph_trailers`, made once per distinct paragraph (trailers are immutable,
    so messages share them)."""
    key = (is_last, may_generate, *para)
    found = _PARAGRAPH_MEMO.get(key)
    if found is None:
        if len(_PARAGRAPH_MEMO) >= _PARAGRAPH_MEMO_MAX:
            _PARAGRAPH_MEMO.clear()
        found = _PARAGRAPH_MEMO[key] = _plain_paragraph_trailers(para, is_last, may_generate)
    return found


def _plain_paragraph_trailers(
    para: list[str], is_last: bool, may_generate: bool
) -> tuple[Trailer, ...]:
    """The trailers one paragraph adds to a message: its trailer block, or else the trailers
    that open it."""
    return tuple(_trailer_block(para, is_last, may_generate) or _leading_trailers(para))


def _may_open_a_block(first: str, may_generate: bool) -> bool:
    """False when a paragraph that opens with `first` and is not the message's last surely
    holds no trailer: neither `_trailer_block` (whose first line must be a trailer, git's
    cherry-pick line, a marker line or a heredoc leftover, since any other line before the
    last paragraph makes it prose) nor `_leading_trailers` (whose first line must be a
    trailer) finds one. A trailer's line opens with its key's first character (an ASCII
    letter or digit) and holds a colon: a list's `* feat: …` or `- note: …` opens none. A few
    substring tests instead of both calls and their regexes."""
    return (
        (first[:1] in _KEY_FIRST and ":" in first)
        or first[:1] == "("
        or (may_generate and "enerated" in first.lower())
        or first.strip() in _HEREDOC_LEFTOVERS
    )


def _leading_trailers(para: list[str]) -> list[Trailer]:
    """Trailers that open a paragraph which then continues with a block of their own: a
    `Key:` with no value followed by its multi-line text (`Claude-Plan:` + the plan). A tagged
    block (`<claude-plan>…</claude-plan>`) is hidden before this and ends the paragraph. Prose
    that merely starts with `Key: value` and goes on talking stays prose."""
    trailers: list[Trailer] = []
    for i, line in enumerate(para):
        if line[:1] in " \t" or ":" not in line:
            break
        m = _trailer_match(line)
        if m is None:
            break
        trailers.append(Trailer(m.group(1), m.group(2).strip(), line.strip()))
        if not m.group(2).strip() and i + 1 < len(para):
            return trailers  # `Claude-Plan:` opens the block that follows
    return []


def _trailer_block(para: list[str], is_last: bool, may_generate: bool = True) -> list[Trailer]:
    """The trailers of a paragraph, or [] when the paragraph is prose."""
    trailers: list[Trailer] = []
    others = 0
    git_generated = False
    for line in para:
        if line[0] in " \t":
            # A continuation folds into the trailer above it (RFC 822 style); elsewhere it is
            # indented code.
            if trailers and not others:
                last = trailers[-1]
                trailers[-1] = Trailer(last.key, f"{last.value} {line.strip()}", last.line)
                continue
            others += 1
        elif ":" in line and (m := _trailer_match(line)) is not None:
            trailers.append(Trailer(m.group(1), m.group(2).strip(), line.strip()))
            if m.group(1).lower() == "signed-off-by":
                git_generated = True
            continue
        elif line.startswith(_GIT_GENERATED[1]):
            git_generated = True
            continue
        elif may_generate and GENERATED_WITH.match(line.strip()):
            continue  # a marker line may share the block with the trailers it precedes
        elif line.strip() in _HEREDOC_LEFTOVERS:
            continue  # `git commit -m "$(cat <<'EOF' … EOF )"` gone wrong leaves these behind
        else:
            others += 1
        if not is_last and others:
            return []  # prose: only the final paragraph may mix (git's 25% rule)
    if not trailers:
        return []
    if others == 0:
        return trailers
    # git's rule for the final paragraph: a git-generated trailer and >= 25% trailer lines.
    if is_last and git_generated and len(trailers) * 4 >= len(trailers) + others:
        return trailers
    # Agents append their own attribution lines after the final block's trailers (`Co-authored
    # by [Claude: <id>]`): a final paragraph that opens with a trailer and is at least half
    # trailers still counts. Prose that leads into a trailer-looking line does not.
    if is_last and _trailer_match(para[0]) is not None and len(trailers) >= others:
        return trailers
    return []


#: What may stand between `<` and `>`; an address without them, in any case.
_BRACKETED = lazy(r"[^<>\s]*")
_BARE_EMAIL = lazy(r"[^\s<>@]+@[^\s<>@]+\.[a-z]{2,}", re.I)


def parse_identity(value: str) -> tuple[str, str] | None:
    """`Name <email>` -> (name, email); None when the value is not an identity.

    Agents sometimes drop the brackets (`OpenHands-GPT-5 openhands@all-hands.dev`): a value
    that ends in an address after a name is read the same way.

    Read from the end, in linear time, exactly as the two regexes it replaces read a value
    (tests/properties/test_linear_readers_properties.py compares them): with their lazy names and
    blanks on both sides, a trailer padded with a few thousand blanks took seconds, and anyone
    who can push a commit writes its trailers."""
    text = value.strip()
    if text.endswith(">"):
        lt = text.rfind("<")
        if lt >= 0 and _BRACKETED.fullmatch(text, lt + 1, len(text) - 1):
            name = text[:lt].rstrip()
            if "\n" not in name:  # the name is `.*?`: one line
                return name.strip('"'), text[lt + 1 : -1]
    parts = text.rsplit(None, 1)
    if len(parts) == 2 and "\n" not in parts[0] and _BARE_EMAIL.fullmatch(parts[1]):
        return parts[0].strip('"'), parts[1]
    return None
