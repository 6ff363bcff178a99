"""The shell around `core.policy`: which policy applies, which records count, and the gate's answer.

The policy comes from a commit the change under review cannot have written: the base of the range
(`A` of `A..B`), else the default branch, and it counts only if the commit that last changed it
passed the gate itself (`vet_policy_source`). A change that edits, moves or deletes
`.reviewq.toml` is judged by the policy it replaces and the one it writes as well (the strictest), so `gate HEAD` on a branch whose history
weakened the policy still asks for what the old policy asked. Verdicts come through the verdict
API (the local log and the notes ref, so a bare CI clone sees the team's reviews); signatures
through the signing module. Nothing here decides; `core.policy.evaluate` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewq.clock import local_now
from reviewq.context import CONFIG_NAME, config_at
from reviewq.core.config import Config
from reviewq.core.model import Change
from reviewq.core.policy import Evaluation, evaluate, needs_brief
from reviewq.core.policy_rules import (
    Policy,
    Requirements,
    domain_label,
    merge_rules,
    policy_from_sections,
)
from reviewq.core.text import one_line
from reviewq.core.times import parse_instant as parse_time
from reviewq.core.verdict import (
    SIG_GOOD,
    SignatureCheck,
    content_digest_or_none,
    match_keys,
    record_order,
)
from reviewq.errors import ReviewqError
from reviewq.files import replace_file
from reviewq.sources.gitcmd import Git, GitError
from reviewq.store.log import ProvenanceLog
from reviewq.store.notes_history import cache_path_for, read_notes_history
from reviewq.store.notes_log import NOTES_REF, read_verdict_notes, ref_tip
from reviewq.store.signing import DEFAULT_PROGRAM, SshVerifier, verifier_from_git
from reviewq.workflow.lookup import lookup
from reviewq.workflow.recording import (
    CONTENT_ID_FIELD,
    content_ids,
    load_verdicts,
    load_verdicts_about,
)
from reviewq.workflow.scan import resolve_revs, scan_history, warn_unknown_sizes

RecordsFor = Callable[[Change], Sequence[Mapping[str, Any]]]
VerifySignature = Callable[[Mapping[str, Any]], SignatureCheck]


def policy_of(config: Config) -> Policy:
    return policy_from_sections(config.sections)


def default_branch(git: Git) -> str | None:
    """The commit the default branch names: the remote's HEAD, `init.defaultBranch`, main, master."""
    candidates = ["refs/remotes/origin/HEAD"]
    configured = git.config_get("init.defaultBranch")
    if configured:
        candidates += [f"refs/heads/{configured}", f"refs/remotes/origin/{configured}"]
    candidates += [
        "refs/heads/main",
        "refs/heads/master",
        "refs/remotes/origin/main",
        "refs/remotes/origin/master",
    ]
    for ref in candidates:
        sha = git.try_resolve(ref)
        if sha:
            return sha
    return None


def policy_base(git: Git, resolved: Sequence[str], explicit: str | None = None) -> tuple[str, str]:
    """(commit, how it was chosen) whose `.reviewq.toml` the gate enforces.

    `resolved` is `git rev-parse` of the range: `^sha` lines are its bases. One base: that commit
    (for `A..B` it is `A`, for `A...B` their merge base). None: the default branch. Several: the
    caller must say, since reviewq will not guess which one is trusted.
    """
    if explicit is not None:
        return git.resolve(explicit), f"--policy-from {explicit}"
    bases = list(dict.fromkeys(r[1:] for r in resolved if r.startswith("^")))
    if len(bases) == 1:
        return bases[0], "the base of the range"
    if len(bases) > 1:
        raise ReviewqError(
            f"the range has {len(bases)} bases; say whose policy applies with --policy-from REV "
            "(for example the default branch)"
        )
    sha = default_branch(git)
    if sha is None:
        raise ReviewqError(
            "the range has no base and there is no default branch to read the policy from; "
            "gate a range (BASE..HEAD) or pass --policy-from REV"
        )
    return sha, "the default branch (the range has no base)"


