"""Pure core functions: model families, message parsing, visible text, risk."""

from __future__ import annotations

import pytest

from reviewq.core.families import family_for, family_of, normalize_model
from reviewq.core.message import parse_message
from reviewq.core.model import Authorship, Change, Commit, FileChange, FileDiff, Identity
from reviewq.core.risk import assess
from reviewq.core.text import has_hidden, one_line, visible


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-opus-4.5", "anthropic"),
        ("anthropic/claude-opus-4-5-20251101", "anthropic"),
        ("openrouter/anthropic/claude-3.5-sonnet", "anthropic"),
        ("sonnet-4.5", "anthropic"),
        ("gpt-4o", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("gpt-5.1-codex", "openai"),
        ("codex-5.2", "openai"),
        ("chatgptv5", "openai"),
        ("gemini-2.5-pro", "google"),
        ("google/gemini-2.5-pro", "google"),
        ("gemma-3", "google"),
        ("grok-code-fast-1", "xai"),
        ("llama-3.3-70b", "meta"),
        ("codellama-34b", "meta"),
        ("mistral-large", "mistral"),
        ("codestral-2501", "mistral"),
        ("devstral-small", "mistral"),
        ("deepseek-coder-v2", "deepseek"),
        ("deepseek-r1", "deepseek"),
        ("qwen3-coder-480b", "qwen"),
        ("glm-4.6", "zhipu"),
        ("kimi-k2", "moonshot"),
        ("some-house-model", "other"),
        ("auto", "unknown"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_family_table(model: str | None, family: str) -> None:
    assert family_of(model) == family


def test_family_for_tools() -> None:
    assert family_for("claude-code", None) == "anthropic"
    assert family_for("codex", None) == "openai"
    assert family_for("jules", None) == "google"
    assert family_for("gemini-cli", None) == "google"
    # multi-vendor tools never guess
    for tool in ("aider", "cursor", "copilot", "devin", "openhands"):
        assert family_for(tool, None) == "unknown"
    assert family_for("cursor", "claude-sonnet-4.5") == "anthropic"
    assert family_for("claude-code", "house-model") == "anthropic"


def test_normalize_model() -> None:
    assert normalize_model("Claude Opus 4.7 (1M context)") == "claude-opus-4.7"
    assert normalize_model(" GPT-4o ") == "gpt-4o"
    assert normalize_model("unknown") is None
    assert normalize_model("(beta)") is None


def test_trailer_block_rules() -> None:
    parsed = parse_message(
        "Subject\n\nProse paragraph.\nKey: value in prose\n\n"
        "Co-authored-by: A <a@x>\n Continued: folded\nSigned-off-by: B <b@x>"
    )
    keys = [(t.lkey, t.value) for t in parsed.trailers]
    assert keys == [("co-authored-by", "A <a@x> Continued: folded"), ("signed-off-by", "B <b@x>")]


def test_last_paragraph_25_percent_rule_needs_git_generated_trailer() -> None:
    with_sob = parse_message("S\n\nnot a trailer\nCo-authored-by: A <a@x>\nSigned-off-by: B <b@x>")
    assert [t.lkey for t in with_sob.trailers] == ["co-authored-by", "signed-off-by"]
    without = parse_message("S\n\nnot a trailer\nCo-authored-by: A <a@x>")
    assert without.trailers == []


def test_url_is_not_a_trailer_and_crlf_messages_parse() -> None:
    parsed = parse_message("S\r\n\r\nhttps://example.com/x\r\nCo-authored-by: A <a@x>\r\n")
    assert [t.key for t in parsed.trailers] == []  # the URL line makes it prose
    parsed = parse_message("S\r\n\r\nCo-authored-by: A <a@x>\r\n")
    assert [t.value for t in parsed.trailers] == ["A <a@x>"]


def test_unclosed_fence_hides_the_rest() -> None:
    parsed = parse_message("S\n\n```\nCo-authored-by: Codex <noreply@openai.com>\n")
    assert parsed.trailers == []


def test_visible_marks_controls_bidi_and_invisibles() -> None:
    text = "ok\x1b[31mred\x07\rtab\tnl\n\u202eevil\u200bzw\x00"
    shown = visible(text)
    assert shown == "ok<ESC>[31mred<BEL><CR>tab\tnl\n<U+202E>evil<U+200B>zw<NUL>"
    assert has_hidden(text) and not has_hidden("plain text\n")
    assert one_line("a\nb\tc", 10) == "a↵b→c"
    assert one_line("x" * 20, 5) == "xxxx…"


def _change(files: list[FileChange], confidence: str = "high") -> Change:
    ident = Identity("A", "a@x")
    commit = Commit(
        "0" * 40, (), ident, ident, "2026-11-20T10:00:00+00:00", "2026-11-20T10:00:00+00:00", "S"
    )
    auth = Authorship("codex", None, "openai", "primary", confidence, ())
    return Change("0" * 40, commit, auth, files=tuple(files))


def test_risk_reasons() -> None:
    risky = assess(
        _change(
            [
                FileChange("orders/auth.py", "M", 5, 2),
                FileChange(".github/workflows/ci.yml", "M", 3, 1),
                FileChange("tests/test_auth.py", "D", 0, 10),
            ]
        )
    )
    assert risky.level == "high"
    assert any("access-control" in r for r in risky.reasons)
    assert any("CI workflow" in r for r in risky.reasons)
    assert any("deletes 1 test file" in r for r in risky.reasons)
    calm = assess(_change([FileChange("docs/readme.md", "M", 3, 1)]))
    assert calm.level == "low" and calm.reasons == ()
    big = assess(
        _change(
            [FileChange("src/x.py", "A", 900, 0), FileChange("package-lock.json", "M", 5000, 10)]
        )
    )
    assert any("large: 900" in r for r in big.reasons)  # lockfiles do not count toward size


def test_a_renamed_file_is_named_by_either_path() -> None:
    renamed = FileDiff("orders/repository.py", "orders/store.py", "renamed")
    assert renamed.is_named("orders/repository.py") and renamed.is_named("orders/store.py")
    assert not renamed.is_named("orders/other.py") and not renamed.is_named(None)
    added = FileDiff("orders/new.py", None, "added")
    assert added.is_named("orders/new.py") and not added.is_named(None)
