"""SSH signatures on verdicts, the way git signs commits: `ssh-keygen -Y sign|verify`.

A reviewer who signs commits with an SSH key (`gpg.format=ssh`, `user.signingkey`) signs verdicts
with the same key, in the namespace `reviewq` (so a verdict signature can never pass for a commit
signature or the other way round). What is signed is the record's content digest
(`reviewq.core.verdict.signing_payload`), so the signature survives re-chaining into another
clone's log.

Checking uses an allowed-signers file (git's `gpg.ssh.allowedSignersFile`, else `[log]
allowed_signers` in .reviewq.toml, a file the team can commit). The signer must be allowed for
the record's reviewer email; a key allowed only for someone else, or only for namespace "git",
is an unknown signer. A signature that does not match the content is a bad signature.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewq.core.verdict import (
    SIG_BAD,
    SIG_GOOD,
    SIG_UNCHECKED,
    SIG_UNKNOWN_SIGNER,
    SIG_UNSIGNED,
    SignatureCheck,
    signing_payload,
)
from reviewq.errors import ReviewqError
from reviewq.sources.gitcmd import Git, GitError

NAMESPACE = "reviewq"
DEFAULT_PROGRAM = "ssh-keygen"


class SigningError(ReviewqError):
    """Signing was configured but did not work; nothing was recorded."""


def _first_line(data: bytes) -> str:
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line and not line.startswith("Signing "):
            return line
    return "no message"


def _run(
    argv: Sequence[str], *, input: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """ssh-keygen without a terminal: a passphrase prompt fails at once instead of hanging a
    TUI (keys with a passphrase belong in ssh-agent, as for git)."""
    env = {**os.environ}
    env.pop("SSH_ASKPASS", None)
    env["SSH_ASKPASS_REQUIRE"] = "never"
    try:
        return subprocess.run(
            list(argv),
            input=input if input is not None else b"",
            capture_output=True,
            env=env,
            start_new_session=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise SigningError(
            f"{argv[0]} is not installed or not on PATH; install OpenSSH (8.2 or later) or "
            "unset gpg.format=ssh"
        ) from None
    except subprocess.TimeoutExpired:
        raise SigningError(f"{argv[0]} did not answer within {timeout:.0f} s") from None


@dataclass(frozen=True, slots=True)
class SshSigner:
    """Signs with `user.signingkey`: a key file path, or a literal `key::ssh-...` public key whose
    private half is in ssh-agent (both as git accepts them)."""

    key: str
    program: str = DEFAULT_PROGRAM

    def sign(self, payload: bytes) -> str:
        with tempfile.TemporaryDirectory(prefix="reviewq-sign-") as tmp:
            message = Path(tmp) / "verdict"
            message.write_bytes(payload)
            argv = [self.program, "-Y", "sign", "-n", NAMESPACE]
            literal = self.key.startswith(("key::", "ssh-", "ecdsa-", "sk-"))
            if literal:
                keyfile = Path(tmp) / "key.pub"
                keyfile.write_text(self.key.removeprefix("key::").strip() + "\n")
                argv += ["-U", "-f", str(keyfile)]
            else:
                argv += ["-f", str(Path(self.key).expanduser())]
            proc = _run([*argv, str(message)])
            signature = Path(str(message) + ".sig")
            if proc.returncode != 0 or not signature.exists():
                raise SigningError(
                    f"could not sign the verdict with {self.describe()} "
                    f"({_first_line(proc.stderr)}); nothing was recorded. Load the key into "
                    "ssh-agent (`ssh-add`), fix user.signingkey, or unset gpg.format=ssh"
                )
            return signature.read_text("ascii").strip()

    def describe(self) -> str:
        return "the key from ssh-agent" if self.key.startswith("key::") else self.key


def signer_from_git(git: Git) -> SshSigner | None:
    """The reviewer's signer when git is set up for SSH signing, else None (unsigned)."""
    if (git.config_get("gpg.format") or "").lower() != "ssh":
        return None
    key = git.config_get("user.signingkey")
    if not key:
        return None
    program = git.config_get("gpg.ssh.program") or DEFAULT_PROGRAM
    if not key.startswith(("key::", "ssh-", "ecdsa-", "sk-")):
        path = Path(key).expanduser()
        if not path.is_absolute():
            path = _repo_root(git) / path
        if not path.exists():
            raise SigningError(
                f"user.signingkey points at {path}, which does not exist; fix the setting "
                "or unset gpg.format=ssh"
            )
        key = str(path)
    return SshSigner(key=key, program=program)


def _repo_root(git: Git) -> Path:
    paths = git.paths()
    return paths.work_tree or paths.git_dir


