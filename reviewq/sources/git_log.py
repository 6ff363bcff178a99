"""One streaming `git log` pass -> Commit records; one numstat pass for the few that need sizes.

`Repo.iter_commits` builds a Python object graph per commit and parses each one separately; on a
13,000-commit history that costs seconds. Here git writes every field we need in one `-z`
stream and we split it as it arrives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from reviewq.core.model import Commit, DiffStats, FileChange, Identity, _set, _value_methods
from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.log_format import LOG_FORMAT, log_args

__all__ = ["LOG_FORMAT", "log_args"]


def split_record(record: bytes) -> list[bytes] | None:
    """The nine raw fields of one `-z` record, or None for a stray empty record."""
    parts = record.split(b"\x1f", 8)
    if len(parts) < 9 or not parts[0].strip():
        return None
    return parts


#: (name, email) -> the one `Identity` of that person: a history names few people thousands of
#: times, and a frozen dataclass costs more to make than a dict look-up (identities are immutable,
#: so commits share them). Bounded: emptied when full.
_PEOPLE: dict[tuple[str, str], Identity] = {}
_PEOPLE_MAX = 4096


def _person(name: str, email: str) -> Identity:
    key = (name, email)
    found = _PEOPLE.get(key)
    if found is None:
        if len(_PEOPLE) >= _PEOPLE_MAX:
            _PEOPLE.clear()
        found = _PEOPLE[key] = Identity(name, email)
    return found


def commit_from_fields(parts: Sequence[bytes]) -> Commit:
    # One decode of the record: the fields are joined again by the separator they were split
    # at (an ASCII byte, never inside a UTF-8 sequence), so each field decodes as on its own.
    sha, parents, an, ae, ad, cn, ce, cd, body = (
        b"\x1f".join(parts).decode("utf-8", "replace").split("\x1f", 8)
    )
    # Positional (sha, parents, author, committer, authored_at, committed_at, message): the
    # scan builds one per AI commit, and keywords cost ~0.5 µs a call.
    return Commit(
        sha.strip(),
        tuple(parents.split()),
        _person(an, ae),
        _person(cn, ce),
        ad,
        cd,
        body.rstrip("\n"),
    )


#: Up to this many revisions go on the command line; more go through `--stdin` (a queue scope
#: with thousands of branch and pull-request tips would overflow the argument list).
STDIN_REVS = 64


def rev_args(revs: Sequence[str]) -> tuple[list[str], bytes | None]:
    """(arguments, stdin) that hand `revs` to `git log` / `git rev-list`."""
    if len(revs) <= STDIN_REVS:
        return list(revs), None
    return ["--stdin"], ("\n".join(revs) + "\n").encode()


def iter_records(
    git: Git, revs: Sequence[str], *, max_count: int | None = None, since: str | None = None
) -> Iterator[list[bytes]]:
    """Raw field lists, as git streams them (the scan's hot loop decodes only what it keeps)."""
    rev_part, stdin = rev_args(revs)
    for record in git.stream(log_args(rev_part, max_count=max_count, since=since), input=stdin):
        parts = split_record(record)
        if parts is not None:
            yield parts


def split_records(records: Iterable[bytes]) -> Iterator[list[bytes]]:
    """`iter_records` over records already read (the cold scan's prefetched log)."""
    for record in records:
        parts = split_record(record)
        if parts is not None:
            yield parts


def parse_record(record: bytes) -> Commit | None:
    """One `-z` record of `LOG_FORMAT` -> Commit (None for a stray empty record)."""
    if not record.strip():
        return None
    text = record.decode("utf-8", "replace")
    parts = text.split("\x1f", 8)
    if len(parts) < 9:
        return None
    sha, parents, an, ae, ad, cn, ce, cd, body = parts
    return Commit(
        sha=sha.strip(),
        parents=tuple(parents.split()),
        author=_person(an, ae),
        committer=_person(cn, ce),
        authored_at=ad,
        committed_at=cd,
        message=body.rstrip("\n"),
    )


def iter_commits(
    git: Git,
    revs: Sequence[str],
    *,
    max_count: int | None = None,
    since: str | None = None,
) -> Iterator[Commit]:
    for record in git.stream(log_args(revs, max_count=max_count, since=since)):
        commit = parse_record(record)
        if commit is not None:
            yield commit


#: The size passes never download: a partial clone's missing blobs stay missing (git >= 2.44
#: honours this; older git fails to reach an offline promisor and the fallback below takes over).
NO_LAZY_FETCH = {"GIT_NO_LAZY_FETCH": "1"}
#: Line counts are git's minimal diff, whatever `diff.algorithm` a user configured: histogram
#: or patience can count more added and deleted lines for the same change, and a size (and the
#: risk and review-speed figures built on it) must mean the same on every reviewer's machine.
DIFF_ALGORITHM = "--diff-algorithm=myers"
_ZERO_OID = frozenset({"0" * 40, "0" * 64})
_GITLINK = "160000"  # a submodule's commit: not an object of this repository


def _numstat_args(extra: Sequence[str] = ()) -> list[str]:
    return [
        "-c",
        "core.quotepath=off",
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "--raw",
        "--no-abbrev",
        "--numstat",
        "-z",
        "-M",
        DIFF_ALGORITHM,
        "--no-ext-diff",
        "--no-textconv",
        "--root",
        "--diff-merges=first-parent",
        "--format=%x01%H",
        "--no-color",
        *extra,
    ]


def commit_stats(
    git: Git, shas: Sequence[str]
) -> dict[str, tuple[DiffStats, tuple[FileChange, ...]]]:
    """sha -> (totals, per-file status and size) for each sha, in one git process.

    Merges count against their first parent; root commits against the empty tree; renames are
    detected so a moved file is one file, not an add and a delete.

    A missing object (a partial clone, a lost loose object) never fails the pass: the files whose
    contents cannot be read are marked `size_unknown`, their commit's `sizes` is `partial` or
    `unknown`, and everything else is counted (`_stats_with_missing`).
    """
    if not shas:
        return {}
    stdin = ("\n".join(shas) + "\n").encode()
    chunks: list[bytes] = []
    try:
        # Streamed, so that when an object is missing the commits git finished before it
        # are kept and only the rest is counted again around the missing objects.
        for chunk in git.stream(_numstat_args(), separator=b"\x01", input=stdin, env=NO_LAZY_FETCH):
            if chunk:
                chunks.append(chunk)
    except GitError:
        done = _parse_numstat(git, b"\x01" + b"\x01".join(chunks[:-1])) if len(chunks) > 1 else {}
        rest = [sha for sha in shas if sha not in done]
        return {**done, **_stats_with_missing(git, rest)} if rest else done
    return _parse_numstat(git, b"\x01" + b"\x01".join(chunks))


def _parse_numstat(git: Git, out: bytes) -> dict[str, tuple[DiffStats, tuple[FileChange, ...]]]:
    """The numstat pass's answer, with sizes decided by content (`_text_sizes`), not attributes."""
    result: dict[str, tuple[DiffStats, tuple[FileChange, ...]]] = {}
    for chunk in out.split(b"\x01")[1:]:
        sha_bytes, _, rest = chunk.partition(b"\0")
        tokens = [t.decode("utf-8", "replace") for t in rest.lstrip(b"\n").split(b"\0")]
        # path -> (status, old path, mode change, old blob, new blob)
        raw: dict[str, tuple[str, str | None, bool, str, str]] = {}
        sizes: dict[str, tuple[int, int, bool]] = {}
        i = 0
        while i < len(tokens):
            token = tokens[i].lstrip("\n")
            i += 1
            if not token:
                continue
            if token.startswith(":"):
                meta = token[1:].split()
                status = meta[-1][:1] if meta else "M"
                mode_change = len(meta) >= 2 and meta[0] != meta[1] and "000000" not in meta[:2]
                blobs = (meta[2], meta[3]) if len(meta) >= 5 else ("", "")
                if status in ("R", "C"):
                    old, new = tokens[i], tokens[i + 1]
                    i += 2
                    raw[new] = (status, old, mode_change, *blobs)
                else:
                    raw[tokens[i]] = (status, None, mode_change, *blobs)
                    i += 1
                continue
            fields = token.split("\t", 2)
            if len(fields) < 3:
                continue
            added, deleted, path = fields
            if not path:  # rename: old and new paths follow as their own tokens
                path = tokens[i + 1] if i + 1 < len(tokens) else ""
                i += 2
            binary = added == "-"
            sizes[path] = (0 if binary else int(added), 0 if binary else int(deleted), binary)
        claimed = {p: raw[p][3:] for p, (_, _, b) in sizes.items() if b and p in raw}
        if claimed:
            sizes.update(_text_sizes(git, claimed))
        files = []
        for path, (status, old, mode_change, _, _) in raw.items():
            adds, dels, binary = sizes.get(path, (0, 0, False))
            files.append(FileChange(path, status, adds, dels, binary, old, mode_change))
        totals = DiffStats(
            files=len(files),
            additions=sum(f.additions for f in files),
            deletions=sum(f.deletions for f in files),
            binary_files=sum(1 for f in files if f.binary),
        )
        result[sha_bytes.decode().strip()] = (totals, tuple(files))
    return result


def _blank(oid: str) -> bool:
    return not oid or not oid.strip("0")


def _text_sizes(git: Git, claimed: dict[str, tuple[str, str]]) -> dict[str, tuple[int, int, bool]]:
    """Sizes of the files git called binary whose content is text (path -> adds, dels, False).

    git calls a file binary by its attributes first (`-diff`, `binary`, a driver with
    `binary = true`), from the work tree, `.git/info/attributes` or the change itself. Only
    content decides here: both sides free of NUL bytes in their first 8,000 bytes is text, and
    its lines are counted from a `--text` diff of the two blobs.
    """
    binary = git.binary_blobs([oid for pair in claimed.values() for oid in pair])
    out: dict[str, tuple[int, int, bool]] = {}
    for path, (old, new) in claimed.items():
        if old in binary or new in binary:
            continue
        if _blank(old) or _blank(new):
            data = git.cat_blobs([new if _blank(old) else old])
            body = next(iter(data.values()), b"")
            lines = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
            out[path] = (lines, 0, False) if _blank(old) else (0, lines, False)
            continue
        patch = git.run(
            [
                "diff",
                "--text",
                "-U0",
                DIFF_ALGORITHM,
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                old,
                new,
            ],
            what="diff",
        )
        adds = dels = 0
        in_hunks = False
        for line in patch.split(b"\n"):
            if line.startswith(b"@@"):
                in_hunks = True
            elif in_hunks and line.startswith(b"+"):
                adds += 1
            elif in_hunks and line.startswith(b"-"):
                dels += 1
        out[path] = (adds, dels, False)
    return out


# -- missing objects --------------------------------------------------------------------------


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class RawEntry:
    """One file of a commit's tree diff (no renames): what it needs to be counted."""

    path: str
    status: str
    old_oid: str
    new_oid: str
    old_mode: str
    new_mode: str

    def __init__(
        self,
        path: str,
        status: str,
        old_oid: str,
        new_oid: str,
        old_mode: str,
        new_mode: str,
    ) -> None:
        _set(self, "path", path)
        _set(self, "status", status)
        _set(self, "old_oid", old_oid)
        _set(self, "new_oid", new_oid)
        _set(self, "old_mode", old_mode)
        _set(self, "new_mode", new_mode)

    def objects(self) -> tuple[str, ...]:
        return tuple(
            oid
            for oid, mode in ((self.old_oid, self.old_mode), (self.new_oid, self.new_mode))
            if oid not in _ZERO_OID and mode != _GITLINK
        )


def raw_entries(git: Git, shas: Sequence[str]) -> dict[str, list[RawEntry] | None]:
    """sha -> the files its tree diff touches, read without opening any blob.

    `--raw --no-renames` compares trees only. A commit whose trees cannot be read either maps
    to None (nothing about it is known).
    """
    args = [
        "-c",
        "core.quotepath=off",
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--root",
        "--diff-merges=first-parent",
        "--format=%x01%H",
        "--no-color",
    ]
    try:
        out = git.run(
            args, input=("\n".join(shas) + "\n").encode(), env=NO_LAZY_FETCH, what="log --raw"
        )
    except GitError:
        if len(shas) == 1:
            return {shas[0]: None}
        result: dict[str, list[RawEntry] | None] = {}
        for sha in shas:  # find the commit(s) whose trees are gone
            result.update(raw_entries(git, [sha]))
        return result
    entries: dict[str, list[RawEntry] | None] = {sha: None for sha in shas}
    for chunk in out.split(b"\x01")[1:]:
        sha_bytes, _, rest = chunk.partition(b"\0")
        tokens = [t.decode("utf-8", "replace") for t in rest.lstrip(b"\n").split(b"\0")]
        files: list[RawEntry] = []
        i = 0
        while i < len(tokens):
            token = tokens[i].lstrip("\n")
            i += 1
            if not token.startswith(":") or i >= len(tokens):
                continue
            meta = token[1:].split()
            if len(meta) < 5:
                continue
            files.append(RawEntry(tokens[i], meta[4][:1], meta[2], meta[3], meta[0], meta[1]))
            i += 1
        entries[sha_bytes.decode().strip()] = files
    return entries


def present_objects(git: Git, oids: Iterable[str]) -> set[str]:
    """The objects among `oids` this repository holds (no lazy fetch from a promisor remote)."""
    wanted = sorted(set(oids))
    if not wanted:
        return set()
    try:
        out = git.run(
            ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
            input=("\n".join(wanted) + "\n").encode(),
            env=NO_LAZY_FETCH,
            what="cat-file --batch-check",
        )
        present = set()
        for line in out.decode("ascii", "replace").splitlines():
            oid, _, kind = line.partition(" ")
            if kind and kind != "missing":
                present.add(oid)
        return present
    except GitError:
        pass
    # git before 2.44 tries to fetch a promisor's missing object and dies when it cannot:
    # list what is stored locally instead (loose, packed, promisor packs, alternates).
    out = git.run(
        ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)", "--unordered"],
        env=NO_LAZY_FETCH,
        what="cat-file --batch-all-objects",
    )
    stored = set(out.decode("ascii", "replace").split())
    return stored.intersection(wanted)