def refuse_shallow_cut(git: Git, resolved: Sequence[str], what: str) -> None:
    """Fail closed when a shallow clone's history ends inside the range.

    In a clone fetched with `--depth`, `git log BASE..HEAD` silently stops at the cut: the
    commits before it are not there to be checked, and a range that looks clean may only be
    short. Any cut-off commit inside the range is an error (exit 2), naming the fix.
    """
    boundary = git.shallow_boundary()
    if not boundary:
        return
    for line in git.stream(["rev-list", *resolved, "--"], separator=b"\n"):
        sha = line.decode("ascii", "replace").strip()
        if sha in boundary:
            raise ReviewqError(
                f"this is a shallow clone and its history stops at {sha[:12]}, inside {what}: "
                "the commits before it cannot be checked. Fetch the full history "
                "(actions/checkout `fetch-depth: 0`, or `git fetch --unshallow`) and run again"
            )


def policy_files(config: Config) -> list[str]:
    """The files the gate's policy is read from: `.reviewq.toml`, and the allowed-signers file
    it names (a change adding a key there changes who may approve)."""
    paths = [CONFIG_NAME]
    signers = config.log.allowed_signers if config.log else None
    if isinstance(signers, str) and signers.strip() and signers not in paths:
        paths.append(signers)
    return paths


def vet_policy_source(
    ctx: Any, base: str, config: Config, resolved: Sequence[str], now: datetime, chosen_as: str
) -> None:
    """The base's policy counts only if the commit that last changed it passed the gate itself
    (or has a counted approval validly signed by an allowed signer of the policy before it).

    Someone who can push to the default branch could otherwise land a weaker policy (or a new
    allowed signer) there unreviewed, and every range based on it would be judged by it. That
    commit (the last to touch a policy file at or before `base`) is judged like any other
    (detection rules of the policy before and after it, the stricter of the two policies,
    signatures checked against the allowed signers before it). A human commit passes, as it
    would in a range. A commit inside the range being gated is judged there instead. Anything
    else raises ReviewqError naming the commit to review (exit 2).
    """

    git = ctx.git
    found = git.text(["rev-list", "-1", base, "--", *policy_files(config)]).strip()
    if not found:
        return  # the built-in policy: nobody wrote it
    if found in git.shallow_boundary():
        raise ReviewqError(
            f"this is a shallow clone: the policy at {base[:12]} ({chosen_as}) comes from "
            f"{found[:12]}, where the fetched history stops, so who changed it cannot be "
            "checked. Fetch the full history (actions/checkout `fetch-depth: 0`) and run again"
        )
    in_range = git.text(["rev-list", *resolved, "--"]).split()
    if found in in_range:
        return
    parent = git.try_resolve(f"{found}^1")
    before = config_at(git, parent) if parent else Config(origin=None)
    change = None
    for rules in (config, before):
        gate_ctx = ctx.with_config(rules)
        change = lookup(gate_ctx, found).change
        if change is not None:
            break
    if change is None:
        return  # a person's commit: the gate trusts what people commit
    verdicts = open_verdicts(ctx, base=parent, base_config=before)
    verdicts.prepare([change])
    enforcer = Enforcer(
        git=git,
        config=config,
        records_for=verdicts.records_for,
        now=now,
        verify_signature=verdicts.verify_signature,
    )
    evaluation = enforcer.evaluate(change)
    if verdicts.notes_present and (
        evaluation.passed or _signed_approval(verdicts, change, evaluation)
    ):
        return

    why = needs_brief(n.message for n in evaluation.needs) or f"{verdicts.notes_ref} is missing"
    raise ReviewqError(
        f"the policy at {base[:12]} ({chosen_as}) was last changed by {found[:12]} "
        f"{one_line(change.commit.subject)!r}, an AI-authored commit that does not pass the "
        f"gate itself ({why}); review it first (`reviewq verdict {found[:12]} ...`), or gate "
        "from a base whose policy was reviewed"
    )


