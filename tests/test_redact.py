"""What may leave the machine: secrets redacted, never-send files dropped, originals kept local."""

from __future__ import annotations

import pytest

from reviewq.core.config import DEFAULT_NEVER_SEND
from reviewq.core.model import DiffLine, FileDiff, Hunk
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
        # gitignore's character classes (pathspec): the hand-written compiler
        # escaped `[` and never matched
        ("*.[pP][eE][mM]", "certs/SERVER.PEM", True),
        ("customers/[0-9]*.csv", "customers/2026.csv", True),
        ("customers/[0-9]*.csv", "customers/notes.csv", False),
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


# -- issue 14, item 2: what the redactor used to miss ------------------------------------------

SK = "sk" + "_live_" + "Qx7Lm2Vp9Rt4Wz8Kp3Nd6Yf1"
BODY = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
    "Tq1Hs8vWzG3pLmX0cR7bYf2KdN5uJ9aE4iQ6oS1tV8wB3xC7zD0eF2gH4jK6lM8n",
]
END = "-----END " + "PRIVATE KEY-----"


def test_git_hunk_section_headers_are_redacted() -> None:
    fd = FileDiff(
        path="billing.py",
        old_path=None,
        status="modified",
        hunks=[Hunk(16, 1, 16, 1, f'SERVICE_KEY = "{SK}"', [DiffLine("+", "RATE = 2", None, 16)])],
    )
    out = Redactor().file(fd)
    assert SK not in out.hunks[0].section and SK not in out.hunks[0].header
    assert out.hunks[0].lines[0].text == "RATE = 2"


def test_a_key_body_whose_begin_line_is_outside_the_rows_is_hidden() -> None:
    rows = ["def load():", *BODY, END, '"""', "x = 1"]
    out = Redactor().lines(rows)
    assert out[0] == "def load():" and out[-1] == "x = 1" and out[-2] == '"""'
    assert not any(line in "\n".join(out) for line in BODY)
    # rendered as a request shows them (`    12  |...`): hidden there too
    rendered = "\n".join(f"{i:>6}  |{t}" for i, t in enumerate(rows, 1))
    assert not any(line in Redactor().outgoing(rendered) for line in BODY)


def test_a_lone_key_line_in_a_hunk_is_hidden() -> None:
    assert BODY[2] not in Redactor().lines([BODY[2]])[0]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Rotate staging creds password=Hx9fQ2mX9kL4p", "Hx9fQ2mX9kL4p"),
        ("the admin password: Pw7Lm2Vp9Rt4W still works", "Pw7Lm2Vp9Rt4W"),
        ('db_password = "mySuperPass99"', "mySuperPass99"),  # "my..." was a placeholder
        ('smtp_password = "secret-Prod-2024"', "secret-Prod-2024"),
        ('PASSWORD = "93847561"', "93847561"),
        ('passphrase = "correct horse battery"', "correct horse battery"),
        ("DD_API_KEY=d4f8a9b2c3e1f0a7b6c5d4e3f2a1b0c9", "d4f8a9b2c3e1f0a7b6c5d4e3f2a1b0c9"),
    ],
)
def test_password_forms_in_prose_and_code(text: str, secret: str) -> None:
    assert secret not in Redactor().text(text)
    assert secret not in Redactor().lines([text])[0]


def test_a_base64_wrapped_token_is_hidden() -> None:
    import base64

    wrapped = base64.b64encode(GH.encode()).decode()
    for text in (f'BLOB = "{wrapped}"', f"  data: {wrapped}"):
        out = Redactor().lines([text], bare=True)[0]
        assert wrapped not in out and "[REDACTED-" in out


def test_a_key_split_over_two_string_literals_loses_both_pieces() -> None:
    head, tail = GH[:18], GH[18:]
    out = Redactor().lines([f'TOKEN = ("{head}"', f'         "{tail}")', "x = 1"])
    assert head not in out[0] and tail not in out[1] and out[2] == "x = 1"


def test_file_names_and_rename_sources_are_redacted() -> None:
    fd = FileDiff(path=f"creds/{AWS}.json", old_path=f"tokens/{GH}.txt", status="renamed")
    out = Redactor().file(fd)
    assert AWS not in out.path and GH not in out.old_path


def test_outgoing_reads_the_untrusted_block_whole_and_keeps_the_framing() -> None:
    nonce = "0123456789abcdef01234567"
    begin, end = f"<<<UNTRUSTED {nonce}>>>", f"<<<END UNTRUSTED {nonce}>>>"
    text = (
        f"## Task\nCritique it.\n{begin}\n### Other changed files\n- keys/{GH}.txt\n"
        f"- notes.md\n{end}\n## Answer\nthe nonce is {nonce}"
    )
    r = Redactor()
    out = r.outgoing(text, begin, end)
    assert GH not in out and "- notes.md" in out
    assert out.startswith("## Task\nCritique it.\n" + begin) and out.endswith(nonce)
    assert r.outgoing(out, begin, end) == out and r.count == 1  # idempotent: no re-redaction


def test_a_key_split_over_three_literals_loses_every_piece() -> None:
    pieces = [GH[:8], GH[8:20], GH[20:]]
    rows = [f'T = ("{pieces[0]}"', f'     "{pieces[1]}"', f'     "{pieces[2]}")', "x = 1"]
    out = Redactor().lines(rows)
    assert not any(p in "\n".join(out) for p in pieces) and out[-1] == "x = 1"


@pytest.mark.parametrize(
    "wrap",
    [
        lambda s: s.encode().hex(),  # bytes.fromhex("...")
        lambda s: (
            __import__("base64").b64encode(__import__("base64").b64encode(s.encode())).decode()
        ),
        lambda s: __import__("base64").urlsafe_b64encode(s.encode()).decode().rstrip("="),
    ],
    ids=["hex", "base64-twice", "base64url"],
)
def test_encoded_tokens_are_hidden(wrap) -> None:
    wrapped = wrap(GH)
    out = Redactor().text(f'T = "{wrapped}"')
    assert wrapped not in out and "[REDACTED-" in out


def test_invisible_characters_inside_a_key_do_not_hide_it() -> None:
    text = f'T = "{GH[:10]}\u200b{GH[10:20]}\u2060{GH[20:]}"'
    out = Redactor().text(text)
    assert GH[:10] not in out and GH[10:20] not in out and GH[20:] not in out


@pytest.mark.parametrize(
    "text",
    [
        "curl -u admin:Hunter2Staging99 https://api.example/v1",
        "mysql --password=Hunter2Staging99 -h db",
    ],
)
def test_passwords_on_a_command_line(text: str) -> None:
    assert "Hunter2Staging99" not in Redactor().text(text)


def test_variables_on_a_command_line_are_not_secrets() -> None:
    text = 'curl -u "$USER:$PASS" https://x && mysql --password="$DB_PASSWORD"'
    assert Redactor().text(text) == text


def test_a_negated_never_send_glob_is_refused_not_a_hole() -> None:
    # gitignore's "!" takes a path back out; in never_send it would send what another glob keeps
    from reviewq.core.config import ConfigError, parse_critic

    with pytest.raises(ConfigError, match=r"critic.never_send: '!secrets/public.txt'"):
        parse_critic({"never_send": ["secrets/**", "!secrets/public.txt"]})


def test_an_invalid_never_send_glob_is_a_settings_error_not_a_crash_at_critique_time() -> None:
    from reviewq.core.config import ConfigError, parse_critic

    with pytest.raises(ConfigError, match=r"critic.never_send: 'keys\\\\' is not a valid glob"):
        parse_critic({"never_send": ["keys\\"]})
