"""Properties: the readers rewritten to run in linear time read exactly what the regexes they
replace read, on any short text (where those regexes are still fast).

Each regex here backtracked for seconds or minutes on a few thousand characters someone else
writes: a commit trailer padded with blanks (`parse_identity`), a long trailer token with no
digit (`_model_tokens`), a diff line of `+` (the redactor's key line), a description line of
blanks (the injection detector). The old regexes stay here as the specification.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from reviewq.core.agent_identities import (
    _model_before_via,
    _model_tokens,
    _without_last_paren,
    _without_parens,
)
from reviewq.core.detectors import injection, intent
from reviewq.core.message import parse_identity
from reviewq.critics.redact import _key_line

pytestmark = pytest.mark.property

_IDENT = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<email>[^<>\s]*)>\s*$")
_BARE_IDENT = re.compile(
    r"^\s*(?P<name>\S.*?)\s+(?P<email>[^\s<>@]+@[^\s<>@]+\.[a-z]{2,})\s*$", re.I
)
_MODEL_TOKEN = re.compile(r"[\w.:/-]*\d[\w.:/-]*")
_KEY_LINE = re.compile(r"^[\s\"'+,]*[A-Za-z0-9+/]{40,}={0,2}[\s\"',\\n+]*$")
_LAST_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
_PARENS = re.compile(r"\s*\([^)]*\)")
_VIA = re.compile(r"^(?P<model>.+?)\s+via\s+\S", re.IGNORECASE)
_NAMES_A_PATH = re.compile(r"\b[\w-]+/[\w./-]+|\b\w+\.(?:py|js|ts|go|ya?ml|toml|json|sh|md)\b")
_DESCRIBES = re.compile(r"^\W*(?:description|help|summary|title|label)\W*\s*[:=]", re.IGNORECASE)


def _identity_by_regex(value: str) -> tuple[str, str] | None:
    m = _IDENT.match(value) or _BARE_IDENT.match(value)
    if m is None:
        return None
    return m.group("name").strip().strip('"'), m.group("email").strip()


def _pieces(alphabet: list[str], runs: list[str]) -> st.SearchStrategy[str]:
    """Texts of short random pieces and runs of one character: what makes these regexes
    backtrack, and what tells their parts apart."""
    piece = st.lists(st.sampled_from(alphabet), max_size=8).map("".join)
    run = st.builds(lambda c, n: c * n, st.sampled_from(runs), st.integers(0, 50))
    return st.lists(piece | run, max_size=8).map("".join)


_IDENTITY_TEXT = _pieces(
    [" ", "\t", "\n", "\u00a0", "<", ">", "@", ".", '"', "a", "B", "K", "\u212a", "x", "co", "m"],
    [" ", "a", "<", ">", "\n"],
)


@example("a\nb <c@d>")  # a name is one line
@example("a\nb c@d.ef")
@example("a \n <c@d>")  # blanks around it may not be
@example("<>")
@example(' "Ann" <a@b.c> ')
@example("Bot x@y.\u212a\u212a")  # the Kelvin sign is a `k` to an ignore-case `[a-z]`
@example("a <b> <c@d>")
@example("a <b c>")
@given(_IDENTITY_TEXT)
def test_parse_identity_reads_a_value_as_the_two_regexes_do(value: str) -> None:
    assert parse_identity(value) == _identity_by_regex(value)


@given(
    _pieces(["a", "Z", "1", "\u0663", "\u00b2", ".", ":", "/", "-", "_", " ", "(", "+"], ["a", "1"])
)
def test_model_tokens_are_what_the_regex_finds(value: str) -> None:
    assert _model_tokens(value) == _MODEL_TOKEN.findall(value)


@example("+" * 61 + ",,,,")  # the body ends where the trail begins
@example("A" * 40 + "=+n")
@example(" +" + "A" * 39 + "n\\n")
@given(
    _pieces(
        ["+", "n", "=", "A", "/", "9", " ", "\t", '"', "'", ",", "\\", "x", ".", "\u00a0", "\n"],
        ["+", "A", " ", "n", ",", "="],
    )
)
def test_the_key_line_is_the_regexs(text: str) -> None:
    assert _key_line(text) == (_KEY_LINE.match(text) is not None)


@given(
    _pieces(
        [" ", "\t", ":", "=", "#", "-", "description", "Title", "help", "x", "_", "\u00a0"],
        [" ", ":", "#"],
    )
)
def test_a_description_line_is_the_regexs(text: str) -> None:
    assert (injection._DESCRIBES.match(text) is not None) == (_DESCRIBES.match(text) is not None)


_NAME_TEXT = _pieces(
    [" ", "\t", "\n", "(", ")", "a", "G", "4", "-", "via", "VIA", "v", "x", "\u00a0"],
    [" ", "(", ")", "a"],
)


@example("aider (gpt-4o)")
@example("a (b) (c)  ")
@example("(a) b (c")
@example("  via x")
@example(" via x")
@example("\n via x")
@example("a\nb via x")
@given(_NAME_TEXT)
def test_author_names_are_read_as_the_regexes_read_them(name: str) -> None:
    assert _without_last_paren(name) == _LAST_PAREN.sub("", name)
    assert _without_parens(name) == _PARENS.sub("", name)
    via = _VIA.match(name)
    assert _model_before_via(name) == (via["model"] if via else None)


@example("--/x")
@example("a-b/c")
@example(" -a/b")
@given(_pieces(["a", "-", "/", ".", " ", "_", "py", "x.", "\u00e9"], ["a", "-", "/"]))
def test_a_prompt_names_a_path_as_the_regex_says(prompt: str) -> None:
    found = intent._NAMES_A_PATH.search(prompt) is not None
    assert found == (_NAMES_A_PATH.search(prompt) is not None)
