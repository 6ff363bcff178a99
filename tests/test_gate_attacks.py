"""Issue 14: someone with push access (to the code and to `refs/notes/reviewq`) steering a change
past review. Each test is one attack, through the real CLI on real repositories: it passed the
gate before the fix and must not now.

The CI view is a bare mirror holding only what was pushed (branches and the notes ref), as the
GitHub Actions workflow fetches it: no local log, so only the notes ref speaks.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reviewq.core.verdict import record_line, seal
from reviewq.sources.gitcmd import Git
from reviewq.store.notes_log import NOTES_REF, NotesError, ref_tip
from tests.conftest import Repo, run_reviewq
from tests.test_gate import ANA, BEN, CODEX, SAFE_PATH, gate, gate_json, record
from tests.verdict_kit import rechain, rehashed

SIMPLE = "[policy]\napprovals = 1\n"


@pytest.fixture
def simple_repo(repo: Repo) -> Repo:
    repo.commit("Adopt reviewq", files={".reviewq.toml": SIMPLE, "README.md": "orders\n"})
    repo.git("tag", "base")
    return repo


def ci_mirror(source: Repo, make_repo, name: str = "ci.git") -> Repo:
    """A bare mirror of what `source` pushed: branches, tags and every notes ref."""
    bare = make_repo(name, bare=True)
    fetch_into(bare, source)
    return bare


def fetch_into(bare: Repo, source: Repo) -> None:
    bare.git(
        "fetch",
        "-q",
        str(source.path),
        "+refs/heads/*:refs/heads/*",
        "+refs/tags/*:refs/tags/*",
        "+refs/notes/*:refs/notes/*",
    )


def note_lines(repo: Repo, sha: str) -> list[str]:
    return [line for line in repo.git("notes", "--ref=reviewq", "show", sha).splitlines() if line]


def forged(original: dict, **changes) -> str:
    """A copy of `original` with `changes`, its hash recomputed: intact by its own hash."""
    return record_line(seal({**original, **changes}, original["prev"])).decode().strip()


def reviewed(repo: Repo) -> tuple[str, dict, dict]:
    """An AI commit Ben rejected and Ana approved: the gate must fail (the rejection stands)."""
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    now = datetime.now().astimezone()
    rejection = record(repo, sha, "reject", reviewer=BEN, at=now - timedelta(minutes=2))
    approval = record(repo, sha, reviewer=ANA, at=now - timedelta(minutes=1))
    return sha, rejection, approval


# -- 3: [log] require_signed -----------------------------------------------------------------


def test_require_signed_is_enforced_by_the_gate_in_ci_and_locally(
    repo: Repo, make_repo, tmp_path: Path
) -> None:
    from tests.verdict_kit import allowed_line, keygen

    key = keygen(tmp_path / "keys", "ana")
    policy = (
        '[log]\nrequire_signed = true\nallowed_signers = "allowed_signers"\n\n'
        "[policy]\napprovals = 1\n"
    )
    repo.commit(
        "Adopt reviewq",
        files={".reviewq.toml": policy, "allowed_signers": allowed_line(ANA[1], key)},
    )
    repo.git("tag", "base")
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha, reviewer=ANA)  # unsigned: anyone can write this line into the notes
    local = gate(repo.path, "base..HEAD")
    assert local.returncode == 1, local.stdout + local.stderr
    assert "not validly signed (unsigned" in local.stdout
    ci = ci_mirror(repo, make_repo)
    result = gate(ci.path, "base..main")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "requires signed approvals" in result.stdout
    # The same reviewer, signing: it counts, in CI too.
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))
    assert record(repo, sha, reviewer=ANA)["signature"]
    fetch_into(ci, repo)
    passed = gate(ci.path, "base..main")
    assert passed.returncode == 0, passed.stdout + passed.stderr


# -- 4: dropping or shadowing a rejection in the notes ------------------------------------------


def test_a_notes_commit_deleting_a_rejection_does_not_pass_the_gate(
    simple_repo: Repo, make_repo
) -> None:
    repo = simple_repo
    sha, rejection, _ = reviewed(repo)
    kept = [line for line in note_lines(repo, sha) if rejection["id"] not in line]
    repo.note(NOTES_REF, sha, "\n".join(kept) + "\n")  # an ordinary, fast-forward commit
    assert len(note_lines(repo, sha)) == 1
    ci = ci_mirror(repo, make_repo)
    result = gate(ci.path, "base..main")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "rejected: by Ben Cho <ben@example.com>" in result.stdout


@pytest.mark.parametrize("keep_original", [True, False], ids=["beside", "replacing"])
def test_a_line_reusing_a_rejections_id_fails_closed(
    simple_repo: Repo, make_repo, keep_original: bool
) -> None:
    repo = simple_repo
    sha, rejection, _ = reviewed(repo)
    original = next(line for line in note_lines(repo, sha) if rejection["id"] in line)
    # Same id, now an approval, intact by its own hash, and sorting before the original.
    shadow = next(
        line
        for i in range(200)
        if (line := forged(rejection, verdict="approve", note=f"ok {i}")) < original
    )
    others = [line for line in note_lines(repo, sha) if keep_original or line != original]
    repo.note(NOTES_REF, sha, "\n".join(sorted([*others, shadow])) + "\n")
    ci = ci_mirror(repo, make_repo)
    result = gate(ci.path, "base..main")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"record {rejection['id'][:12]} has 2 different contents" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "head",
    [b'"aa":NaN,', b'"aa":"\\ud800",', b'"aa":"\xed\xa0\x80",', b'"aa":-Infinity,'],
    ids=["nan", "escaped-surrogate", "encoded-surrogate", "infinity"],
)
def test_a_shadow_with_no_canonical_form_fails_closed_as_an_edited_line(
    simple_repo: Repo, make_repo, head: bytes
) -> None:
    """A copy of the rejection turned approval whose own line hashes right but holds what no
    canonical line holds (json reads NaN, infinities and lone surrogates): it hashes to
    nothing, so it is an edited line, and the gate fails closed on it, in one line. Before,
    comparing its content with the original's crashed the gate with a traceback."""
    repo = simple_repo
    sha, rejection, _ = reviewed(repo)
    shadow = rehashed(forged(rejection, verdict="approve").encode(), head).rstrip(b"\n")
    lines = [line.encode() for line in note_lines(repo, sha)]
    note = b"\n".join(sorted([*lines, shadow])) + b"\n"
    repo.git("notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", sha, input=note)
    result = gate(ci_mirror(repo, make_repo).path, "base..main")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "holds 1 record(s) edited after they were written" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_record_copied_onto_another_commit_does_not_approve_it(
    simple_repo: Repo, make_repo
) -> None:
    repo = simple_repo
    first = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    approval = record(repo, first, reviewer=ANA)
    second = repo.commit("Add another" + CODEX, files={"src/other.py": "y = 2\n"})
    # Ana's approval of the first commit, pointed at the second: same id, new sha and hash.
    copy = forged(approval, sha=second, change_id=second, patch_id=None)
    repo.note(NOTES_REF, second, copy + "\n")
    result = gate(ci_mirror(repo, make_repo).path, "base..main")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "different contents" in result.stderr
    fresh = make_repo("fresh")
    fresh.commit("Adopt reviewq", files={".reviewq.toml": SIMPLE, "README.md": "orders\n"})
    fresh.git("tag", "base")
    one = fresh.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    two = fresh.commit("Add another" + CODEX, files={"src/other.py": "y = 2\n"})
    made = record(fresh, one, reviewer=ANA)
    # A new approval of the second commit, noted on the first (where no writer puts it).
    elsewhere = forged(made, id="f" * 32, sha=two, change_id=two, patch_id=None)
    fresh.note(NOTES_REF, one, "\n".join([*note_lines(fresh, one), elsewhere]) + "\n")
    data = gate_json(fresh.path, "base..main")
    assert {c["sha"]: c["passed"] for c in data["commits"]} == {one: True, two: False}
    assert any("not on the commit it names" in line for line in data["ignored"])


