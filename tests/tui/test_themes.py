"""Themes: shipped files load, user files add or replace them, bad files are reported."""

from __future__ import annotations

import colorsys
from pathlib import Path

import pytest
from textual.color import Color

from reviewq.tui.themes import (
    DIFF_VARIABLES,
    ThemeError,
    diff_variable_defaults,
    load_themes,
    theme_from_toml,
)

SHIPPED = {"reviewq-dark", "reviewq-light", "reviewq-high-contrast", "reviewq-colorblind"}


def test_shipped_themes_load_from_package_data():
    loaded = load_themes(None)
    assert loaded.problems == []
    assert {t.name for t in loaded.themes} >= SHIPPED
    light = next(t for t in loaded.themes if t.name == "reviewq-light")
    assert light.dark is False


def test_user_themes_add_and_replace_and_bad_files_are_reported(tmp_path: Path):
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\nprimary = "#ff8800"\n[variables]\n"diff-added-bg" = "#0000ff 20%"\n'
    )
    (tmp_path / "dark.toml").write_text('name = "reviewq-dark"\nprimary = "#123456"\n')
    (tmp_path / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    (tmp_path / "typo.toml").write_text('name = "typo"\nprimray = "#fff"\n')
    loaded = load_themes(tmp_path)
    names = {t.name for t in loaded.themes}
    assert "mine" in names and "broken" not in names and "typo" not in names
    dark = next(t for t in loaded.themes if t.name == "reviewq-dark")
    assert dark.primary == "#123456"
    assert loaded.origins["reviewq-dark"].endswith("dark.toml")
    assert any("broken.toml" in p and "not a colour" in p for p in loaded.problems)
    assert any("typo.toml" in p and "primray" in p for p in loaded.problems)


@pytest.mark.parametrize(
    "text, message",
    [
        ('primary = "#fff"', "name"),
        ('name = "x"', "primary"),
        ('name = "x"\nprimary = "#fff"\n[variables]\n"diff-nope" = "#fff"', "diff-nope"),
        ('name = "x"\nprimary = "#fff"\n[variables]\n"diff-added-bg" = "#fff 300%"', "300%"),
        ('name = "x"\nprimary = "#fff"\ndark = "yes"', "dark"),
        ("name = ", "TOML"),
        ("name = " + "[" * 20_000 + "]" * 20_000, "nested too deeply"),
    ],
)
def test_theme_errors_name_the_problem(text: str, message: str):
    with pytest.raises(ThemeError, match=message):
        theme_from_toml(text, "t.toml")


def _hue_and_lightness(value: str) -> tuple[float, float]:
    colour = Color.parse(value.split()[0])
    h, light, _ = colorsys.rgb_to_hls(colour.r / 255, colour.g / 255, colour.b / 255)
    return h * 360, light


def test_colour_blind_theme_does_not_rely_on_red_against_green():
    theme = next(t for t in load_themes(None).themes if t.name == "reviewq-colorblind")
    for name in ("diff-added-sign", "diff-removed-sign", "diff-added-bg", "diff-removed-bg"):
        hue, _ = _hue_and_lightness(theme.variables[name])
        assert not 75 <= hue <= 165, f"{name} is green"
        assert not (hue <= 15 or hue >= 345), f"{name} is red"
    added_hue, added_light = _hue_and_lightness(theme.variables["diff-added-sign"])
    removed_hue, removed_light = _hue_and_lightness(theme.variables["diff-removed-sign"])
    assert abs(added_hue - removed_hue) > 120  # blue against orange
    assert abs(added_light - removed_light) > 0.05 or abs(added_hue - removed_hue) > 150


def test_every_diff_variable_gets_a_default_from_any_palette():
    from textual.theme import BUILTIN_THEMES

    for theme in BUILTIN_THEMES.values():
        defaults = diff_variable_defaults(theme.to_color_system().generate())
        assert set(defaults) == set(DIFF_VARIABLES)
        assert all(defaults.values())