def _signed_approval(verdicts: Verdicts, change: Change, evaluation: Evaluation) -> bool:
    """A counted approval (not the prompter's, not a machine's, ...) validly signed by a key in
    the allowed signers before the policy change, and nothing standing against it."""

    if {n.code for n in evaluation.unmet} & {"rejected", "escalated"}:
        return False
    if verdicts.verify_signature is None:
        return False
    counted = {(i.name, i.email) for i in evaluation.approved_by}
    for record in verdicts.records_for(change):
        who = record.get("reviewer")
        if record.get("verdict") != "approve" or not isinstance(who, Mapping):
            continue
        if (who.get("name"), who.get("email")) not in counted:
            continue
        if verdicts.verify_signature(record).status == SIG_GOOD:
            return True
    return False


@dataclass
class Enforcer:
    """Evaluates changes under one policy, with the records and signatures the shell found."""

    git: Git
    config: Config
    records_for: RecordsFor
    now: datetime
    verify_signature: VerifySignature | None = None
    #: When each record was first shared (the notes ref's history); None: by its `at` only.
    appeared_at: Callable[[Mapping[str, Any]], datetime | None] | None = None
    _parent_policies: dict[str, Policy] = field(default_factory=dict)
    _policy: Policy | None = None
    _commit_times: dict[str, datetime | None] = field(default_factory=dict)

    @property
    def policy(self) -> Policy:
        # Built once: it carries the path -> domains and requirements caches.
        if self._policy is None:
            self._policy = policy_of(self.config)
        return self._policy

    def evaluate(self, change: Change) -> Evaluation:
        policy = self.policy
        paths = change.paths  # a tuple built per call: once here
        domains = policy.domains_for(paths)
        requirements = policy.requirements(domains)
        if CONFIG_NAME in paths and change.source == "git":
            # A change to the policy is judged by the policy it replaces as well.
            rules = [(name, policy.rule_of(name)) for name in domains]
            seen = [policy]
            for parent in change.commit.parents:
                before = self._policy_at(parent)
                seen.append(before)
                rules += [
                    (f"{name}@{parent[:7]}", before.rule_of(name))
                    for name in before.domains_for(paths)
                ]
            # ... and by the policy it writes, when that one asks for more.
            own = self._policy_at(change.commit.sha)
            if all(own != other for other in seen):
                sha = change.commit.sha
                rules += [
                    (f"{name}@{sha[:7]}", own.rule_of(name)) for name in own.domains_for(paths)
                ]
            requirements = merge_rules(rules)
        requirements = self._log_rules(requirements)
        return evaluate(
            change,
            requirements,
            self.records_for(change),
            now=self.now,
            verify_signature=self.verify_signature,
            agent_rules=self.config.agents,
            not_before=self._not_before(change),
            appeared_at=self.appeared_at,
        )

    def _log_rules(self, requirements: Requirements) -> Requirements:
        """`[log] require_signed = true` asks every counted approval to be validly signed."""
        log = self.config.log
        if log is not None and log.require_signed and not requirements.signed_approvals:
            return replace(requirements, signed_approvals=True)
        return requirements

    def _not_before(self, change: Change) -> Callable[[Mapping[str, Any]], datetime | None]:
        """When the commit a record names came to exist (its committer time, as far as this
        clone can tell): a verdict dated earlier is backdated. A record about a copy (same
        patch-id) is bounded by that commit when it is here, else by the change's author time
        (a rebased or amended copy keeps it); an inbox record by the author time too."""
        # Parsed when a record asks (most queue items have no record at all).
        commit = change.commit

        def bound(record: Mapping[str, Any]) -> datetime | None:
            sha = record.get("sha")
            if change.source == "git" and sha == change.sha:
                return parse_time(commit.committed_at)
            if isinstance(sha, str) and sha:
                found = self._committed_at(sha)
                if found is not None:
                    return found
            return parse_time(commit.authored_at)

        return bound

    def _committed_at(self, sha: str) -> datetime | None:
        if sha not in self._commit_times:
            out = self.git.run(
                ["show", "-s", "--format=%cI", "--end-of-options", f"{sha}^{{commit}}"],
                ok_codes=(0, 1, 128),
            )
            self._commit_times[sha] = parse_time(out.decode().strip())
        return self._commit_times[sha]

    def _policy_at(self, rev: str) -> Policy:
        if rev not in self._parent_policies:
            self._parent_policies[rev] = policy_of(config_at(self.git, rev))
        return self._parent_policies[rev]