def test_a_rewritten_notes_history_fails_closed_where_it_was_seen(
    simple_repo: Repo, make_repo
) -> None:
    repo = simple_repo
    sha, _, approval = reviewed(repo)
    ci = ci_mirror(repo, make_repo)  # a runner that keeps its clone between jobs
    assert gate(ci.path, "base..main").returncode == 1
    # The notes ref deleted and written again with the approval only: a new root, force-pushed.
    approve_line = next(line for line in note_lines(repo, sha) if approval["id"] in line)
    repo.git("update-ref", "-d", NOTES_REF)
    repo.note(NOTES_REF, sha, approve_line + "\n")
    fetch_into(ci, repo)
    result = gate(ci.path, "base..main")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "was rewritten" in result.stderr and "merge -s cat_sort_uniq" in result.stderr


def test_sync_restores_a_deleted_record_and_quarantines_junk(
    simple_repo: Repo, make_repo, tmp_path: Path
) -> None:
    repo = simple_repo
    remote = make_repo("remote.git", bare=True)
    repo.git("remote", "add", "origin", str(remote.path))
    sha, rejection, _ = reviewed(repo)
    repo.git("push", "-q", "origin", "main")
    assert run_reviewq("sync", cwd=repo.path).returncode == 0
    attacker = tmp_path / "attacker"
    subprocess.run(["git", "clone", "-q", str(remote.path), str(attacker)], check=True)
    evil = Repo.__new__(Repo)
    evil.path = attacker
    evil.git("fetch", "-q", "origin", f"+{NOTES_REF}:{NOTES_REF}")
    kept = [line for line in note_lines(evil, sha) if rejection["id"] not in line]
    evil.note(NOTES_REF, sha, "\n".join([*kept, "{not a record"]) + "\n")
    evil.git("push", "-q", "origin", NOTES_REF)  # fast-forward: the host accepts it

    synced = run_reviewq("sync", cwd=repo.path)
    assert synced.returncode == 0, synced.stderr
    assert "written back" in synced.stderr and "kept out" in synced.stderr
    lines = note_lines(repo, sha)
    assert any(rejection["id"] in line for line in lines)
    assert "{not a record" not in lines
    shared = Repo.__new__(Repo)
    shared.path = remote.path
    assert any(rejection["id"] in line for line in note_lines(shared, sha))
    assert (repo.path / ".git" / "reviewq" / "notes-quarantine.jsonl").read_text().count(
        "not a record"
    ) == 1


