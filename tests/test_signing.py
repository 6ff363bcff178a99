"""Signed verdicts with real keys made by ssh-keygen, and every way a signature can go wrong."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from reviewq.core.verdict import signing_payload
from reviewq.store.signing import SshSigner
from tests.verdict_kit import ai_commit, allowed_line, git_config, keygen, raw_lines, rechain

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen (-Y sign/verify)"
)

REVIEWER = "reviewer@example.com"  # conftest's git identity


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "keys"
    return {
        "alice": keygen(folder, "alice"),
        "mallory": keygen(folder, "mallory"),
        "locked": keygen(folder, "locked", passphrase="correct horse"),
    }


@pytest.fixture
def allowed(tmp_path: Path, keys: dict[str, Path]) -> Path:
    path = tmp_path / "allowed_signers"
    path.write_text(
        allowed_line(REVIEWER, keys["alice"]) + allowed_line("mallory@example.com", keys["mallory"])
    )
    return path


@pytest.fixture
def signing(keys: dict[str, Path], allowed: Path) -> dict[str, Path]:
    git_config("gpg.format", "ssh")
    git_config("user.signingkey", str(keys["alice"]))
    git_config("gpg.ssh.allowedSignersFile", str(allowed))
    return keys


def log_of(repo) -> Path:
    return repo.path / ".git" / "reviewq" / "log.jsonl"


def record(repo, cli, verdict: str = "approve", subject: str = "change") -> dict:
    sha = ai_commit(repo, subject)
    out = cli("--repo", str(repo.path), "verdict", sha, verdict, "--seconds", "30", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def verify(repo, cli, *extra: str):
    return cli("--repo", str(repo.path), "log", "verify", "--json", *extra)


def edit_log(repo, index: int, **changes: object) -> list[dict]:
    """Change record `index` and re-chain the whole log (and its head), as a careful forger."""
    records = [json.loads(line) for line in raw_lines(log_of(repo))]
    records[index].update(changes)
    return rechain(log_of(repo), records)


def test_verdict_is_signed_and_verifies(repo, cli, signing) -> None:
    stored = record(repo, cli)
    assert stored["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    out = verify(repo, cli)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["signatures"]["good"] == 1 and report["ok"] is True
    # The team copy carries the same signature, and it checks out there too.
    notes = repo.git("notes", "--ref=reviewq", "show", stored["sha"])
    assert json.loads(notes)["signature"] == stored["signature"]
    # ssh-keygen agrees on its own, outside reviewq.
    sig = repo.path.parent / "sig"
    sig.write_text(stored["signature"] + "\n")
    check = subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(signing["alice"].parent.parent / "allowed_signers"),
            "-I",
            REVIEWER,
            "-n",
            "reviewq",
            "-s",
            str(sig),
        ],
        input=signing_payload(stored),
        capture_output=True,
    )
    assert check.returncode == 0, check.stderr


def test_edited_record_keeps_its_old_signature_bad_signature(repo, cli, signing) -> None:
    record(repo, cli)
    edit_log(repo, 0, verdict="reject")
    out = verify(repo, cli)
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["chain"] is None  # the forger re-chained...
    kinds = {f["kind"] for f in report["findings"]}
    assert "bad-signature" in kinds  # ...but could not re-sign as the reviewer
    assert "notes-mismatch" in kinds  # and the team's copy still says approve
    assert "record 1" in out.stderr and "bad-signature" in out.stderr


def test_resigned_with_another_key_is_an_unknown_signer(repo, cli, signing) -> None:
    record(repo, cli)
    records = [json.loads(line) for line in raw_lines(log_of(repo))]
    forged = dict(records[0], verdict="reject")
    forged["signature"] = SshSigner(str(signing["mallory"])).sign(signing_payload(forged))
    rechain(log_of(repo), [forged])
    out = verify(repo, cli)
    assert out.returncode == 1
    finding = next(f for f in json.loads(out.stdout)["findings"] if f["kind"] == "unknown-signer")
    assert "mallory@example.com" in finding["detail"] and REVIEWER in finding["detail"]
    assert "unknown-signer" in out.stderr


def test_key_unknown_to_the_allowed_signers_file(repo, cli, signing, tmp_path) -> None:
    stranger = keygen(tmp_path / "more", "stranger")
    git_config("user.signingkey", str(stranger))
    record(repo, cli)
    out = verify(repo, cli)
    assert out.returncode == 1
    finding = json.loads(out.stdout)["findings"][0]
    assert finding["kind"] == "unknown-signer" and "does not list" in finding["detail"]


def test_signature_copied_from_another_record(repo, cli, signing) -> None:
    first = record(repo, cli, subject="one")
    record(repo, cli, subject="two")
    edit_log(repo, 1, signature=first["signature"])
    out = verify(repo, cli)
    assert out.returncode == 1
    findings = json.loads(out.stdout)["findings"]
    assert any(f["record"] == 2 and f["kind"] == "bad-signature" for f in findings)


def test_garbage_signature_is_bad(repo, cli, signing) -> None:
    record(repo, cli)
    edit_log(repo, 0, signature="-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----")
    assert verify(repo, cli).returncode == 1


def test_key_allowed_only_for_git_commits(repo, cli, signing, allowed, keys) -> None:
    allowed.write_text(allowed_line(REVIEWER, keys["alice"], 'namespaces="git"'))
    record(repo, cli)
    out = verify(repo, cli)
    assert out.returncode == 1
    assert json.loads(out.stdout)["findings"][0]["kind"] == "unknown-signer"


def test_unsigned_records_fail_only_when_required(repo, cli, allowed) -> None:
    record(repo, cli)  # git is not set up to sign yet
    git_config("gpg.ssh.allowedSignersFile", str(allowed))
    out = verify(repo, cli)
    assert out.returncode == 0  # unsigned records are reported, not fatal by default...
    assert json.loads(out.stdout)["signatures"]["unsigned"] == 1
    assert verify(repo, cli, "--require-signed").returncode == 1  # ...unless asked
    repo.write(".reviewq.toml", "[log]\nrequire_signed = true\n")
    strict = verify(repo, cli)
    assert strict.returncode == 1 and "unsigned" in strict.stderr


def test_stripped_signature_is_caught_by_the_team_copy(repo, cli, signing) -> None:
    record(repo, cli)
    edit_log(repo, 0, signature=None)
    out = verify(repo, cli)
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["signatures"]["unsigned"] == 1
    assert [f["kind"] for f in report["findings"] if f["kind"] != "unsigned"] == ["notes-mismatch"]


def test_unsigned_when_git_does_not_sign(repo, cli) -> None:
    stored = record(repo, cli)
    assert stored["signature"] is None
    out = cli("--repo", str(repo.path), "log", "verify")
    assert out.returncode == 0 and "1 unsigned" in out.stdout


def test_no_allowed_signers_file_means_unchecked(repo, cli, keys) -> None:
    git_config("gpg.format", "ssh")
    git_config("user.signingkey", str(keys["alice"]))
    record(repo, cli)
    out = verify(repo, cli)
    assert out.returncode == 0
    assert json.loads(out.stdout)["signatures"]["unchecked"] == 1
    assert verify(repo, cli, "--require-signed").returncode == 1


def test_passphrase_key_without_agent_records_nothing(repo, cli, signing) -> None:
    git_config("user.signingkey", str(signing["locked"]))
    sha = ai_commit(repo, "change")
    out = cli("--repo", str(repo.path), "verdict", sha, "approve")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not sign the verdict" in lines[0] and "ssh-add" in lines[0]
    assert not log_of(repo).exists() or log_of(repo).read_bytes() == b""
    assert repo.git("notes", "--ref=reviewq", "list") == ""


def test_missing_key_file_records_nothing(repo, cli, signing, tmp_path) -> None:
    git_config("user.signingkey", str(tmp_path / "nope"))
    sha = ai_commit(repo, "change")
    out = cli("--repo", str(repo.path), "verdict", sha, "approve")
    assert out.returncode == 2 and "does not exist" in out.stderr
    assert not log_of(repo).exists()


def test_allowed_signers_committed_in_the_repository(repo, cli, keys, make_repo) -> None:
    """A team commits its allowed-signers file; a bare CI mirror checks the notes with it."""
    git_config("gpg.format", "ssh")
    git_config("user.signingkey", str(keys["alice"]))
    repo.write(".reviewq/allowed_signers", allowed_line(REVIEWER, keys["alice"]))
    repo.write(".reviewq.toml", '[log]\nallowed_signers = ".reviewq/allowed_signers"\n')
    repo.commit("team signers")
    record(repo, cli)
    assert json.loads(verify(repo, cli).stdout)["signatures"]["good"] == 1

    mirror = repo.path.parent / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(mirror)], check=True)
    out = cli("--repo", str(mirror), "log", "verify", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["records"] == 0 and report["notes"]["signatures"] == {"good": 1}


def test_signatures_survive_rebuilding_another_clone_s_log(repo, cli, signing, tmp_path) -> None:
    record(repo, cli, subject="one")
    record(repo, cli, subject="two")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], check=True)
    subprocess.run(
        ["git", "fetch", "-q", "origin", "refs/notes/reviewq:refs/notes/reviewq"],
        cwd=clone,
        check=True,
    )
    out = cli("--repo", str(clone), "log", "rebuild", "--from-notes")
    assert out.returncode == 0 and "2 verdict(s) appended" in out.stdout
    report = json.loads(cli("--repo", str(clone), "log", "verify", "--json").stdout)
    assert report["ok"] and report["signatures"]["good"] == 2 and report["records"] == 2


def test_literal_key_from_ssh_agent(repo, cli, keys, allowed, tmp_path) -> None:
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("needs ssh-agent and ssh-add for `key::` signing keys")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            subprocess.run(["sleep", "0.02"])
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(keys["alice"])], env=env, check=True)
        public = keys["alice"].with_name("alice.pub").read_text().strip()
        git_config("gpg.format", "ssh")
        git_config("user.signingkey", f"key::{public}")
        git_config("gpg.ssh.allowedSignersFile", str(allowed))
        sha = ai_commit(repo, "change")
        out = cli("--repo", str(repo.path), "verdict", sha, "approve", "--json", env=env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["signature"]
        assert json.loads(verify(repo, cli).stdout)["signatures"]["good"] == 1
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait()


def test_a_pair_verdict_driven_by_someone_else_is_not_signed_with_this_key(
    repo, cli, signing
) -> None:
    """The key here is its owner's: it signs a pair verdict only when its owner drives. A
    signature over someone else's verdict would fail `log verify` as an unknown signer."""
    from reviewq.context import Context
    from reviewq.core.model import Identity
    from reviewq.workflow.lookup import lookup
    from reviewq.workflow.recording import record_verdict

    sha = ai_commit(repo, "pair")
    ctx = Context.open(repo.path)
    try:
        change = lookup(ctx, sha).change
        me = Identity("Reviewer", REVIEWER)
        other = Identity("Lee Park", "lee@acme.example")
        common = dict(active_seconds=30, wall_seconds=30, hunks_total=1, hunks_viewed=1)
        theirs = record_verdict(ctx, change, "approve", reviewer=other, co_reviewers=[me], **common)
        mine = record_verdict(ctx, change, "approve", reviewer=me, co_reviewers=[other], **common)
    finally:
        ctx.close()
    assert theirs["reviewer"] == other.to_json() and theirs["signature"] is None
    assert theirs["co_reviewers"] == [me.to_json()]
    assert mine["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    out = verify(repo, cli)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["signatures"]["good"] == 1 and report["signatures"]["unsigned"] == 1
