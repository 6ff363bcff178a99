"""`reviewq serve`: the review TUI (or a pair session) in a browser, via textual-serve.

Binds 127.0.0.1:8000 by default and prints the URL with this run's session token (needed for a
session). Another interface only with `--public`, which prints a warning: whoever has the URL
records verdicts as git's user here; `Host` must then be one of this machine's names or
addresses, or a name given with `--allow-host`.
See docs/pair.md ("In a browser").
"""

from __future__ import annotations

import argparse
import sys

from reviewq.commands.tui import add_look_options
from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).

DEFAULT_PORT = 8000


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        metavar="ADDRESS",
        help="address to listen on (default 127.0.0.1; with --public, every interface)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one and prints it)",
    )
    p.add_argument(
        "--public",
        action="store_true",
        help="allow an address other machines can reach (no login: prints a warning)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="with --public: another Host name to answer to (a proxy's name); repeatable",
    )
    p.add_argument(
        "--pair",
        nargs="?",
        const="",
        default=None,
        metavar="REV",
        help="serve a pair session (on REV, or the pending queue riskiest first)",
    )

    add_look_options(p, "of the served app")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.serve import INSTALL_HINT, bind_address, make_server, served_command

    if not 0 <= args.port <= 65535:
        raise ReviewqError(f"--port must be between 0 and 65535, not {args.port}")
    try:
        import textual_serve  # noqa: F401  (the one import this command needs)
    except ImportError:
        print(f"reviewq: {INSTALL_HINT}", file=sys.stderr)
        return 2
    host, warning = bind_address(args.host, args.public)
    if args.pair:
        from reviewq.workflow.lookup import lookup

        found = lookup(ctx, args.pair)  # an unknown revision fails here, not in every tab
        if found.change is None:
            raise ReviewqError(f"{args.pair} is not AI-authored: nothing to walk through")
        args.pair = found.commit.sha if found.change.source == "git" else args.pair
    options = []
    if args.theme:
        options += ["--theme", args.theme]
    if args.keymap:
        options += ["--keymap", args.keymap]
    command = served_command(
        ctx.repo_root,
        config=getattr(args, "config", None),
        log=getattr(args, "log", None),
        pair=args.pair,
        options=options,
    )
    title = f"reviewq {'pair ' if args.pair is not None else ''}· {ctx.repo_root.name}"
    if args.allow_host and not args.public:
        raise ReviewqError("--allow-host needs --public (on loopback only loopback names work)")
    server = make_server(
        command, host=host, port=args.port, title=title, allow_hosts=args.allow_host
    )
    server.bind()
    if warning:
        print(f"reviewq: warning: {warning}", file=sys.stderr, flush=True)
    server.serve()
    return 0
