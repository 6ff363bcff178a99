"""`reviewq serve`: a real server on loopback, fetched over HTTP and its websocket, refusing what a
browser could be tricked into, and (with Debian's chromium) driven by key presses in a browser.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewq.errors import ReviewqError
from reviewq.serve import (
    bind_address,
    host_allowed,
    is_loopback,
    origin_allowed,
    served_command,
    token_matches,
)
from reviewq.store.log import read_records
from tests.serve.cdp import Browser, chromium

ROOT = Path(__file__).resolve().parents[2]


class Served:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        base, _, self.token = url.partition("/?token=")
        self.url = base.rstrip("/")

    @property
    def page(self) -> str:
        """The URL `reviewq serve` printed: the page with this run's session token."""
        return f"{self.url}/?token={self.token}"

    @property
    def ws(self) -> str:
        """The websocket path the served page uses."""
        return f"/session/{self.token}/ws"

    @property
    def host(self) -> str:
        return self.url.split("//", 1)[1]


def start_server(repo: Path, *args: str) -> Served:
    process = subprocess.Popen(
        [sys.executable, "-P", "-m", "reviewq", "--repo", str(repo), "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the app processes it starts go too
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "reviewq: serving ... at http://127.0.0.1:PORT/?token=T"
    if "http://" not in line:
        process.kill()
        raise AssertionError(f"no URL from reviewq serve: {line!r} {process.stderr.read()}")
    return Served(process, line.split(" at ", 1)[1].strip())


def stop_server(served: Served) -> None:
    try:
        os.killpg(served.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        served.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(served.process.pid, signal.SIGKILL)
        served.process.wait()


@pytest.fixture
def served(demo_repo: Path) -> Iterator[Served]:
    server = start_server(demo_repo)
    try:
        yield server
    finally:
        stop_server(server)


async def _app_output(
    url: str, origin: str | None, until: bytes, seconds: float = 30, path: str = "/ws"
) -> bytes:
    """Connect to the app's websocket as a browser page of `origin` would; what the app draws."""
    import aiohttp

    headers = {"Origin": origin} if origin else {}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(
            url.replace("http://", "ws://") + path + "?width=140&height=40", headers=headers
        ) as ws,
    ):
        await ws.send_str(json.dumps(["resize", {"width": 140, "height": 40}]))
        seen = b""
        deadline = time.monotonic() + seconds
        while until not in seen and time.monotonic() < deadline:
            try:
                message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += message.data
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        return seen


def _get(url: str, host: str | None = None) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_on_loopback_serves_the_page_and_the_app(served: Served) -> None:
    status, page = _get(served.page)
    assert status == 200
    assert served.url.startswith("http://127.0.0.1:")
    assert f'data-session-websocket-url="ws://{served.host}{served.ws}"' in page
    assert "<title>reviewq · orders</title>" in page
    assert "fonts.googleapis.com" not in page  # no third-party request from a review tool
    status, _ = _get(served.url + "/static/js/textual.js")
    assert status == 200
    # the websocket runs `reviewq tui` on the demo repository: its queue arrives
    drawn = asyncio.run(_app_output(served.url, served.url, b"Reviewed today", path=served.ws))
    assert b"Reviewed today" in drawn and b"Pending" in drawn


def test_serve_refuses_other_sites_and_rebound_names(served: Served) -> None:
    import aiohttp

    # DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends its own Host
    status, _ = _get(served.page, host="evil.example:8000")
    assert status == 403
    # cross-site websocket hijacking: another site's page, or no page at all
    for origin in ("http://evil.example", None):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            asyncio.run(
                _app_output(served.url, origin, b"Reviewed today", seconds=5, path=served.ws)
            )
        assert refused.value.status == 403


def test_a_session_needs_the_printed_token(served: Served) -> None:
    """Issue 14, item 12: a local process that knows the port and sends a matching Origin
    gets no session without the token `reviewq serve` printed."""
    import aiohttp

    assert len(served.token) >= 40
    # the page: no token, a wrong one, one of the right length but not this run's
    for url in (
        served.url + "/",
        served.url + "/?token=",
        served.url + "/?token=" + "A" * len(served.token),
        served.url + "/?token=" + served.token[:-1],
    ):
        status, body = _get(url)
        assert status == 403 and "session token" in body, url
    # the websocket with this server's own Origin: the bare /ws, a guessed token path
    for path in ("/ws", "/session/x/ws", "/session/" + "A" * len(served.token) + "/ws"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            asyncio.run(_app_output(served.url, served.url, b"Reviewed today", 5, path=path))
        assert refused.value.status == 403, path
    assert _get(served.page)[0] == 200


def test_the_token_is_printed_once_and_never_logged(demo_repo: Path) -> None:
    served = start_server(demo_repo)
    try:
        for url in (served.page, served.url + "/?token=wrong", served.url + "/nothing"):
            _get(url)
        asyncio.run(_app_output(served.url, served.url, b"Reviewed today", path=served.ws))
    finally:
        stop_server(served)
    out, err = served.process.communicate(timeout=10)
    assert served.token not in out + err  # the first line (read by start_server) was the one


def test_the_page_hands_no_referrer_on(served: Served) -> None:
    import urllib.request

    with urllib.request.urlopen(served.page, timeout=10) as response:
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


def test_public_answers_only_to_this_machines_names(demo_repo: Path) -> None:
    import socket

    served = start_server(demo_repo, "--public", "--host", "0.0.0.0", "--allow-host", "rq.lan")
    try:
        port = served.url.rsplit(":", 1)[1]
        local = "http://127.0.0.1:" + port + "/?token=" + served.token
        assert _get(local, host=f"evil.example:{port}")[0] == 403
        assert _get(local, host=f"127.0.0.1:{port}")[0] == 200
        assert _get(local, host=f"rq.lan:{port}")[0] == 200
        assert _get(local, host=f"{socket.gethostname()}:{port}")[0] == 200
        assert _get(served.url + "/?token=x", host=f"rq.lan:{port}")[0] == 403
    finally:
        stop_server(served)


def test_allow_host_needs_public(cli, demo_repo: Path) -> None:
    out = cli("--repo", str(demo_repo), "serve", "--port", "0", "--allow-host", "x.lan")
    assert out.returncode == 2
    assert out.stderr == (
        "reviewq: --allow-host needs --public (on loopback only loopback names work)\n"
    )


def test_a_public_address_needs_public_and_says_what_it_means(cli, demo_repo: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.10", "::"):
        out = cli("--repo", str(demo_repo), "serve", "--host", host, "--port", "0")
        assert out.returncode == 2
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and "Add --public to do it anyway" in lines[0], out.stderr
    assert bind_address(None, False) == ("127.0.0.1", None)
    assert bind_address("localhost", False) == ("localhost", None)
    assert bind_address("::1", False) == ("::1", None)
    assert bind_address("127.0.0.2", False) == ("127.0.0.2", None)
    host, warning = bind_address(None, True)
    assert host == "0.0.0.0"
    assert warning is not None and warning.startswith("serving on every interface: anyone who")
    host, warning = bind_address("192.168.1.10", True)
    assert host == "192.168.1.10" and "record verdicts as this machine's git user" in warning
    with pytest.raises(ReviewqError):
        bind_address("example.com", False)


def test_serve_pair_checks_its_revision_before_listening(cli, demo_repo: Path) -> None:
    out = cli("--repo", str(demo_repo), "serve", "--port", "0", "--pair", "HEAD")
    assert out.returncode == 2
    assert out.stderr.strip().endswith("is not AI-authored: nothing to walk through")
    out = cli("--repo", str(demo_repo), "serve", "--port", "0", "--pair", "nope")
    assert out.returncode == 2 and "unknown revision" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_one_line(cli, demo_repo: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = cli("--repo", str(demo_repo), "serve", "--port", str(port))
    assert out.returncode == 2
    assert out.stderr == (
        f"reviewq: cannot listen on 127.0.0.1:{port} (Address already in use); choose another "
        "--port (0 picks a free one)\n"
    )


def test_origin_and_host_checks() -> None:
    assert is_loopback("[::1]") and is_loopback("LOCALHOST") and not is_loopback("10.0.0.1")
    assert host_allowed("127.0.0.1:8000", True) and host_allowed("localhost:8000", True)
    assert host_allowed("[::1]:8000", True)
    assert not host_allowed("evil.example:8000", True) and not host_allowed("", True)
    assert host_allowed("build-box.lan:8000", False)
    assert host_allowed("build-box.lan:8000", False, frozenset({"build-box.lan"}))
    assert not host_allowed("evil.example:8000", False, frozenset({"build-box.lan"}))
    assert host_allowed("localhost:8000", False, frozenset({"build-box.lan"}))
    assert token_matches("abc", "abc") and not token_matches("abd", "abc")
    assert not token_matches("", "abc") and not token_matches(None, "abc")
    assert origin_allowed("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert origin_allowed("HTTP://LOCALHOST:8000", "localhost:8000")
    assert not origin_allowed("http://127.0.0.1:9999", "127.0.0.1:8000")
    assert not origin_allowed("null", "127.0.0.1:8000")
    assert not origin_allowed(None, "127.0.0.1:8000")


def test_the_served_command_runs_this_python_on_this_repository(tmp_path: Path) -> None:
    odd = tmp_path / "a repo; rm -rf ~ $(x)"
    command = served_command(odd, config="cfg.toml", pair="", options=["--theme", "x y"])
    argv = shlex.split(command)
    assert argv[:6] == [sys.executable, "-P", "-m", "reviewq", "--repo", str(odd)]
    assert argv[6:] == ["--config", str(Path("cfg.toml").resolve()), "pair", "--theme", "x y"]
    assert shlex.split(served_command(odd, pair="abc123"))[-2:] == ["pair", "abc123"]
    assert shlex.split(served_command(odd))[-1] == "tui"


def test_without_textual_serve_one_line_says_how_to_install_it(
    cli, demo_repo: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "block" / "textual_serve"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('not installed here')\n")
    out = cli(
        "--repo",
        str(demo_repo),
        "serve",
        env={"PYTHONPATH": str(blocker.parent)},
    )
    assert out.returncode == 2
    assert out.stderr == (
        "reviewq: reviewq serve needs textual-serve; install it where reviewq runs: "
        f"{shlex.quote(sys.executable)} -m pip install textual-serve\n"
    )


@pytest.mark.skipif(
    chromium() is None,
    reason="needs Debian's chromium (/usr/bin/chromium) to drive the served page headless",
)
@pytest.mark.slow
def test_a_pair_session_in_a_headless_browser(demo_repo: Path, tmp_path: Path) -> None:
    """Chromium opens the served page; P starts a pair session, a co-reviewer is typed, the
    walkthrough opens, r records a rejection: the log has it, made in the browser."""
    served = start_server(demo_repo)
    shots = Path(os.environ.get("REVIEWQ_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    log = demo_repo / ".git" / "reviewq" / "log.jsonl"
    try:
        asyncio.run(_drive(served, tmp_path / "profile", shots, log))
    finally:
        stop_server(served)
    records = read_records(log)
    assert len(records) == 1
    record = records[0]
    assert record["verdict"] == "reject" and record["note"] == "override token"
    assert record["co_reviewers"] == [{"name": "Lee Park", "email": "lee@acme.example"}]
    assert record["session"]["mode"] == "pair"
    for name in ("1-queue", "2-pair-start", "3-walkthrough"):
        assert (shots / f"{name}.png").stat().st_size > 10_000


async def _stable_screenshot(browser: Browser, path: Path) -> bytes:
    """A screenshot once the page stopped changing (the queue loaded: its spinner is gone)."""
    shots: list[bytes] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        shots.append(await browser.screenshot(path))
        if len(shots) >= 3 and shots[-1] == shots[-2] == shots[-3]:
            return shots[-1]
    raise TimeoutError(f"the page did not settle for {path.name}")


async def _after_change(browser: Browser, path: Path, before: bytes) -> bytes:
    """A screenshot once the page changed from `before` (the key arrived), and a moment later
    (the new screen mounted and focused; the active-time clock and a cursor keep ticking, so
    "stable" is not a condition here)."""
    deadline = time.monotonic() + 30
    while await browser.screenshot(path) == before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page did not change for {path.name}")
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)
    return await browser.screenshot(path)


async def _drive(served: Served, profile: Path, shots: Path, log: Path) -> None:
    profile.mkdir()
    async with Browser(profile) as browser:
        await browser.navigate(served.page)
        await browser.wait_for("document.body.classList.contains('-first-byte')")
        await browser.wait_for("!!document.querySelector('.xterm-helper-textarea')")
        await browser.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        queue = await _stable_screenshot(browser, shots / "1-queue.png")
        await browser.press("P", "KeyP", 80, shift=True)
        dialog = await _after_change(browser, shots / "2-pair-start.png", queue)
        await browser.send("Input.insertText", text="Lee Park <lee@acme.example>")
        await browser.press("\r", "Enter", 13)
        walk = await _after_change(browser, shots / "3-walkthrough.png", dialog)
        await browser.press("r", "KeyR", 82)
        await _after_change(browser, shots / "4-reject.png", walk)
        await browser.send("Input.insertText", text="override token")
        await browser.press("\r", "Enter", 13)
        deadline = time.monotonic() + 30
        while not (log.exists() and log.read_bytes().strip()):
            if time.monotonic() > deadline:
                raise TimeoutError("no verdict reached the log")
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        await browser.screenshot(shots / "5-recorded.png")
