"""`[scope]`: which refs feed the queue, which branch is main, and how far back main counts.

A reviewer's queue is mostly work that has not merged yet: branches agents pushed, pull and merge
requests, Gerrit changes. The scope says which refs are that work (include/exclude globs), which
branch is "main" (work already there is merged), and since when AI commits on main itself still
count. Without a `[scope]` table the defaults below apply:

```toml
[scope]
include = ["refs/heads/*", "refs/remotes/*", "refs/pull/*/head",
           "refs/merge-requests/*/head", "refs/changes/*"]
exclude = ["refs/remotes/*/HEAD"]
# main = "main"             # default: origin/HEAD, else main, else master, else HEAD's branch
# main_since = "2026-11-01" # or "30 days"; default: all of main's history
# unmerged_since = "60 days" # unmerged work older than this is stale; default: none is
# remote = "origin"         # `reviewq pull` without a REMOTE
# recent = "30 days"        # main's AI commits in the daily queue; older: `queue --audit`
pull_refs = ["refs/pull/*/head", "refs/merge-requests/*/head", "refs/changes/*"]
```

Patterns are globs (`*` also matches `/`, as in `git for-each-ref`). A pattern starting with
`refs/` matches the full ref name; any other pattern matches the short name (`claude/*` matches
`refs/heads/claude/x`, `origin/claude/*` matches `refs/remotes/origin/claude/x`). Exclude wins.

`main_since` is a cutoff on the committer date (what `git log --since` reads): with a window,
a merged branch whose commits are older than the cutoff leaves the queue on merge; without one
(the default) nothing AI-authored on main leaves until a verdict settles it, marked `merged`.
`unmerged_since` does the same for unmerged work: hosts keep `refs/pull/N/head` of closed
pull requests forever, and plain git cannot tell those from open ones (squash-merged ones are
recognised by what the host writes on main: `landed_reviews`).
Pure: the clock comes in as `now`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fnmatch import fnmatchcase
from typing import Any

from reviewq.core.model import _set, _value_methods
from reviewq.core.tomlcheck import ConfigError, as_string, as_table, check_keys

DEFAULT_INCLUDE: tuple[str, ...] = (
    "refs/heads/*",
    "refs/remotes/*",
    "refs/pull/*/head",
    "refs/merge-requests/*/head",
    "refs/changes/*",
)
DEFAULT_EXCLUDE: tuple[str, ...] = ("refs/remotes/*/HEAD",)
#: What `reviewq pull` fetches besides branches: GitHub, GitLab and Gerrit review refs.
DEFAULT_PULL_REFS: tuple[str, ...] = (
    "refs/pull/*/head",
    "refs/merge-requests/*/head",
    "refs/changes/*",
)
#: Names tried, in order, when neither the config nor `origin/HEAD` says which branch is main.
MAIN_CANDIDATES: tuple[str, ...] = ("main", "master")
DEFAULT_REMOTE = "origin"
#: How far back AI commits that landed on main stay in the daily queue.
DEFAULT_RECENT = timedelta(days=30)

_RELATIVE = re.compile(r"^\s*(\d+)\s*(hour|day|week|month)s?(\s+ago)?\s*$", re.IGNORECASE)
_UNIT = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
_UNIT["month"] = timedelta(days=30)
#: Where ref namespaces that `pull` never writes start; a pull ref must not map onto them.
_RESERVED = ("refs/heads/", "refs/remotes/", "refs/notes/", "refs/tags/")


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Scope:
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    #: Branch (short or full name) that is main; None: find it (origin/HEAD, main, master).
    main: str | None = None
    #: Cutoff for AI commits on main: an absolute date/datetime, or a span before `now`.
    since_date: date | datetime | None = None
    since_span: timedelta | None = None
    #: Cutoff for unmerged work (stale pull requests: closed, or squash-merged, which plain git
    #: cannot tell from open ones). None: all unmerged work counts.
    unmerged_date: date | datetime | None = None
    unmerged_span: timedelta | None = None
    remote: str | None = None
    pull_refs: tuple[str, ...] = DEFAULT_PULL_REFS
    #: AI commits on main committed since this are in the daily queue (after unmerged work);
    #: older ones are the audit view (`queue --audit`). Default: 30 days; both None: all.
    recent_date: date | datetime | None = None
    recent_span: timedelta | None = DEFAULT_RECENT

    def __init__(
        self,
        include: tuple[str, ...] = DEFAULT_INCLUDE,
        exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
        main: str | None = None,
        since_date: date | datetime | None = None,
        since_span: timedelta | None = None,
        unmerged_date: date | datetime | None = None,
        unmerged_span: timedelta | None = None,
        remote: str | None = None,
        pull_refs: tuple[str, ...] = DEFAULT_PULL_REFS,
        recent_date: date | datetime | None = None,
        recent_span: timedelta | None = DEFAULT_RECENT,
    ) -> None:
        _set(self, "include", include)
        _set(self, "exclude", exclude)
        _set(self, "main", main)
        _set(self, "since_date", since_date)
        _set(self, "since_span", since_span)
        _set(self, "unmerged_date", unmerged_date)
        _set(self, "unmerged_span", unmerged_span)
        _set(self, "remote", remote)
        _set(self, "pull_refs", pull_refs)
        _set(self, "recent_date", recent_date)
        _set(self, "recent_span", recent_span)

    def includes(self, refname: str) -> bool:
        """Is this ref in scope (included and not excluded)?"""
        return _matches(refname, self.include) and not _matches(refname, self.exclude)

    def main_cutoff(self, now: datetime) -> datetime | None:
        """The oldest committer date on main that still counts; None: all of main's history."""
        return _cutoff(self.since_date, self.since_span, now)

    def unmerged_cutoff(self, now: datetime) -> datetime | None:
        """The oldest committer date of unmerged work that still counts; None: all of it."""
        return _cutoff(self.unmerged_date, self.unmerged_span, now)

    def recent_cutoff(self, now: datetime) -> datetime | None:
        """The oldest committer date on main in the daily queue; None: all of main."""
        return _cutoff(self.recent_date, self.recent_span, now)

    def identity(self) -> list[Any]:
        """What a cached scan of this scope depends on (the cutoff is checked separately)."""
        return [list(self.include), list(self.exclude), self.main, self.remote]

    def default_remote(self) -> str:
        return self.remote or DEFAULT_REMOTE