def test_sync_merges_a_force_pushed_notes_history_back_and_says_so(
    simple_repo: Repo, make_repo, tmp_path: Path
) -> None:
    repo = simple_repo
    remote = make_repo("remote.git", bare=True)
    repo.git("remote", "add", "origin", str(remote.path))
    sha, rejection, approval = reviewed(repo)
    repo.git("push", "-q", "origin", "main")
    assert run_reviewq("sync", cwd=repo.path).returncode == 0
    old_tip = repo.git("rev-parse", NOTES_REF)
    # The attacker's clone: a new notes history holding only the approval, force-pushed.
    attacker = tmp_path / "attacker"
    subprocess.run(["git", "clone", "-q", str(remote.path), str(attacker)], check=True)
    evil = Repo.__new__(Repo)
    evil.path = attacker
    approve_line = next(line for line in note_lines(repo, sha) if approval["id"] in line)
    evil.note(NOTES_REF, sha, approve_line + "\n")
    evil.git("push", "-q", "-f", "origin", NOTES_REF)

    synced = run_reviewq("sync", cwd=repo.path)
    assert synced.returncode == 0, synced.stderr
    assert "was rewritten" in synced.stderr
    shared = Repo.__new__(Repo)
    shared.path = remote.path
    assert any(rejection["id"] in line for line in note_lines(shared, sha))
    shared.git("merge-base", "--is-ancestor", old_tip, NOTES_REF)  # the history is back


# -- 7: a hand-edited local log record --------------------------------------------------------


def test_an_edited_local_record_is_ignored_and_named_by_the_gate_and_the_hook(
    simple_repo: Repo, make_repo
) -> None:
    repo = simple_repo
    remote = make_repo("remote.git", bare=True)
    repo.git("remote", "add", "origin", str(remote.path))
    repo.git("push", "-q", "origin", "main")
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    record(repo, sha, "reject", reviewer=BEN)
    log = repo.path / ".git" / "reviewq" / "log.jsonl"
    log.write_bytes(log.read_bytes().replace(b'"verdict":"reject"', b'"verdict":"approve"'))
    assert run_reviewq("log", "verify", "--no-signatures", cwd=repo.path).returncode == 1
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "rejected: by Ben Cho" in result.stdout
    assert "ignored record 1 of the local log" in result.stderr
    assert run_reviewq("hooks", "install", cwd=repo.path).returncode == 0
    push = subprocess.run(
        ["git", "push", "-q", "origin", "main"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **SAFE_PATH},
    )
    assert push.returncode != 0, push.stderr
    assert "ignored record 1 of the local log" in push.stderr
    # A careful forger recomputes every hash and the head: the log verifies again, but the
    # team's copy of the record says otherwise, and the gate will not pick.
    rechain(log)
    result = gate(repo.path, "base..HEAD")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "different contents" in result.stderr


# -- 8: backdated verdicts --------------------------------------------------------------------


def test_an_approval_dated_before_the_commit_existed_does_not_count(
    simple_repo: Repo, make_repo
) -> None:
    repo = simple_repo
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    committed = datetime.fromisoformat(repo.git("show", "-s", "--format=%cI", sha))
    record(repo, sha, reviewer=ANA, at=committed - timedelta(hours=1))
    data = gate_json(ci_mirror(repo, make_repo).path, "base..main")
    assert not data["passed"]
    (commit,) = data["commits"]
    assert [n["code"] for n in commit["not_counted"]] == ["backdated"]
    assert "before the commit it names existed" in commit["not_counted"][0]["message"]


