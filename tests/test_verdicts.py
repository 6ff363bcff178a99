"""Recording verdicts (API and CLI), the settled queue, patch-ids, and failures that lose nothing."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reviewq.context import Context
from reviewq.core.model import Identity
from reviewq.core.verdict import CritiqueState, line_hash_matches
from reviewq.errors import ReviewqError
from reviewq.store.log import ProvenanceLog
from reviewq.store.notes_log import NOTES_REF, inbox_target, read_verdict_notes
from reviewq.workflow.lookup import lookup
from reviewq.workflow.recording import (
    PATCH_ID_KEY,
    PATCH_ID_TABLE,
    load_verdicts,
    patch_ids,
    record_verdict,
)
from tests.verdict_kit import ai_commit

CLOCK_TIME = datetime(2026, 11, 20, 14, 30, 5, 250000, tzinfo=timezone(timedelta(hours=1)))


def clock() -> datetime:
    return CLOCK_TIME


def ctx_for(path: Path) -> Context:
    return Context.open(path)


def queue_ids(cli, repo_path: Path) -> list[str]:
    out = cli("--repo", str(repo_path), "queue", "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(line)["id"] for line in out.stdout.splitlines()]


def git_patch_id(repo, sha: str) -> str:
    shown = subprocess.run(
        ["git", "show", sha], cwd=repo.path, capture_output=True, check=True
    ).stdout
    out = subprocess.run(
        ["git", "patch-id", "--stable"], cwd=repo.path, input=shown, capture_output=True
    )
    return out.stdout.split()[0].decode()


# -- the API ----------------------------------------------------------------------------------


def test_record_verdict_api_stores_everything(repo) -> None:
    sha = ai_commit(repo, "Add retries", files={"a.py": "x = 1\ny = 2\n", "b.py": "z = 3\n"})
    ctx = ctx_for(repo.path)
    change = lookup(ctx, sha).change
    assert change is not None
    stored = record_verdict(
        ctx,
        change,
        "approve",
        note="retries are bounded",
        active_seconds=94.25,
        wall_seconds=130,
        hunks_total=2,
        hunks_viewed=2,
        critique=CritiqueState("static", "rules", None, opened_before_verdict=True),
        domain="payments",
        extra={"session": "s-1"},
        clock=clock,
    )
    ctx.close()
    assert stored["sha"] == sha and stored["change_id"] == sha
    assert stored["patch_id"] == git_patch_id(repo, sha)
    assert stored["reviewer"] == {"name": "Test Reviewer", "email": "reviewer@example.com"}
    assert stored["at"] == "2026-11-20T14:30:05.250+01:00"
    assert (stored["active_seconds"], stored["wall_seconds"]) == (94.25, 130.0)
    assert stored["lines_changed"] == 3 and (stored["hunks_total"], stored["hunks_viewed"]) == (
        2,
        2,
    )
    assert stored["critique"]["opened_before_verdict"] is True
    assert stored["author_family"] == "anthropic" and stored["agent"] == "claude-code"
    assert stored["domain"] == "payments" and stored["session"] == "s-1"
    assert stored["note"] == "retries are bounded"
    # Log first, then the same bytes as one line in the note of the commit.
    log_line = (repo.path / ".git" / "reviewq" / "log.jsonl").read_bytes()
    note = repo.git("notes", f"--ref={NOTES_REF}", "show", sha)
    assert note.encode() + b"\n" == log_line
    assert line_hash_matches(log_line, stored)


def test_worktrees_share_one_log(repo, tmp_path) -> None:
    sha = ai_commit(repo, "change")
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"), "-b", "side")
    main_ctx, wt_ctx = ctx_for(repo.path), ctx_for(tmp_path / "wt")
    assert main_ctx.log_path == wt_ctx.log_path
    change = lookup(wt_ctx, sha).change
    assert change is not None
    record_verdict(
        wt_ctx, change, "approve", active_seconds=1, wall_seconds=1, hunks_total=1, hunks_viewed=1
    )
    assert len(load_verdicts(main_ctx)) == 1


def test_notes_lines_stay_sorted_and_unique(repo) -> None:
    sha = ai_commit(repo, "change")
    ctx = ctx_for(repo.path)
    change = lookup(ctx, sha).change
    assert change is not None
    for verdict in ("escalate", "approve", "changes"):
        record_verdict(
            ctx,
            change,
            verdict,
            note="n",
            active_seconds=1,
            wall_seconds=1,
            hunks_total=1,
            hunks_viewed=0,
        )
    lines = repo.git("notes", f"--ref={NOTES_REF}", "show", sha).splitlines()
    assert len(lines) == 3 and lines == sorted(lines)
    assert [r["verdict"] for r in load_verdicts(ctx)] == ["escalate", "approve", "changes"]


def test_patch_ids_in_one_pass_and_cached(repo) -> None:
    shas = [ai_commit(repo, f"c{i}", files={f"f{i}.txt": f"{i}\n"}) for i in range(5)]
    repo.git("commit", "-q", "--allow-empty", "-m", "empty")
    empty = repo.git("rev-parse", "HEAD")  # no diff: no patch-id
    ctx = ctx_for(repo.path)
    ids = patch_ids(ctx, [*shas, empty])
    assert ids == {**{s: git_patch_id(repo, s) for s in shas}, empty: None}
    cached = ctx.cache.get(PATCH_ID_TABLE, PATCH_ID_KEY)
    assert set(cached) == {*shas, empty}
    ctx.close()
    reopened = ctx_for(repo.path)
    assert reopened.cache.get(PATCH_ID_TABLE, PATCH_ID_KEY) == cached


# -- the queue --------------------------------------------------------------------------------


def test_queue_leaves_settled_items_out(repo, cli) -> None:
    a = ai_commit(repo, "a")
    b = ai_commit(repo, "b")
    c = ai_commit(repo, "c")
    d = ai_commit(repo, "d")
    assert set(queue_ids(cli, repo.path)) == {a, b, c, d}
    for sha, verdict in ((a, "approve"), (b, "reject"), (c, "changes"), (d, "escalate")):
        out = cli("--repo", str(repo.path), "verdict", sha, verdict, "--note", "n")
        assert out.returncode == 0, out.stderr
    assert queue_ids(cli, repo.path) == [d]  # escalated: someone senior must still look
    cli("--repo", str(repo.path), "verdict", d, "approve")
    assert queue_ids(cli, repo.path) == []
    cli(
        "--repo", str(repo.path), "verdict", a, "escalate", "--note", "n"
    )  # approved, then escalated
    assert queue_ids(cli, repo.path) == [a]


def test_rebased_and_cherry_picked_changes_stay_reviewed(repo, cli) -> None:
    base = repo.commit("base", files={"app.py": "print('hi')\n"})
    repo.git("checkout", "-q", "-b", "feature")
    reviewed = ai_commit(repo, "Add feature", files={"feature.py": "def f():\n    return 1\n"})
    assert cli("--repo", str(repo.path), "verdict", reviewed, "approve").returncode == 0
    # main moves on; the feature is rebased onto it: a new sha, the same change.
    repo.git("checkout", "-q", "main")
    repo.commit("unrelated", files={"other.py": "x = 1\n"})
    repo.git("checkout", "-q", "feature")
    repo.git("rebase", "-q", "main")
    rebased = repo.git("rev-parse", "HEAD")
    assert rebased != reviewed and repo.git("merge-base", "--is-ancestor", base, rebased) == ""
    assert rebased not in queue_ids(cli, repo.path)
    # Cherry-picked elsewhere: still the same patch-id.
    repo.git("checkout", "-q", "-b", "release", "main")
    repo.git("cherry-pick", reviewed)
    assert queue_ids(cli, repo.path) == []
    # Amended with a real change: a different patch, so it needs a review.
    repo.write("feature.py", "def f():\n    return 2\n")
    repo.git("commit", "-q", "-a", "--amend", "--no-edit")
    amended = repo.git("rev-parse", "HEAD")
    assert queue_ids(cli, repo.path) == [amended]


def test_inbox_patch_verdict_and_bare_mirror(demo_repo: Path, cli) -> None:
    before = queue_ids(cli, demo_repo)
    inbox = [i for i in before if i.startswith("inbox:")]
    assert len(inbox) == 1
    out = cli("--repo", str(demo_repo), "verdict", inbox[0], "changes", "--note", "n", "--json")
    assert out.returncode == 0, out.stderr
    stored = json.loads(out.stdout)
    assert stored["sha"] is None and stored["change_id"] == inbox[0]
    assert stored["patch_id"] == inbox[0].removeprefix("inbox:")
    assert inbox[0] not in queue_ids(cli, demo_repo)
    # The note hangs on the stand-in object for the patch-id, and reads back.
    ctx = ctx_for(demo_repo)
    target = inbox_target(ctx.git, stored["patch_id"])
    assert (
        json.loads(
            subprocess.run(
                ["git", "notes", "--ref=reviewq", "show", target],
                cwd=demo_repo,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )["id"]
        == stored["id"]
    )
    # A git commit verdict too, then a bare mirror (CI) sees both without any local log.
    git_item = next(i for i in before if not i.startswith("inbox:"))
    assert cli("--repo", str(demo_repo), "verdict", git_item, "approve").returncode == 0
    mirror = demo_repo.parent / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(demo_repo), str(mirror)], check=True)
    logged = cli("--repo", str(mirror), "log", "--json")
    assert logged.returncode == 0, logged.stderr
    assert {json.loads(line)["id"] for line in logged.stdout.splitlines()} == {
        stored["id"],
        *[r["id"] for r in load_verdicts(ctx) if r["sha"]],
    }


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_verdict_text_json_and_log_table(repo, cli) -> None:
    sha = ai_commit(repo, "Tighten timeouts")
    out = cli(
        "--repo", str(repo.path), "verdict", sha[:10], "approve", "--note", "ok", "--seconds", "95"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"approve recorded for {sha[:12]} Tighten timeouts")
    assert "unsigned" in out.stdout
    table = cli("--repo", str(repo.path), "log")
    assert table.returncode == 0
    header, row, total = table.stdout.strip().splitlines()
    assert header.split()[:4] == ["AT", "VERDICT", "CHANGE", "REVIEWER"]
    assert "approve" in row and sha[:12] in row and "1m 35s" in row and row.rstrip().endswith("ok")
    assert total == "1 verdict(s)"
    as_json = cli("--repo", str(repo.path), "log", "--json")
    record = json.loads(as_json.stdout)
    assert record["active_seconds"] == record["wall_seconds"] == 95.0
    assert record["hunks_viewed"] == 0 and record["critique"] is None


def test_log_since_and_local(repo, cli) -> None:
    sha = ai_commit(repo, "change")
    cli("--repo", str(repo.path), "verdict", sha, "approve")
    assert (
        len(
            cli(
                "--repo", str(repo.path), "log", "--json", "--since", "1 hour ago"
            ).stdout.splitlines()
        )
        == 1
    )
    assert cli("--repo", str(repo.path), "log", "--json", "--since", "2099-01-01").stdout == ""
    bad = cli("--repo", str(repo.path), "log", "--since", "whenever")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    # A verdict only in the notes (from a teammate) shows in `log`, not in `log --local`.
    (repo.path / ".git" / "reviewq" / "log.jsonl").rename(repo.path / "elsewhere.jsonl")
    (repo.path / ".git" / "reviewq" / "log.jsonl.head").unlink()
    assert len(cli("--repo", str(repo.path), "log", "--json").stdout.splitlines()) == 1
    assert cli("--repo", str(repo.path), "log", "--json", "--local").stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verdict", "nosuchrev", "approve"], "unknown revision 'nosuchrev'"),
        (["verdict", "HEAD", "lgtm"], "invalid choice: 'lgtm'"),
        (["verdict", "HEAD", "approve", "--seconds", "-3"], "--seconds must be"),
        (["verdict", "HEAD", "approve", "--hunks-viewed", "99"], "--hunks-viewed must be"),
        (["verdict", "HUMAN", "approve"], "is not AI-authored"),
        (["verdict", "inbox:abc", "approve"], "no inbox patch matches"),
    ],
)
def test_cli_verdict_bad_input_is_one_line_exit_2(repo, cli, args, message) -> None:
    human = repo.commit("human work", author=("Ada", "ada@example.com"))
    repo.git("tag", "HUMAN", human)
    ai_commit(repo, "change")
    args = [human if a == "HUMAN" else a for a in args]
    out = cli("--repo", str(repo.path), *args)
    assert out.returncode == 2, out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not (repo.path / ".git" / "reviewq" / "log.jsonl").exists()


def test_not_a_repository(cli, tmp_path) -> None:
    out = cli("--repo", str(tmp_path), "verdict", "HEAD", "approve")
    assert out.returncode == 2 and "not a git repository" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_identity_records_nothing(repo, cli) -> None:
    sha = ai_commit(repo, "change")
    subprocess.run(["git", "config", "--global", "--unset", "user.email"], check=True)
    out = cli("--repo", str(repo.path), "verdict", sha, "approve")
    assert out.returncode == 2 and "git config user.email" in out.stderr
    assert not (repo.path / ".git" / "reviewq" / "log.jsonl").exists()


def test_unwritable_log_records_nothing(repo, cli, tmp_path) -> None:
    sha = ai_commit(repo, "change")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    out = cli(
        "--repo", str(repo.path), "--log", str(blocker / "log.jsonl"), "verdict", sha, "approve"
    )
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "cannot open the log" in out.stderr
    assert repo.git("notes", "--ref=reviewq", "list") == ""


def test_damaged_notes_ref_stops_before_anything_is_written(repo, cli) -> None:
    sha = ai_commit(repo, "change")
    blob = repo.git("hash-object", "-w", "--stdin", input="not a notes commit")
    repo.git("update-ref", NOTES_REF, blob)
    out = cli("--repo", str(repo.path), "verdict", sha, "approve")
    assert out.returncode == 2 and "damaged" in out.stderr
    assert not (repo.path / ".git" / "reviewq" / "log.jsonl").exists()
    for command in (["log"], ["queue"], ["log", "verify"]):
        read = cli("--repo", str(repo.path), *command)
        assert read.returncode == 2 and len(read.stderr.strip().splitlines()) == 1, command


def test_missing_note_blob_is_unreadable_not_empty(repo, cli) -> None:
    sha = ai_commit(repo, "change")
    assert cli("--repo", str(repo.path), "verdict", sha, "approve").returncode == 0
    blob = repo.git("notes", "--ref=reviewq", "list", sha)
    obj = repo.path / ".git" / "objects" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.unlink()
    out = cli("--repo", str(repo.path), "log")
    assert out.returncode == 2 and "unreadable" in out.stderr


def test_notes_failure_after_the_log_keeps_the_verdict_and_sync_repairs(
    repo, cli, make_repo
) -> None:
    sha = ai_commit(repo, "change")
    assert cli("--repo", str(repo.path), "verdict", sha, "escalate", "--note", "n").returncode == 0
    lock = repo.path / ".git" / "refs" / "notes" / "reviewq.lock"
    lock.write_text("")  # another git process (or a crashed one) holds the notes ref
    out = cli("--repo", str(repo.path), "verdict", sha, "approve", "--json")
    assert out.returncode == 0  # the verdict is recorded: exiting 2 would invite a duplicate
    stored = json.loads(out.stdout)
    warning = out.stderr.strip().splitlines()
    assert (
        len(warning) == 1 and "recorded in the log, but the notes ref was not updated" in warning[0]
    )
    assert stored["id"] in {
        r["id"] for r in ProvenanceLog(repo.path / ".git/reviewq/log.jsonl").records()
    }
    verify = cli("--repo", str(repo.path), "log", "verify")
    assert verify.returncode == 0 and "not in the notes ref yet" in verify.stdout
    lock.unlink()
    remote = make_repo("remote.git", bare=True)
    repo.git("remote", "add", "origin", str(remote.path))
    synced = cli("--repo", str(repo.path), "sync")
    assert synced.returncode == 0, synced.stderr
    assert "1 unshared local verdict(s) added" in synced.stdout
    ctx = ctx_for(repo.path)
    assert {r["id"] for r in read_verdict_notes(ctx.git).records} == {
        r["id"] for r in load_verdicts(ctx, include_notes=False)
    }


def test_rebuild_to_notes_and_from_notes(repo, cli) -> None:
    shas = [ai_commit(repo, f"c{i}") for i in range(3)]
    for sha in shas:
        assert cli("--repo", str(repo.path), "verdict", sha, "approve").returncode == 0
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    original = log_path.read_bytes()
    # Notes lost: rebuilt from the log, byte for byte the same lines.
    repo.git("update-ref", "-d", NOTES_REF)
    out = cli("--repo", str(repo.path), "log", "rebuild", "--to-notes")
    assert out.returncode == 0 and "3 verdict line(s) added" in out.stdout
    again = cli("--repo", str(repo.path), "log", "rebuild", "--to-notes")
    assert "0 verdict line(s) added" in again.stdout
    lines = b"".join(repo.git("notes", "--ref=reviewq", "show", s).encode() + b"\n" for s in shas)
    assert sorted(lines.splitlines()) == sorted(original.splitlines())
    # Log lost: rebuilt from the notes.
    log_path.unlink()
    (repo.path / ".git" / "reviewq" / "log.jsonl.head").unlink()
    out = cli("--repo", str(repo.path), "log", "rebuild", "--from-notes")
    assert out.returncode == 0 and "3 verdict(s) appended" in out.stdout
    assert cli("--repo", str(repo.path), "log", "verify").returncode == 0
    again = cli("--repo", str(repo.path), "log", "rebuild", "--from-notes")
    assert "0 verdict(s) appended" in again.stdout


def test_rebuild_from_notes_refuses_a_damaged_log_unless_forced(repo, cli) -> None:
    shas = [ai_commit(repo, f"c{i}") for i in range(3)]
    for sha in shas:
        cli("--repo", str(repo.path), "verdict", sha, "approve")
    log_path = repo.path / ".git" / "reviewq" / "log.jsonl"
    lines = log_path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"verdict":"approve"', b'"verdict":"reject"')
    log_path.write_bytes(b"".join(lines))
    refused = cli("--repo", str(repo.path), "log", "rebuild", "--from-notes")
    assert refused.returncode == 2 and "--force" in refused.stderr
    # --force moves the damaged log aside and starts a clean one from what can be trusted.
    forced = cli("--repo", str(repo.path), "log", "rebuild", "--from-notes", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "moved to" in forced.stdout and "1 record(s) left out" in forced.stdout
    damaged = list(log_path.parent.glob("log.jsonl.damaged-*"))
    assert len([p for p in damaged if not p.name.endswith(".head")]) == 1
    report = json.loads(cli("--repo", str(repo.path), "log", "verify", "--json").stdout)
    assert report["ok"] and report["records"] == 3  # the edited one came back from the notes
    verdicts = {r["sha"]: r["verdict"] for r in load_verdicts(ctx_for(repo.path))}
    assert set(verdicts.values()) == {"approve"}


def test_contract_error_for_api_misuse(repo) -> None:
    sha = ai_commit(repo, "change")
    ctx = ctx_for(repo.path)
    change = lookup(ctx, sha).change
    assert change is not None
    with pytest.raises(ReviewqError, match="verdict must be one of"):
        record_verdict(
            ctx, change, "ok", active_seconds=1, wall_seconds=1, hunks_total=1, hunks_viewed=1
        )
    with pytest.raises(ReviewqError, match="offset"):
        record_verdict(
            ctx,
            change,
            "approve",
            active_seconds=1,
            wall_seconds=1,
            hunks_total=1,
            hunks_viewed=1,
            clock=lambda: datetime(2026, 1, 1),
        )
    with pytest.raises(ReviewqError, match="active_seconds"):
        record_verdict(
            ctx, change, "approve", active_seconds=-1, wall_seconds=1, hunks_total=1, hunks_viewed=1
        )
    with pytest.raises(ReviewqError, match="the reviewer needs a name and an email"):
        record_verdict(
            ctx,
            change,
            "approve",
            active_seconds=1,
            wall_seconds=1,
            hunks_total=1,
            hunks_viewed=1,
            reviewer=Identity("", "lee@acme.example"),
        )
    assert load_verdicts(ctx) == []


def test_edited_notes_line_is_reported_and_ignored(repo, cli) -> None:
    """Someone with push access turns an escalation into an approval in the notes ref."""
    sha = ai_commit(repo, "change")
    assert cli("--repo", str(repo.path), "verdict", sha, "escalate", "--note", "n").returncode == 0
    state = repo.path / ".git" / "reviewq"
    for name in ("log.jsonl", "log.jsonl.head"):
        (state / name).unlink()  # as in a CI mirror: only the notes ref is there
    line = repo.git("notes", "--ref=reviewq", "show", sha)
    repo.note("reviewq", sha, line.replace('"verdict":"escalate"', '"verdict":"approve"'))
    assert queue_ids(cli, repo.path) == [sha]  # the forged approval does not settle it
    assert cli("--repo", str(repo.path), "log", "--json").stdout == ""
    out = cli("--repo", str(repo.path), "log", "verify")
    assert out.returncode == 1
    assert "notes:edited" in out.stderr and "does not match its hash" in out.stderr


def test_rebuild_after_the_log_file_alone_was_deleted(repo, cli) -> None:
    sha = ai_commit(repo, "change")
    assert cli("--repo", str(repo.path), "verdict", sha, "approve").returncode == 0
    (repo.path / ".git" / "reviewq" / "log.jsonl").unlink()  # the head stays behind
    refused = cli("--repo", str(repo.path), "verdict", sha, "reject")
    assert refused.returncode == 2 and "truncated" in refused.stderr
    assert cli("--repo", str(repo.path), "log", "rebuild", "--from-notes").returncode == 2
    forced = cli("--repo", str(repo.path), "log", "rebuild", "--from-notes", "--force")
    assert forced.returncode == 0 and "1 verdict(s) appended" in forced.stdout, forced.stderr
    assert cli("--repo", str(repo.path), "log", "verify").returncode == 0
    assert cli("--repo", str(repo.path), "verdict", sha, "reject").returncode == 0


def test_show_lists_verdicts_including_those_on_a_rebased_copy(repo, cli) -> None:
    repo.commit("base", files={"app.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    original = ai_commit(repo, "Add f", files={"f.py": "def f():\n    return 1\n"})
    cli(
        "--repo",
        str(repo.path),
        "verdict",
        original,
        "approve",
        "--note",
        "fine",
        "--seconds",
        "42",
    )
    repo.git("checkout", "-q", "main")
    repo.commit("other", files={"o.py": "y = 2\n"})
    repo.git("checkout", "-q", "feature")
    repo.git("rebase", "-q", "main")
    rebased = repo.git("rev-parse", "HEAD")
    shown = json.loads(cli("--repo", str(repo.path), "show", rebased, "--json").stdout)
    assert [(v["verdict"], v["sha"]) for v in shown["verdicts"]] == [("approve", original)]
    text = cli("--repo", str(repo.path), "show", rebased).stdout
    assert "verdict    approve by reviewer@example.com" in text
    assert "42s active  (same patch, other commit): fine" in text
    plain = json.loads(cli("--repo", str(repo.path), "show", "main", "--json").stdout)
    assert plain["verdicts"] == []
