"""No planted secret reaches a model endpoint: the real CLI, a real repository, a real HTTP server.

Issue 14, item 2. A change plants secrets everywhere a request is built from: git's hunk-header
context (the assignment above the hunk), the commit subject, a private key whose `BEGIN` line is
outside the hunk, `password = "..."` in added and context lines, a token base64-encoded, a token
split over two string literals, a key in a file name and in a rename's old name, and the prompt.
`reviewq critique --critic anthropic|openai` runs against `CaptureServer` on 127.0.0.1 (the SDKs
pointed at it with base_url); the test fails on any planted secret found in what it received.

The secrets are synthetic: random text in the shape of each format, made when the test runs.
"""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from tests.capture_server import CaptureServer

GEMINI = "Co-authored-by: gemini-cli <218195315+gemini-cli@users.noreply.github.com>"
ALNUM = string.ascii_letters + string.digits


def _rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def planted(seed: int = 14) -> dict[str, str]:
    rng = random.Random(seed)
    github = "gh" + "p_" + _rand(rng, 36)
    return {
        "hunk_section": "sk" + "_live_" + _rand(rng, 24),
        "subject": "Hx" + _rand(rng, 12) + "9",
        "key_body_a": _rand(rng, 64, ALNUM + "+/"),
        "key_body_b": _rand(rng, 64, ALNUM + "+/"),
        "added_password": "my" + _rand(rng, 10) + "7",
        "context_password": "secret-" + _rand(rng, 10) + "3",
        "base64_token": base64.b64encode(github.encode()).decode(),
        "base64_inner": github,
        "split_tail": _rand(rng, 20),
        "file_name": "AK" + "IA" + _rand(rng, 16, string.ascii_uppercase + "234567"),
        "rename_from": "gl" + "pat-" + _rand(rng, 20),
        "prompt_password": "Pw" + _rand(rng, 12) + "2",
        "prompt_token": "xo" + "xp-" + "2048-" + _rand(rng, 24),
        "hex_token": ("gl" + "pat-" + _rand(rng, 20)).encode().hex(),
        "zero_width_head": "gh" + "p_" + _rand(rng, 10),
        "zero_width_tail": _rand(rng, 26),
        "cli_password": "Cl" + _rand(rng, 12) + "4",
    }


def _key_file(body: list[str]) -> str:
    begin, end = "-----BEGIN " + "RSA PRIVATE KEY-----", "-----END " + "RSA PRIVATE KEY-----"
    return 'TLS_KEY = """\n' + "\n".join([begin, *body, end]) + '\n"""\n'


def build(repo, s: dict[str, str]) -> tuple[str, object]:
    rng = random.Random(7)
    comments = "".join(f"# billing note {i}\n" for i in range(14))
    body = [_rand(rng, 64, ALNUM + "+/") for _ in range(24)]
    repo.commit(
        "Base",
        files={
            "billing/client.py": f'SERVICE_KEY = "{s["hunk_section"]}"\n{comments}RATE = 1\n',
            "deploy/certs.py": _key_file([*body, s["key_body_a"]]),
            "app/settings.py": f'smtp_password = "{s["context_password"]}"\nHOST = "db"\n',
            f"tokens/{s['rename_from']}.txt": "the CI token file\n" * 5,
        },
    )
    repo.git("mv", f"tokens/{s['rename_from']}.txt", "tokens/ci.txt")
    head, tail = s["prompt_token"][:4], s["split_tail"]
    sha = repo.commit(
        f"Rotate staging creds password={s['subject']}\n\n{GEMINI}\n",
        files={
            "billing/client.py": f'SERVICE_KEY = "{s["hunk_section"]}"\n{comments}RATE = 2\n',
            "deploy/certs.py": _key_file([*body, s["key_body_b"]]),
            "app/settings.py": (
                f'smtp_password = "{s["context_password"]}"\nHOST = "db"\n'
                f'db_password = "{s["added_password"]}"\n'
                f'GITHUB_TOKEN_B64 = "{s["base64_token"]}"\n'
                f'SLACK = ("xo{head[2:]}b-2048-1234567890-"\n         "{tail}")\n'
            ),
            f"creds/{s['file_name']}.json": '{"region": "eu-west-1"}\n',
            "tools/legacy.py": (
                f'TOKEN = bytes.fromhex("{s["hex_token"]}")\n'
                f'OTHER = "{s["zero_width_head"]}\u200b{s["zero_width_tail"]}"\n'
            ),
            "tools/deploy.sh": f"curl -u deploy:{s['cli_password']} https://api.example/v1\n",
        },
    )
    prompt = repo.path.parent / "prompt.txt"
    prompt.write_text(
        "Rotate the staging credentials. The admin password: "
        f"{s['prompt_password']} and the Slack token {s['prompt_token']} still work.\n"
    )
    return sha, prompt


