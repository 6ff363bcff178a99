"""The warm `reviewq scan --json`, answered before the command line machinery loads.

A stored answer (`workflow/scan_answer.py`) is normally replayed after argparse, the context, the
config, `git rev-parse` and the session index have been loaded: ~150 ms, more than a raw `git log`
of a 6,000-commit history. This module answers the same question from files alone, importing
only `os`, `sys` and `hashlib`, and says False (the full command line then runs) whenever it
cannot be sure:

- the command line is exactly `[--repo PATH] scan --json [--no-sessions]` (any revision, option
  or other command goes the full way);
- no `GIT_*` variable is set but the few that change neither where git looks nor what it prints
  (`GIT_CONFIG_GLOBAL`/`NOSYSTEM`/`SYSTEM`, whose files are read, SSL, SSH, editor, identity
  variables), and the repository is found the way git finds it: a
  `.git` directory or `gitdir:` file in the directory or a parent, owned by this user;
- a *fast record* (`<state dir>/scan-answers/fast-<worktree>-<s|n>.txt`) kept by the last full
  scan names the same key (this module's version, user, Python, interpreter, reviewq's source
  files by size and mtime, the `git` PATH finds, the repository's top and git dirs, the
  arguments, and the environment minus a few shell variables) and every
  file the answer depends on has the same content now: HEAD and the ref it names, packed-refs,
  every loose ref under refs/notes and refs/replace, the shallow and grafts files, the git
  config files git reads (one with an include is never trusted), `.reviewq.toml`, the list of
  linked worktrees, and, when sessions are read, every agent session store's folders and
  files (names, sizes, mtimes: what the session index keys a file by) where
  `sources/sessions/stores.discover` looks;
- the record, and the answer it points at, are regular files owned by this user and writable by
  nobody else (another account that can write the repository cannot plant an answer), and the
  answer's header is the one the record names.

The full path writes the record (`keep_record`) only after a scan whose resolved HEAD and notes
tips are the ones these files say, read before and after the scan. A stored answer is a local
cache: `gate` never reads it (it scans its range itself).
"""

from __future__ import annotations

import os
import sys

# The interpreter's own sha256, not `hashlib`'s (its OpenSSL load is ~3 ms); imports nothing.
from reviewq.core.digest import sha256_type

TYPE_CHECKING = False  # `typing` and `collections.abc` are not imported before the CLI
if TYPE_CHECKING:
    from collections.abc import Iterator

#: Bump when the record's layout or what it covers changes.
FAST_VERSION = 1
#: `GIT_*` variables that change neither where git looks nor what `git log` prints (their values
#: are still part of the key); any other one (GIT_DIR, GIT_TRACE, GIT_CONFIG_PARAMETERS, ...)
#: sends the command the full way.
_ALLOWED_GIT_ENV = (
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_SYSTEM",
    "GIT_SSL_",
    "GIT_SSH",
    "GIT_ASKPASS",
    "GIT_TERMINAL_PROMPT",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER",
    "GIT_AUTHOR_",
    "GIT_COMMITTER_",
    "GIT_HTTP_",
    "GIT_PROXY_",
)
#: Shell bookkeeping that changes between prompts and means nothing to a scan.
_VOLATILE_ENV = frozenset(
    {"PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES", "PS1", "PS2", "PROMPT_COMMAND"}
)


class _Decline(Exception):
    """Not answerable from files alone: the full command line answers."""


# -- the question --------------------------------------------------------------------------


def _scan_flags(argv: list[str]) -> tuple[str | None, list[str]] | None:
    """(--repo PATH or None, the flags after `scan`) for `[--repo PATH] scan ...`; None for any
    other command line."""
    repo = None
    rest = list(argv)
    if rest[:1] == ["--repo"] and len(rest) >= 2:
        repo, rest = rest[1], rest[2:]
    elif rest[:1] and rest[0].startswith("--repo="):
        repo, rest = rest[0][len("--repo=") :], rest[1:]
    if rest[:1] != ["scan"] or repo == "":
        return None
    return repo, rest[1:]


