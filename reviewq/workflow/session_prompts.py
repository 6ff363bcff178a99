"""Prompts from where agents keep their sessions: the shell between the session stores
(`sources/sessions`), the linker (`core/session_link`) and the changes the commands show.

Only commands that show prompts call this (`show`, `scan`, `prompt`, the TUI's prompt pane and
the queue's failing-tests flag); the others never touch a session store.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from reviewq.core.jsonio import dump_json
from reviewq.core.model import Change, Prompt, SessionRef
from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.log_format import WORKTREE_LIST

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from reviewq.core.session_link import CommitFacts, SessionLink
    from reviewq.sources.sessions.index import SessionIndex, Summary

# The session index and the linker (with every agent's transcript parser) are imported when
# this machine holds a session file for the repository, or an index that may need pruning
# (`load_index`): a repository without agent sessions never pays for them.

#: Bump when linking rules change, so cached links are computed again.
LINK_VERSION = 1
#: Set to "0" (or "off") to never read agents' session stores.
ENV_SWITCH = "REVIEWQ_SESSIONS"


def enabled(ctx) -> bool:
    value = _env(ctx).get(ENV_SWITCH, "")
    return value.strip().lower() not in {"0", "off", "no", "false"}


def _env(ctx) -> dict[str, str]:
    return {**os.environ, **(getattr(ctx, "env", None) or {})}


def load_index(env: dict[str, str], roots: list[str]) -> tuple[SessionIndex | None, list[Summary]]:
    """`sources.sessions.index.load_index`, or (None, []) without importing it when there is
    nothing to read and nothing to prune (`stores.nothing_indexed`): the same summaries."""
    from reviewq.sources.sessions.stores import nothing_indexed

    if nothing_indexed(env, roots):
        return None, []
    from reviewq.sources.sessions.index import load_index as load

    return load(env, roots)


def worktree_roots(git: Git) -> list[str]:
    """Every worktree of the repository, symlinks resolved (sessions run in any of them)."""
    roots: list[str] = []
    try:
        out = git.text(list(WORKTREE_LIST), what="worktree list")
    except GitError:
        out = ""
    for line in out.splitlines():
        if line.startswith("worktree "):
            roots.append(os.path.realpath(line[len("worktree ") :]))
    if not roots:
        work_tree = git.paths().work_tree
        if work_tree is not None:
            roots.append(os.path.realpath(work_tree))
    return roots


def facts_of(changes: Iterable[Change]) -> list[CommitFacts]:
    from reviewq.core.queue import parse_time  # not at import: `scan --json` replays without it
    from reviewq.core.session_link import CommitFacts

    out = []
    for c in changes:
        if c.source != "git" or not c.commit.sha:
            continue
        when = parse_time(c.commit.committed_at)
        if when is None:
            continue
        out.append(
            CommitFacts(
                c.commit.sha, c.commit.subject, when.timestamp(), tuple(f.path for f in c.files)
            )
        )
    return out


#: Sizes the changes that have none (`workflow.scan.fill_sizes`): linking matches files.
Fill = Callable[[Sequence[Change]], list[Change]]


def session_links(
    ctx,
    changes: Sequence[Change],
    pinned: tuple[str, str] | None = None,
    *,
    fill: Fill | None = None,
) -> dict[str, SessionLink]:
    """Each change's link to the session span that made it (exact or strong), by sha.
    `pinned`: (agent, id) of the session the commit was made in, when the agent said so.
    `fill`: for changes that may be unsized: sizes them once some session is found.

    Session stores are other programs' files: whatever goes wrong reading them costs the
    prompts (one line on stderr), never the command."""
    return _links_of(ctx, changes, pinned, fill)[1]


def _links_of(
    ctx, changes: Sequence[Change], pinned: tuple[str, str] | None, fill: Fill | None
) -> tuple[Sequence[Change], dict[str, SessionLink]]:
    """(the changes, sized by `fill` if a session needed their files; their links)."""
    if not enabled(ctx):
        return changes, {}
    holder = [changes]
    try:
        links = _session_links(ctx, changes, pinned, fill, holder)
        return holder[0], links
    except GitError:
        raise
    except Exception as exc:  # a store or cache in a shape nobody foresaw
        print(
            f"reviewq: agent sessions not read ({type(exc).__name__}: {exc}); "
            f"set {ENV_SWITCH}=0 to stop trying",
            file=sys.stderr,
        )
        return holder[0], {}


def _session_links(
    ctx,
    changes: Sequence[Change],
    pinned: tuple[str, str] | None,
    fill: Fill | None = None,
    holder: list[Sequence[Change]] | None = None,
) -> dict[str, SessionLink]:
    if not any(c.source == "git" and c.commit.sha for c in changes):
        return {}

    roots = worktree_roots(ctx.git)
    if not roots:
        return {}
    index, summaries = load_index(_env(ctx), roots)
    if (
        not summaries or index is None
    ):  # no session here: the commits' facts (a date parse each) are not needed
        return {}
    if fill is not None and any(c.source == "git" and c.stats is None for c in changes):
        changes = fill(changes)
        if holder is not None:
            holder[0] = changes
    from reviewq.core.session_link import SessionLink, link_commits, relevant

    commits = facts_of(changes)
    if not commits:
        return {}
    if pinned is not None:
        wanted = [s for s in summaries if (s.agent, s.id) == pinned]
    else:
        wanted = relevant(summaries, commits, roots)
    if not wanted:
        return {}
    # Linking reads every relevant session; the answer for the same sessions (unchanged files)
    # and the same commits is kept, so an unchanged repository costs a stat per file.
    import hashlib

    key = hashlib.sha256(
        dump_json(
            [
                LINK_VERSION,
                roots,
                sorted(c.sha for c in commits),
                sorted({(s.path, repr(index.file_key(s.path))) for s in wanted}),
                list(pinned) if pinned else None,
            ]
        )
    ).hexdigest()[:32]
    rows = index.cached_links(key)
    if rows is not None:
        try:
            return {row[0]: SessionLink.from_state(row) for row in rows}
        except (TypeError, IndexError, ValueError):
            pass  # an older shape: compute again
    links = link_commits(commits, index.sessions(wanted), roots, pinned=pinned)
    index.store_links(key, [link.to_state() for link in links.values()])
    return links


def answer_stamp(ctx) -> str:
    """What the session prompts of a scan's answer depend on, as one string: every session
    file of this repository's worktrees by path, size and mtime (as the index keys them), or
    that reading them is off. A stored `scan --json` answer is replayed only while it holds."""
    if not enabled(ctx):
        return "off"

    roots = worktree_roots(ctx.git)
    index, summaries = load_index(_env(ctx), roots) if roots else (None, [])
    files = sorted({(s.path, repr(index.file_key(s.path))) for s in summaries}) if index else []
    import hashlib

    return hashlib.sha256(dump_json([LINK_VERSION, roots, files])).hexdigest()


def session_prompt(link: SessionLink) -> Prompt | None:
    if not link.prompt:
        return None
    return Prompt(
        link.prompt,
        "session",
        link=link.kind,
        session=SessionRef(link.agent, link.session_id, "local", link.model),
        claims=link.claims,
        ran=tuple(link.summary()),
    )


def with_session_prompts(
    ctx,
    changes: Sequence[Change],
    links: dict[str, SessionLink] | None = None,
    *,
    fill: Fill | None = None,
) -> list[Change]:
    """`changes` with a session's prompt where git holds none (a prompt found in git, or one a
    person attached, is never replaced) and the session's flags (failing tests, hooks skipped).
    `fill`: the changes may be unsized; sizes them first if some session is found (linking
    matches the files a commit touched)."""
    if links is None:
        changes, links = _links_of(ctx, changes, None, fill)
    tasks = None
    out = []
    for c in changes:
        link = links.get(c.commit.sha) if c.source == "git" else None
        if link is not None:
            c = with_link(c, link)
        if c.prompt is None and c.location_kind == "pull-request" and c.location:
            if tasks is None:
                tasks = forge_tasks(ctx)
            c = with_forge_task(c, tasks.get(c.location))
        out.append(c)
    return out


def forge_tasks(ctx) -> dict:
    """The cloud agents' tasks `reviewq pull` kept (no network here)."""
    # start-up: `scan --json`'s replay imports this module and never reads forge tasks
    from reviewq.sources.forge import load_tasks

    try:
        return load_tasks(ctx.state_dir)
    except Exception:  # a broken file is no task, never a failed command
        return {}


def with_forge_task(change: Change, task) -> Change:
    if task is None or not task.prompt:
        return change
    number = change.location.rpartition("/pull/")[2] if change.location else ""
    return replace(
        change,
        prompt=Prompt(
            task.prompt, "forge", session=SessionRef(task.agent, f"pull/{number}", "forge")
        ),
    )


def flags_of(link: SessionLink) -> tuple[str, ...]:
    flags = []
    if link.tests_failing:
        flags.append("tests-failing")
    if link.hooks_skipped:
        flags.append("hooks-skipped")
    return tuple(flags)


def with_link(change: Change, link: SessionLink) -> Change:
    """The change with what its session shows: the prompt where git holds none, the flags."""
    prompt = session_prompt(link) if change.prompt is None else None
    flags = flags_of(link)
    if prompt is None and not flags:
        return change
    return replace(change, prompt=prompt or change.prompt, session_flags=flags)
