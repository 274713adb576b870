"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests and bench/.

``OpenAIServer(script)`` serves ``POST /v1/chat/completions`` from a thread per request. ``script`` gets
the request body and how many times this same prompt was asked before (so a test can fail the first
attempt and succeed on the retry, whatever order concurrent requests arrive in) and returns a ``Reply``.
The server counts requests in flight, so tests can see that requests really overlap.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    """What the server answers: ``text`` as a normal completion, or ``status``/``raw`` to misbehave."""

    text: str = "The answer is 0."
    status: int = 200
    raw: str | None = None
    delay_s: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    finish_reason: str = "stop"


Script = Callable[[dict, int], Reply]


def answer_first_number(body: dict, attempt: int) -> Reply:
    """Answers with the first number found in the last user message."""
    import re

    text = body["messages"][-1]["content"].split("Problem:")[-1]
    nums = re.findall(r"\d+", text)
    return Reply(text=f"Reading the problem.\nThe answer is {nums[0] if nums else 0}.")


@dataclass
class OpenAIServer:
    script: Script = answer_first_number
    latency_s: float = 0.0
    requests: list[dict] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                reply = server._handle(body, dict(self.headers))
                try:
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                    payload = reply.raw if reply.raw is not None else json.dumps({
                        "id": "cmpl-test", "object": "chat.completion", "model": body.get("model"),
                        "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                                     "message": {"role": "assistant", "content": reply.text}}],
                        "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                                  "total_tokens": reply.prompt_tokens + reply.completion_tokens},
                    })
                    data = payload.encode()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer
                finally:
                    with server._lock:
                        server.in_flight -= 1

        class Server(ThreadingHTTPServer):
            # The default listen backlog (5) refuses connections when many clients open at once.
            request_queue_size = 256

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def _handle(self, body: dict, headers: dict) -> Reply:
        key = hashlib.sha1(json.dumps(body.get("messages"), sort_keys=True).encode()).hexdigest()
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
            self.requests.append(body)
            self.headers.append(headers)
        reply = self.script(body, attempt)
        if self.latency_s and not reply.delay_s:
            reply.delay_s = self.latency_s
        return reply

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "OpenAIServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
