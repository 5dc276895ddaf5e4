"""Hostile servers and the tools of the attack tests (``test_attacks_*.py``).

Everything runs on 127.0.0.1 over real sockets; nothing of the client is mocked.

* :class:`HttpServer` — a werkzeug server (threaded) whose answers a test scripts per path; it
  records every request (method, path, headers, body).
* :class:`RawServer` — a raw TCP server for byte-level tricks (answers dripped one byte at a
  time, malformed headers); it records every byte it receives and every connection.
* :func:`recorder` — a :class:`RawServer` that only records: the "evil" host, or an HTTP
  proxy. A test asserts it received nothing (or nothing secret).
* :func:`reverse_proxy` — an :class:`HttpServer` forwarding to another server (the sandbox),
  optionally adding ``Set-Cookie`` to every answer.
* Canary secrets (``+ / % : é " '`` in each), :func:`forms` (every encoding of a value) and
  :func:`find_secrets` / :func:`assert_clean`; :func:`traceback_text` (tracebacks formatted with
  their locals, every frame's ``f_locals`` walked, the whole ``__cause__``/``__context__``
  chain).
* Bombs: :func:`gzip_bomb`, :func:`deflate_bomb`…; :func:`peak_memory` (tracemalloc).
* :func:`within` — run a call on a thread with a bound: a call that hangs (old code sleeping
  for hours) fails the test instead of hanging the run.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import html
import json
import socket
import struct
import threading
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

import explorer

# -- canaries -------------------------------------------------------------------------------------
#: Every secret holds the characters encodings disagree on: + / % : é " '
CLIENT_ID = "canary-client"
CLIENT_SECRET = "CANARYcs+Se/cr%et:é\"q'1"
API_KEY = "CANARYak+Ke/y%2B:é\"q'2"
USERNAME = "canary.user@example.org"
PASSWORD = "CANARYpw+Pa/ss%:é\"q'3"
#: tokens a hostile token endpoint issues (header-safe, with the same troublesome characters)
ACCESS_TOKEN = "CANARYat+To/ken%3D:\"q'4"
REFRESH_TOKEN = "CANARYrt+Re/fresh%:\"q'5"
COOKIE = "CANARYcookie5f3a9d"
SECRETS = (CLIENT_SECRET, API_KEY, PASSWORD, ACCESS_TOKEN, REFRESH_TOKEN)
#: a marker every secret and token starts with: seen anywhere, something leaked
MARKER = "CANARY"


def forms(value: str) -> set[str]:
    """``value`` in every encoding explorer sends it or a server may echo it back: raw,
    percent-encoded, form-encoded, JSON-escaped (ASCII or not, ``/`` escaped or not), base64,
    HTML-escaped."""
    out = {value, quote(value, safe=""), quote_plus(value), quote(value, safe="/"),
           html.escape(value), html.escape(value, quote=False)}
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        out |= {escaped, escaped.replace("/", "\\/")}
    for raw in (value.encode(), value.encode("latin-1", "ignore")):
        out.add(base64.b64encode(raw).decode().rstrip("="))
    return {f for f in out if len(f) >= 4}


def basic_values(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> set[str]:
    """The Basic credentials of a client, form-urlencoded first (RFC 6749) or raw."""
    out = set()
    for ident, sec in ((quote_plus(client_id), quote_plus(secret)), (client_id, secret)):
        value = base64.b64encode(f"{ident}:{sec}".encode()).decode()
        out |= {value, value.rstrip("=")}
    return out


def all_forms(values: Iterable[str] = SECRETS) -> set[str]:
    found: set[str] = set(basic_values())
    for value in values:
        found |= forms(value)
    return found


def find_secrets(text: str, values: Iterable[str] = SECRETS) -> list[str]:
    """The encodings of ``values`` (and the canary marker) that ``text`` holds."""
    hits = sorted(f for f in all_forms(values) if f in text)
    for where in (text, html.unescape(text)):
        if MARKER in where and MARKER not in hits:
            hits.append(MARKER)
    return hits


def assert_clean(text: str, what: str, values: Iterable[str] = SECRETS) -> None:
    hits = find_secrets(text, values)
    if hits:
        at = text.find(hits[0]) if hits[0] in text else html.unescape(text).find(hits[0])
        raise AssertionError(f"{what} leaks {hits[:3]}: …{text[max(0, at - 150):at + 80]!r}…")


# -- exceptions, tracebacks, locals ----------------------------------------------------------
def chain(exc: BaseException | None) -> list[BaseException]:
    """``exc`` and every exception reachable through ``__cause__`` / ``__context__``."""
    out: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is x for x in out):
            continue
        out.append(e)
        todo += [e.__cause__, e.__context__]
    return out


def _library_frame(frame: Any) -> bool:
    """Frames of explorer and the libraries under it (the test's own frames hold canaries)."""
    name = frame.f_code.co_filename.replace("\\", "/")
    return "/tests/" not in name


def traceback_text(exc: BaseException) -> str:
    """What a reader of the traceback could see: every exception of the chain formatted with
    ``capture_locals=True``, ``repr`` of every local of every frame (library frames only), the
    exception's attributes and args."""
    parts: list[str] = []
    for e in chain(exc):
        parts.append(repr(e) + str(e) + repr(e.args) + _vars_text(e))
        tb = e.__traceback__
        frames = []
        while tb is not None:
            if _library_frame(tb.tb_frame):
                frames.append(tb.tb_frame)
            tb = tb.tb_next
        te = traceback.TracebackException(type(e), e, None, capture_locals=False)
        parts.append("".join(te.format()))
        summary = traceback.StackSummary.extract(
            ((f, f.f_lineno) for f in frames), capture_locals=True)
        parts.append("".join(summary.format()))
        for frame in frames:
            for name, value in frame.f_locals.items():
                parts.append(f"{name}={_safe_repr(value)}")
    return "\n".join(parts)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a repr failing is not what is tested
        return f"<repr failed: {type(exc).__name__}>"


def _vars_text(obj: Any) -> str:
    try:
        items = vars(obj).items()
    except TypeError:
        return ""
    return " ".join(f"{k}={_safe_repr(v)}" for k, v in items)


def object_text(*objects: Any, depth: int = 2) -> str:
    """``repr``/``str`` of objects and of their attributes (``vars``), ``depth`` levels down."""
    parts: list[str] = []
    seen: set[int] = set()

    def walk(obj: Any, level: int) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        parts.append(_safe_repr(obj))
        if isinstance(obj, (str, bytes, int, float, type(None))):
            return
        try:
            attrs = dict(vars(obj))
        except TypeError:  # no __dict__ (a Token, a Secret): its repr is what shows
            attrs = {}
        for name, value in attrs.items():
            parts.append(f"{name}={_safe_repr(value)}")
            if level < depth:
                walk(value, level + 1)

    for obj in objects:
        walk(obj, 0)
    return "\n".join(parts)


# -- bounded calls ------------------------------------------------------------------------------
@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None
    elapsed: float = 0.0


def within(limit: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Run ``fn`` on a daemon thread; its outcome, or ``AssertionError`` if still running after
    ``limit`` seconds (the thread is left behind: old code may sleep for hours)."""
    out = Outcome()
    done = threading.Event()

    def run() -> None:
        start = time.monotonic()
        try:
            out.value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            out.error = exc
        out.elapsed = time.monotonic() - start
        done.set()

    threading.Thread(target=run, daemon=True, name="attack-call").start()
    if not done.wait(limit):
        raise AssertionError(f"the call was still running after {limit:g} s")
    return out


def at_once(n: int, fn: Callable[[], Any], limit: float) -> list[Outcome]:
    """``fn`` on ``n`` threads released together; their outcomes (each bounded by ``limit``)."""
    barrier = threading.Barrier(n)
    outs = [Outcome() for _ in range(n)]
    threads = []

    def work(i: int) -> None:
        barrier.wait()
        start = time.monotonic()
        try:
            outs[i].value = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outs[i].error = exc
        outs[i].elapsed = time.monotonic() - start

    for i in range(n):
        t = threading.Thread(target=work, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    ends = time.monotonic() + limit
    for t in threads:
        t.join(max(0.0, ends - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        raise AssertionError(f"{stuck} of {n} threads still running after {limit:g} s")
    return outs


def peak_memory(fn: Callable[[], Any]) -> tuple[int, Outcome]:
    """Peak bytes allocated by Python (all threads) while ``fn`` runs, and its outcome."""
    out = Outcome()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        start = time.monotonic()
        try:
            out.value = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            out.error = exc
        out.elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    out.value = None  # do not keep a large answer alive
    return peak, out


# -- servers ------------------------------------------------------------------------------------
@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def text(self) -> str:
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.path}?{self.query}\n{head}\n\n" + self.body.decode(
            "utf-8", "replace")


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass


Handler = Callable[[Request], Response]


class HttpServer:
    """A scriptable HTTP server: ``routes[path] = handler`` (``request -> Response``), else
    ``default``; every request is recorded in :attr:`seen`."""

    def __init__(self, default: Handler | None = None, *, port: int = 0) -> None:
        self.routes: dict[str, Handler] = {}
        self.default = default or (lambda request: Response("not found", status=404))
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", port, self._app, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()

    def route(self, path: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.routes[path] = fn
            return fn
        return deco

    def _app(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        with self._lock:
            self.seen.append(Seen(request.method, request.path,
                                  environ.get("QUERY_STRING", ""), dict(request.headers), body))
        handler = self.routes.get(request.path, self.default)
        return handler(request)(environ, start_response)

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if path is None or s.path == path]

    def text(self) -> str:
        return "\n".join(s.text() for s in self.requests())

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Conn:
    """One connection of a :class:`RawServer`: its socket and the request read from it."""

    sock: socket.socket
    request: bytes
    stop: threading.Event

    @property
    def path(self) -> str:
        try:
            return self.request.split(b" ", 2)[1].decode("latin-1")
        except IndexError:
            return ""

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def drip(self, data: bytes, every: float) -> bool:
        """Send ``data`` one byte every ``every`` seconds (until the client goes away)."""
        for i in range(len(data)):
            if not self.send(data[i:i + 1]) or self.stop.wait(every):
                return False
        return True


class RawServer:
    """A TCP server on 127.0.0.1 answering with ``handler(conn)`` (bytes on the socket).

    It reads one request (head, and a body of ``Content-Length`` bytes), records it, calls the
    handler, then closes the connection. :attr:`connections` counts accepted connections and
    :attr:`received` holds every byte received.
    """

    def __init__(self, handler: Callable[[Conn], Any] | None = None) -> None:
        self.handler = handler or (lambda conn: conn.send(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
        self.connections = 0
        self.requests: list[bytes] = []
        self._received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _read_request(self, sock: socket.socket) -> bytes:
        sock.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            with self._lock:
                self._received += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
            with self._lock:
                self._received += chunk
        return head + b"\r\n\r\n" + body

    def _serve(self, sock: socket.socket) -> None:
        try:
            request = self._read_request(sock)
            with self._lock:
                self.requests.append(request)
            self.handler(Conn(sock, request, self._stop))
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def recorder() -> RawServer:
    """A server that records everything and answers 403: the evil host, or a proxy."""
    return RawServer()


def http_response(status: int = 200, body: bytes = b"", headers: Iterable[tuple[str, str]] = (),
                  reason: str = "X") -> bytes:
    """A complete HTTP/1.1 answer (``Content-Length`` added unless a framing header is given)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    names = {k.lower() for k, _ in headers}
    lines += [f"{k}: {v}" for k, v in headers]
    if "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_answer(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json",
                    headers=headers or {})


def token_text(access: str = ACCESS_TOKEN, **raw: str) -> str:
    """A token answer as JSON text; ``raw`` values are written as they are (``1e999``,
    ``NaN``, ``"inf"``)."""
    fields = [f'"access_token": {json.dumps(access)}', *(f'"{k}": {v}' for k, v in raw.items())]
    return "{" + ", ".join(fields) + "}"


def token_answer(access: str = ACCESS_TOKEN, **extra: Any) -> Handler:
    """A token endpoint handler issuing ``access`` (and ``extra`` fields)."""
    payload = {"access_token": access, "token_type": "Bearer", "expires_in": 300, **extra}
    return lambda request: json_answer(payload)


def reverse_proxy(target: str, *, prefix: str = "", cookie: str | None = None,
                  port: int = 0) -> HttpServer:
    """An :class:`HttpServer` forwarding every request to ``target + prefix + path`` (a
    sandbox mount), adding ``Set-Cookie: sid=<cookie>`` to every answer when given."""
    upstream = requests.Session()
    upstream.trust_env = False

    def forward(request: Request) -> Response:
        url = target + prefix + request.path
        keep = {k: v for k, v in request.headers.items()
                if k.lower() in ("authorization", "accept", "accept-language", "content-type",
                                 "api-version", "x-api-key", "api_key")}
        up = upstream.request(request.method, url, params=request.query_string.decode(),
                              data=request.get_data(), headers=keep, allow_redirects=False)
        response = Response(up.content, status=up.status_code,
                            content_type=up.headers.get("Content-Type"))
        if cookie is not None:
            response.headers.add("Set-Cookie", f"sid={cookie}; Path=/")
            response.headers.add("Set-Cookie", f"track={cookie}-2; Path=/; Max-Age=86400")
        return response

    return HttpServer(forward, port=port)


# -- bombs --------------------------------------------------------------------------------------
MB = 1_000_000


@functools.lru_cache(maxsize=1)
def _zero_block() -> tuple[bytes, bytes]:
    """Raw deflate of 1 MB of zeros ended by a full flush (no reference to what came before,
    so it can be repeated), and the final empty block."""
    obj = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = obj.compress(b"\0" * MB) + obj.flush(zlib.Z_FULL_FLUSH)
    return block, obj.flush()


def _deflate_zeros(size: int, fmt: str) -> bytes:
    """A ``fmt`` ("gzip", "zlib", "raw") stream of ``size`` zero bytes (a multiple of 1 MB),
    built in a fraction of a second."""
    count = size // MB
    block, end = _zero_block()
    body = block * count + end
    if fmt == "raw":
        return body
    zeros = b"\0" * MB
    if fmt == "zlib":
        check = 1
        for _ in range(count):
            check = zlib.adler32(zeros, check)
        return b"\x78\xda" + body + struct.pack(">I", check)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body
            + struct.pack("<II", crc, size & 0xFFFFFFFF))


