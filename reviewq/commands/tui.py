"""`reviewq tui` (and `reviewq` with no command): the review queue in the terminal."""

from __future__ import annotations

import argparse
import os
import sys

from reviewq.errors import ReviewqError
from reviewq.tui.presets import KEYMAP_PRESETS

#: `sys.setswitchinterval` while the TUI runs (seconds; Python's default is 0.005).
UI_SWITCH_INTERVAL = 0.001

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "ref",
        nargs="?",
        metavar="REF",
        help="open this unit's review (origin/codex/fix, refs/pull/7/head, inbox:<id>) or commit's",
    )
    add_look_options(p, "overrides keymap.toml's preset")


def add_look_options(p: argparse.ArgumentParser, keymap_note: str = "") -> None:
    """--theme and --keymap, the same for `tui`, `pair` and `serve`."""
    p.add_argument("--theme", metavar="NAME", help="theme (default: the last one chosen)")
    names = ", ".join(KEYMAP_PRESETS)
    p.add_argument(
        "--keymap",
        metavar="PRESET",
        choices=KEYMAP_PRESETS,
        help=f"keymap preset: {names}" + (f" ({keymap_note})" if keymap_note else ""),
    )


def check_terminal(what: str = "the review TUI") -> None:
    """One line and exit 2 in a pipe or CI; a browser session (`reviewq serve`) is a terminal."""

    if os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver"):
        return  # textual-serve runs us with its web driver: stdin and stdout are its pipes
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ReviewqError(
            f"{what} needs a terminal; for scripts use `reviewq queue` or `reviewq verdict REV ...`"
        )


def run(args: argparse.Namespace, ctx) -> int:
    if getattr(args, "ref", None):
        from reviewq.workflow.lookup import lookup

        lookup(ctx, args.ref)  # an unknown name fails here, in one line, not after the TUI starts
    check_terminal()
    from reviewq.core.alloc import pause_collection, resume_collection

    pause_collection()  # until the queue screen's first frame (`core.alloc`)
    # A thread holding the interpreter (highlighting, a worker's result being read) hands it
    # to the UI thread after at most this long once a key wakes it: 1 ms, not Python's 5 ms,
    # each time the UI thread waits for it between a key and its frame (issue 18).
    switch = sys.getswitchinterval()
    sys.setswitchinterval(UI_SWITCH_INTERVAL)
    try:
        return _run_app(args, ctx)
    finally:
        sys.setswitchinterval(switch)
        resume_collection()  # an app that failed before its first frame leaves it on


def _run_app(args: argparse.Namespace, ctx) -> int:
    from reviewq.tui.services import Services

    services = Services(ctx)
    # The last open's queue answer is checked and read in a thread while the app's modules
    # load (its `git` calls and reads wait on other processes and the disk, not on us).
    services.prefetch_stored_queue()
    from reviewq.tui.app import ReviewqApp

    try:
        services.start_worker_process()
    except Exception:  # large parses then run in this process: slower keys, same results
        pass
    app = ReviewqApp(
        services,
        theme=getattr(args, "theme", None),
        keymap_preset=getattr(args, "keymap", None),
        repo_label=str(ctx.repo_root),
    )
    app.open_on_load = getattr(args, "ref", None)
    try:
        app.run()
    finally:
        services.close()
    return 0
