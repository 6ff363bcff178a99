"""`reviewq` / `git reviewq`: the command line of ../CONTRACT.md.

Each command lives in `reviewq.commands.<name>` with `configure(parser)` and `run(args, ctx)`;
one that may read the whole log through a column cache sets `READS_LOG_COLUMNS = True`, and a
first read of a large log is then announced on stderr.
Command modules import their heavy machinery inside `run`, so `reviewq --help` and every other
command start without loading Textual or an SDK. A user's mistake becomes one line on stderr and
exit code 2 (`ReviewqError`); a failed check exits 1.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Sequence

from reviewq import __version__
from reviewq.errors import ReviewqError
from reviewq.startup import import_dataclasses_without_inspect

import_dataclasses_without_inspect()  # before any module of a command imports `dataclasses`

#: command -> one-line help. The module is `reviewq.commands.<command with - as _>`.
COMMANDS: dict[str, str] = {
    "scan": "detect AI-authored commits reachable from REV (default HEAD)",
    "queue": "list pending AI-authored changes (not yet settled)",
    "show": "one change: authorship, evidence, prompt, size, risk",
    "prompt": "read, or attach with --set, the prompt that produced a change",
    "pull": "fetch a remote's agent branches, pull/merge-request refs and review notes",
    "apply": "apply an inbox patch to a branch with git am (on your request only)",
    "critique": "show or run a critique from a model family other than the author's",
    "demo": "build the demo repository and open the review queue on it",
    "verdict": "record a verdict (approve, reject, changes, escalate) without the TUI",
    "log": "read the provenance log; `log verify` checks it, `log rebuild` repairs a copy",
    "sync": "fetch, merge and push the review notes with a remote",
    "gate": "exit 0 when every AI-authored commit in REV-RANGE meets the policy, else 1",
    "hooks": "install or remove the pre-push hook that runs the gate",
    "stats": "review throughput for leads: verdicts, time, rubber stamps, queue, coverage",
    "report": "automation disclosure report (--format md|json|html)",
    "export": "commits, verdicts and critiques as Parquet tables for a warehouse (--out DIR)",
    "tui": "open the review queue in the terminal (the default without a command)",
    "pair": "walk through risky changes together: driver and co-reviewers, notes per hunk",
    "serve": "serve the review TUI to a browser (textual-serve), on 127.0.0.1 by default",
}


TYPE_CHECKING = False  # `typing` is not imported before a scan's `git log` starts
if TYPE_CHECKING:
    import argparse
    from typing import Any


def _parser_type() -> type[argparse.ArgumentParser]:
    """`_Parser`, made on first use: `argparse` (with gettext and locale) is imported only when
    a command line is parsed with it, never for a plain `scan` (`plain_scan_args`)."""
    global _parser
    if _parser is not None:
        return _parser
    import argparse

    class _Parser(argparse.ArgumentParser):
        """argparse that reports usage errors as one line and exit code 2, like every other
        error."""

        def error(self, message: str) -> None:  # type: ignore[override]
            raise ReviewqError(f"{message} (see `{self.prog} --help`)")

        def _get_formatter(self) -> argparse.HelpFormatter:
            if _building:
                # While `build_parser` runs, argparse makes a formatter only to check each
                # argument's metavar and to name the sub-commands (`reviewq scan`, no
                # positional before it): no line is wrapped, so the terminal's width is not
                # asked (its `import shutil`, with bz2 and lzma, is ~3 ms of every command's
                # start). Usage, help and errors ask it as before.
                return self.formatter_class(prog=self.prog, width=_BUILD_WIDTH)
            return super()._get_formatter()

    _parser = _Parser
    return _parser


_parser: Any = None


def __getattr__(name: str) -> Any:
    if name == "_Parser":
        return _parser_type()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: True while `build_parser` runs (see `_Parser._get_formatter`).
_building = False
#: The width of the formatters made while building: wider than any line they could make.
_BUILD_WIDTH = 1 << 16


def _add_globals(parser: argparse.ArgumentParser, suppress: bool) -> None:
    import argparse

    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--repo", metavar="PATH", default=default, help="repository (default: .)")
    parser.add_argument(
        "--config", metavar="FILE", default=default, help="settings file (default: .reviewq.toml)"
    )
    parser.add_argument(
        "--log", metavar="PATH", default=default, help="provenance log (default: .git/reviewq/)"
    )


def _module(name: str):
    return importlib.import_module(f"reviewq.commands.{name.replace('-', '_')}")


#: Global options that take a value (skipped when looking for the command's name).
_VALUE_OPTIONS = ("--repo", "--config", "--log")


def command_of(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first positional word), if it is one of `COMMANDS`."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif len(token) > 2 and any(o.startswith(token) for o in _VALUE_OPTIONS):
            skip = True  # `--repo PATH`, or an abbreviation argparse accepts (`--re PATH`)
        elif token == "--":
            return None
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; `only`: just that command's sub-parser, so a command does not
    import every other command's module at start-up (the parse is the same: argparse consults
    only the chosen command's sub-parser)."""
    global _building
    _building = True
    try:
        parser = _parser_type()(
            prog="reviewq",
            description="The review queue for AI-authored changes. Without a command: the TUI.",
        )
        parser.add_argument("--version", action="version", version=f"reviewq {__version__}")
        _add_globals(parser, suppress=False)
        sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_parser_type())
        for name, help_text in COMMANDS.items():
            if only is not None and name != only:
                continue
            p = sub.add_parser(name, help=help_text, description=help_text)
            _add_globals(p, suppress=True)
            _module(name).configure(p)
    finally:
        _building = False
    return parser


