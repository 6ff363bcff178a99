"""What may leave the machine: secrets redacted, never-send files dropped, originals kept local."""

from __future__ import annotations

import pytest

from reviewq.core.config import DEFAULT_NEVER_SEND
from reviewq.critics.redact import Redactor, never_send, prepare_outgoing
from tests.critic_eval.harness import FIXTURE_SECRETS, input_for

AWS = FIXTURE_SECRETS["AWS_KEY"]
GH = FIXTURE_SECRETS["GITHUB_TOKEN"]
KEY = FIXTURE_SECRETS["PRIVATE_KEY"]


def test_known_formats_are_replaced_by_numbered_placeholders_and_restored() -> None:
    r = Redactor()
    lines = [f'KEY = "{AWS}"', "nothing here", f"token: {GH}"]
    out = r.lines(lines, bare=True)
    assert out[1] == "nothing here"
    assert AWS not in out[0] and "[REDACTED-" in out[0] and "secret-aws-access-key" in out[0]
    assert GH not in out[2]
    assert r.count == 2
    assert r.restore(out[0]) == lines[0] and r.restore(out[2]) == lines[2]


def test_a_private_key_block_is_hidden_line_by_line_to_its_end() -> None:
    r = Redactor()
    body = KEY.split("\n")
    out = r.lines(["before", *body, "after"])
    assert out[0] == "before" and out[-1] == "after"
    for secret_line in body:
        assert secret_line not in "\n".join(out)


def test_an_unterminated_key_block_hides_everything_after_it() -> None:
    r = Redactor()
    begin, first = KEY.split("\n")[:2]
    out = r.lines([begin, first, "more key material", "even more"])
    assert not any(line in out for line in (first, "more key material", "even more"))


@pytest.mark.parametrize(
    "text",
    [
        "postgres://app:Kx9mQ2vLp7Rt@db/app",
        'password = "Tr0ub4dor-and-3"',
        'ADMIN = os.environ.get("ADMIN_PASSWORD", "letmein")',
        'SALT = "q8Vz3LmP0xR7tY2nB5kW9cJ4hF6gD1sA"',
    ],
)
def test_heuristic_secrets_are_redacted_too(text: str) -> None:
    out = Redactor().text(text)
    assert out != text and "[REDACTED-" in out


def test_code_without_secrets_is_sent_unchanged() -> None:
    text = "def verify(token):\n    return hmac.compare_digest(token, expected)\n"
    assert Redactor().text(text) == text


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        (".env", ".env", True),
        (".env", "deploy/.env", True),
        (".env.*", "deploy/.env.production", True),
        ("*.pem", "certs/server.pem", True),
        ("*.pem", "certs/server.pem.md", False),
        ("**/secrets/**", "secrets/db.txt", True),
        ("**/secrets/**", "ops/secrets/prod/db.txt", True),
        ("**/secrets/**", "ops/secretsauce.py", False),
        ("config/prod.yaml", "config/prod.yaml", True),
        ("config/prod.yaml", "other/config/prod.yaml", False),
        ("private/", "private/notes.md", True),
        ("id_rsa*", "home/.ssh/id_rsa.pub", True),
    ],
)
def test_never_send_globs(glob: str, path: str, expected: bool) -> None:
    assert never_send(path, [glob]) is expected


def test_default_never_send_list_covers_env_files_and_keys() -> None:
    for path in (".env", "app/.env.local", "tls/key.pem", "ci/deploy.key", "infra/prod.tfstate"):
        assert never_send(path, DEFAULT_NEVER_SEND), path
    assert not never_send("app/main.py", DEFAULT_NEVER_SEND)


def test_prepare_outgoing_drops_never_send_files_and_keeps_line_numbers() -> None:
    subject = input_for(
        {
            "app/settings.py": ("X = 1\n", f'X = 1\nKEY = "{AWS}"\n'),
            ".env": (None, "DB_PASSWORD=Tr0ub4dor3x\n"),
        },
        prompt=f"use {GH}",
        message=f"Add key\n\nkey {AWS}\n",
    )
    out = prepare_outgoing(subject.diff, subject.prompt, subject.message, DEFAULT_NEVER_SEND)
    assert out.held_back == [".env"]
    assert [f.path for f in out.diff.files] == ["app/settings.py"]
    rows = out.diff.files[0].hunks[0].lines
    assert [(r.kind, r.new_no) for r in rows] == [
        (r.kind, r.new_no) for r in subject.diff.files[0].hunks[0].lines
    ]
    sent = "\n".join(r.text for r in rows) + out.prompt + out.message
    assert AWS not in sent and GH not in sent
    assert out.redactor.count == 3
    # The original diff is untouched (verification runs against it).
    assert AWS in subject.diff.files[0].hunks[0].lines[-1].text
