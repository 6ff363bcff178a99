"""The environment's API key goes only where the user sent it, never where a pushed config says.

`.reviewq.toml` is committed: whoever can push can set `[critic.*] base_url` to a host of theirs,
and the reviewer's next `reviewq critique --critic ...` would hand them `ANTHROPIC_API_KEY` /
`OPENAI_API_KEY` in its headers. A base URL from the config gets the key only when it is the
vendor's API host or this machine; anywhere else the request goes without it, and exporting the
URL in the environment is how the user says it may have the key. Real CLI, real repository, a
real server on this machine's non-loopback address.
"""

from __future__ import annotations

import json
import socket

import pytest

from reviewq.critics.openai_compat import is_openai_endpoint
from reviewq.workflow.critiquing import endpoint
from tests.capture_server import CaptureServer

GEMINI = "Co-authored-by: gemini-cli <218195315+gemini-cli@users.noreply.github.com>"
KEY = "sk-" + "test-" + "Kq7Lm2Vp9Rt4Wz8Kp3Nd6Yf1Hs5Gj0Ca"


def _lan_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


LAN = _lan_address()
needs_lan = pytest.mark.skipif(LAN is None, reason="no non-loopback address on this machine")


def _run(cli, repo, critic: str, url: str, env: dict[str, str]):
    sha = repo.commit(f"Add a helper\n\n{GEMINI}\n", files={"app.py": "X = 1\n"})
    (repo.path / ".reviewq.toml").write_text(
        f'[critic]\nretries = 0\ntimeout = 10\n\n[critic.{critic}]\nbase_url = "{url}"\n'
        'model = "gpt-5.5"\n'
        if critic == "openai"
        else f'[critic]\nretries = 0\ntimeout = 10\n\n[critic.{critic}]\nbase_url = "{url}"\n'
    )
    return cli("critique", sha, "--critic", critic, "--json", cwd=repo.path, env=env)


@needs_lan
@pytest.mark.parametrize(
    ("critic", "key_env"), [("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")]
)
def test_a_pushed_base_url_does_not_get_the_key(cli, repo, critic: str, key_env: str) -> None:
    with CaptureServer(host=LAN) as server:
        url = server.base + ("/v1" if critic == "openai" else "")
        out = _run(cli, repo, critic, url, {key_env: KEY})
        assert out.returncode == 0, out.stderr
        assert server.raw, "the critic sent nothing"
        assert KEY not in server.sent()
    assert json.loads(out.stdout)["model"]


@needs_lan
@pytest.mark.parametrize(
    ("critic", "key_env", "url_env"),
    [
        ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
        ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
    ],
)
def test_a_base_url_the_user_exports_gets_the_key(
    cli, repo, critic: str, key_env: str, url_env: str
) -> None:
    with CaptureServer(host=LAN) as server:
        url = server.base + ("/v1" if critic == "openai" else "")
        out = _run(cli, repo, critic, "http://127.0.0.1:9/unused", {key_env: KEY, url_env: url})
        assert out.returncode == 0, out.stderr
        assert KEY in server.sent()


def test_the_key_goes_to_a_local_model_server(cli, repo) -> None:
    with CaptureServer() as server:
        out = _run(cli, repo, "openai", server.base + "/v1", {"OPENAI_API_KEY": KEY})
        assert out.returncode == 0, out.stderr
        assert KEY in server.sent()


@pytest.mark.parametrize(
    ("configured", "from_env", "expected"),
    [
        (None, None, (None, True)),
        ("https://api.anthropic.com", None, ("https://api.anthropic.com", True)),
        ("http://127.0.0.1:8000", None, ("http://127.0.0.1:8000", True)),
        ("http://localhost:8000/v1", None, ("http://localhost:8000/v1", True)),
        ("https://llm-proxy.evil.example", None, ("https://llm-proxy.evil.example", False)),
        (
            "https://api.anthropic.com.evil.example",
            None,
            ("https://api.anthropic.com.evil.example", False),
        ),
        (
            "https://evil.example/?h=api.anthropic.com",
            None,
            ("https://evil.example/?h=api.anthropic.com", False),
        ),
        ("https://evil.example", "https://gw.corp.example", ("https://gw.corp.example", True)),
    ],
)
def test_endpoint_trust(configured, from_env, expected) -> None:
    assert endpoint(configured, from_env, "api.anthropic.com") == expected


def test_openai_endpoint_is_decided_by_host_not_substring() -> None:
    assert is_openai_endpoint(None) and is_openai_endpoint("https://api.openai.com/v1")
    assert not is_openai_endpoint("https://api.openai.com.evil.example/v1")
    assert not is_openai_endpoint("https://evil.example/api.openai.com/v1")
