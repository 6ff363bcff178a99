"""Keymaps: ids for every binding, presets, the user's overrides, clashes, the help text."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewq.tui import keymap
from reviewq.tui.screens.help import help_text


def test_every_binding_id_has_default_keys_and_presets_are_clean():
    assert set(keymap.IDS) <= set(keymap.DEFAULT_KEYS)
    assert set(keymap.DEFAULT_KEYS) <= set(keymap.IDS), "default.toml names an unknown id"
    for preset in keymap.PRESETS:
        resolved = keymap.resolve(preset)
        assert resolved.problems == [], preset
        assert resolved.clashes == [], preset
        assert set(resolved.keys) == set(keymap.DEFAULT_KEYS)


def test_bindings_carry_their_ids():
    bindings = keymap.bindings("review")
    assert all(b.id for b in bindings)
    assert {"verdict.approve", "pane.critique", "search.next"} <= {b.id for b in bindings}


def test_presets_change_what_they_say(tmp_path: Path):
    vim = keymap.resolve("vim")
    assert vim.keys["nav.page_down"].startswith("ctrl+f")
    assert vim.keys["app.palette"] == "colon"
    emacs = keymap.resolve("emacs")
    assert emacs.keys["nav.down"] == "down,ctrl+n"
    assert emacs.keys["app.palette"] == "alt+x"


def test_user_file_overrides_the_preset_and_reports_mistakes(tmp_path: Path):
    user = tmp_path / "keymap.toml"
    user.write_text(
        'preset = "vim"\n'
        '"search.next" = 3\n'
        '[verdict]\napprove = "y, ctrl+a"\n'
        '[nav]\nnext_hunk = ""\n'
        '[nope]\nthing = "x"\n'
    )
    resolved = keymap.resolve(None, user)
    assert resolved.preset == "vim"
    assert resolved.keys["verdict.approve"] == "y,ctrl+a"
    assert resolved.keys["nav.page_down"].startswith("ctrl+f")  # from the preset
    assert resolved.keys["nav.next_hunk"] == ""
    assert resolved.for_textual()["nav.next_hunk"].startswith(keymap.UNBOUND_PREFIX)
    assert resolved.display("nav.next_hunk") == "(unbound)"
    assert any("nope.thing" in p for p in resolved.problems)
    assert any("search.next" in p and "string" in p for p in resolved.problems)
    # the command line's preset wins over the file's
    assert keymap.resolve("emacs", user).preset == "emacs"


@pytest.mark.parametrize(
    "text", ["[verdict\napprove = 'y'", "approve = " + "[" * 20_000 + "]" * 20_000]
)
def test_a_broken_user_file_is_reported_and_the_preset_used(tmp_path: Path, text: str):
    user = tmp_path / "keymap.toml"
    user.write_text(text)
    resolved = keymap.resolve(None, user)
    assert resolved.preset == "default"
    assert resolved.keys == keymap.DEFAULT_KEYS
    assert "not read" in resolved.problems[0]


def test_clashes_across_live_scopes_are_found(tmp_path: Path):
    user = tmp_path / "keymap.toml"
    user.write_text('[verdict]\napprove = "j"\n')
    resolved = keymap.resolve(None, user)
    described = [c.describe() for c in resolved.clashes]
    assert any("nav.down" in d and "verdict.approve" in d for d in described), described
    # the same key in scopes never live together is fine ("/" filters the queue and
    # searches the diff)
    assert not any("queue.filter" in d for d in described)


def test_help_text_is_generated_from_the_keys_in_effect(tmp_path: Path):
    user = tmp_path / "keymap.toml"
    user.write_text('[verdict]\napprove = "y"\n')
    text = help_text(keymap.resolve(None, user)).plain
    approve = next(line for line in text.splitlines() if "verdict.approve" in line)
    assert approve.split()[0] == "y"
    assert "Approve" in approve
    for binding_id in keymap.IDS:
        assert binding_id in text
