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
      connection alive (unless the client asks to close or speaks HTTP/1.0). The body is
      read as it arrives (chunked bodies decoded here), never past ``MAX_BODY``.
    * Headers whose name holds ``_`` (GOPACS's ``API_KEY``) are kept (Werkzeug drops them);
      ``API_KEY`` and ``API-KEY`` are therefore the same header, as in CGI.
    * Idle keep-alive connections are closed after ``idle_timeout`` (120 s); a request must
      arrive whole (line, headers, body) within ``request_timeout`` (30 s) of its first
      byte, else 408; both are sandbox knobs. ``stop()`` closes every connection.
    * Every request gets an answer, and the server lives on. The handler refuses, with an
      empty body and ``Connection: close``: a request line without a version (HTTP/0.9)
      -> 505; a malformed or cut request line, a bad or conflicting ``Content-Length``, a
      body shorter than declared, a bad chunk size, ``Transfer-Encoding`` with
      ``Content-Length`` -> 400; a request line above 64 KB -> 414; a header line above
      64 KB or more than 100 headers -> 431; a transfer coding other than ``chunked`` ->
      501; a body above 10 MB (declared, or counted while a chunked body streams in) or a
      form-urlencoded body of more than 1,000 fields -> 413. A refused connection is drained
      for up to 2 s, so a client still sending reads the refusal. An exception in a mount
      or in the server -> 500 with an empty body and a traceback on the
      ``explorer.sandbox`` logger (no request data in it).
    * Per request, in order: count the path, count token requests, sleep ``latency``,
      pick a fault, dispatch.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from explorer.sandbox._ratelimit import client_of
from explorer.sandbox._state import State
from explorer.sandbox.oauth import OAuthMount, empty_response

__all__ = ["LINGER", "MAX_BODY", "MAX_FORM_FIELDS", "App", "Server"]

log = logging.getLogger("explorer.sandbox")
#: largest request body taken (bytes); a longer one is refused with 413 as soon as it shows
MAX_BODY = 10_000_000
#: longest request line, trailer line (bytes); header lines and counts are http.client's
#: (65,536 bytes, 100 headers)
MAX_LINE = 65_536
#: longest chunk-size line of a chunked body (bytes), most trailer lines
MAX_CHUNK_LINE = 4_096
MAX_TRAILERS = 100
#: most fields of a form-urlencoded body (more: 413, before anything parses it)
MAX_FORM_FIELDS = 1_000
#: seconds a refused connection is drained before it closes
LINGER = 2.0
_HEX = re.compile(rb"[0-9A-Fa-f]+")
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
        """The response to ``request``; never raises (a failure is an empty 4xx/500)."""
        try:
            return self._dispatch(request)
        except HTTPException as exc:  # werkzeug refused to parse the body (413, 400)
            return empty_response(exc.code or 400)
        except Exception:
            log.exception("sandbox: %s %s failed", request.method, request.path)
            return empty_response(500)

    def _dispatch(self, request: Request) -> Response:
        state = self.state
        full = request.path
        host, _, rest = full.lstrip("/").partition("/")
        path = "/" + rest
        state.counters.hit(full)
        if _too_many_fields(request):
            return empty_response(413)
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
        except HTTPException:
            raise
        except Exception:
            log.exception("sandbox mount %s failed on %s %s", type(mount).__name__,
                          request.method, full)
            return empty_response(500)
        if kind in ("no_access_token", "no_expires_in"):
            response = _strip_key(response, kind[3:])
        elif kind == "drop":
            request.environ[_DROP] = True
        return response


def _too_many_fields(request: Request) -> bool:
    """Whether a form-urlencoded body holds more than :data:`MAX_FORM_FIELDS` fields (werkzeug
    would parse millions of them; multipart bodies have werkzeug's own limits)."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return False
    return request.get_data(cache=True).count(b"&") >= MAX_FORM_FIELDS


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


class _Refuse(Exception):
    """A request the handler answers itself with ``status`` (empty body), then closes."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Reader(io.RawIOBase):
    """The connection's bytes; each read waits at most the idle timeout and never past the
    current request's deadline (then ``TimeoutError``), so a client that trickles bytes cannot
    hold a thread longer than ``request_timeout``."""

    def __init__(self, sock: socket.socket, state: State) -> None:
        super().__init__()
        self._sock = sock
        self._state = state
        #: ``time.monotonic()`` by which the current request must have arrived, or ``None``
        #: between requests (only the idle timeout applies)
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        timeout = float(self._state.idle_timeout)
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request did not arrive in time")
            timeout = min(timeout, left)
        self._sock.settimeout(timeout)
        return self._sock.recv_into(buffer)


class _Handler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive request handler (see module docstring).

    Every request gets an answer: what the application returns, or a refusal with an empty
    body and ``Connection: close`` (400, 408, 413, 414, 431, 500, 501, 505), after which the
    handler reads and discards what the client still sends for up to :data:`LINGER` seconds
    (a client busy sending a body then reads the refusal instead of a reset).
    """

    protocol_version = "HTTP/1.1"
    #: a request line without a version (HTTP/0.9) is refused before anything else is read;
    #: errors found while parsing the line are answered with a status line (never bare HTML)
    default_request_version = "HTTP/1.0"
    timeout = 120
    server: Any  # a ThreadedWSGIServer with the track/close_all hooks of _make()

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._state: State = self.server.app.state
        self.rfile.close()  # the buffered socket file of StreamRequestHandler: ours instead
        self._reader = _Reader(self.connection, self._state)
        self.rfile = io.BufferedReader(self._reader, 65536)
        self._answered = False
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

    # -- one request ------------------------------------------------------------------------
    def handle_one_request(self) -> None:
        """Read one request within its deadline and answer it; never raise."""
        self._answered = False
        started = False
        try:
            self._reader.deadline = None
            if not self.rfile.peek(1):  # the client closed the idle connection
                self.close_connection = True
                return
            started = True
            self._reader.deadline = time.monotonic() + float(self._state.request_timeout)
            self._one_request()
        except _Refuse as refusal:
            self._refuse(refusal.status)
        except TimeoutError:  # idle: close quietly; inside a request: 408
            if started:
                self._refuse(408)
            self.close_connection = True
        except OSError:  # the client went away
            self.close_connection = True
        except Exception:
            log.exception("sandbox: the HTTP handler failed")
            self._refuse(500)

    def _one_request(self) -> None:
        line = self.rfile.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):  # RFC 9112 2.2: an empty line before a request is skipped
            line = self.rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise _Refuse(414)
        if not line.endswith(b"\n") or not line.strip():
            raise _Refuse(400)  # cut short, or blank
        if len(line.split()) == 2:
            raise _Refuse(505)  # HTTP/0.9 ("GET /"): no version, no headers
        self.raw_requestline = line
        if self.parse_request():  # else refused by send_error (400, 431, 505)
            self.run_wsgi()

    def handle_expect_100(self) -> bool:
        # decided in _read_body, once the declared length is known (no 100 before a 413)
        return True

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        self._refuse(int(code))

    def run_wsgi(self) -> None:
        try:
            environ = self.make_environ()
        except ValueError:  # a request target urllib cannot split ("http://[x/")
            raise _Refuse(400) from None
        body = self._read_body()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input_terminated"] = True
        result: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            result["status"], result["headers"] = status, headers
            return lambda data: None

        try:
            app_iter = self.server.app(environ, start_response)
            try:
                payload = b"".join(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
            status, headers = result["status"], result["headers"]
        except Exception:
            log.exception("sandbox: the application failed on a %s request", self.command)
            raise _Refuse(500) from None
        self._write(status, headers, payload, drop=bool(environ.get(_DROP)))

    # -- the body ---------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        """The request body, read as it arrives and refused past :data:`MAX_BODY` (413)."""
        codings = [c.strip().lower() for v in self.headers.get_all("Transfer-Encoding", [])
                   for c in v.split(",") if c.strip()]
        lengths = {p.strip() for v in self.headers.get_all("Content-Length", [])
                   for p in v.split(",")}
        if codings:
            if lengths or codings[-1] != "chunked":
                raise _Refuse(400)  # RFC 9112 6.1, 6.3: no length can be trusted
            if codings != ["chunked"]:
                raise _Refuse(501)  # a transfer coding the sandbox does not decode
            self._continue()
            return self._read_chunked()
        if not lengths:
            return b""
        text = lengths.pop()
        if lengths or not text.isascii() or not text.isdigit():
            raise _Refuse(400)  # several lengths, a sign, spaces, non-ASCII digits
        if len(text) > 18 or int(text) > MAX_BODY:
            raise _Refuse(413)
        length = int(text)
        self._continue()
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise _Refuse(400)  # the client ended its side before the declared length
        return body

    def _continue(self) -> None:
        if (self.request_version == "HTTP/1.1"
                and self.headers.get("Expect", "").strip().lower() == "100-continue"):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(MAX_CHUNK_LINE + 1)
            if not line.endswith(b"\n"):
                raise _Refuse(400)  # too long, or cut short
            size = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size):
                raise _Refuse(400)  # "zz", "-1", "0x10", "", spaces inside
            if len(size) > 16 or len(body) + int(size, 16) > MAX_BODY:
                raise _Refuse(413)
            n = int(size, 16)
            if n == 0:
                break
            data = self.rfile.read(n)
            if len(data) < n or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _Refuse(400)  # cut short, or no line end after the chunk
            body += data
        for _ in range(MAX_TRAILERS):
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n"):
                return bytes(body)
            if not line.endswith(b"\n"):
                raise _Refuse(400)
        raise _Refuse(431)  # trailers without end

    # -- answers ----------------------------------------------------------------------------
    def _refuse(self, status: int) -> None:
        """Answer ``status`` with an empty body, then half-close and drain (bounded)."""
        self.close_connection = True
        if self._answered:
            return
        self._answered = True
        self._headers_buffer = []
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        head = (f"HTTP/1.1 {status} {phrase}\r\nServer: {self.version_string()}\r\n"
                f"Date: {self.date_time_string()}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n")
        conn = self.connection
        try:
            conn.settimeout(float(self._state.idle_timeout))
            conn.sendall(head.encode("latin-1"))
            conn.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER
            sink = bytearray(65536)
            while (left := deadline - time.monotonic()) > 0:
                conn.settimeout(left)
                if not conn.recv_into(sink):
                    break
        except OSError:
            pass

    def _write(self, status: str, headers: list[tuple[str, str]], payload: bytes,
               *, drop: bool = False) -> None:
        self._answered = True
        self.connection.settimeout(float(self._state.idle_timeout))
        code, _, msg = status.partition(" ")
        self.send_response(int(code), msg)
        declared = max(len(payload), 64) if drop else len(payload)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(declared))
        if drop:
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