@dataclass
class Verdicts:
    """The verdict records the gate may read, matched to changes by sha, content id or change id.

    The content id (`verdicts.content_ids`, the record's `content_id`) is the verbatim patch-id:
    a copy of an approved commit whose added and removed lines are byte-identical (a rebase, a
    cherry-pick) keeps its approvals; one that differs by so much as a space does not. The
    stable `patch_id` every record also carries ignores whitespace, so it matches nothing: a
    record written before content ids (it has none) counts for its exact sha only.
    """

    records: list[dict[str, Any]]
    notes_ref: str
    notes_present: bool
    content_id_of: Callable[[Sequence[Change]], dict[str, str | None]]
    verify_signature: VerifySignature | None = None
    #: record id -> Unix time it first appeared in the notes ref's history (the gate's reading).
    appeared: dict[str, float] = field(default_factory=dict)
    #: One sentence per line the gate ignored (edited, not a record, misplaced), to name them.
    ignored: list[str] = field(default_factory=list)
    _index: dict[str, list[dict[str, Any]]] | None = None
    _content_ids: dict[str, str | None] = field(default_factory=dict)

    def appeared_at(self, record: Mapping[str, Any]) -> datetime | None:
        when = self.appeared.get(record.get("id"))  # type: ignore[arg-type]
        return None if when is None else datetime.fromtimestamp(when, tz=UTC)

    def prepare(self, changes: Sequence[Change]) -> None:
        """Content ids for every change, in one pass, when any record could match by one."""
        if any(r.get(CONTENT_ID_FIELD) for r in self.records):
            self._content_ids.update(self.content_id_of([c for c in changes if c.source == "git"]))

    def records_for(self, change: Change) -> list[dict[str, Any]]:
        """Every record about the change or a byte-identical copy of it (rebased, cherry-picked)."""
        if self._index is None:
            from reviewq.core.units import consistent

            index: dict[str, list[dict[str, Any]]] = {}
            for record in self.records:
                if not consistent(record):
                    continue  # names a unit its own commit is not part of: counts for nothing
                keys = match_keys(
                    record.get("sha"), record.get(CONTENT_ID_FIELD), record.get("change_id")
                )
                for key in keys:
                    index.setdefault(key, []).append(record)
            self._index = index
        content_id = None if change.source == "inbox" else self._content_ids.get(change.commit.sha)
        seen: dict[int, dict[str, Any]] = {}
        for key in match_keys(change.sha, content_id, change.id):
            for record in self._index.get(key, ()):
                seen.setdefault(id(record), record)
        return list(seen.values())


@dataclass
class Checked:
    change: Change
    evaluation: Evaluation

    def to_json(self) -> dict[str, Any]:
        c = self.change
        return {
            "sha": c.sha,
            "subject": c.commit.subject,
            "agent": c.authorship.agent,
            "family": c.authorship.family,
            "prompted_by": [p.to_json() for p in c.authorship.prompted_by],
            **self.evaluation.to_json(),
        }


@dataclass
class GateResult:
    revs: list[str]
    policy_rev: str
    policy_source: str
    policy_origin: str
    as_of: datetime
    checked: list[Checked]
    as_of_given: bool = False
    #: The policy enforced (for the record: what CI held the range to).
    policy: Policy | None = None
    #: The verdict notes ref, when the range has AI-authored commits and the ref is absent.
    missing_notes: str | None = None
    #: Lines the gate ignored (edited, not a record, misplaced), one sentence each.
    ignored: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[Checked]:
        return [c for c in self.checked if not c.evaluation.passed]

    @property
    def passed(self) -> bool:
        """Every commit meets the policy, and no shared review was out of sight."""
        return not self.failing and self.missing_notes is None

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "range": self.revs,
            "policy": {
                "rev": self.policy_rev,
                "chosen_as": self.policy_source,
                "file": self.policy_origin,
                "rules": self.policy.to_json() if self.policy else None,
            },
            "as_of": self.as_of.isoformat(timespec="seconds"),
            "missing_notes": self.missing_notes,
            "ignored": list(self.ignored),
            "checked": len(self.checked),
            "failing": len(self.failing),
            "commits": [c.to_json() for c in self.checked],
        }