def parse_argv(argv: list[str]) -> tuple[str | None, bool] | None:
    """(--repo PATH or None, sessions on) for `[--repo PATH] scan --json [--no-sessions]`."""
    split = _scan_flags(argv)
    if split is None:
        return None
    repo, flags = split
    if "--json" not in flags or not set(flags) <= {"--json", "--no-sessions"}:
        return None
    if len(flags) != len(set(flags)):
        return None
    return repo, "--no-sessions" not in flags


def _env_check(env: dict[str, str]) -> None:
    for name in env:
        if name.startswith("GIT_") and not name.startswith(_ALLOWED_GIT_ENV):
            raise _Decline(name)


def _owned(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid()


def find_repo(start: str) -> tuple[str, str, str]:
    """(work tree top, git dir, common git dir), all real paths, as git would discover them
    from `start`; _Decline for anything unusual (bare repositories, a start inside a git dir,
    a foreign owner)."""
    here = os.path.realpath(start)
    if not os.path.isdir(here):
        raise _Decline("not a directory")
    device = os.stat(here).st_dev
    while True:
        if os.stat(here).st_dev != device:  # git stops at a filesystem boundary
            raise _Decline("another filesystem")
        if os.path.basename(here) == ".git" or _looks_like_git_dir(here):
            raise _Decline("inside a git dir")
        dot = os.path.join(here, ".git")
        try:
            st = os.stat(dot)
        except FileNotFoundError:
            parent = os.path.dirname(here)
            if parent == here:
                raise _Decline("no repository") from None
            here = parent
            continue
        if not _owned(st) or not _owned(os.stat(here)):
            raise _Decline("owned by someone else")
        if os.path.isdir(dot):
            git_dir = dot
        else:
            with open(dot, encoding="utf-8") as fh:
                text = fh.read().strip()
            if not text.startswith("gitdir: "):
                raise _Decline("odd .git file")
            git_dir = os.path.join(here, text[len("gitdir: ") :])
        git_dir = os.path.realpath(git_dir)
        if not _looks_like_git_dir(git_dir):
            raise _Decline("not a git dir")
        common = git_dir
        try:
            with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as fh:
                common = os.path.realpath(os.path.join(git_dir, fh.read().strip()))
        except FileNotFoundError:
            pass
        if not _owned(os.stat(common)):
            raise _Decline("owned by someone else")
        if "\n" in here + git_dir + common:  # the record is one line per path
            raise _Decline("a newline in a path")
        return here, git_dir, common


def _looks_like_git_dir(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "HEAD")) and (
        os.path.isdir(os.path.join(path, "objects"))
        or os.path.isfile(os.path.join(path, "commondir"))
    )


def record_path(common: str, git_dir: str, sessions: bool) -> str:
    tree = os.path.basename(git_dir) if git_dir != common else "main"
    name = f"fast-{tree}-{'s' if sessions else 'n'}.txt"
    return os.path.join(common, "reviewq", "scan-answers", name)


def question(sessions: bool, env: dict[str, str], top: str, git_dir: str, common: str) -> list[str]:
    """Everything the answer's key depends on besides file contents, one string each."""
    from reviewq import __version__

    shown = sorted(f"{k}={v}" for k, v in env.items() if k not in _VOLATILE_ENV)
    return [
        f"v{FAST_VERSION} reviewq {__version__} uid {os.geteuid()}",
        code_stamp(),
        git_stamp(env),
        repr(sys.executable),
        repr(sys.version),
        top,
        git_dir,
        common,
        "scan --json" if sessions else "scan --json --no-sessions",
        repr(shown),
    ]


def code_stamp() -> str:
    """reviewq's own source files by name, size and mtime: an upgrade, or an edit of a
    development install (a detector rule, a version constant), is another question."""
    sha256 = sha256_type()
    h = sha256()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    stack.append(entry.path)
            elif entry.name.endswith(".py"):
                st = entry.stat()
                h.update(f"{entry.path} {st.st_size} {st.st_mtime_ns}\0".encode("utf-8", "replace"))
    return "code " + h.hexdigest()


def git_stamp(env: dict[str, str]) -> str:
    """The `git` that PATH finds, by its real path, size and mtime (another git may count
    renames or decode messages differently)."""
    real = _git_path(env)
    st = os.stat(real)
    return f"git {real} {st.st_size} {st.st_mtime_ns} {st.st_ino}"