def test_a_cooldown_counts_from_when_the_approval_was_shared(repo: Repo, make_repo) -> None:
    from reviewq.context import Context
    from reviewq.workflow.lookup import lookup
    from reviewq.workflow.recording import record_verdict

    repo.commit(
        "Adopt reviewq",
        files={".reviewq.toml": "[policy]\napprovals = 1\ncooldown_hours = 24\n"},
    )
    repo.git("tag", "base")
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    claimed = datetime.now().astimezone() - timedelta(hours=48)
    repo.git("config", "user.email", ANA[1])
    ctx = Context.open(repo.path)  # the notes commit is made now, whatever `at` says
    try:
        change = lookup(ctx, sha).change
        assert change is not None
        record_verdict(
            ctx,
            change,
            "approve",
            active_seconds=60,
            wall_seconds=60,
            hunks_total=1,
            hunks_viewed=1,
            clock=lambda: claimed,
        )
    finally:
        ctx.close()
    ci = ci_mirror(repo, make_repo)
    result = gate(ci.path, "base..main")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cooldown: in cooldown until" in result.stdout
    later = (datetime.now().astimezone() + timedelta(hours=24, minutes=5)).isoformat()
    assert gate(ci.path, "--as-of", later, "base..main").returncode == 0


# -- 12: the first notes write racing a reader ------------------------------------------------


class RacingGit(Git):
    """Another process writes the very first note right after our first look at the ref."""

    def __init__(self, path: Path, sha: str) -> None:
        super().__init__(path)
        self.sha = sha
        self.raced = False

    def run(self, args, **kwargs):  # type: ignore[override]
        out = super().run(args, **kwargs)
        if not self.raced and any(NOTES_REF in str(a) for a in args):
            self.raced = True
            subprocess.run(
                ["git", "notes", "--ref=reviewq", "add", "-m", "first", self.sha],
                cwd=self.path,
                check=True,
                capture_output=True,
            )
        return out


def test_the_first_notes_write_racing_a_reader_is_not_called_damaged(simple_repo: Repo) -> None:
    sha = simple_repo.commit("Add a helper" + CODEX)
    git = RacingGit(simple_repo.path, sha)
    try:
        tip = ref_tip(git)
    except NotesError as exc:  # the old reading: "damaged", with advice to delete it
        pytest.fail(f"a healthy, brand-new ref was reported as damaged: {exc.message}")
    assert git.raced and tip is None
    assert ref_tip(Git(simple_repo.path)) == simple_repo.git("rev-parse", NOTES_REF)


def test_advice_for_an_unreadable_notes_ref_never_deletes_it(simple_repo: Repo) -> None:
    repo = simple_repo
    sha = repo.commit("Add a helper" + CODEX)
    record(repo, sha, reviewer=ANA)
    blob = repo.git("notes", "--ref=reviewq", "list", sha)
    obj = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    obj.unlink()
    line = gate(repo.path, "base..HEAD").stderr
    assert "unreadable" in line and "update-ref -d" not in line, line
    assert json.loads(gate(repo.path, "--json", "base..HEAD").stdout)["exit_code"] == 2


def test_an_edited_local_record_counts_in_no_reader(simple_repo: Repo) -> None:
    """Not only the gate: `log` (whole and `--since`, through the record columns), `stats`
    (the metric columns) and the queue's key index read past a line whose hash fails."""
    repo = simple_repo
    sha = repo.commit("Add a helper" + CODEX, files={"src/helper.py": "x = 1\n"})
    recorded = run_reviewq("verdict", sha, "reject", "--note", "no", cwd=repo.path)
    assert recorded.returncode == 0, recorded.stderr
    # Build the column caches first, so the edit must be caught on the catch-up path too.
    assert run_reviewq("stats", "--json", cwd=repo.path).returncode == 0
    assert run_reviewq("log", "--json", "--since", "1000w", cwd=repo.path).returncode == 0
    repo.git("update-ref", "-d", NOTES_REF)  # the team's copy is gone: only the local line
    log = repo.path / ".git" / "reviewq" / "log.jsonl"
    log.write_bytes(log.read_bytes().replace(b'"verdict":"reject"', b'"verdict":"approve"'))
    # A same-length edit with the cached last record unchanged would fool a cache that trusts
    # its end: append one honest record after the edited one.
    other = repo.commit("Add another" + CODEX, files={"src/other.py": "y = 2\n"})
    assert run_reviewq("verdict", other, "reject", "--note", "no", cwd=repo.path).returncode == 0
    for args in (("log", "--json"), ("log", "--json", "--since", "1000w")):
        shown = run_reviewq(*args, cwd=repo.path)
        assert shown.returncode == 0, shown.stderr
        verdicts = [json.loads(line) for line in shown.stdout.splitlines()]
        assert [v["sha"] for v in verdicts] == [other], args
    stats = run_reviewq("stats", "--json", cwd=repo.path)
    assert stats.returncode == 0, stats.stderr
    totals = json.loads(stats.stdout)["totals"]
    assert (totals["approve"], totals["reject"]) == (0, 1)
    queue = run_reviewq("queue", "--json", cwd=repo.path)
    assert sha in queue.stdout  # the edited "approve" settles nothing
