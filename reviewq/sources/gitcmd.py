"""The one door to git: a thin runner around the `git` executable.

Everything reviewq knows about a repository comes through `Git`. It runs plain git commands
(no GitPython object per commit: one streaming process per pass), turns git's failures into one
readable line, and is small enough that tests can substitute a fake.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewq.core.model import _set, _value_methods
from reviewq.errors import ReviewqError
from reviewq.sources.early_git import popen, stop, take
from reviewq.sources.log_format import run_env

#: git's well-known empty tree (sha1 repositories); used as the parent of root commits.
#: How much of a blob git looks at to call it binary (xdiff's `FIRST_FEW_BYTES`).
BINARY_PROBE = 8000


def split_chunks(chunks: Iterable[bytes], separator: bytes = b"\0") -> Iterator[bytes]:
    """The `separator`-terminated records of a stream read in `chunks`, whole and in order (the
    last one need not end with `separator`). A record cut by the end of one or more chunks is
    joined once, at its end: a record of many chunks (a commit message of megabytes) costs one
    copy, not a copy per chunk."""
    pending: list[bytes] = []  # the pieces of the record the last chunks cut (no separator)
    for chunk in chunks:
        parts = chunk.split(separator)
        del chunk  # a large chunk is let go before its records are used
        if len(parts) == 1:
            pending.append(parts[0])
            continue
        if pending:
            pending.append(parts[0])
            parts[0] = b"".join(pending)
        pending = [parts.pop()]
        yield from parts
    if tail := b"".join(pending):
        yield tail


class GitError(ReviewqError):
    """git failed; the message carries git's own first line of complaint."""


def _first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line and not line.startswith("hint:"):
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return "git failed without a message"


#: git's own options that take a value as the next argument (`git -c key=value log ...`).
_VALUED_OPTIONS = frozenset({"-c", "-C", "--git-dir", "--work-tree", "--namespace"})


