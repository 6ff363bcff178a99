"""`reviewq pair [REV]`: walk through a risky change together, driver and co-reviewers named.

Without REV the session takes the pending queue, riskiest first. The names given here fill the
start dialog (where they can still be changed); the driver defaults to git's user. See
docs/pair.md.
"""

from __future__ import annotations

import argparse

from reviewq.commands.tui import add_look_options, check_terminal
from reviewq.core.queue import build_queue
from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "rev",
        nargs="?",
        metavar="REV",
        help="the change to walk through (default: the pending queue, riskiest first)",
    )
    p.add_argument(
        "--driver",
        metavar="'NAME <EMAIL>'",
        help="who starts at the keyboard (default: git's user.name and user.email)",
    )
    p.add_argument(
        "--with",
        dest="co_reviewers",
        action="append",
        default=[],
        metavar="'NAME <EMAIL>'",
        help="a co-reviewer (once or twice)",
    )
    p.add_argument(
        "--presenter",
        action="store_true",
        help="start in the presenter layout (wide diff, big step keys)",
    )

    add_look_options(p)


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.core.pair import MAX_CO_REVIEWERS, PersonError, format_person, parse_person

    names: list[str] = []
    for flag, text in [("--driver", args.driver), *(("--with", c) for c in args.co_reviewers)]:
        if text is None:
            continue
        try:
            names.append(format_person(parse_person(text)))
        except PersonError as exc:
            raise ReviewqError(f"{flag}: {exc}") from None
    if len(args.co_reviewers) > MAX_CO_REVIEWERS:
        raise ReviewqError(f"--with: at most {MAX_CO_REVIEWERS} co-reviewers")
    item = _item(ctx, args.rev) if args.rev else None
    check_terminal("a pair session")

    from reviewq.tui.app import ReviewqApp
    from reviewq.tui.pair.screen import PairLaunch
    from reviewq.tui.services import Services

    driver = names.pop(0) if args.driver else ""
    launch = PairLaunch(
        item=item, driver=driver, co_reviewers=tuple(names), presenter=args.presenter
    )
    services = Services(ctx)
    try:
        services.start_worker_process()  # before Textual takes the terminal (see tui.py)
    except Exception:
        pass
    app = ReviewqApp(
        services,
        theme=args.theme,
        keymap_preset=args.keymap,
        repo_label=str(ctx.repo_root),
        pair=launch,
    )
    try:
        app.run()
    finally:
        services.close()
    return 0


def _item(ctx, rev: str):
    """The queue item for REV (its risk, domain and what the policy still needs), settled or not:
    a pair may walk through a change that already has a verdict (a second approval, say)."""
    from reviewq.clock import local_now
    from reviewq.workflow.gate import QueuePolicy
    from reviewq.workflow.lookup import lookup

    found = lookup(ctx, rev)
    if found.change is None:
        raise ReviewqError(
            f"{rev} ({found.commit.sha[:12]}) is not AI-authored: no agent markers found, so "
            "there is nothing to walk through; `reviewq show` says what was checked"
        )
    now = local_now()
    policy = QueuePolicy(ctx, [found.change], now)
    return build_queue(
        [found.change], now=now, domain_of=policy.domain_of, needs_of=policy.needs_of
    )[0]