def settled_under_policy(evaluation: Evaluation) -> bool:
    """Nothing left for a reviewer to do: it passes, waits only for its cooldown, or was rejected.

    The queue is the reviewers' work list; a change that needs a second approval stays in it, one
    that needs only time or its author's fix does not. The gate still fails all but the first.
    """
    kinds = {need.code for need in evaluation.unmet}
    return not kinds or kinds == {"cooldown"} or "rejected" in kinds


def open_verdicts(
    ctx: Any,
    *,
    base: str | None = None,
    base_config: Config | None = None,
    strict: bool = True,
    about: Sequence[Change] | None = None,
    include_notes: bool = True,
) -> Verdicts:
    """Every verdict this clone can read (the local log and the notes ref), for the gate.

    Strict where the queue may be lenient: a notes ref with lines that are not verdict records
    (damaged, or written by something else) is an error, since a line we cannot read may be a
    rejection. Signatures are checked by the signing module against the allowed-signers file
    that git names (`gpg.ssh.allowedSignersFile`, the operator's choice) or else the one the
    policy's `[log] allowed_signers` names, read from the same commit as the policy (`base`).

    `about` (lenient reading only): just the verdicts about these changes, which is all
    `Verdicts.records_for` can return for them, read without parsing the rest of the log.
    `include_notes=False` (lenient only) reads the local log alone.
    """

    git = ctx.git
    if not strict and not include_notes:
        if about is not None:
            records = load_verdicts_about(ctx, about, include_notes=False)
        else:
            records = load_verdicts(ctx, include_notes=False)
        return Verdicts(
            records=records,
            notes_ref=NOTES_REF,
            notes_present=False,
            content_id_of=lambda changes: content_ids(ctx, [c.commit.sha for c in changes]),
            verify_signature=_signature_checker(git, base, base_config or ctx.config),
        )
    notes_present = ref_tip(git) is not None  # a ref that is not a notes commit raises
    if strict:
        notes = read_verdict_notes(git)
        if notes.bad_lines or notes.edited:
            what = (
                f"{notes.bad_lines} line(s) that are not verdict records"
                if notes.bad_lines
                else f"{len(notes.edited)} record(s) edited after they were written"
            )
            raise ReviewqError(
                f"{NOTES_REF} holds {what}; a review the gate cannot trust may be a rejection. "
                "Run `reviewq log verify`, then `reviewq sync` or `reviewq log rebuild --to-notes`"
            )
        evidence = gate_evidence(ctx)
        records = evidence.records
    elif about is not None:
        records = load_verdicts_about(ctx, about)
    else:
        records = load_verdicts(ctx)

    def content_id_of(changes: Sequence[Change]) -> dict[str, str | None]:
        # The gate computes every content id from the commits: the cache file is a local
        # shell's to rewrite, and a forged id would count another commit's approval.
        return content_ids(ctx, [c.commit.sha for c in changes], trust_cache=not strict)

    return Verdicts(
        records=records,
        notes_ref=NOTES_REF,
        notes_present=notes_present,
        content_id_of=content_id_of,
        verify_signature=_signature_checker(git, base, base_config or ctx.config),
        appeared=evidence.appeared if strict else {},
        ignored=evidence.ignored if strict else [],
    )


@dataclass
class Evidence:
    """The records the gate counts, when each was first shared, and what it ignored."""

    records: list[dict[str, Any]]
    appeared: dict[str, float]
    ignored: list[str]