#: The one line for a working directory that was deleted (or moved) under the shell.
CWD_GONE = (
    "the current directory no longer exists (deleted or moved away); cd into the repository, "
    "or pass --repo with an absolute path"
)


def _cwd_gone() -> bool:
    try:
        os.getcwd()
    except (FileNotFoundError, PermissionError):
        return True
    return False


def plain_scan_args(words: Sequence[str]) -> Any:
    """What `build_parser().parse_args(words)` gives for a plain table, `[--repo PATH |
    --repo=PATH] scan [--no-sessions]` (`scan_fast.parse_scan_argv`), without argparse; None
    for any other command line (argparse parses it). A PATH that starts with `-` is left to
    argparse (it may read it as an option)."""
    from reviewq.workflow.scan_fast import parse_scan_argv

    asked = parse_scan_argv(list(words))
    if asked is None or (asked[0] is not None and asked[0].startswith("-")):
        return None
    from types import SimpleNamespace

    return SimpleNamespace(
        repo=asked[0],
        config=None,
        log=None,
        command="scan",
        revs=[],
        max_count=None,
        since=None,
        inbox=None,
        no_cache=False,
        json=False,
        sizes=False,
        no_sessions="--no-sessions" in words,
    )


def run(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    args = plain_scan_args(words)
    if args is None:
        args = build_parser(command_of(words)).parse_args(argv)
    command = args.command
    if command is None:
        command = "tui"
    module = _module(command)
    if getattr(module, "NEEDS_REPO", True):
        from reviewq.context import Context

        if not (args.repo and os.path.isabs(args.repo)) and _cwd_gone():
            raise ReviewqError(CWD_GONE)

        ctx = Context.open(args.repo, args.config, args.log)
        try:
            if getattr(module, "READS_LOG_COLUMNS", False):
                from reviewq.output import column_build_notice

                with column_build_notice():
                    return int(module.run(args, ctx) or 0)
            return int(module.run(args, ctx) or 0)
        finally:
            ctx.close()
    return int(module.run(args, None) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if command_of(words) != "scan":
        if argv is None and "scan" in words:
            # `python -m reviewq` paused the collector on the word alone (`__main__`, before
            # this module loads); here "scan" is a value (`--note scan`), not the command.
            import gc

            gc.enable()
        return _main(argv, words)
    # A scan makes hundreds of thousands of small objects (its imports, a commit, an authorship
    # and a row per AI commit) and no cycles worth finding: the collector's passes over them
    # were ~40 ms of a cold 400 ms table of aider's history (143 collections). Paused from here
    # (the installed script's first line of reviewq; `python -m reviewq` pauses it even before
    # the import), restored after (`reviewq.core.alloc`).
    from reviewq.core.alloc import gc_paused

    with gc_paused():
        code = _main(argv, words)
        if argv is None:
            # The process's own command line (the installed `reviewq` / `git-reviewq` script,
            # or `python -m reviewq`), not a caller's list: a scan ends here when nothing
            # waits. Still paused: the collector turned back on would first walk everything
            # the scan made (2-4 ms of a cold table, just before the exit).
            finish_now(code)
    return code


def _main(argv: Sequence[str] | None, words: list[str]) -> int:
    if "scan" in words and "--json" in words:
        # A warm `scan --json` from the stored answer, before argparse and the context load;
        # anything it cannot answer for sure goes the full way below.
        from reviewq.workflow.scan_fast import try_replay

        if try_replay(words):
            return 0
    if "scan" in words:
        # A cold scan's `git log` starts now, while the command line loads (it is used only if
        # the scan's own log is exactly this one; `reviewq.workflow.scan_fast.start_log`).
        from reviewq.workflow.scan_fast import start_log

        start_log(words)
    if "stats" in words:
        # `stats` reads the log's column cache in a thread while the command line loads
        # (`reviewq.workflow.table_prefetch`: taken only for the same files, log unchanged).
        from reviewq.workflow.table_prefetch import start_for_argv

        start_for_argv(words)
    try:
        code = run(argv)
    except ReviewqError as exc:
        from reviewq.core.text import one_line

        # Messages quote revisions, paths and git's words: one visible line, never escapes.
        print(f"reviewq: {one_line(exc.message)}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        print("reviewq: interrupted", file=sys.stderr)
        code = 130
    except FileNotFoundError:
        # A relative path met a deleted working directory deeper down: still one line.
        if not _cwd_gone():
            raise
        print(f"reviewq: {CWD_GONE}", file=sys.stderr)
        code = 2
    except BrokenPipeError:
        # `reviewq scan | head`: the reader left; say nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except OSError as exc:
        # A full disk or a dead terminal (`reviewq scan > /dev/full`): the user's environment,
        # not a bug, so one line. What was recorded before the write failed stays recorded.
        if exc.errno not in _UNWRITABLE:
            raise
        print(f"reviewq: {_unwritable(exc)}", file=sys.stderr)
        code = 2
    if "scan" in words:
        from reviewq.workflow.scan_fast import discard_log

        discard_log()
    try:
        sys.stdout.flush()
    except OSError as exc:
        # The reader left, or the output cannot take what is left in the buffer: that goes
        # nowhere, so the interpreter's own flush at exit has nothing left to fail on.
        if not isinstance(exc, BrokenPipeError) and code == 0:
            print(f"reviewq: {_unwritable(exc)}", file=sys.stderr)
            code = 2
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return code


#: Errors of a write the user's environment refused: a full disk or quota, a file too large, a
#: terminal gone. Anything else that escapes a command is a bug and keeps its traceback.
_UNWRITABLE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _unwritable(exc: OSError) -> str:
    """One line for a write that failed (`_UNWRITABLE`), naming the file when it is one."""
    where = f"cannot write {exc.filename}" if exc.filename else "cannot write the output"
    return f"{where}: {exc.strerror or exc}; free some space or send the output elsewhere, then run it again"


def finish_now(code: int) -> None:
    """End the process now, without the interpreter's teardown, when nothing is left for it to
    do: the output flushed, no other thread, no `atexit` handler. A cold scan's teardown frees
    every commit, change and row it made one by one (15-30 ms of aider's table, measured); the
    state it keeps is already on disk (`replace_file` writes and closes each file). Returns,
    and the normal exit follows, in any other case (`main` calls it for a scan of the process's own
    command line: the installed script and `python -m reviewq`)."""
    import atexit
    import threading

    pending = getattr(atexit, "_ncallbacks", None)  # CPython's count of registered handlers
    if pending is None or pending() != 0 or threading.active_count() != 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: the normal exit deals with it
        return
    os._exit(code if isinstance(code, int) and 0 <= code <= 255 else 1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