DEFAULT_SCOPE = Scope()


def _cutoff(when: date | datetime | None, span: timedelta | None, now: datetime) -> datetime | None:
    if span is not None:
        return now - span
    if isinstance(when, datetime):
        return when if when.tzinfo is not None else when.replace(tzinfo=now.tzinfo)
    if isinstance(when, date):
        return datetime.combine(when, time(0), tzinfo=now.tzinfo)
    return None


# -- ref names -----------------------------------------------------------------------------


def short_ref(refname: str) -> str:
    """`refs/heads/x` -> `x`, `refs/remotes/o/x` -> `o/x`, `refs/pull/3/head` -> `pull/3/head`."""
    for prefix in ("refs/heads/", "refs/remotes/", "refs/"):
        if refname.startswith(prefix):
            return refname[len(prefix) :]
    return refname


def _matches(refname: str, patterns: Iterable[str]) -> bool:
    short = short_ref(refname)
    for pattern in patterns:
        target = refname if pattern.startswith("refs/") else short
        if fnmatchcase(target, pattern):
            return True
    return False


_REVIEW_KINDS = {"pull": "pull-request", "merge-requests": "merge-request", "changes": "change"}

#: Kind -> rank: where an item "lives" is named by the best-ranked ref that contains it.
KIND_RANK = {
    "branch": 0,
    "remote-branch": 1,
    "pull-request": 2,
    "merge-request": 2,
    "change": 3,
    "head": 4,
    "other": 5,
}


def ref_kind(refname: str, remotes: Iterable[str] = ()) -> str:
    """branch | remote-branch | pull-request | merge-request | change | head | other.

    `refs/remotes/<r>/pull/N` is where `reviewq pull` puts GitHub's `refs/pull/N/head`; the
    remote's name is needed to tell it from a remote branch, so callers pass the remotes they
    know (a remote name may contain `/`).
    """
    if refname == "HEAD":
        return "head"
    if refname.startswith("refs/heads/"):
        return "branch"
    if refname.startswith("refs/remotes/"):
        rest = refname[len("refs/remotes/") :]
        for remote in sorted(remotes, key=len, reverse=True):
            if rest.startswith(remote + "/"):
                rest = rest[len(remote) + 1 :]
                break
        else:
            rest = rest.partition("/")[2]
        head, _, tail = rest.partition("/")
        if head in _REVIEW_KINDS and tail[:1].isdigit():
            return _REVIEW_KINDS[head]
        return "remote-branch"
    parts = refname.split("/")
    if len(parts) >= 3 and parts[1] in _REVIEW_KINDS and parts[2][:1].isdigit():
        return _REVIEW_KINDS[parts[1]]
    return "other"


def review_number(refname: str, remotes: Iterable[str] = ()) -> tuple[str, int] | None:
    """(`pull-request` or `merge-request`, its number) for a GitHub or GitLab review ref."""
    kind = ref_kind(refname, remotes)
    if kind not in ("pull-request", "merge-request"):
        return None
    marker = "/pull/" if kind == "pull-request" else "/merge-requests/"
    number = refname.rpartition(marker)[2].partition("/")[0]
    return (kind, int(number)) if number.isdigit() else None


