"""One streaming `git log` pass -> Commit records; one numstat pass for the few that need sizes.

`Repo.iter_commits` builds a Python object graph per commit and parses each one separately; on a
13,000-commit history that costs seconds. Here git writes every field we need in one `-z`
stream and we split it as it arrives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reviewq.core.model import Commit, DiffStats, FileChange, Identity
from reviewq.sources.gitcmd import Git

_FIELDS = ("%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B")
LOG_FORMAT = "%x1f".join(_FIELDS)


def log_args(
    revs: Sequence[str], *, max_count: int | None = None, since: str | None = None
) -> list[str]:
    """The `git log` arguments of a scan; the benchmark runs the same ones raw."""
    args = [
        "log",
        "-z",
        f"--format={LOG_FORMAT}",
        "--no-color",
        "--no-decorate",
        "--no-show-signature",
    ]
    if max_count is not None:
        args.append(f"--max-count={max_count}")
    if since:
        args.append(f"--since={since}")
    args.extend(revs)
    args.append("--")
    return args


def split_record(record: bytes) -> list[bytes] | None:
    """The nine raw fields of one `-z` record, or None for a stray empty record."""
    parts = record.split(b"\x1f", 8)
    if len(parts) < 9 or not parts[0].strip():
        return None
    return parts


def commit_from_fields(parts: list[bytes]) -> Commit:
    sha, parents, an, ae, ad, cn, ce, cd, body = (p.decode("utf-8", "replace") for p in parts)
    return Commit(
        sha=sha.strip(),
        parents=tuple(parents.split()),
        author=Identity(an, ae),
        committer=Identity(cn, ce),
        authored_at=ad,
        committed_at=cd,
        message=body.rstrip("\n"),
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
        author=Identity(an, ae),
        committer=Identity(cn, ce),
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


def commit_stats(
    git: Git, shas: Sequence[str]
) -> dict[str, tuple[DiffStats, tuple[FileChange, ...]]]:
    """sha -> (totals, per-file status and size) for each sha, in one git process.

    Merges count against their first parent; root commits against the empty tree; renames are
    detected so a moved file is one file, not an add and a delete. A file is binary only when its
    content is (`Git.binary_blobs`): a `-diff` or `binary` attribute (which the change itself may
    add to `.gitattributes`) does not make a text file's lines count as none.
    """
    if not shas:
        return {}
    args = [
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
        "--no-ext-diff",
        "--no-textconv",
        "--root",
        "--diff-merges=first-parent",
        "--format=%x01%H",
        "--no-color",
    ]
    out = git.run(args, input=("\n".join(shas) + "\n").encode())
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
            ["diff", "--text", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", old, new],
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
