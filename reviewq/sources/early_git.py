"""git questions asked before the command line has loaded: a cold scan's (`scan_fast.start_log`).

The first `Git` of the same directory and environment that asks exactly such a question takes
its process (`take`, from `Git.start` / `Git.run`); what nobody takes is stopped when the
command ends (`discard`). This module imports only `subprocess` and `threading`, so it loads
before `gitcmd` (with `dataclasses` and the model, ~15 ms) and the questions start first.

They start from a thread (`start_in_background`): `Popen` returns only once git has exec'd,
~0.3 ms on an idle core, but 2-14 ms each while the scan's `git log` and the imports keep both
cores busy (the new process waits for one). Started from the main thread, five of them held the
imports back 8-13 ms of a 130 ms cold table; from a thread, the imports go on meanwhile (a vfork
releases the GIL while it waits). Whoever takes a question waits until that one is started (or
given up), not for the rest: the context's `rev-parse`, second in line, is taken while the
thread still starts the others (each start waits for the GIL the imports hold; waiting for all
of them kept a cold scan 4-9 ms). Whoever looks at all of them (`discard`, `started`) waits
for the thread (`settle`), so nothing is taken or stopped half-started.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Sequence

#: (who asks, directory, environment, args) -> the process. "git": any `Git` of that directory
#: and environment asking exactly those args; another tag is one caller's own (the scan's early
#: HEAD, which it checks itself before it believes it: `scan_fast.head_from_start`).
_Key = tuple[str, str, tuple[tuple[str, str], ...], tuple[str, ...]]
_STARTED: dict[_Key, subprocess.Popen[bytes]] = {}
#: The thread starting questions, until someone waited for it (`settle`).
_spawner: threading.Thread | None = None
#: The questions the thread has yet to start or give up (`take` waits for its own one).
_pending: set[_Key] = set()
#: Told each time the thread started or gave up a question.
_progress = threading.Condition()


def env_key(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(env.items()))


def popen(
    cwd: str | os.PathLike[str], env: dict[str, str], args: Sequence[str]
) -> subprocess.Popen[bytes] | None:
    """`git args` started in `cwd` with `env`, its output piped; None when git cannot start."""
    try:
        return subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except OSError:
        return None


def start(who: str, cwd: str, env: dict[str, str], args: Sequence[str]) -> None:
    """Start `git args` in `cwd` with `env` now, for `who` to take later. Nothing is started
    when git cannot be, or when the same question already waits."""
    key = (who, cwd, env_key(env), tuple(args))
    if key not in _STARTED and (proc := popen(cwd, env, args)) is not None:
        _STARTED[key] = proc


def start_in_background(
    cwd: str, env: dict[str, str], questions: Sequence[tuple[str, Sequence[str]]]
) -> None:
    """`start(who, cwd, env, args)` for each (who, args) of `questions`, in order, from a thread
    (see the module's docstring). A failure leaves the rest unstarted: their askers run git
    themselves."""
    global _spawner
    settle()
    keys = [(who, cwd, env_key(env), tuple(args)) for who, args in questions]

    def spawn() -> None:
        try:
            for (who, args), key in zip(questions, keys, strict=True):
                start(who, cwd, env, args)
                with _progress:
                    _pending.discard(key)
                    _progress.notify_all()
        except Exception:  # never a thread's traceback: the askers ask git themselves
            pass
        finally:
            with _progress:
                _pending.clear()  # given up: their askers run git themselves
                _progress.notify_all()

    with _progress:
        _pending.update(keys)
    spawner = threading.Thread(target=spawn, name="reviewq-early-git", daemon=True)
    try:
        spawner.start()
    except RuntimeError:  # no thread to be had (a process limit): start them here, as before
        spawn()
        return
    _spawner = spawner


def settle() -> None:
    """Wait until every question of `start_in_background` is started (or given up)."""
    global _spawner
    spawner, _spawner = _spawner, None
    if spawner is not None:
        spawner.join()


def take(
    who: str, cwd: str, env: dict[str, str], args: Sequence[str]
) -> subprocess.Popen[bytes] | None:
    """The question `who` started for exactly this directory, environment and args, taken
    once; None when there is none."""
    if _spawner is None and not _STARTED:
        return None
    key = (who, cwd, env_key(env), tuple(args))
    with _progress:
        while key in _pending:  # being started now, or soon: only this one is waited for
            _progress.wait()
    return _STARTED.pop(key, None)


def peek(
    who: str, cwd: str, env: dict[str, str], args: Sequence[str]
) -> subprocess.Popen[bytes] | None:
    """The question `take` would give, left in place (for tests)."""
    settle()
    return _STARTED.get((who, cwd, env_key(env), tuple(args)))


def started(who: str = "git") -> list[tuple[str, ...]]:
    """The args of every question started for `who` and not yet taken (for tests)."""
    settle()
    return [key[3] for key in _STARTED if key[0] == who]


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop `proc` if it still runs and reap it."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def discard() -> None:
    """Stop and reap every question nothing took."""
    settle()
    while _STARTED:
        stop(_STARTED.popitem()[1])
