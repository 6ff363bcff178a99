"""Untrusted text reaches the screen literally: no markup, no escapes, hidden characters marked."""

from __future__ import annotations

from reviewq.tui.safe import HIDDEN_STYLE, placeholders, safe, safe_line


def test_markup_is_not_parsed():
    content = safe("[bold red]boom[/] and [link=https://evil]x[/link]")
    assert content.plain == "[bold red]boom[/] and [link=https://evil]x[/link]"
    assert not content.spans


def test_escape_sequences_become_visible_placeholders_with_a_style():
    text = "ok\x1b[31mred\x1b]52;c;aGk=\x07 \u202eevil\u200b"
    content = safe(text)
    assert "\x1b" not in content.plain and "\x07" not in content.plain
    assert "<ESC>[31mred" in content.plain
    assert "<BEL>" in content.plain and "<U+202E>" in content.plain and "<U+200B>" in content.plain
    marked = [content.plain[s.start : s.end] for s in content.spans if s.style == HIDDEN_STYLE]
    assert marked == ["<ESC>", "<ESC>", "<BEL>", "<U+202E>", "<U+200B>"]


def test_carriage_return_cannot_overwrite_what_was_shown():
    assert safe("approved\rrejected").plain == "approved<CR>rejected"


def test_tabs_expand_and_offsets_follow():
    plain, marks = placeholders("a\tb\x1bc", keep_newlines=False)
    assert plain == "a   b<ESC>c"
    assert marks == [(5, 10)]


def test_one_line_shows_newlines_as_a_mark():
    content = safe_line("first\nsecond")
    assert content.plain == "first↵second"
    assert any(content.plain[s.start : s.end] == "↵" for s in content.spans)
