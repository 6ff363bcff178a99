"""`reviewq demo`: build the demo repository and open the review queue on it."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from reviewq.errors import ReviewqError
from reviewq.xdg import cache_home

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).

NEEDS_REPO = False
_MARKER = "reviewq-demo"


def default_dir() -> Path:
    return cache_home() / "reviewq" / "demo"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", metavar="DIR", help=f"where to build it (default: {default_dir()})")
    p.add_argument("--no-tui", action="store_true", help="build and print the queue; no TUI")


def prepare(target: Path) -> Path:
    """(Re)build the demo at `target`; only a directory reviewq built itself is replaced."""
    from reviewq.demo.builder import build_demo

    if target.exists() and any(target.iterdir()):
        if not (target / ".git" / _MARKER).exists():
            raise ReviewqError(
                f"{target} exists and is not a reviewq demo; pass --dir to an empty directory"
            )
        shutil.rmtree(target)
    try:
        build_demo(target)
    except (OSError, RuntimeError) as exc:
        raise ReviewqError(f"cannot build the demo in {target}: {exc}") from None
    (target / ".git" / _MARKER).write_text("built by reviewq demo\n")
    return target


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq import cli  # cycle: cli imports this module

    target = prepare(Path(args.dir) if args.dir else default_dir())
    print(f"demo repository: {target}", file=sys.stderr)
    if args.no_tui or "tui" not in cli.COMMANDS:
        return cli.run(["--repo", str(target), "queue"])
    return cli.run(["--repo", str(target), "tui"])
