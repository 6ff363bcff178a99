"""Bringing a remote's notes in without losing anyone's: fetch to tracking refs, then merge.

Notes refs are fetched into `refs/reviewq/remotes/<remote>/notes/<name>` (never straight onto
the local `refs/notes/*`, which hold records made here) and merged with `git notes merge`:

- `refs/notes/reviewq` (verdict records, one JSON line each): `cat_sort_uniq`, the union of
  both sides' lines, so two reviewers' records on one commit both survive.
- prompt, git-ai and Agent Trace notes (one JSON document each): `ours` when both sides wrote
  a note for the same commit, so a prompt set here is never replaced; notes only the remote has
  come in.

`pull` and `sync` both call `fetch_notes` / `merge_fetched_notes`; one place for the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.notes import NOTES_AGENT_TRACE, NOTES_GIT_AI, NOTES_PROMPT, list_notes

NOTES_REVIEWQ = "refs/notes/reviewq"
#: notes ref -> `git notes merge` strategy.
MERGE_STRATEGIES: dict[str, str] = {
    NOTES_REVIEWQ: "cat_sort_uniq",
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


def fetch_notes(git: Git, remote: str) -> None:
    git.run(
        ["fetch", "--quiet", "--no-tags", "--refmap=", "--prune", remote, notes_refspec(remote)],
        what="fetch",
    )


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
    after = list_notes(git, ref)
    changed = sum(1 for sha, blob in after.items() if before.get(sha) != blob)
    return NotesMerge(ref, status, changed)