def gate_evidence(ctx: Any) -> Evidence:
    """Every verdict the gate may count: the local log and every record the notes ref's history
    has ever held (`store.notes_history`), each line checked against its own hash.

    Records are append-only, so a line a later notes commit deleted still counts, and a line
    that fails its own hash is ignored (and named), never allowed to shadow an intact one. Two
    intact copies of one id with different contents cannot both be the verdict it names: the
    gate refuses to pick one (exit 2). Copies of one verdict that differ only in their chain
    (`prev`, `hash`: re-chained into another clone's log) or signature are one record; a signed
    copy is preferred.
    """

    local, ignored = intact_local_records(ctx)
    history = read_notes_history(ctx.git, cache_path=cache_path_for(_state_dir(ctx)))
    ref = history.ref
    for target, record in history.edited:
        ignored.append(
            f"ignored a line in the history of {ref} (the note on {target[:12]}, record "
            f"{str(record.get('id'))[:12]}): its content does not match its hash (edited)"
        )
    for target, _line in history.bad:
        ignored.append(
            f"ignored a line in the history of {ref} (the note on {target[:12]}) that is not "
            "a verdict record"
        )
    for target, record in history.misplaced:
        ignored.append(
            f"ignored record {str(record.get('id'))[:12]} in {ref}: it is noted on "
            f"{target[:12]}, not on the commit it names"
        )
    records = merge_copies([*local, *history.records], ref)
    return Evidence(records, history.appeared, ignored)


def _state_dir(ctx: Any) -> Path | None:
    try:
        return Path(ctx.state_dir)
    except (AttributeError, OSError):
        return None


