"""Themes: `themes/*.toml` (shipped) and `$XDG_CONFIG_HOME/reviewq/themes/*.toml` (the user's).

Each file is one `textual.theme.Theme`: its fields (`name`, `primary`, `background`, `dark`, ...)
at the top level and a `[variables]` table. Every colour the diff uses is a theme variable
(`DIFF_VARIABLES`); a theme that does not set one gets a default derived from its own palette, so
Textual's built-in themes colour diffs consistently too. A file that does not parse or names a
bad colour is skipped with a problem message (shown as a notification); the app falls back to
`DEFAULT_THEME`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from reviewq.xdg import config_home

DEFAULT_THEME = "reviewq-dark"

#: variable -> (colour-system key it derives from, alpha %) when a theme does not set it.
DIFF_VARIABLES: dict[str, tuple[str, int | None]] = {
    "diff-added-bg": ("success", 15),
    "diff-added-word-bg": ("success", 40),
    "diff-added-sign": ("text-success", None),
    "diff-removed-bg": ("error", 15),
    "diff-removed-word-bg": ("error", 40),
    "diff-removed-sign": ("text-error", None),
    "diff-hunk-fg": ("text-primary", None),
    "diff-hunk-bg": ("primary", 10),
    "diff-file-fg": ("foreground", None),
    "diff-file-bg": ("panel", None),
    "diff-lineno-fg": ("foreground-muted", None),
    "diff-note-fg": ("foreground-muted", None),
    "diff-search-bg": ("warning", 40),
    "diff-search-current-bg": ("warning", 80),
    "diff-hidden-fg": ("text-warning", None),
    "diff-hidden-bg": ("warning-muted", None),
    "diff-cursor-bg": ("primary", 55),
    "diff-finding-fg": ("text-error", None),
    "diff-viewed-fg": ("text-success", None),
    "diff-unverified-fg": ("text-warning", None),
}

_THEME_FIELDS = {
    "name",
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "dark",
    "luminosity_spread",
    "text_alpha",
    "variables",
}
_COLOUR_FIELDS = _THEME_FIELDS - {"name", "dark", "luminosity_spread", "text_alpha", "variables"}
_ALPHA = re.compile(r"^(?P<colour>.+?)(\s+(?P<alpha>\d{1,3})%)?$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ThemeError(ValueError):
    """A theme file that cannot become a Theme; the message names the file and the field."""


def diff_variable_defaults(system: Mapping[str, str]) -> dict[str, str]:
    """Defaults for the diff variables from a theme's generated colour system."""
    out = {}
    for name, (source, alpha) in DIFF_VARIABLES.items():
        value = system.get(source, "transparent")
        if alpha is not None and " " not in value:
            value = f"{value} {alpha}%"
        out[name] = value
    return out


def _check_colour(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ThemeError(f'{where} must be a colour such as "#1e90ff" or "#1e90ff 20%"')
    match = _ALPHA.match(value.strip())
    colour = match.group("colour") if match else value
    alpha = match.group("alpha") if match else None
    if alpha is not None and int(alpha) > 100:
        raise ThemeError(f"{where}: alpha {alpha}% is over 100%")
    try:
        Color.parse(colour)
    except ColorParseError:
        raise ThemeError(f"{where}: {value!r} is not a colour") from None
    return value.strip()


def theme_from_toml(text: str, origin: str) -> Theme:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{origin}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ThemeError(f"{origin}: not valid TOML (nested too deeply)") from None
    unknown = set(data) - _THEME_FIELDS
    if unknown:
        raise ThemeError(f"{origin}: unknown field(s) {', '.join(sorted(unknown))}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(f"{origin}: `name` must be lower-case letters, digits, - or _")
    if "primary" not in data:
        raise ThemeError(f"{origin}: `primary` is required")
    kwargs: dict[str, Any] = {"name": name}
    for key in _COLOUR_FIELDS:
        if key in data:
            kwargs[key] = _check_colour(f"{origin}: {key}", data[key])
    if "dark" in data:
        if not isinstance(data["dark"], bool):
            raise ThemeError(f"{origin}: `dark` must be true or false")
        kwargs["dark"] = data["dark"]
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            if not isinstance(data[key], int | float) or not 0 <= data[key] <= 1:
                raise ThemeError(f"{origin}: `{key}` must be a number from 0 to 1")
            kwargs[key] = float(data[key])
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"{origin}: [variables] must be a table")
    checked = {}
    for key, value in variables.items():
        if key not in DIFF_VARIABLES:
            raise ThemeError(
                f"{origin}: unknown variable {key!r} (known: {', '.join(DIFF_VARIABLES)})"
            )
        checked[key] = _check_colour(f"{origin}: variables.{key}", value)
    kwargs["variables"] = checked
    return Theme(**kwargs)


@dataclass
class LoadedThemes:
    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: theme name -> file it came from
    origins: dict[str, str] = field(default_factory=dict)


def user_theme_dir(env: Mapping[str, str] | None = None) -> Path:
    return config_home(env) / "reviewq" / "themes"


def _shipped() -> Iterable[tuple[str, str]]:
    folder = resources.files("reviewq.themes")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            yield f"themes/{entry.name}", entry.read_text("utf-8")


def load_themes(user_dir: Path | None) -> LoadedThemes:
    """Shipped themes, then the user's (a user theme with a shipped name replaces it)."""
    loaded = LoadedThemes()
    by_name: dict[str, Theme] = {}
    sources = list(_shipped())
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                sources.append((str(path), path.read_text("utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                loaded.problems.append(f"{path}: not read ({exc})")
    for origin, text in sources:
        try:
            theme = theme_from_toml(text, origin)
        except ThemeError as exc:
            loaded.problems.append(str(exc))
            continue
        by_name[theme.name] = theme
        loaded.origins[theme.name] = origin
    loaded.themes = list(by_name.values())
    return loaded
