"""`reviewq serve`: the review TUI in a browser, through textual-serve.

Each browser connection starts its own `reviewq tui` (or `reviewq pair`) process on the same
repository, with the same `--repo`, `--config` and `--log`, run by this Python (not whatever
`reviewq` is first on PATH). Whoever gets a session records verdicts as git's user here, so:

- each run makes a random session token and prints the URL that carries it, as notebook servers
  do; the page needs it (`/?token=...`, compared in constant time) and the page's websocket
  carries it in its path, so a local process or page that only knows the port gets 403. The
  token is printed once and never logged (the access log is off);
- the server binds to 127.0.0.1 unless told otherwise with `--public`;

and it refuses what a browser could be tricked into:

- a page on another site opening the websocket (cross-site websocket hijacking): the websocket
  must come from the page this server served (its `Origin` is this server);
- a site that rebinds its DNS name to 127.0.0.1 to reach a loopback server: on loopback the
  `Host` must be a loopback name; with `--public`, one of this machine's names or addresses (or
  a name given with `--allow-host`).

textual-serve is imported only here (and only by the command), so the rest of reviewq does not
need it.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import re
import secrets
import shlex
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reviewq.core.net import is_loopback
from reviewq.errors import ReviewqError

DEFAULT_HOST = "127.0.0.1"
PUBLIC_HOST = "0.0.0.0"
#: textual-serve's page asks Google for its font; the served page uses the bundled copy.
_FONT_LINK = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>")
_FONT_FACE = (
    "<style>@font-face { font-family: 'Roboto Mono'; "
    "src: url('{static}fonts/RobotoMono-VariableFont_wght.ttf'); }</style>"
)
#: Into the environment reviewq runs from (a checkout's `reviewq[serve]` is not on PyPI).
INSTALL_HINT = (
    f"reviewq serve needs textual-serve; install it where reviewq runs: "
    f"{shlex.quote(sys.executable)} -m pip install textual-serve"
)


def bind_address(host: str | None, public: bool) -> tuple[str, str | None]:
    """(the address to bind, a warning to print or None).

    Loopback needs nothing. Any other address needs `--public`, which says out loud what it
    means; `--public` alone binds every interface.
    """
    if host is None:
        host = PUBLIC_HOST if public else DEFAULT_HOST
    if is_loopback(host):
        return host, None
    if not public:
        raise ReviewqError(
            f"--host {host} is reachable from other machines, and the served app has no login: "
            "anyone who reaches it records verdicts as you. Add --public to do it anyway, or "
            "keep 127.0.0.1 and forward the port (ssh -L 8000:127.0.0.1:8000 ...)"
        )
    where = "every interface" if host in (PUBLIC_HOST, "::") else host
    return host, (
        f"serving on {where}: anyone who can reach this port can use the review queue and "
        "record verdicts as this machine's git user; nobody is asked to log in. Use it only on "
        "a network you trust"
    )


def served_command(
    repo: Path,
    *,
    config: str | None = None,
    log: str | None = None,
    pair: str | None = None,
    options: Sequence[str] = (),
) -> str:
    """The shell command textual-serve runs per connection (quoted: paths may hold anything).

    `pair`: None serves the queue; "" a pair session on the pending queue; else its revision.
    """
    argv = [sys.executable, "-P", "-m", "reviewq", "--repo", str(repo)]
    if config:
        argv += ["--config", str(Path(config).resolve())]
    if log:
        argv += ["--log", str(Path(log).resolve())]
    if pair is None:
        argv.append("tui")
    else:
        argv += ["pair", *([pair] if pair else [])]
    argv += list(options)
    return shlex.join(argv)


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def host_allowed(
    host_header: str, loopback_only: bool, allowed: frozenset[str] | None = None
) -> bool:
    """On loopback, only loopback names in `Host` (DNS rebinding); otherwise a name in
    `allowed` (this machine's names and addresses) or a loopback name. `allowed=None` on a
    public bind lets any non-empty `Host` through (kept for callers that ask for it)."""
    if not host_header:
        return False
    try:
        name = (urlsplit(f"//{host_header}").hostname or "").lower()
    except ValueError:
        return False
    if is_loopback(name):
        return True
    if loopback_only:
        return False
    return allowed is None or name in allowed


def machine_names(host: str, extra: Sequence[str] = ()) -> frozenset[str]:
    """The `Host` names a public server answers to: the bind address (unless a wildcard), this
    machine's host name, its fully qualified name and their addresses, the address it reaches
    other machines from, and any `--allow-host` names."""
    names = {h.strip().strip("[]").lower() for h in extra if h.strip()}
    if host not in (PUBLIC_HOST, "::", ""):
        names.add(host.strip("[]").lower())
    for name in {socket.gethostname(), socket.getfqdn()}:
        if not name:
            continue
        names.add(name.lower())
        try:
            names.update(str(info[4][0]).lower() for info in socket.getaddrinfo(name, None))
        except OSError:
            pass
    try:  # the outbound address (no packet is sent for a UDP connect)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            names.add(probe.getsockname()[0])
    except OSError:
        pass
    return frozenset(names)


def token_matches(given: str | None, token: str) -> bool:
    """The session token, compared in constant time."""
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def origin_allowed(origin: str | None, host_header: str, scheme: str = "http") -> bool:
    """A websocket may come only from a page this server served: `Origin` is this host."""
    if not origin or not host_header:
        return False
    return _origin_of(origin) == f"{scheme}://{host_header}".lower()


def make_server(
    command: str,
    *,
    host: str,
    port: int,
    title: str,
    child_env: Mapping[str, str] | None = None,
    allow_hosts: Sequence[str] = (),
    token: str | None = None,
) -> Any:
    """A textual-serve `Server` with reviewq's checks (imports textual-serve: call it from the
    command only)."""
    try:
        # optional dependency (the serve extra), here and in `_websocket`
        import aiohttp_jinja2
        from aiohttp import web
        from textual_serve.app_service import AppService
        from textual_serve.server import Server
    except ImportError:
        raise ReviewqError(INSTALL_HINT) from None

    loopback_only = is_loopback(host)
    allowed = None if loopback_only else machine_names(host, allow_hosts)
    session_token = token or secrets.token_urlsafe(32)
    refused = "reviewq serve: open the URL with the session token that `reviewq serve` printed"

    class ReviewqAppService(AppService):
        def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
            environment = super()._build_environment(width=width, height=height)
            # Textual's devtools and logs belong to whoever debugs textual-serve, not to the
            # app each browser gets; the rest (git's and XDG's settings) stays as it is here.
            for key in ("TEXTUAL", "TEXTUAL_LOG"):
                environment.pop(key, None)
            environment.update(child_env or {})
            return environment

    class ReviewqServer(Server):
        def __init__(self) -> None:
            super().__init__(command, host=host, port=port, title=title)
            self.sock: socket.socket | None = None
            self.token = session_token

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            # The page's websocket carries the token in its path (textual.js appends its own
            # query string to the URL it is given).
            app.router.add_get("/session/{token}/ws", self.handle_websocket, name="session")
            return app

        def bind(self) -> str:
            """Bind now (port 0 picks a free port); returns the URL to open."""
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                family, _, _, _, address = infos[0]
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
                sock.listen(128)
            except OSError as exc:
                raise ReviewqError(
                    f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                    "choose another --port (0 picks a free one)"
                ) from None
            self.sock = sock
            bound = sock.getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            self.public_url = f"http://{shown}:{bound}"
            return self.public_url

        async def on_startup(self, app: web.Application) -> None:
            url = f"{self.public_url}/?token={self.token}"
            print(f"reviewq: serving {self.title} at {url}", flush=True)
            print("reviewq: each browser tab runs its own session; Ctrl+C stops", flush=True)

        def _context(self, request: web.Request) -> dict[str, Any]:
            # URLs from the address the browser used (a LAN name for --public), not the bind.
            base = f"{request.scheme}://{request.host}"
            ws = ("wss" if request.scheme == "https" else "ws") + base[len(request.scheme) :]
            session = request.app.router["session"].url_for(token=self.token)
            return {
                "font_size": _int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": f"{ws}{session}",
                "config": {"static": {"url": f"{base}/static/"}},
                "application": {"name": self.title},
            }

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            if not host_allowed(request.host, loopback_only, allowed):
                raise web.HTTPForbidden(text="reviewq serve: unexpected Host header")
            if not token_matches(request.query.get("token"), self.token):
                raise web.HTTPForbidden(text=refused)
            context = self._context(request)
            response = aiohttp_jinja2.render_template("app_index.html", request, context)
            font = _FONT_FACE.replace("{static}", context["config"]["static"]["url"])
            html = _FONT_LINK.sub(lambda _match: font, response.text or "")
            response.text = html.replace(
                "<head>", "<head>\n    <title>" + _html_text(self.title) + "</title>", 1
            )
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Frame-Options"] = "DENY"
            # The token is in this page's URL: never hand it on in a Referer.
            response.headers["Referrer-Policy"] = "no-referrer"
            return response

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            if not host_allowed(request.host, loopback_only, allowed) or not origin_allowed(
                request.headers.get("Origin"), request.host, request.scheme
            ):
                raise web.HTTPForbidden(
                    text="reviewq serve: the websocket must come from the page this server serves"
                )
            if not token_matches(request.match_info.get("token"), self.token):
                raise web.HTTPForbidden(text=refused)
            return await _websocket(self, request, ReviewqAppService)

        def serve(self, debug: bool = False) -> None:
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.add_signal_handler(signal.SIGINT, self.request_exit)
                loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            except NotImplementedError:  # pragma: no cover - Windows
                pass
            web.run_app(
                self._make_app(),
                sock=self.sock,
                handle_signals=False,
                loop=loop,
                print=lambda *args: None,
                access_log=None,  # request lines would carry the session token
            )

    return ReviewqServer()


async def _websocket(server: Any, request: Any, service_class: Any) -> Any:
    """textual-serve's websocket handler, with reviewq's AppService (its child environment)."""
    from aiohttp import web

    websocket = web.WebSocketResponse(heartbeat=15)
    width = _int(request.query.get("width", "80"), 80)
    height = _int(request.query.get("height", "24"), 24)
    service = None
    try:
        await websocket.prepare(request)
        service = service_class(
            server.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=server.download_manager,
            debug=server.debug,
        )
        await service.start(width, height)
        try:
            await server._process_messages(websocket, service)
        finally:
            await service.stop()
    except asyncio.CancelledError:
        await websocket.close()
    except Exception as error:  # one connection's failure must not stop the server
        logging.getLogger("textual-serve").exception(error)
    finally:
        if service is not None:
            await service.stop()
    return websocket


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _html_text(text: str) -> str:
    return html.escape(text, quote=True)


__all__ = [
    "DEFAULT_HOST",
    "INSTALL_HINT",
    "bind_address",
    "host_allowed",
    "is_loopback",
    "machine_names",
    "make_server",
    "origin_allowed",
    "served_command",
    "token_matches",
]