def _git_path(env: dict[str, str]) -> str:
    for folder in env.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder or ".", "git")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.realpath(path)
    raise _Decline("no git on PATH")


# -- what the answer depends on --------------------------------------------------------------


def _digest(path: str) -> str:
    """sha256 of a file's bytes, of a directory's whole tree (names and contents), or "-"."""
    sha256 = sha256_type()
    h = sha256()
    try:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path, onerror=_raise):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(folder, name)
                    h.update(os.path.relpath(full, path).encode("utf-8", "surrogateescape"))
                    h.update(b"\0")
                    with open(full, "rb") as fh:
                        h.update(sha256(fh.read()).digest())
            return "d" + h.hexdigest()
        with open(path, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, NotADirectoryError):
        return "-"
    except OSError as exc:
        raise _Decline(str(exc)) from None
    return "f" + sha256(data).hexdigest()


def _worktrees_digest(common: str) -> str:
    """The linked worktrees by name and the `gitdir` file saying where each is (their roots
    are where session stores are matched); not their HEADs or indexes, which change all day."""
    folder = os.path.join(common, "worktrees")
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return "-"
    except OSError as exc:
        raise _Decline(str(exc)) from None
    h = sha256_type()()
    for name in names:
        h.update(name.encode("utf-8", "surrogateescape") + b"\0")
        h.update((_read(os.path.join(folder, name, "gitdir")) or b"-") + b"\0")
    return "w" + h.hexdigest()


def _raise(exc: OSError) -> None:
    raise exc


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _packed(common: str) -> dict[str, str]:
    data = _read(os.path.join(common, "packed-refs")) or b""
    refs = {}
    for line in data.decode("utf-8", "replace").splitlines():
        if line and line[0] not in "#^":
            sha, _, name = line.partition(" ")
            refs[name.strip()] = sha.strip()
    return refs


def resolve_ref(git_dir: str, common: str, ref: str) -> str | None:
    """A ref's sha from the files (loose, then packed-refs), following symbolic refs."""
    for _ in range(6):
        base = git_dir if ref == "HEAD" else common
        data = _read(os.path.join(base, ref))
        if data is None:
            return _packed(common).get(ref)
        text = data.decode("utf-8", "replace").strip()
        if not text.startswith("ref: "):
            return text
        ref = text[len("ref: ") :].strip()
    return None


def head_ref(git_dir: str) -> str | None:
    data = _read(os.path.join(git_dir, "HEAD")) or b""
    text = data.decode("utf-8", "replace").strip()
    return text[len("ref: ") :].strip() if text.startswith("ref: ") else None


def _config_files(env: dict[str, str], git_dir: str, common: str) -> list[str]:
    home = env.get("HOME") or os.path.expanduser("~")
    xdg = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = [os.path.join(common, "config"), os.path.join(git_dir, "config.worktree")]
    if "GIT_CONFIG_GLOBAL" in env:
        files.append(env["GIT_CONFIG_GLOBAL"])
    else:
        files += [os.path.join(xdg, "git", "config"), os.path.join(home, ".gitconfig")]
    if not env.get("GIT_CONFIG_NOSYSTEM"):
        if env.get("GIT_CONFIG_SYSTEM"):
            files.append(env["GIT_CONFIG_SYSTEM"])
        else:  # /etc for a git in /usr; `<prefix>/etc` for one built elsewhere (Homebrew)
            prefix = os.path.dirname(os.path.dirname(_git_path(env)))
            files += sorted({"/etc/gitconfig", os.path.join(prefix, "etc", "gitconfig")})
    return files


def session_places(env: dict[str, str], roots: list[str]) -> list[str]:
    """Where `sources.sessions.stores.discover` looks (and the SQLite WAL file the session index
    keys OpenCode's database by): a new store there must be added here too."""
    from pathlib import Path

    from reviewq.sources.sessions.stores import (
        claude_dir,
        codex_dir,
        gemini_dir,
        opencode_dir,
    )

    places: list[Path] = [
        claude_dir(env) / "projects",
        codex_dir(env) / "sessions",
        codex_dir(env) / "archived_sessions",
        gemini_dir(env) / "tmp",
        opencode_dir(env) / "storage" / "session",
        opencode_dir(env) / "opencode.db",
        opencode_dir(env) / "opencode.db-wal",  # WAL mode: recent sessions sit here
    ]
    for root in roots:
        places += [Path(root) / ".aider.chat.history.md", Path(root) / ".specstory" / "history"]
    return [str(p) for p in places]