@dataclass(frozen=True, slots=True)
class SshVerifier:
    """Checks record signatures against an allowed-signers file (None: cannot check signers)."""

    allowed_signers: Path | None
    program: str = DEFAULT_PROGRAM

    def check(self, record: Mapping[str, Any]) -> SignatureCheck:
        signature = record.get("signature")
        if signature in (None, ""):
            return SignatureCheck(SIG_UNSIGNED, "no signature")
        if not isinstance(signature, str) or "BEGIN SSH SIGNATURE" not in signature:
            return SignatureCheck(SIG_BAD, "the signature field is not an SSH signature")
        reviewer = record.get("reviewer")
        email = reviewer.get("email") if isinstance(reviewer, Mapping) else None
        try:
            payload = signing_payload(record)
        except (ValueError, RecursionError):  # no canonical form (NaN, a lone surrogate)
            return SignatureCheck(SIG_BAD, "the record has no canonical form: nothing signed it")
        with tempfile.TemporaryDirectory(prefix="reviewq-verify-") as tmp:
            sig = Path(tmp) / "verdict.sig"
            sig.write_text(signature + "\n", "ascii", errors="replace")
            if self.allowed_signers is not None and isinstance(email, str) and email:
                proc = _run(
                    [
                        self.program,
                        "-Y",
                        "verify",
                        "-f",
                        str(self.allowed_signers),
                        "-I",
                        email,
                        "-n",
                        NAMESPACE,
                        "-s",
                        str(sig),
                    ],
                    input=payload,
                )
                if proc.returncode == 0:
                    return SignatureCheck(SIG_GOOD, f"signed by {email}")
            valid = _run(
                [self.program, "-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)],
                input=payload,
            )
            if valid.returncode != 0:
                return SignatureCheck(
                    SIG_BAD, "the signature does not match the record (content or key changed)"
                )
            if self.allowed_signers is None:
                return SignatureCheck(
                    SIG_UNCHECKED,
                    "validly signed, but no allowed-signers file says whose key it is",
                )
            return SignatureCheck(SIG_UNKNOWN_SIGNER, self._who(sig, email))

    def _who(self, sig: Path, email: str | None) -> str:
        assert self.allowed_signers is not None
        found = _run(
            [self.program, "-Y", "find-principals", "-s", str(sig), "-f", str(self.allowed_signers)]
        )
        principals = found.stdout.decode("utf-8", "replace").split()
        if principals:
            return (
                f"signed by the key of {', '.join(principals)}, which is not allowed to sign "
                f"{NAMESPACE} verdicts as reviewer {email or '(none)'}"
            )
        return f"signed by a key the allowed-signers file does not list (reviewer {email})"

    def check_many(self, records: Sequence[Mapping[str, Any]]) -> list[SignatureCheck]:
        """Same as `check` for each record; ssh-keygen runs in parallel for signed ones."""
        results: list[SignatureCheck | None] = [None] * len(records)
        signed = []
        for i, record in enumerate(records):
            if record.get("signature") in (None, ""):
                results[i] = SignatureCheck(SIG_UNSIGNED, "no signature")
            else:
                signed.append(i)
        if signed:
            workers = max(1, min(16, (os.cpu_count() or 2) * 2, len(signed)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for i, check in zip(signed, pool.map(lambda j: self.check(records[j]), signed)):
                    results[i] = check
        return [r for r in results if r is not None]


def allowed_signers_path(git: Git, configured: str | None = None) -> Path | None:
    """git's `gpg.ssh.allowedSignersFile`, else the repository's `[log] allowed_signers`.

    In a bare clone (a CI mirror) the repository's file is read from HEAD's tree.
    """
    value = git.config_get("gpg.ssh.allowedSignersFile")
    if value:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = _repo_root(git) / path
        if not path.is_file():
            raise ReviewqError(
                f"gpg.ssh.allowedSignersFile points at {path}, which is not a file; fix the setting"
            )
        return path
    if not configured:
        return None
    paths = git.paths()
    if paths.work_tree is not None:
        path = paths.work_tree / configured
        if not path.is_file():
            raise ReviewqError(
                f"[log] allowed_signers = {configured!r}: no such file in the work tree; "
                "add it or fix .reviewq.toml"
            )
        return path
    try:
        blob = git.run(["cat-file", "blob", f"HEAD:{configured}"], what="cat-file")
    except GitError:
        raise ReviewqError(
            f"[log] allowed_signers = {configured!r} is not in HEAD's tree; commit it or fix "
            ".reviewq.toml"
        ) from None
    cache = git.paths().state_dir / "allowed_signers.from-HEAD"
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(blob)
    except OSError:
        # A read-only mirror: fall back to a private temp file for this process.
        fd, tmp = tempfile.mkstemp(prefix="reviewq-allowed-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        cache = Path(tmp)
    return cache


def verifier_from_git(git: Git, configured: str | None = None) -> SshVerifier:
    program = git.config_get("gpg.ssh.program") or DEFAULT_PROGRAM
    return SshVerifier(allowed_signers_path(git, configured), program)
