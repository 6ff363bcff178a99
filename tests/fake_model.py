"""A real local HTTP server speaking the OpenAI chat API, scripted reply by reply.

For tests that drive the whole app (the TUI, the CLI in a subprocess) against a model critic:
the OpenAI SDK, httpx, timeouts and retries all run for real; only the model is fake. Each
request gets the next script entry (the last one repeats):

- `Answer(fields)`: 200 with a valid critique answer carrying the request's nonce;
- `Status(code, retry_after=None)`: an HTTP error (429, 500, 529 ...);
- `Garbage(text)`: 200 whose message is `text` (not the JSON asked for);
- `Hold(event)`: waits until the test sets `event` (or the client gives up), then answers.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Status:
    code: int
    retry_after: float | None = None


@dataclass
class Garbage:
    text: str


@dataclass
class Hold:
    release: threading.Event
    then: Any = None  # the reply once released (default: an empty valid answer)


def answer_body(nonce: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "nonce": nonce,
        "summary": "Looks fine.",
        "rationale": "",
        "security_concerns": "No",
        "tests_present": True,
        "effort": 2,
        "findings": [],
        **fields,
    }


class FakeModel:
    """`with FakeModel(script) as model:` serves at `model.url` (an OpenAI base URL)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script) or [Answer()]
        self.requests: list[dict[str, Any]] = []
        self.holding = threading.Event()  # set while a Hold is waiting
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.requests.append(body)
                step = outer.script[min(len(outer.requests), len(outer.script)) - 1]
                user = body["messages"][-1]["content"]
                nonce = user.split("<<<UNTRUSTED ", 1)[1].split(">>>", 1)[0]
                if isinstance(step, Hold):
                    outer.holding.set()
                    step.release.wait(timeout=60)
                    outer.holding.clear()
                    step = step.then or Answer()
                if isinstance(step, Status):
                    data = json.dumps(
                        {"error": {"message": f"status {step.code}", "type": "server_error"}}
                    ).encode()
                    self.send_response(step.code)
                    if step.retry_after is not None:
                        self.send_header("retry-after", str(step.retry_after))
                    self._send(data)
                    return
                text = (
                    step.text
                    if isinstance(step, Garbage)
                    else json.dumps(answer_body(nonce, step.fields))
                )
                reply = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                }
                self.send_response(200)
                self._send(json.dumps(reply).encode())

            def _send(self, data: bytes) -> None:
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout): nothing to answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def config(self, timeout: float = 5, retries: int = 0) -> str:
        """`.reviewq.toml` lines making this server the default critic (family qwen)."""
        return (
            f'\n[critic]\ndefault = "openai"\ntimeout = {timeout}\nconnect_timeout = 2\n'
            f'retries = {retries}\n\n[critic.openai]\nbase_url = "{self.url}"\n'
            'model = "qwen2.5-coder-32b"\nfamily = "qwen"\nresponse_format = "json_object"\n'
        )

    def __enter__(self) -> FakeModel:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for step in self.script:
            if isinstance(step, Hold):
                step.release.set()
        self.server.shutdown()
        self.server.server_close()
