"""Keymap presets shipped with reviewq (binding id -> keys), read with importlib.resources."""