def witnesses(
    env: dict[str, str], top: str, git_dir: str, common: str, places: list[str]
) -> list[str]:
    """`path digest` for every file the answer depends on (see the module's docstring)."""
    if os.path.exists(os.path.join(common, "reftable")):
        raise _Decline("reftable")
    files = [os.path.join(git_dir, "HEAD")]
    ref = head_ref(git_dir)
    if ref is not None:
        files.append(os.path.join(common, ref))
    files += [
        os.path.join(common, "packed-refs"),
        os.path.join(common, "refs", "notes"),
        os.path.join(common, "refs", "replace"),
        os.path.join(common, "shallow"),
        os.path.join(common, "info", "grafts"),
        os.path.join(top, ".reviewq.toml"),
    ]
    configs = _config_files(env, git_dir, common)
    out = []
    for path in configs:
        data = _read(path)
        if data is not None and b"include" in data.lower():
            raise _Decline("config includes")
    for path in [*files, *configs]:
        out.append(f"{_digest(path)} {path}")
    out.append(f"{_worktrees_digest(common)} {os.path.join(common, 'worktrees')}")
    for path in places:
        out.append(f"s {_tree_digest(path)} {path}")
    if any("\n" in line for line in out):  # the record is one line per file
        raise _Decline("a newline in a path")
    return out


#: How far below a session store's folder the witness looks (the stores nest at most 3 deep),
#: and how many entries it stats before leaving the answer to the full path.
_TREE_DEPTH = 4
_TREE_LIMIT = 20_000


def _tree_digest(path: str) -> str:
    """ "-" when nothing is at `path`; else a digest of every folder's entries and every
    file's size and mtime below it (what the session index keys a file by): a session file that
    appears, grows, is rewritten or goes away changes it."""
    import stat

    sha256 = sha256_type()
    h = sha256()
    seen = 0

    def walk(folder: str, rel: str, depth: int) -> None:
        nonlocal seen
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        seen += len(entries)
        if seen > _TREE_LIMIT:
            raise _Decline("too many session files to check")
        h.update(f"D {rel}\0".encode("utf-8", "surrogateescape"))
        for entry in entries:
            name = f"{rel}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                h.update(f"d {name}\0".encode("utf-8", "surrogateescape"))
                if depth > 0:
                    walk(entry.path, name, depth - 1)
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:  # a dangling link
                h.update(f"x {name}\0".encode("utf-8", "surrogateescape"))
                continue
            kind = "f" if stat.S_ISREG(st.st_mode) else "o"
            line = f"{kind} {name} {st.st_size} {st.st_mtime_ns} {st.st_ino}\0"
            h.update(line.encode("utf-8", "surrogateescape"))

    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "-" if not os.path.lexists(path) else "x"
    try:
        if stat.S_ISDIR(st.st_mode):
            walk(path, ".", _TREE_DEPTH)
        else:
            h.update(f"f {st.st_size} {st.st_mtime_ns} {st.st_ino}".encode())
    except OSError as exc:
        raise _Decline(str(exc)) from None
    return h.hexdigest()


# -- the replay ------------------------------------------------------------------------------


def _safe_file(fd: int) -> bool:
    import stat

    st = os.fstat(fd)
    return stat.S_ISREG(st.st_mode) and _owned(st) and not st.st_mode & 0o022


def try_replay(argv: list[str], env: dict[str, str] | None = None, out=None) -> bool:
    """Write the stored answer for `argv` and return True, or False (nothing written)."""
    try:
        return _replay(argv, dict(os.environ if env is None else env), out or sys.stdout)
    except (_Decline, OSError, ValueError, UnicodeError):
        return False