def intact_local_records(ctx: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The local log's records whose bytes match their own hash, and one sentence per other
    one (edited after it was written: `log verify` fails it, so no reader may count it). A line
    that is not JSON at all stops the gate, as before (`LogError`)."""

    log = ProvenanceLog(ctx.log_path)
    out, edited = log.intact_records()
    ignored = [
        f"ignored record {number} of the local log (id {str(record.get('id'))[:12]}): "
        "its content does not match its hash (edited); `reviewq log verify` names it"
        for number, record in edited
    ]
    return out, ignored


def merge_copies(records: Sequence[Mapping[str, Any]], where: str) -> list[dict[str, Any]]:
    """One record per id, ordered by time; an id with two different verdicts fails closed."""

    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        rid = record.get("id")
        if isinstance(rid, str):
            by_id.setdefault(rid, []).append(record)
    out: list[dict[str, Any]] = []
    for rid, copies in by_id.items():
        chosen = copies[0]
        if len(copies) > 1 and len({c.get("hash") for c in copies}) > 1:
            # None: a copy with no canonical form (NaN, a lone surrogate): forged, never equal.
            digests = [content_digest_or_none(c) for c in copies]
            if None in digests or len(set(digests)) > 1:
                raise ReviewqError(
                    f"record {rid[:12]} has {max(2, len(set(digests)))} different "
                    f"contents in the local log and {where}'s history: an id names one verdict, "
                    "so one of them is forged or edited and the gate will not pick. Run "
                    "`reviewq log verify` and remove the forged copy"
                )
            chosen = next((c for c in copies if c.get("signature")), chosen)
        out.append(dict(chosen))
    return sorted(out, key=record_order)


def _signature_checker(git: Git, base: str | None, base_config: Config | None) -> VerifySignature:
    """The signing module's check of one record (its verifier built on first use)."""

    verifier: list[Any] = []

    def build() -> Any:
        log = base_config.log if base_config else None
        configured = log.allowed_signers if log else None
        if git.config_get("gpg.ssh.allowedSignersFile") or base is None:
            return verifier_from_git(git, configured)
        program = git.config_get("gpg.ssh.program") or DEFAULT_PROGRAM
        if not configured:
            return SshVerifier(None, program)
        return SshVerifier(_blob_file(git, base, configured), program)

    def check(record: Mapping[str, Any]) -> SignatureCheck:
        if not verifier:
            verifier.append(build())
        return verifier[0].check(record)

    return check


def _blob_file(git: Git, rev: str, path: str) -> Path:
    """`rev:path` in a file ssh-keygen can read: the allowed signers as of the policy's commit.

    Kept in reviewq's state dir under the commit's name (the same content every time); a
    read-only mirror gets a temporary file removed at exit.
    """
    import atexit
    import os
    import tempfile

    try:
        data = git.run(["cat-file", "blob", f"{rev}:{path}"], what="cat-file")
    except GitError:
        raise ReviewqError(
            f"[log] allowed_signers = {path!r} is not in {rev[:12]}'s tree; commit it or fix "
            ".reviewq.toml"
        ) from None
    target = git.paths().state_dir / f"allowed_signers.at-{rev}"
    try:
        # A new file of an unpredictable name, opened exclusively, renamed over the target: a
        # link planted at a guessable temporary name would have sent the write elsewhere and
        # then become the target (what `ssh-keygen` reads the trusted keys from).
        replace_file(target, lambda fh: fh.write(data), prefix=".allowed-signers-")
        return target
    except OSError:
        fd, name = tempfile.mkstemp(prefix="reviewq-allowed-signers-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        atexit.register(lambda: Path(name).unlink(missing_ok=True))
        return Path(name)


class QueuePolicy:
    """Domain and needs of each queue item under the work tree's policy (lenient reading).

    The queue is a view for reviewers, so it reads the policy where they edit it (the work tree)
    and tolerates notes lines it cannot parse; the gate is the strict one.
    """

    def __init__(
        self, ctx: Any, changes: Sequence[Change], now: datetime, *, include_notes: bool = True
    ) -> None:
        self.verdicts = open_verdicts(ctx, strict=False, about=changes, include_notes=include_notes)
        self.verdicts.prepare(changes)
        self.enforcer = Enforcer(
            git=ctx.git,
            config=ctx.config,
            records_for=self.verdicts.records_for,
            now=now,
            verify_signature=self.verdicts.verify_signature,
        )
        self._done: dict[str, Evaluation] = {}

    def evaluation(self, change: Change) -> Evaluation:
        found = self._done.get(change.id)
        if found is None:
            found = self._done[change.id] = self.enforcer.evaluate(change)
        return found

    def is_settled(self, change: Change) -> bool:
        return settled_under_policy(self.evaluation(change))

    def domain_of(self, change: Change) -> str:

        return domain_label(self.evaluation(change).domains)

    def needs_of(self, change: Change) -> tuple[str, ...]:
        return tuple(n.message for n in self.evaluation(change).needs)


def gate_range(
    ctx: Any,
    revs: Sequence[str],
    *,
    as_of: datetime | None = None,
    policy_from: str | None = None,
    explicit_config: bool = False,
) -> GateResult:
    """`reviewq gate REVS`: every AI-authored commit of the range evaluated under the policy of
    the range's base (or `policy_from`, or the `--config` file when `explicit_config`), as of
    `as_of` (default: now). Anything that stops it raises ReviewqError (exit 2)."""
    git = ctx.git
    if not git.has_commits():
        raise ReviewqError("the repository has no commits; nothing to gate")
    now = as_of or local_now()
    resolved = resolve_revs(git, revs)
    refuse_shallow_cut(git, resolved, " ".join(revs))
    base, chosen_as = policy_base(git, resolved, policy_from)
    config = ctx.config if explicit_config else config_at(git, base)
    origin = config.origin or f"{base[:12]}: no {CONFIG_NAME} (built-in policy)"
    if explicit_config:
        chosen_as = "--config"
    else:
        vet_policy_source(ctx, base, config, resolved, now, chosen_as)
    gate_ctx = ctx.with_config(config)
    # Never from the scan cache (`cache.json`, the sizes kept per commit): a local shell could
    # write it, and an emptied record list would pass the range.
    scan = scan_history(gate_ctx, revs, use_cache=False)
    changes = [c for c in scan.changes if c.source == "git"]
    warn_unknown_sizes(ctx, changes)
    verdicts = open_verdicts(ctx, base=base, base_config=config) if changes else None
    enforcer = Enforcer(
        git=git,
        config=config,
        records_for=verdicts.records_for if verdicts else (lambda _change: ()),
        now=now,
        verify_signature=verdicts.verify_signature if verdicts else None,
        appeared_at=verdicts.appeared_at if verdicts else None,
    )
    if verdicts is not None:
        verdicts.prepare(changes)
    checked = [Checked(c, enforcer.evaluate(c)) for c in changes]
    return GateResult(
        missing_notes=verdicts.notes_ref if verdicts and not verdicts.notes_present else None,
        revs=list(revs),
        policy_rev=base,
        policy_source=chosen_as,
        policy_origin=origin,
        as_of=now,
        as_of_given=as_of is not None,
        policy=enforcer.policy,
        checked=checked,
        ignored=list(verdicts.ignored) if verdicts else [],
    )