@functools.cache
def gzip_bomb(size: int) -> bytes:
    """A gzip member inflating to ``size`` zero bytes (400 MB → 0.40 MB)."""
    return _deflate_zeros(size, "gzip")


@functools.cache
def deflate_bomb(size: int, *, raw: bool = False) -> bytes:
    """``Content-Encoding: deflate``: the zlib format (RFC 9110), or raw deflate."""
    return _deflate_zeros(size, "raw" if raw else "zlib")


@functools.cache
def multi_member_bomb(size: int, members: int = 50) -> bytes:
    """Several gzip members one after the other (a valid gzip stream, RFC 1952 §2.2)."""
    return gzip_bomb(size // members) * members


@functools.cache
def nested_gzip_bomb(size: int) -> bytes:
    """``Content-Encoding: gzip, gzip``: a bomb compressed again (a few kilobytes)."""
    return gzip.compress(gzip_bomb(size), 9)


def chunked(body: bytes, size: int = 8192) -> bytes:
    """``body`` in HTTP/1.1 chunked transfer coding."""
    out = []
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    out.append(b"0\r\n\r\n")
    return b"".join(out)


# -- sessions against hostile servers ---------------------------------------------------------
def connect(*args: Any, **kwargs: Any) -> Any:
    """``explorer.connect`` (one place to adapt when running these tests on older code)."""
    return explorer.connect(*args, **kwargs)


def oauth2(own: Any, *, token_path: str = "/token", **kwargs: Any) -> Any:
    """A generic OAuth2 client-credentials session on ``own`` (HTTP Basic by default)."""
    return connect(token_url=own.url + token_path, client_id=CLIENT_ID,
                   client_secret=CLIENT_SECRET, base_url=own.url, **kwargs)


def jindexe(own: Any, **kwargs: Any) -> Any:
    """A Jindexe session on ``own``: ``X-API-KEY`` on every call, a JSON password grant at
    ``/public/token``."""
    return connect("jindexe", api_key=API_KEY, username=USERNAME, password=PASSWORD,
                   base_url=own.url, **kwargs)


@dataclass
class Servers:
    own: HttpServer
    evil: RawServer


def servers() -> Iterator[Servers]:
    own, evil = HttpServer(), recorder()
    try:
        yield Servers(own, evil)
    finally:
        own.stop()
        evil.stop()
