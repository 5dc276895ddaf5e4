"""The sandbox HTTP server: Werkzeug, threaded, HTTP/1.1 keep-alive, one mount per real host.

Example:
    >>> from explorer.sandbox._server import Server
    >>> from explorer.sandbox._state import State
    >>> from explorer.sandbox.oauth import Auth
    >>> state = State(seed=0); state.auth = Auth(state, ())
    >>> srv = Server(state).start()
    >>> srv.url.startswith("http://127.0.0.1:")
    True
    >>> srv.stop()

URL scheme: ``http://127.0.0.1:PORT/<real host>/<real path>``; the first path segment
selects the mount (unknown host -> 404, empty body).

Emulator choices:
    * Werkzeug 3 closes every connection after one response and drains the socket after
      each request; the handler here replaces ``run_wsgi`` with a lean HTTP/1.1 writer that
      reads the request body up front, always sends ``Content-Length`` and keeps the
      connection alive (unless the client asks to close or speaks HTTP/1.0).
    * Headers whose name holds ``_`` (GOPACS's ``API_KEY``) are kept (Werkzeug drops them);
      ``API_KEY`` and ``API-KEY`` are therefore the same header, as in CGI.
    * Idle keep-alive connections are closed after 120 s; ``stop()`` closes all of them.
    * Request bodies above 10 MB -> 413. An exception in a mount -> 500 with an empty body
      and a traceback on the ``explorer.sandbox`` logger (no request data in it).
    * Per request, in order: count the path, count token requests, sleep ``latency``,
      pick a fault, dispatch.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from explorer.sandbox._ratelimit import client_of
from explorer.sandbox._state import State
from explorer.sandbox.oauth import OAuthMount, empty_response

__all__ = ["MAX_BODY", "App", "Server"]

log = logging.getLogger("explorer.sandbox")
MAX_BODY = 10_000_000
_DROP = "explorer.sandbox.drop"
_HTML = (b"<!DOCTYPE html><html><head><title>Service error</title></head><body>"
         b"<h1>Something went wrong</h1><p>The service is temporarily unavailable.</p>"
         b"</body></html>")


def _mounts(state: State, emulators: Iterable[Any]) -> dict[str, Any]:
    """Host → mount: the token servers, then each emulator's mount."""
    table: dict[str, Any] = {}
    for mount in [OAuthMount(state), *(em.mount(state) for em in emulators)]:
        for host in mount.hosts:
            table[host] = mount
    return table


class App:
    """The WSGI application: dispatch by first path segment, latency, faults, counters."""

    def __init__(self, state: State, emulators: Iterable[Any] = ()) -> None:
        self.state = state
        self.mounts = _mounts(state, emulators)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        state = self.state
        full = request.path
        host, _, rest = full.lstrip("/").partition("/")
        path = "/" + rest
        state.counters.hit(full)
        is_token = state.auth.is_token_path(host, path)
        buckets = state.buckets
        if buckets is not None and host in self.mounts and not is_token:
            wait = buckets.take((host, client_of(request, state.auth)))
            if wait is not None:  # a gateway answers at once, before the backend
                state.counters.limited()
                return empty_response(429, {"Retry-After": str(wait)})
        if is_token:
            state.auth.note_request(request, host, path)
        if state.latency > 0:
            time.sleep(state.latency)
        faults = state.faults
        kind = faults.pick(full, is_token) if faults is not None else None
        if kind == "slow" and faults is not None:
            time.sleep(faults.slow_seconds)
        elif isinstance(kind, int) and faults is not None:
            headers = {}
            if kind in (429, 503):
                headers["Retry-After"] = str(faults.retry_after)
            return empty_response(kind, headers)
        elif kind == "html":
            return Response(_HTML, status=200, content_type="text/html; charset=utf-8")
        elif kind == "badjson":
            return Response(b'{"status": "ok", "items": [', status=200,
                            content_type="application/json")
        mount = self.mounts.get(host)
        if mount is None:
            return empty_response(404)
        try:
            response = mount.handle(request, host, path)
        except Exception:
            log.exception("sandbox mount %s failed on %s %s", type(mount).__name__,
                          request.method, full)
            return empty_response(500)
        if kind in ("no_access_token", "no_expires_in"):
            response = _strip_key(response, kind[3:])
        elif kind == "drop":
            request.environ[_DROP] = True
        return response


def _strip_key(response: Response, key: str) -> Response:
    if response.mimetype != "application/json":
        return response
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return response
    if isinstance(body, dict):
        body.pop(key, None)
        response.set_data(json.dumps(body, separators=(",", ":")).encode())
    return response


class _Handler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive request handler (see module docstring)."""

    protocol_version = "HTTP/1.1"
    timeout = 120
    server: Any  # a ThreadedWSGIServer with the track/close_all hooks of _make()

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                name = "HTTP_" + key.upper().replace("-", "_")
                environ.setdefault(name, value)
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if length < 0 or length > MAX_BODY:
            self._write("413 Request Entity Too Large", [], b"", close=True)
            return
        if chunked:
            body = environ["wsgi.input"].read()  # DechunkedInput set by make_environ
        else:
            body = self.rfile.read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input_terminated"] = True
        result: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            result["status"], result["headers"] = status, headers
            return lambda data: None

        app_iter = self.server.app(environ, start_response)
        try:
            payload = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        self._write(result["status"], result["headers"], payload,
                    drop=bool(environ.get(_DROP)))

    def _write(self, status: str, headers: list[tuple[str, str]], payload: bytes,
               *, close: bool = False, drop: bool = False) -> None:
        code, _, msg = status.partition(" ")
        self.send_response(int(code), msg)
        declared = max(len(payload), 64) if drop else len(payload)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(declared))
        if close or drop:
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        # one write for headers and body (no Nagle / delayed-ACK stall on keep-alive)
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload[: len(payload) // 2] if drop else payload)
        self.flush_headers()
        if drop:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


def _make(port: int, app: App) -> BaseWSGIServer:
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_Handler)
    conns: dict[socket.socket, threading.Thread] = {}
    lock = threading.Lock()

    def track(conn: socket.socket, *, add: bool) -> None:
        with lock:
            if add:
                conns[conn] = threading.current_thread()
            else:
                conns.pop(conn, None)

    def close_all(timeout: float = 2.0) -> None:
        with lock:
            items = list(conns.items())
        for conn, _ in items:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for _, thread in items:
            thread.join(max(0.0, deadline - time.monotonic()))

    server.track = track  # type: ignore[attr-defined]
    server.close_all = close_all  # type: ignore[attr-defined]
    return server


class Server:
    """Owns the listening socket and the serving thread of one sandbox."""

    def __init__(self, state: State, port: int = 0, emulators: Iterable[Any] = ()) -> None:
        self.state = state
        self.port = port
        self.emulators = tuple(emulators)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        app = App(self.state, self.emulators)
        try:
            server = _make(self.port, app)
        except SystemExit as exc:  # werkzeug exits on bind errors; turn it into OSError
            raise OSError(f"cannot bind 127.0.0.1:{self.port}") from exc
        self._server = server
        self.port = server.server_address[1]
        self.state.sandbox_url = self.url
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"explorer-sandbox-{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.server_close()
        server.close_all()  # type: ignore[attr-defined]
        if thread is not None:
            thread.join(5)