def _replay(argv: list[str], env: dict[str, str], out) -> bool:
    asked = parse_argv(argv)
    if asked is None:
        return False
    repo, sessions = asked
    _env_check(env)
    top, git_dir, common = find_repo(repo if repo is not None else os.getcwd())
    path = record_path(common, git_dir, sessions)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        if not _safe_file(fh.fileno()):
            return False
        lines = fh.read().decode("utf-8").split("\n")
    # record: question lines, "--", witness lines, "--", answer file, answer header
    want = question(sessions, env, top, git_dir, common)
    if lines[: len(want)] != want or lines[len(want)] != "--":
        return False
    rest = lines[len(want) + 1 :]
    end = rest.index("--")
    recorded, (answer, head) = rest[:end], rest[end + 1 : end + 3]
    places = [w.split(" ", 2)[2] for w in recorded if w.startswith("s ")] if sessions else []
    if witnesses(env, top, git_dir, common, places) != recorded:
        return False
    if os.path.dirname(answer) != os.path.dirname(path):
        return False
    fd = os.open(answer, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        if not _safe_file(fh.fileno()) or fh.readline() != head.encode("utf-8") + b"\n":
            return False
        body = fh.read()
    try:
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            out.flush()
            buffer.write(body)
            buffer.flush()
        else:  # an in-process stream (tests)
            out.write(body.decode("utf-8"))
    except BrokenPipeError:  # `reviewq scan --json | head`: the reader left; say nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
    return True


# -- kept by the full path ---------------------------------------------------------------------


class Recorder:
    """Made before a full `scan --json` runs; `keep` writes the fast record after it, if the
    files still say what the scan read."""

    def __init__(self, argv: list[str], env: dict[str, str], sessions: bool) -> None:
        self.argv, self.env, self.sessions = argv, env, sessions
        self.before: tuple | None = None
        try:
            asked = parse_argv(argv)
            if asked is None or asked[1] != sessions:
                return
            _env_check(env)
            top, git_dir, common = find_repo(asked[0] if asked[0] is not None else os.getcwd())
            self.before = (top, git_dir, common, self._state(top, git_dir, common))
        except (_Decline, OSError, ValueError, UnicodeError):
            self.before = None

    def _state(self, top: str, git_dir: str, common: str) -> tuple:
        places: list[str] = []
        if self.sessions:
            from reviewq.sources.gitcmd import Git
            from reviewq.workflow.session_prompts import worktree_roots

            places = session_places(self.env, worktree_roots(Git.open(top, env=self.env)))
        seen = witnesses(self.env, top, git_dir, common, places)
        head = resolve_ref(git_dir, common, "HEAD")
        return seen, head

    def keep(self, paths, resolved, notes: dict[str, str], answer: str, head: bytes) -> None:
        """Write the record for the answer at `answer` (first line `head`) if the repository's
        files still say what they said before the scan, and that is what the scan read."""
        import contextlib

        if self.before is None or resolved is None or notes is None:
            return
        top, git_dir, common, state = self.before
        try:
            if (
                os.path.realpath(str(paths.git_dir)) != git_dir
                or os.path.realpath(str(paths.common_dir)) != common
                or paths.work_tree is None
                or os.path.realpath(str(paths.work_tree)) != top
                or list(resolved) != [state[1]]
                or {ref: resolve_ref(git_dir, common, ref) for ref in notes} != notes
                or self._state(top, git_dir, common) != state
            ):
                return
        except (_Decline, OSError, ValueError, UnicodeError):
            return
        from reviewq.sources.notes import SCAN_NOTE_REFS

        for ref in SCAN_NOTE_REFS:  # a notes ref the scan saw as absent must be absent
            if ref not in notes and resolve_ref(git_dir, common, ref) is not None:
                return
        lines = [
            *question(self.sessions, self.env, top, git_dir, common),
            "--",
            *state[0],
            "--",
            answer,
            head.decode("utf-8").rstrip("\n"),
        ]
        from pathlib import Path

        from reviewq.files import replace_file

        text = ("\n".join(lines) + "\n").encode("utf-8")
        with contextlib.suppress(OSError):
            replace_file(
                Path(record_path(common, git_dir, self.sessions)),
                lambda fh: fh.write(text),
                prefix=".fast-",
            )


# -- the cold scan's log, started before the command line loads --------------------------------
#
# A cold `scan` (no scan cache yet) spends ~100 ms importing the command line, the config, the
# detector and the model before its `git log` starts; on two cores git can write the log in
# that time. `start_log` starts exactly the log the scan would run for `[--repo PATH] scan
# [--no-sessions]`, the table (HEAD as the files say it is now), its output into an
# anonymous memory file (a pipe would stop git at 64 KiB). The scan (`take_log`) uses those bytes
# only when its own log arguments, with the revision it resolved, its directory and its git
# environment are exactly the ones the prefetch used, and git ended with exit 0; anything else
# (HEAD moved, another config, git failed) discards them and the scan runs git itself, as before.


#: `early_git`'s tag of the early `rev-parse` of HEAD: only `head_from_start` takes it (a `Git`
#: asking the same question gets its own answer).
_HEAD_ASKER = "scan-head"


class Prefetch:
    """A `git log` started by `start_log`: its process, output and what it was asked; `sha` the
    HEAD it logs (read from the files of `git_dir` / `common`). The early `rev-parse` of HEAD
    waits in `early_git` (`head_from_start`)."""

    def __init__(self, proc, out: int, cwd: str, args: list[str], env: dict[str, str]) -> None:
        self.proc, self.out, self.cwd, self.args, self.env = proc, out, cwd, args, env
        self.sha = self.git_dir = self.common = ""

    def take_head(self):
        """The early `rev-parse` of HEAD, taken once; None when it was taken or never ran."""
        from reviewq.sources import early_git
        from reviewq.sources.log_format import HEAD_AT_ONCE

        return early_git.take(_HEAD_ASKER, self.cwd, self.env, HEAD_AT_ONCE)

    def early_head(self):
        """The early `rev-parse` of HEAD, left in place (for tests that wait for its answer)."""
        from reviewq.sources import early_git
        from reviewq.sources.log_format import HEAD_AT_ONCE

        return early_git.peek(_HEAD_ASKER, self.cwd, self.env, HEAD_AT_ONCE)

    def close(self) -> None:
        """Stop git (and the early rev-parse) if it still runs, reap it, free its output."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.out >= 0:
            os.close(self.out)
            self.out = -1
        self.drop_head()

    def drop_head(self) -> None:
        head = self.take_head()
        if head is not None:
            from reviewq.sources.early_git import stop

            stop(head)


#: The prefetch this process started (taken at most once); None when none was started.
_prefetch: Prefetch | None = None
#: What happened to the last prefetch: "used", "discarded", or None (for tests).
last_outcome: str | None = None
#: Called after the prefetch's git started (tests move HEAD here); None normally.
_after_start = None

#: The flags of a plain `scan` that change nothing in its `git log` or in whether it runs one.
#: `--json` and `--sizes` are not among them: a scan that counts sizes runs git's numstat in
#: two threads beside the log loop, and a log read at full speed from memory holds the GIL
#: those threads need to start their passes (aider: 13 % slower whole, 8 interleaved pairs);
#: the size pass, not the log, is its long pole.
_PLAIN_SCAN_FLAGS = frozenset({"--no-sessions"})


def parse_scan_argv(argv: list[str]) -> tuple[str | None] | None:
    """(--repo PATH or None,) for `[--repo PATH] scan [--no-sessions]` (the table)."""
    split = _scan_flags(argv)
    if split is None:
        return None
    repo, flags = split
    if not set(flags) <= _PLAIN_SCAN_FLAGS or len(flags) != len(set(flags)):
        return None
    return (repo,)


def start_log(argv: list[str]) -> None:
    """Start the cold scan's `git log` for `argv`, or nothing (see above); never raises. A
    prefetch an earlier command of this process left is stopped first."""
    global _prefetch
    discard_log()
    try:
        _prefetch = _start(argv, dict(os.environ))
    except (_Decline, OSError, ValueError, UnicodeError):
        _prefetch = None


def _start(argv: list[str], env: dict[str, str]) -> Prefetch | None:
    asked = parse_scan_argv(argv)
    if asked is None or not hasattr(os, "memfd_create"):
        return None
    _env_check(env)
    cwd = asked[0] if asked[0] is not None else os.getcwd()
    _top, git_dir, common = find_repo(cwd)
    if os.path.exists(os.path.join(common, "reftable")):
        return None
    if os.path.lexists(os.path.join(common, "reviewq", "cache.json")):
        return None  # a scan cache: the scan may answer, or log a range, without this log
    sha = resolve_ref(git_dir, common, "HEAD")
    if sha is None or len(sha) not in (40, 64) or sha.strip("0123456789abcdef"):
        return None
    import subprocess

    from reviewq.sources.log_format import (
        HEAD_AT_ONCE,
        NOTE_TIPS,
        PATHS_AT_ONCE,
        WORKTREE_LIST,
        log_args,
        run_env,
        trace_file_args,
    )

    args = log_args([sha])
    run = run_env()
    out = os.memfd_create("reviewq-scan-log", getattr(os, "MFD_CLOEXEC", 0))
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=run,
        )
    except BaseException:
        os.close(out)
        raise
    prefetch = Prefetch(proc, out, cwd, args, run)
    prefetch.sha, prefetch.git_dir, prefetch.common = sha, git_dir, common
    from reviewq.sources import early_git

    # HEAD as git resolves it, asked now rather than after the imports: taken only when the
    # files still say HEAD is `sha` when the scan asks (`head_from_start`). Then the scan's
    # other git questions: a `Git` of this very directory and environment takes each answer
    # the first time it asks exactly that (`early_git`, tag "git"); what nobody takes is
    # stopped when the command ends (`discard_log`). HEAD is not among those: the scan resolves
    # it once loaded (a HEAD that moves meanwhile is the one it lists, and this log is then
    # discarded); the Agent Trace file is taken only when the revision the scan resolved is
    # this `sha`. All started from a thread, while the command line loads (`early_git`).
    early: list[tuple[str, tuple[str, ...]]] = [
        (_HEAD_ASKER, HEAD_AT_ONCE),
        ("git", PATHS_AT_ONCE),
        ("git", NOTE_TIPS),
        ("git", tuple(trace_file_args(sha))),
    ]
    if "--no-sessions" not in argv:
        early.append(("git", WORKTREE_LIST))
    early_git.start_in_background(cwd, run, early)
    if _after_start is not None:
        early_git.settle()
        _after_start(prefetch)
    return prefetch


#: How the last scan that had a prefetch resolved HEAD: "early" (`head_from_start` answered),
#: "asked" (it did not: the scan ran `rev-parse` itself), or None (for tests).
head_outcome: str | None = None


def head_from_start(git) -> list[str] | None:
    """HEAD resolved, as the scan's own `rev-parse --revs-only HEAD HEAD^{commit}` would say it
    now (`workflow.scan._head_at_once`), from the rev-parse `start_log` started beside the log;
    None (the scan asks git itself) unless all of these hold:

    - a prefetch of `git`'s very directory and environment is waiting (not yet taken);
    - its rev-parse ended with exit 0 and printed HEAD and HEAD^{commit} as one full sha, the
      very `sha` the log was started with (so that object is a commit: it cannot change);
    - the repository is still found where it was, and its files say HEAD is `sha` now, read
      here, after the imports (`resolve_ref`: the symbolic ref HEAD names, loose or packed; a
      detached HEAD; a linked worktree's own HEAD). A HEAD that moved since the start, even
      to come back, is read as it is now: the answer is the one git gives at this moment.

    The early rev-parse is taken either way (asked at most once)."""
    global head_outcome
    prefetch = _prefetch
    proc = prefetch.take_head() if prefetch is not None else None
    if prefetch is None or proc is None:
        return None
    head_outcome = "asked"
    try:
        out, _ = proc.communicate()
        if (
            proc.returncode != 0
            or prefetch.cwd != os.fspath(git.path)
            or prefetch.env != git.environment
            or out != f"{prefetch.sha}\n{prefetch.sha}\n".encode("ascii")
        ):
            return None
        _top, git_dir, common = find_repo(prefetch.cwd)
        if (git_dir, common) != (prefetch.git_dir, prefetch.common):
            return None
        if resolve_ref(git_dir, common, "HEAD") != prefetch.sha:
            return None
    except (_Decline, OSError, ValueError, UnicodeError):
        return None
    head_outcome = "early"
    return [prefetch.sha]


class PrefetchFailed(Exception):
    """The prefetched git ended with another exit code than 0 (or was killed): the records
    already read mean nothing; the scan starts again with its own git."""


def take_log(git, args: list[str]) -> PrefetchedLog | None:
    """The NUL-separated records of the prefetched log, if it is exactly `git log args` in
    `git`'s directory and environment; else None (discarded). The prefetch is taken either way:
    nothing uses it twice.

    The records are read while git still writes them (the scan detects as git goes, as with a
    pipe); after the last one the iterator raises `PrefetchFailed` unless git ended with exit 0,
    so a caller builds nothing from them it keeps before git's exit 0 is known."""
    global _prefetch, last_outcome
    prefetch, _prefetch = _prefetch, None
    if prefetch is None:
        return None
    if (
        prefetch.args != list(args)
        or prefetch.cwd != os.fspath(git.path)
        or prefetch.env != git.environment
    ):
        last_outcome = "discarded"
        prefetch.close()
        return None
    return PrefetchedLog(prefetch)


#: Read the prefetched log in chunks of at least this many bytes while git still writes.
_CHUNK = 1 << 16
#: ... and of at most this many: a read of what git wrote meanwhile (1-2 MB at a time on a
#: history dense in agents' commits) took fresh pages from the kernel for the chunk and for
#: the copy joined to the record it cut; a chunk of a steady size reuses the memory the last one
#: freed (the heavy history's 4 MB log: ~2,000 of the cold table's ~8,000 page faults fewer,
#: 4 % of its time).
_MOST = 1 << 18


class PrefetchedLog:
    """The records of a prefetched log, iterated once (see `take_log`). `on_ended`, when set
    before: called once git has ended well, with the log's file, the offset read so far and the
    log's size; a record boundary it returns is where this reading stops (a helper reads the
    rest: `workflow.scan_split`), None reads on to the end."""

    def __init__(self, prefetch: Prefetch) -> None:
        self._prefetch = prefetch
        self.on_ended = None

    def __iter__(self) -> Iterator[bytes]:
        return _records(self._prefetch, self.on_ended)


def _records(prefetch: Prefetch, on_ended=None) -> Iterator[bytes]:
    global last_outcome
    from reviewq.sources.gitcmd import split_chunks

    last_outcome = "discarded"
    try:
        yield from split_chunks(_chunks(prefetch, on_ended))
        last_outcome = "used"
    finally:
        prefetch.close()


def _chunks(prefetch: Prefetch, on_ended=None) -> Iterator[bytes]:
    """The prefetched log as git writes it, a chunk of `_CHUNK` to `_MOST` bytes at a time, up
    to where `on_ended` says (`PrefetchedLog`); `PrefetchFailed` after the last one unless git
    ended with exit 0."""
    import time

    offset = 0
    end = None  # the size once git has ended, or where `on_ended` cut it
    while True:
        ended = prefetch.proc.poll() is not None  # before the size: then it is final
        size = os.fstat(prefetch.out).st_size
        if ended and end is None:
            end = size
            if on_ended is not None and prefetch.proc.returncode == 0 and size > offset:
                cut = on_ended(prefetch.out, offset, size)
                if cut is not None:
                    end = cut
        if end is not None:
            size = end
        if size - offset >= _CHUNK or (ended and size > offset):
            read = [os.pread(prefetch.out, min(size - offset, _MOST), offset)]
            offset += len(read[0])
            yield read.pop()  # not held here while its records are used (`split_chunks`)
        elif ended:
            break
        else:  # as a pipe read of 64 KiB would: wait for a chunk (few wake-ups under load)
            time.sleep(0.002)
    if prefetch.proc.returncode != 0:
        raise PrefetchFailed(prefetch.proc.returncode)


def discard_log() -> None:
    """Stop and forget a prefetch nothing took (the scan answered from its cache, or failed),
    and the early git questions nothing asked."""
    global _prefetch, last_outcome
    if "reviewq.sources.early_git" in sys.modules:
        sys.modules["reviewq.sources.early_git"].discard()
    if "reviewq.workflow.scan_split" in sys.modules:  # a helper that has ended since its answer
        sys.modules["reviewq.workflow.scan_split"].reap()
    prefetch, _prefetch = _prefetch, None
    if prefetch is not None:
        last_outcome = "discarded"
        prefetch.close()