def command_name(args: Sequence[str]) -> str:
    """The git command `args` run, for error messages: `log`, not the `-c` in front of it."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _VALUED_OPTIONS:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return "git"


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class RepoPaths:
    """Where a repository keeps its git dir, work tree and shared git dir."""

    git_dir: Path
    work_tree: Path | None
    #: The git dir every worktree of the repository shares (`git_dir` itself outside a linked
    #: worktree).
    common_dir: Path | None = None

    def __init__(
        self,
        git_dir: Path,
        work_tree: Path | None,
        common_dir: Path | None = None,
    ) -> None:
        _set(self, "git_dir", git_dir)
        _set(self, "work_tree", work_tree)
        _set(self, "common_dir", common_dir)

    @property
    def state_dir(self) -> Path:
        """`<common git dir>/reviewq`: reviewq's local state (log, caches, locks, the signers
        file it extracts), never committed, one for every worktree of the repository. Per
        worktree things (HEAD) are read from `git_dir`."""
        return (self.common_dir or self.git_dir) / "reviewq"

    @property
    def is_bare(self) -> bool:
        return self.work_tree is None


class Git:
    """Runs git in one repository.

    `env` adds to the inherited environment: tests pass their identity and config here instead
    of relying on the machine's.
    """

    def __init__(self, path: str | os.PathLike[str], env: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self._env = run_env(env)
        self._paths: RepoPaths | None = None
        #: `git args` started ahead by `start`, by args: `run` takes each at most once.
        self._started: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}

    @property
    def environment(self) -> dict[str, str]:
        """The environment its git processes run with (`run_env`)."""
        return self._env

    # -- discovery ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], env: dict[str, str] | None = None) -> Git:
        """A runner for the repository at or above `path`, or one clear error."""
        p = Path(path)
        if not p.exists():
            raise ReviewqError(f"{p}: no such directory; pass --repo PATH to a git repository")
        git = cls(p, env)
        git.paths()  # validates
        return git

    def paths(self) -> RepoPaths:
        if self._paths is None:
            found = self._paths_at_once()
            if found is not None:
                self._paths = found
                return found
            try:
                out = self.text(
                    [
                        "rev-parse",
                        "--absolute-git-dir",
                        "--git-common-dir",
                        "--is-inside-work-tree",
                    ],
                    what="open",
                )
            except GitError as exc:
                if "not a git repository" in exc.message:
                    raise ReviewqError(
                        f"{self.path}: not a git repository; "
                        "run reviewq inside a repository or pass --repo PATH"
                    ) from None
                # e.g. "detected dubious ownership": git's own words say what to do
                raise ReviewqError(
                    f"{self.path}: {exc.message.removeprefix('git open: ')}"
                ) from None
            git_dir, common, inside = [*out.splitlines(), "", "", ""][:3]
            work_tree = None
            if inside.strip() == "true":
                work_tree = Path(self.text(["rev-parse", "--show-toplevel"]).strip())
            shared = Path(common.strip()) if common.strip() else Path(git_dir.strip())
            if not shared.is_absolute():
                shared = (self.path / shared).resolve()
            self._paths = RepoPaths(Path(git_dir.strip()), work_tree, shared)
        return self._paths

    def _paths_at_once(self) -> RepoPaths | None:
        """`paths` from one `git rev-parse` (the work tree's top asked with the rest) when that
        answers plainly: inside a work tree, four lines, exit 0. None otherwise (a bare
        repository, a git dir, no repository: git refuses `--show-toplevel` there), and `paths`
        asks the two questions apart as before, with their own error messages."""
        from reviewq.sources.log_format import PATHS_AT_ONCE

        try:
            out = self.run(list(PATHS_AT_ONCE))
        except ReviewqError:  # GitError, or no git at all: `paths` says which
            return None
        lines = out.decode("utf-8", "replace").split("\n")
        if len(lines) != 5 or lines[4] != "" or lines[2] != "true" or not all(lines[:4]):
            return None
        git_dir, common, _inside, top = (line.strip() for line in lines[:4])
        shared = Path(common)
        if not shared.is_absolute():
            shared = (self.path / shared).resolve()
        return RepoPaths(Path(git_dir), Path(top), shared)

    # -- running ------------------------------------------------------------------------------

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        ok_codes: Iterable[int] = (0,),
        env: dict[str, str] | None = None,
        what: str | None = None,
    ) -> bytes:
        """Run `git args...` and return stdout; raise GitError with git's own line otherwise."""
        started = self._started.pop(tuple(args), None) if self._started else None
        if started is None:
            started = self._take_early(tuple(args))
        if started is not None:
            if input is None and env is None:
                out, err = started.communicate()
                if started.returncode not in tuple(ok_codes):
                    raise GitError(f"git {what or command_name(args)}: {_first_line(err)}")
                return out
            stop(started)  # asked with an input or another environment: not this one
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.path,
                input=input,
                capture_output=True,
                env={**self._env, **env} if env else self._env,
                check=False,
            )
        except FileNotFoundError:
            raise ReviewqError("git is not installed or not on PATH; install git") from None
        if proc.returncode not in tuple(ok_codes):
            raise GitError(f"git {what or command_name(args)}: {_first_line(proc.stderr)}")
        return proc.stdout

    def start(self, args: Sequence[str]) -> None:
        """Start `git args...` now, beside whatever runs next: the next `run` (or `text`) of
        exactly these args, without input or extra environment, takes its output and exit code
        (what git said when it ran, as if `run` had been called now; a few git questions of
        one command then overlap instead of queueing). `discard_started` stops those never
        asked for. Nothing is started when git cannot be."""
        key = tuple(args)
        if key in self._started:
            return
        # Started before this Git existed, or now.
        proc = self._take_early(key) or popen(self.path, self._env, key)
        if proc is not None:
            self._started[key] = proc

    def _take_early(self, args: tuple[str, ...]) -> subprocess.Popen[bytes] | None:
        """The early question (`early_git`, asked for any `Git`) of exactly this directory,
        environment and args, taken once; None when there is none."""
        return take("git", os.fspath(self.path), self._env, args)

    def discard_started(self) -> None:
        """Stop and reap every process `start` began that nothing asked for."""
        while self._started:
            stop(self._started.popitem()[1])

    def succeeds(self, args: Sequence[str]) -> bool:
        """True when `git args...` exits 0 (for questions git answers with its exit code)."""
        try:
            self.run(args)
        except GitError:
            return False
        return True

    def text(self, args: Sequence[str], **kwargs: object) -> str:
        return self.run(args, **kwargs).decode("utf-8", "replace")  # type: ignore[arg-type]

    def stream(
        self,
        args: Sequence[str],
        *,
        separator: bytes = b"\0",
        input: bytes | None = None,
        chunk_size: int = 1 << 16,
        env: dict[str, str] | None = None,
    ) -> Iterator[bytes]:
        """Yield `separator`-terminated records of `git args...` as git produces them.

        One process, read in large chunks: the scan's hot path. A failing git raises GitError
        after the records it did produce, so a caller never mistakes a broken pass for a
        complete one.
        """
        try:
            proc = subprocess.Popen(
                ["git", *args],
                cwd=self.path,
                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**self._env, **env} if env else self._env,
            )
        except FileNotFoundError:
            raise ReviewqError("git is not installed or not on PATH; install git") from None
        assert proc.stdout is not None and proc.stderr is not None
        try:
            if input is not None:
                assert proc.stdin is not None
                # Small inputs (a list of shas) fit the pipe; write before reading.
                proc.stdin.write(input)
                proc.stdin.close()
            stdout = proc.stdout
            yield from split_chunks(iter(lambda: stdout.read(chunk_size), b""), separator)
            stderr = proc.stderr.read()
            code = proc.wait()
            if code != 0:
                raise GitError(f"git {command_name(args)}: {_first_line(stderr)}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def pipe(self, first: Sequence[str], second: Sequence[str], *, input: bytes) -> bytes:
        """`git first... | git second...` with `input` on the first's stdin; the second's stdout.

        For passes where the intermediate stream is large (full diffs into `git patch-id`):
        nothing but the final answer is held in memory.
        """
        # start-up: every command imports this module, `scan --json`'s replay too
        import tempfile

        # stderr of the producer goes to a file, so a chatty producer cannot block on it.
        with tempfile.TemporaryFile() as errors:
            try:
                producer = subprocess.Popen(
                    ["git", *first],
                    cwd=self.path,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    env=self._env,
                )
            except FileNotFoundError:
                raise ReviewqError("git is not installed or not on PATH; install git") from None
            assert producer.stdin is not None and producer.stdout is not None
            consumer = subprocess.Popen(
                ["git", *second],
                cwd=self.path,
                stdin=producer.stdout,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._env,
            )
            producer.stdout.close()  # the consumer owns it now

            def feed() -> None:
                assert producer.stdin is not None
                try:
                    producer.stdin.write(input)
                    producer.stdin.close()
                except BrokenPipeError:
                    pass

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            out, err2 = consumer.communicate()
            writer.join()
            code = producer.wait()
            errors.seek(0)
            err1 = errors.read()
        if code != 0:
            raise GitError(f"git {command_name(first)}: {_first_line(err1)}")
        if consumer.returncode != 0:
            raise GitError(f"git {command_name(second)}: {_first_line(err2)}")
        return out

    # -- small helpers ------------------------------------------------------------------------

    def resolve(self, rev: str) -> str:
        """The commit sha `rev` names, or a one-line error that says what to check."""
        try:
            return self.text(
                ["rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}"], what="rev-parse"
            ).strip()
        except GitError:
            raise ReviewqError(
                f"unknown revision {rev!r}: not a commit in {self.path}; "
                "check the name with `git log --oneline` or `git branch -a`"
            ) from None

    def try_resolve(self, rev: str) -> str | None:
        out = self.run(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
            ok_codes=(0, 1, 128),
        )
        return out.decode().strip() or None

    def has_commits(self) -> bool:
        return self.try_resolve("HEAD") is not None

    def shallow_boundary(self) -> frozenset[str]:
        """The commits a shallow clone's history stops at (their parents were not fetched);
        empty for a complete repository."""
        if self.text(["rev-parse", "--is-shallow-repository"]).strip() != "true":
            return frozenset()
        where = Path(self.text(["rev-parse", "--git-path", "shallow"]).strip())
        try:
            data = (where if where.is_absolute() else self.path / where).read_text("ascii")
        except (OSError, UnicodeDecodeError):
            raise GitError(
                "git: this is a shallow clone, but its list of cut-off commits cannot be read"
            ) from None
        return frozenset(line.strip() for line in data.splitlines() if line.strip())

    def config_get(self, key: str) -> str | None:
        out = self.run(["config", "--get", key], ok_codes=(0, 1))
        value = out.decode("utf-8", "replace").strip()
        return value or None

    def ref_tips(self, pattern: str = "refs/") -> dict[str, str]:
        """refname -> object sha for every ref under `pattern`."""
        out = self.text(["for-each-ref", "--format=%(refname) %(objectname)", pattern])
        tips: dict[str, str] = {}
        for line in out.splitlines():
            name, _, sha = line.partition(" ")
            if name:
                tips[name] = sha
        return tips

    def blob_heads(self, object_ids: Sequence[str], size: int = BINARY_PROBE) -> dict[str, bytes]:
        """The first `size` bytes of each blob, streamed through one `git cat-file --batch`
        (a large blob is read through, never held whole). Missing objects are left out."""
        wanted = list(dict.fromkeys(o for o in object_ids if o and o.strip("0")))
        if not wanted:
            return {}
        heads: dict[str, bytes] = {}
        try:
            proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.path,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=self._env,
            )
        except FileNotFoundError:
            raise ReviewqError("git is not installed or not on PATH; install git") from None
        assert proc.stdin is not None and proc.stdout is not None

        def feed() -> None:
            assert proc.stdin is not None
            try:
                proc.stdin.write("\n".join(wanted).encode() + b"\n")
                proc.stdin.close()
            except BrokenPipeError:
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            for oid in wanted:
                header = proc.stdout.readline().split()
                if len(header) < 3 or header[1] == b"missing":
                    continue
                left = int(header[2])
                head = proc.stdout.read(min(left, size))
                left -= len(head)
                while left > 0:
                    chunk = proc.stdout.read(min(left, 1 << 20))
                    if not chunk:
                        break
                    left -= len(chunk)
                proc.stdout.read(1)  # the newline after the contents
                heads[oid] = head
        finally:
            writer.join()
            proc.stdout.close()
            proc.wait()
        return heads

    def binary_blobs(self, object_ids: Sequence[str]) -> set[str]:
        """The blobs that really are binary by git's own content rule (a NUL byte in the first
        8,000 bytes), whatever attributes or diff drivers say about their paths."""
        return {oid for oid, head in self.blob_heads(object_ids).items() if b"\0" in head}

    def cat_blobs(self, object_ids: Sequence[str]) -> dict[str, bytes]:
        """Read many blobs with one `git cat-file --batch` process."""
        if not object_ids:
            return {}
        out = self.run(["cat-file", "--batch"], input="\n".join(object_ids).encode() + b"\n")
        blobs: dict[str, bytes] = {}
        pos = 0
        for oid in object_ids:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            blobs[oid] = out[pos : pos + size]
            pos += size + 1
        return blobs