def missing_paths(git: Git, sha: str) -> set[str] | None:
    """Paths of `sha`'s change whose objects this repository lacks (None: its trees too)."""
    files = raw_entries(git, [sha]).get(sha)
    if files is None:
        return None
    present = present_objects(git, (oid for f in files for oid in f.objects()))
    return {f.path for f in files if any(o not in present for o in f.objects())}


def exclude_pathspecs(paths: Iterable[str]) -> list[str]:
    """Pathspecs that leave `paths` out of a diff (literal, from the top of the tree)."""
    return [f":(top,literal,exclude){p}" for p in sorted(paths)]


def _stats_with_missing(
    git: Git, shas: Sequence[str]
) -> dict[str, tuple[DiffStats, tuple[FileChange, ...]]]:
    """`commit_stats` when some object is missing: count what can be read, mark the rest."""
    raw = raw_entries(git, shas)
    present = present_objects(
        git, (oid for files in raw.values() if files for f in files for oid in f.objects())
    )
    whole: list[str] = []
    missing_paths: dict[str, set[str]] = {}
    for sha, files in raw.items():
        if files is None:
            continue
        gone = {f.path for f in files if any(o not in present for o in f.objects())}
        if gone:
            missing_paths[sha] = gone
        else:
            whole.append(sha)
    result: dict[str, tuple[DiffStats, tuple[FileChange, ...]]] = {}
    if whole:
        result.update(_counted(git, whole, ()))
    partial = [sha for sha in missing_paths if len(missing_paths[sha]) < len(raw[sha] or ())]
    if partial:
        excluded = sorted(set().union(*(missing_paths[sha] for sha in partial)))
        result.update(_counted(git, partial, excluded))
    final: dict[str, tuple[DiffStats, tuple[FileChange, ...]]] = {}
    for sha in shas:
        files_raw = raw.get(sha)
        if files_raw is None:
            final[sha] = (DiffStats(sizes="unknown"), ())
            continue
        counted = list(result.get(sha, (DiffStats(), ()))[1])
        covered = {f.path for f in counted} | {f.old_path for f in counted if f.old_path}
        unknown = [
            FileChange(f.path, f.status, 0, 0, False, None, _mode_change(f), True)
            for f in files_raw
            if f.path not in covered
        ]
        files = tuple(counted + unknown)
        sizes = "known" if not unknown else ("partial" if counted else "unknown")
        final[sha] = (
            DiffStats(
                files=len(files),
                additions=sum(f.additions for f in counted),
                deletions=sum(f.deletions for f in counted),
                binary_files=sum(1 for f in counted if f.binary),
                sizes=sizes,
            ),
            files,
        )
    return final


def _mode_change(f: RawEntry) -> bool:
    return f.old_mode != f.new_mode and "000000" not in (f.old_mode, f.new_mode)


def _counted(
    git: Git, shas: Sequence[str], excluded: Sequence[str]
) -> dict[str, tuple[DiffStats, tuple[FileChange, ...]]]:
    """The numstat pass over `shas` leaving out `excluded` paths (whose objects are missing).

    A commit none of whose remaining paths changed is absent from git's answer: the caller marks
    its files unknown. If git still fails, nothing is counted (every file stays unknown).
    """
    pathspecs = ["--", *exclude_pathspecs(excluded)] if excluded else []
    try:
        out = git.run(
            _numstat_args(pathspecs),
            input=("\n".join(shas) + "\n").encode(),
            env=NO_LAZY_FETCH,
            what="log --numstat",
        )
    except GitError:
        return {}
    return _parse_numstat(git, out)
