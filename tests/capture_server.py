"""A real HTTP server on 127.0.0.1 that speaks both model APIs and keeps every byte it receives.

The Anthropic SDK (`POST /v1/messages`, answered through the forced `record_critique` tool call)
and the OpenAI SDK (`POST /v1/chat/completions`, answered as JSON text) are pointed at it with
`base_url`; each request gets a valid empty critique carrying the request's nonce, so the run
completes and every request the critic would make is made. `leaked(secrets)` says which planted
secrets reached it, in the raw body or in any string of the decoded JSON (escapes undone).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reviewq.critics.prompting import TOOL_NAME


def _answer(nonce: str) -> dict[str, Any]:
    return {
        "nonce": nonce,
        "summary": "Reviewed.",
        "rationale": "The change does what its message says.",
        "security_concerns": "No",
        "tests_present": False,
        "effort": 2,
        "findings": [],
    }


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


class CaptureServer:
    """`with CaptureServer() as server:` serves at `server.base` (add `/v1` for OpenAI)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.raw.append(raw)
                outer.paths.append(self.path)
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                body = json.loads(raw)
                text = "\n".join(_strings(body))
                nonce = text.split("<<<UNTRUSTED ", 1)[1].split(">>>", 1)[0]
                if self.path.endswith("/messages"):
                    reply = {
                        "id": "msg_capture",
                        "type": "message",
                        "role": "assistant",
                        "model": body.get("model", "x"),
                        "content": [
                            {
                                "type": "tool_use",
                                "id": "toolu_1",
                                "name": TOOL_NAME,
                                "input": _answer(nonce),
                            }
                        ],
                        "stop_reason": "tool_use",
                        "stop_sequence": None,
                        "usage": {"input_tokens": 10, "output_tokens": 20},
                    }
                else:
                    reply = {
                        "id": "chatcmpl-capture",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "x"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {
                                    "role": "assistant",
                                    "content": json.dumps(_answer(nonce)),
                                },
                                "finish_reason": "stop",
                            }
                        ],
                    }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def sent(self) -> str:
        """Everything received: headers, raw bodies and every decoded JSON string, one text."""
        parts = [f"{k}: {v}" for h in self.headers for k, v in h.items()]
        for raw in self.raw:
            parts.append(raw.decode("utf-8", "replace"))
            parts.extend(_strings(json.loads(raw)))
        return "\n".join(parts)

    def leaked(self, secrets: dict[str, str]) -> list[str]:
        text = self.sent()
        return [name for name, value in secrets.items() if value in text]

    def __enter__(self) -> CaptureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