#: GitHub names the pull request in the subject of what it puts on main: `Title (#N)` for a
#: squash merge, `Merge pull request #N from …` for a merge commit.
_GITHUB_LANDED = re.compile(r"\(#(\d+)\)\s*$|^Merge pull request #(\d+) ")
#: GitLab ends the merge commit (and, with squashing, the squash commit's merge) with this line.
_GITLAB_LANDED = re.compile(r"^See merge request \S*!(\d+)\s*$", re.MULTILINE)


def landed_reviews(messages: Iterable[str]) -> set[tuple[str, int]]:
    """The pull and merge requests main's commit messages say were merged.

    A squash-merged pull request's own commits never reach main, and its `refs/pull/N/head`
    stays on the host forever; the squash commit's subject is what tells. Only main's messages
    count, and only people who can push to main write them.
    """
    landed: set[tuple[str, int]] = set()
    for message in messages:
        subject = message.partition("\n")[0]
        match = _GITHUB_LANDED.search(subject)
        if match:
            landed.add(("pull-request", int(match.group(1) or match.group(2))))
        landed.update(("merge-request", int(n)) for n in _GITLAB_LANDED.findall(message))
    return landed


#: `git cherry-pick -x` notes where the copy came from; the rest of the message is the author's.
_CHERRY_PICKED = re.compile(r"\s*\(cherry picked from commit [0-9a-f]{7,64}\)\s*$")


def landing_key(
    author_email: str, authored_at: str, message: str, files: Iterable[Sequence[Any]]
) -> tuple[Any, ...]:
    """What a rebased or cherry-picked copy of a commit keeps: its author, author date and
    message (less `cherry-pick -x`'s line) and each file's path and line counts. The committer,
    commit date, parents and sha are what change. `files` rows start (path, status, added,
    deleted, binary), as the scan stores them."""
    return (
        author_email.strip().lower(),
        authored_at,
        _CHERRY_PICKED.sub("", message.rstrip()),
        tuple(sorted((str(f[0]), f[2], f[3], bool(f[4])) for f in files)),
    )


def rebased_copies(unmerged: Mapping[str, Any], main: Mapping[str, Any]) -> dict[str, str]:
    """Unmerged commit -> the copy of it on main, matched by `landing_key`.

    GitHub's "Rebase and merge" (and a cherry-pick to main) lands a request's commits as new
    commits: the request's ref keeps the originals forever and no message names the request.
    The copy on main is the item a reviewer sees; the original would be the same change twice.
    A copy whose content changed on the way (a conflict resolved) has other line counts and
    is not matched: that difference is for a reviewer to see.
    """
    on_main: dict[Any, str] = {}
    for sha, key in main.items():
        on_main.setdefault(key, sha)
    return {sha: on_main[key] for sha, key in unmerged.items() if key in on_main}


def branch_name(refname: str, remotes: Iterable[str] = ()) -> str:
    """The branch a ref names without its remote: `refs/remotes/origin/main` -> `main`."""
    if refname.startswith("refs/heads/"):
        return refname[len("refs/heads/") :]
    if refname.startswith("refs/remotes/"):
        rest = refname[len("refs/remotes/") :]
        for remote in sorted(remotes, key=len, reverse=True):
            if rest.startswith(remote + "/"):
                return rest[len(remote) + 1 :]
        return rest.partition("/")[2]
    return short_ref(refname)


def latest_patchsets(refnames: Iterable[str]) -> set[str]:
    """Drop superseded Gerrit patch sets: of `.../changes/NN/CHANGE/PS` keep the highest PS.

    Each patch set is its own (amended) commit; queueing all of them would ask for the same
    change to be reviewed once per upload. Non-numeric leaves (`.../meta`, NoteDb) go too.
    """
    best: dict[str, tuple[int, str]] = {}
    keep: set[str] = set()
    for ref in refnames:
        parts = ref.split("/")
        try:
            idx = parts.index("changes")
        except ValueError:
            keep.add(ref)
            continue
        tail = parts[idx + 1 :]
        if len(tail) != 3 or not tail[1].isdigit():
            keep.add(ref)
            continue
        if not tail[2].isdigit():
            continue
        change = "/".join(parts[: idx + 3])
        patchset = int(tail[2])
        if change not in best or patchset > best[change][0]:
            best[change] = (patchset, ref)
    keep.update(ref for _, ref in best.values())
    return keep


def fetch_refspecs(remote: str, scope: Scope) -> list[str]:
    """The refspecs `reviewq pull` fetches: every one lands in `refs/remotes/<remote>/`.

    Branches go where `git fetch` puts them; review refs go beside them with their trailing
    `/head` dropped (`refs/pull/3/head` -> `refs/remotes/origin/pull/3`). Remote-tracking refs
    are git's own cache of the remote, so they are force-updated (agents force-push); local
    branches are never named here.
    """
    specs = [f"+refs/heads/*:refs/remotes/{remote}/*"]
    specs += [f"+{src}:refs/remotes/{remote}/{dest}" for src, dest in pull_ref_targets(scope)]
    return specs


