"""The keymap presets that ship (keymaps/*.toml), named where the command line can read them
without importing Textual (start-up stays fast)."""

KEYMAP_PRESETS = ("default", "vim", "emacs")
