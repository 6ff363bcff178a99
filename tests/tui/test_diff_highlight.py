"""The diff view's own highlighter (it yields to the reviewer's keys every few dozen tokens)
gives exactly what `textual.highlight.highlight` gives (issue 18)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.highlight import highlight

from reviewq.tui.diff.view import PAUSE_TOKENS, highlight_text

CODE = st.lists(
    st.sampled_from(
        [
            "def f(x):",
            "    return x + 1  # note",
            's = """multi',
            'line string"""',
            "class A(B, metaclass=M):",
            "    '''doc'''",
            "x = [i for i in range(10) if i % 2]",
            "@decorator",
            "",
            "\tz = 0x1F; w = 1e-3",
            "print(f'{a!r:>10}')",
            "café = 'naïve'",
        ]
    )
    | st.text(max_size=20),
    max_size=25,
).map("\n".join)


@settings(max_examples=60, deadline=None)
@given(CODE, st.sampled_from(["python", "javascript", "yaml", "text"]))
def test_same_spans_as_textual_highlight(code: str, language: str) -> None:
    calls: list[int] = []
    mine = highlight_text(code, language, lambda: calls.append(1))
    theirs = highlight(code, language=language)
    assert mine.plain == theirs.plain
    assert list(mine.spans) == list(theirs.spans)


def test_it_pauses_while_lexing_a_long_chunk() -> None:
    calls: list[int] = []
    code = "\n".join(f"value_{i} = compute({i}, 'x') + other_{i}" for i in range(64))
    highlight_text(code, "python", lambda: calls.append(1))
    assert len(calls) >= 64 * 8 // PAUSE_TOKENS  # many pause points, not one at the end