def pull_ref_targets(scope: Scope) -> list[tuple[str, str]]:
    """(source pattern on the remote, destination under `refs/remotes/<remote>/`)."""
    out = []
    for pattern in scope.pull_refs:
        dest = pattern.removeprefix("refs/")
        if dest.endswith("*/head"):
            dest = dest[: -len("/head")]
        out.append((pattern, dest))
    return out


def parse_since(where: str, value: Any) -> tuple[date | datetime | None, timedelta | None]:
    """`2026-11-01`, `2026-11-01T09:00:00+01:00`, a TOML date, or `N days|weeks|hours|months`."""
    if isinstance(value, datetime | date):
        return value, None
    text = as_string(where, value).strip()
    if text.lower() in ("all", "forever"):
        return None, None
    m = _RELATIVE.match(text)
    if m:
        return None, int(m.group(1)) * _UNIT[m.group(2).lower()]
    try:
        if len(text) == 10:
            return date.fromisoformat(text), None
        return datetime.fromisoformat(text), None
    except ValueError:
        raise ConfigError(
            f"{where}: {text!r} is not a date; use 2026-11-01, an RFC 3339 time, '30 days' or 'all'"
        ) from None


def _patterns(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected an array of glob patterns, got {value!r}")
    return tuple(as_string(f"{where}[{i}]", v).strip() for i, v in enumerate(value))


def parse_scope(value: Any) -> Scope:
    """The `[scope]` table -> Scope; every key optional, unknown keys are errors."""
    table: Mapping[str, Any] = as_table("scope", value)
    check_keys(
        "scope",
        table,
        {
            "include",
            "exclude",
            "main",
            "main_since",
            "unmerged_since",
            "remote",
            "pull_refs",
            "recent",
        },
    )
    include = _patterns("scope.include", table["include"]) if "include" in table else None
    exclude = _patterns("scope.exclude", table["exclude"]) if "exclude" in table else None
    since_date, since_span = (None, None)
    if "main_since" in table:
        since_date, since_span = parse_since("scope.main_since", table["main_since"])
    unmerged_date, unmerged_span = (None, None)
    if "unmerged_since" in table:
        unmerged_date, unmerged_span = parse_since("scope.unmerged_since", table["unmerged_since"])
    recent_date, recent_span = None, DEFAULT_RECENT
    if "recent" in table:
        recent_date, recent_span = parse_since("scope.recent", table["recent"])
    remote = None
    if "remote" in table:
        remote = as_string("scope.remote", table["remote"]).strip()
        if remote.startswith("-") or any(c.isspace() for c in remote):
            raise ConfigError(f"scope.remote: {remote!r} is not a remote name")
    main = None
    if "main" in table:
        main = as_string("scope.main", table["main"]).strip()
        if main.startswith("-"):
            raise ConfigError(f"scope.main: {main!r} is not a branch name")
    pull_refs = DEFAULT_PULL_REFS
    if "pull_refs" in table:
        pull_refs = _patterns("scope.pull_refs", table["pull_refs"])
        for i, pattern in enumerate(pull_refs):
            where = f"scope.pull_refs[{i}]"
            if not pattern.startswith("refs/") or pattern.count("*") != 1:
                raise ConfigError(
                    f"{where}: {pattern!r} must start with refs/ and hold exactly one '*' "
                    "(like refs/pull/*/head)"
                )
            if pattern.startswith(_RESERVED):
                raise ConfigError(f"{where}: {pattern!r} is a branch, tag or notes namespace")
    scope = Scope(
        include=DEFAULT_INCLUDE if include is None else include,
        exclude=DEFAULT_EXCLUDE if exclude is None else exclude,
        main=main,
        since_date=since_date,
        since_span=since_span,
        unmerged_date=unmerged_date,
        unmerged_span=unmerged_span,
        remote=remote,
        pull_refs=pull_refs,
        recent_date=recent_date,
        recent_span=recent_span,
    )
    dests = [dest.partition("*")[0] for _, dest in pull_ref_targets(scope)]
    for i, a in enumerate(dests):
        for b in dests[i + 1 :]:
            if a.startswith(b) or b.startswith(a):
                raise ConfigError(
                    f"scope.pull_refs: two patterns land in refs/remotes/<remote>/{a}; "
                    "keep one per namespace"
                )
    return scope


def scope_of(config: Any) -> Scope:
    """The repository's scope: its `[scope]` table, or the defaults."""
    return config.scope or DEFAULT_SCOPE
