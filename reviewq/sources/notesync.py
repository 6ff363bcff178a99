"""Bringing a remote's side notes in without losing anyone's: fetch to tracking refs, merge.

Every notes ref of the remote is fetched into `refs/reviewq/remotes/<remote>/notes/<name>` (a
glob refspec: a remote without notes is not an error; never straight onto the local
`refs/notes/*`, which hold records made here). Then:

- `refs/notes/reviewq` (verdict records) is merged by `reviewq.store.sync.merge_remote`, the
  one place for that rule (`cat_sort_uniq` under the notes lock), shared with `reviewq sync`;
- prompt, git-ai and Agent Trace notes (one JSON document each) are merged here with `ours`
  where both sides annotated the same commit, so a prompt set here is never replaced; notes
  only the remote has come in.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.notes import NOTES_AGENT_TRACE, NOTES_GIT_AI, NOTES_PROMPT, list_notes

#: Side notes ref -> `git notes merge` strategy (verdict notes: `reviewq.store.sync`).
MERGE_STRATEGIES: dict[str, str] = {
    NOTES_PROMPT: "ours",
    NOTES_GIT_AI: "ours",
    NOTES_AGENT_TRACE: "ours",
}
#: A commit identity for the notes merge commit when the repository has none (a CI mirror).
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "reviewq",
    "GIT_AUTHOR_EMAIL": "reviewq@localhost",
    "GIT_COMMITTER_NAME": "reviewq",
    "GIT_COMMITTER_EMAIL": "reviewq@localhost",
}


def tracking_prefix(remote: str) -> str:
    return f"refs/reviewq/remotes/{remote}/notes/"


def tracking_ref(remote: str, notes_ref: str) -> str:
    """`refs/notes/reviewq` of `origin` -> `refs/reviewq/remotes/origin/notes/reviewq`."""
    return tracking_prefix(remote) + notes_ref.removeprefix("refs/notes/")


def notes_refspec(remote: str) -> str:
    """Every notes ref of the remote into its tracking namespace (forced: it mirrors them)."""
    return f"+refs/notes/*:{tracking_prefix(remote)}*"


@dataclass(frozen=True, slots=True)
class NotesMerge:
    ref: str
    #: created | fast-forward | merged | up-to-date
    status: str
    #: Commits that gained or changed a note on the local ref.
    notes_changed: int


def merge_fetched_notes(
    git: Git, remote: str, refs: dict[str, str] | None = None
) -> list[NotesMerge]:
    """Merge each fetched notes ref of `remote` we know a strategy for into the local one."""
    results = []
    for ref, strategy in (refs or MERGE_STRATEGIES).items():
        theirs = tracking_ref(remote, ref)
        if git.try_resolve(theirs) is None:
            continue
        results.append(merge_notes(git, ref, theirs, strategy))
    return results


def merge_notes(git: Git, ref: str, theirs: str, strategy: str) -> NotesMerge:
    """Merge notes commit `theirs` into notes ref `ref`; local records are never dropped."""
    new = git.resolve(theirs)
    old = git.try_resolve(ref)
    if old == new or (old and git.succeeds(["merge-base", "--is-ancestor", new, old])):
        return NotesMerge(ref, "up-to-date", 0)
    before = list_notes(git, ref)
    if old is None:
        # Compare-and-swap against "absent": a note written meanwhile is not overwritten.
        git.run(["update-ref", ref, new, ""], what="update-ref")
        status = "created"
    elif git.succeeds(["merge-base", "--is-ancestor", old, new]):
        git.run(["update-ref", ref, new, old], what="update-ref")
        status = "fast-forward"
    else:
        env = None if git.succeeds(["var", "GIT_COMMITTER_IDENT"]) else FALLBACK_IDENTITY
        try:
            git.run(
                ["notes", f"--ref={ref}", "merge", "--quiet", f"--strategy={strategy}", new],
                env=env,
                what="notes merge",
            )
        except GitError as exc:
            raise GitError(
                f"{exc.message}; the remote's notes are kept in {theirs}, yours are unchanged"
            ) from None
        status = "merged"
    return NotesMerge(ref, status, notes_changed(before, list_notes(git, ref)))


def notes_changed(before: dict[str, str], after: dict[str, str]) -> int:
    """Commits whose note is new or different (note blob ids from `list_notes`)."""
    return sum(1 for sha, blob in after.items() if before.get(sha) != blob)


def describe(ref: str, old: str | None, new: str | None, fetched: str, changed: int) -> NotesMerge:
    """What a merge of `fetched` into `ref` did, from the tips before and after."""
    if old == new:
        status = "up-to-date"
    elif old is None:
        status = "created"
    elif new == fetched:
        status = "fast-forward"
    else:
        status = "merged"
    return NotesMerge(ref, status, changed)