@pytest.mark.parametrize("critic", ["anthropic", "openai"])
def test_no_planted_secret_reaches_the_model_endpoint(cli, repo, critic: str) -> None:
    secrets = planted()
    sha, prompt = build(repo, secrets)
    attached = cli("prompt", sha, "--set", str(prompt), cwd=repo.path)
    assert attached.returncode == 0, attached.stderr
    with CaptureServer() as server:
        base = server.base + ("/v1" if critic == "openai" else "")
        (repo.path / ".reviewq.toml").write_text(
            f'[critic]\nretries = 0\ntimeout = 10\n\n[critic.{critic}]\nbase_url = "{base}"\n'
            + ('model = "gpt-5.5"\n' if critic == "openai" else "")
        )
        out = cli(
            "critique",
            sha,
            "--critic",
            critic,
            "--json",
            cwd=repo.path,
            env={"ANTHROPIC_API_KEY": "test-key", "OPENAI_API_KEY": "test-key"},
        )
        assert out.returncode == 0, out.stderr
        assert server.raw, "the critic sent nothing"
        sent = server.sent()
        leaked = server.leaked(secrets)
    assert leaked == [], f"reached the {critic} endpoint: {leaked}"
    # What the request still carries: the change itself, with placeholders where secrets were.
    assert "RATE = 2" in sent and "[REDACTED-" in sent
    assert "tokens/ci.txt" in sent and "Rotate staging creds" in sent
    record = json.loads(out.stdout)
    assert any("secret(s) redacted before sending" in n for n in record["notes"])


def test_the_capture_server_sees_what_is_not_redacted(cli, repo) -> None:
    """The harness can fail: a secret the redactor does not know reaches the server."""
    sha = repo.commit(
        f"Add a greeting\n\n{GEMINI}\n", files={"hello.py": 'GREETING = "plainly-visible-42"\n'}
    )
    with CaptureServer() as server:
        (repo.path / ".reviewq.toml").write_text(
            f'[critic]\nretries = 0\n\n[critic.openai]\nbase_url = "{server.base}/v1"\n'
            'model = "gpt-5.5"\n'
        )
        out = cli("critique", sha, "--critic", "openai", "--json", cwd=repo.path)
        assert out.returncode == 0, out.stderr
        assert server.leaked({"greeting": "plainly-visible-42"}) == ["greeting"]


def test_never_send_files_stay_home_and_are_named_only(cli, repo) -> None:
    sha = repo.commit(
        f"Add env\n\n{GEMINI}\n", files={"deploy/.env": "WHATEVER=zz-unremarkable-value\n"}
    )
    with CaptureServer() as server:
        (repo.path / ".reviewq.toml").write_text(
            f'[critic]\nretries = 0\n\n[critic.openai]\nbase_url = "{server.base}/v1"\n'
            'model = "gpt-5.5"\n'
        )
        out = cli("critique", sha, "--critic", "openai", "--json", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    assert "zz-unremarkable-value" not in (server.sent() if server.raw else "")
