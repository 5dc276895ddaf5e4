"""A scriptable HTTP server on 127.0.0.1 for tests that need exact server behaviour.

Routes map ``(method, path)`` to a function ``request -> werkzeug Response``; every request is
recorded (method, path, headers, body). Real sockets, real HTTP: no mocking of the client.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

Handler = Callable[[Request], Response]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs):  # quiet
        pass


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True,
                                   request_handler=_Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def route(self, method: str, path: str):
        def deco(fn: Handler) -> Handler:
            self.routes[(method, path)] = fn
            return fn
        return deco

    def _app(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            self.seen.append(Seen(request.method, request.path, dict(request.headers), body,
                                  dict(request.args)))
        handler = self.routes.get((request.method, request.path))
        response = handler(request) if handler else Response(status=404)
        return response(environ, start_response)

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for s in self.seen if path is None or s.path == path)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json",
                    headers=headers or {})


def fake_jwt(claims: dict) -> str:
    """A JWT-shaped string (unsigned: the client only reads ``exp``)."""
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


class TokenIssuer:
    """Issues numbered tokens and checks them; shared by token and API routes of a test."""

    def __init__(self, lifetime: float = 60.0, refresh_lifetime: float | None = 600.0,
                 rotate: bool = True) -> None:
        self.lifetime = lifetime
        self.refresh_lifetime = refresh_lifetime
        self.rotate = rotate
        self.n = 0
        self.valid: dict[str, float] = {}
        self.refresh: dict[str, float] = {}
        self.lock = threading.Lock()

    def issue(self, with_refresh: bool = True, **extra) -> dict:
        with self.lock:
            self.n += 1
            access = f"access-token-{self.n:04d}-{'x' * 16}"
            self.valid[access] = time.time() + self.lifetime
            payload = {"access_token": access, "expires_in": self.lifetime,
                       "token_type": "bearer", **extra}
            if with_refresh:
                rt = f"refresh-token-{self.n:04d}-{'y' * 16}"
                self.refresh[rt] = time.time() + (self.refresh_lifetime or 1e9)
                payload["refresh_token"] = rt
                if self.refresh_lifetime:
                    payload["refresh_expires_in"] = self.refresh_lifetime
            return payload

    def use_refresh(self, rt: str) -> bool:
        with self.lock:
            ok = self.refresh.get(rt, 0) > time.time()
            if ok and self.rotate:
                del self.refresh[rt]
            return ok

    def check(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip()
        with self.lock:
            return self.valid.get(token, 0) > time.time()


def at_once(n: int, fn: Callable[[], object]) -> list[BaseException]:
    """Run ``fn`` on ``n`` threads released together; return the exceptions they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            fn()
        except BaseException as exc:  # collected for the test to report
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
