"""Themes shipped with reviewq (TOML -> textual Theme), read with importlib.resources."""
