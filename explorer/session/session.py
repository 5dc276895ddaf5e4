"""The session: one authenticated API, its URLs, and calls that end in JSON or a typed error.

A :class:`Session` is built by :func:`explorer.connect` from a provider's declaration
(:class:`~explorer.session.provider.Provider`); its request auth
(:mod:`explorer.auth.request_auth`) puts the right credentials on each request and renews a
refused token; :meth:`Session.error_for` is the one error template, filled with the provider's
own words and hints.

>>> import explorer
>>> icd = explorer.connect("icd", sandbox=True)
>>> icd.get("/icd/entity")["@id"]
'http://id.who.int/icd/entity'
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from .._html import card
from .._secret import SecretHeaders
from ..auth.flows import TokenFlow
from ..auth.request_auth import RequestAuth
from ..auth.tokens import Token
from ..errors import ApiError, AuthenticationError, ConfigurationError, NotFound, Redactor
from ..transport import (
    LimitExceeded,
    Transport,
    UnreadableAnswer,
    is_absolute,
    origin,
    under,
)
from .collections import Collection, find_collection
from .paging import Detect, Paging, PagingError, fetch_records
from .parallel import DEFAULT_MAX_WORKERS, Limiter
from .provider import ErrorWords, Provider

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_HINTS", "Session", "object_of", "provider_words"]

log = logging.getLogger("explorer.http")

#: An answer may hold one JSON object or array per this many bytes of ``max_bytes`` (12.5
#: million for the default 200 MB): ``[{},{},…]`` costs some 25 times its size in Python
#: objects, and gzip makes 200 MB of it 0.2 MB on the wire. Real answers hold one per tens or
#: hundreds of bytes, and they only meet the limit near the byte cap.
JSON_BYTES_PER_CONTAINER = 16

#: Hints by status when the provider has none of its own.
DEFAULT_HINTS = {
    400: "check the parameters",
    403: "this account is not allowed to do this; check its roles",
    404: "check the path, code or id",
    429: "the service is busy or down; retry later (retries were already made)",
    502: "the service is busy or down; retry later (retries were already made)",
    503: "the service is busy or down; retry later (retries were already made)",
    504: "the service is busy or down; retry later (retries were already made)",
}


def provider_words(body: Any, keys: tuple[str, ...] = ErrorWords.keys) -> str | None:
    """The human part of an error body, in the provider's own words (or ``None``).

    >>> provider_words({"errorMessage": "bad size"}), provider_words("<html>…</html>")
    ('bad size', None)
    """
    if isinstance(body, Mapping):
        for key in keys:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    if isinstance(body, str) and body.strip() and "<html" not in body[:200].lower():
        return body.strip()[:300]
    return None


class Session:
    """An authenticated session to one API (made by :func:`explorer.connect`).

    ``get`` returns parsed JSON, ``request`` the ``requests.Response``, ``frame`` a DataFrame;
    ``token`` shows the token status (never its value in a repr). ``api`` is the provider's
    declaration, ``provider`` its name.
    """

    def __init__(
        self,
        api: Provider,
        *,
        urls: Mapping[str, str],
        auth: RequestAuth | None = None,
        flow: TokenFlow | None = None,
        headers: Mapping[str, str] | None = None,
        http: Transport | None = None,
        redact: Redactor | None = None,
        deployment: str = "real",
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        self.api = api
        self.provider = api.name
        self.urls = dict(urls)
        self.base_url = self.urls["base_url"]
        self.auth = auth
        self.flow = flow
        self.headers = {**api.headers, **(headers or {})}
        self.http = http or Transport()
        self.redact = redact or Redactor()
        self.deployment = deployment
        if not isinstance(max_workers, int) or max_workers < 1:
            raise ConfigurationError("max_workers must be an integer >= 1",
                                     provider=self.provider, hint="pass max_workers=16")
        self.max_workers = max_workers
        self._limiters: dict[tuple[str, str, int], Limiter] = {}
        self._limiters_lock = threading.Lock()
        self._on_close: list[weakref.finalize] = []

    # -- URLs ---------------------------------------------------------------------------------
    def url(self, path: str, *, base: str = "base_url") -> str:
        """The absolute URL of ``path`` (relative to ``urls[base]``, or a payload URI).

        Payload URIs on the provider's canonical hosts (e.g. ``http://id.who.int/...``) map onto
        this session's base URL, so links found in answers work against any deployment. An
        absolute URL must be on one of this session's hosts (its credentials go nowhere else).
        """
        if is_absolute(path):
            for prefix in self.api.canonical_prefixes:
                rest = under(path, prefix)
                if rest is not None:
                    return self.base_url + rest
            try:
                here = origin(path)
                ours = {origin(u) for u in self.urls.values()}
            except ValueError:
                ours, here = set(), None
            if here not in ours:
                raise ConfigurationError(
                    "refusing to send this session's credentials to another host",
                    provider=self.provider, url=path, redact=self.redact,
                    hint=f"use a path relative to {self.base_url}")
            return path
        try:
            root = self.urls[base]
        except KeyError:
            raise ConfigurationError(f"unknown base {base!r}", provider=self.provider,
                                     hint=f"use one of {sorted(self.urls)}") from None
        return root + "/" + path.lstrip("/")

    @staticmethod
    def path(*segments: object) -> str:
        """Join path segments, each percent-encoded so none can reach another route.

        ``.``, ``..`` and empty segments are :class:`ValueError` (no encoding keeps them on
        the route); providers turn that into their typed error.

        >>> Session.path("codeinfo", "2C25.Z&XK8G", "../x")
        '/codeinfo/2C25.Z%26XK8G/..%2Fx'
        """
        parts = []
        for seg in segments:
            text = str(seg)
            if text in ("", ".", ".."):
                raise ValueError(f"invalid path segment {text!r}")
            parts.append(quote(text, safe=""))
        return "/" + "/".join(parts)

    def id_path(self, *segments: object, what: str = "id") -> str:
        """:meth:`path`, with an id that no URL can hold (``''``, ``'.'``, ``'..'``) raised as
        :class:`~explorer.errors.NotFound` naming it.

        >>> import explorer
        >>> explorer.connect("itcare", sandbox=True).id_path("compute", "instances", "..")
        Traceback (most recent call last):
        ...
        explorer.errors.NotFound: [itcare] no such id: '..' is not a valid id
        What to do: check the id (path segments like '..' are never sent)
        """
        try:
            return self.path(*segments)
        except ValueError:
            bad = next(str(s) for s in segments if str(s) in ("", ".", ".."))
            raise NotFound(f"no such {what}: {bad!r} is not a valid {what}",
                           provider=self.provider, redact=self.redact,
                           hint=f"check the {what} (path segments like '..' are never "
                                "sent)") from None

    def limiter(self, base: str = "base_url") -> Limiter:
        """The adaptive limiter of the host of ``urls[base]`` (or of an absolute URL): one per
        session and host, shared by every concurrent call to it (see
        :mod:`explorer.session.parallel`)."""
        url = self.urls.get(base, base)
        try:
            key = origin(url)
        except ValueError:
            key = origin(self.base_url)
        with self._limiters_lock:
            found = self._limiters.get(key)
            if found is None:
                found = self._limiters[key] = Limiter(self.max_workers)
            return found

    # -- authentication -------------------------------------------------------------------------
    @property
    def token(self) -> Token | None:
        """The current token's status (fetching one if needed); ``None`` without authentication."""
        return self.flow.token() if self.flow else None

    # -- calls ----------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, base: str = "base_url",
                params: Mapping[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        """Send one request and return the ``requests.Response`` (any status but a refused
        token, which the request auth renews once; see
        :class:`~explorer.auth.request_auth.BearerAuth`). Transport failures raise
        :class:`ApiError`.
        """
        url = self.url(path, base=base)
        headers = SecretHeaders(self.headers)
        headers.update(kwargs.pop("headers", None) or {})
        prepared = self.http.prepare_request(requests.Request(
            method, url, headers=headers, params=params, **kwargs))
        prepared.headers = SecretHeaders(prepared.headers)  # masked in every frame below
        flow = (self.auth or RequestAuth()).auth_flow(prepared)
        outgoing = next(flow)
        while True:
            response = self._send(outgoing, params)
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return response

    def _send(self, prepared: requests.PreparedRequest, params: Any) -> requests.Response:
        failure: tuple[str, str] | None = None
        try:
            resp = self.http.send_request(prepared)
        except LimitExceeded as exc:  # max_wait, deadline, max_bytes, a clear-text proxy
            failure = (exc.message, exc.hint)
        except requests.Timeout:
            failure = ("no answer within the read timeout",
                       "retry later, or pass a larger timeout=")
        except requests.exceptions.ContentDecodingError as exc:  # our own words (transport)
            failure = (str(exc), "the server (or a proxy in between) sent an answer explorer "
                                 "cannot decode; retry, or report it to the API's provider")
        except UnreadableAnswer as exc:  # our own words (transport)
            failure = (str(exc), "retry; if it persists, report it to the API's provider")
        except requests.exceptions.ChunkedEncodingError:
            failure = ("the connection dropped while reading the answer",
                       "retry; the server closed the connection")
        except requests.exceptions.SSLError:
            failure = ("TLS certificate verification failed",
                       "if the server uses a private CA, pass verify='/path/to/ca.pem'")
        except requests.ConnectionError:
            failure = ("cannot reach the server", "check the URL, your network and the server")
        except requests.RequestException as exc:
            failure = (f"request failed ({type(exc).__name__})", "check the URL and parameters")
        if failure is not None:  # raised here, outside the handler: no chained context
            raise ApiError(failure[0], provider=self.provider,
                           url=(prepared.url or "").split("?", 1)[0],
                           params=_plain(params), hint=failure[1], redact=self.redact)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s", prepared.method, self.redact(resp.url), resp.status_code)
        return resp

    def get(self, path: str, *, base: str = "base_url", params: Mapping[str, Any] | None = None,
            **query: Any) -> Any:
        """GET ``path`` and return the parsed JSON (dict or list); typed error otherwise.

        Query parameters come as ``params=`` or keyword arguments; ``None`` values are dropped.
        """
        merged = {**(params or {}), **query}
        merged = {k: v for k, v in merged.items() if v is not None}
        resp = self.request("GET", path, base=base, params=merged or None)
        return self.decode(resp, params=merged)

    def decode(self, resp: requests.Response, *, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON of ``resp``, or the typed error it stands for.

        An error's body is never a local of the frame that raises (a server may quote the
        request, credentials included, and a traceback showing locals would print it): only
        the redacted error is."""
        limit = self._json_limit()
        if resp.status_code >= 400:
            raise self.error_for(resp, _body(resp, limit), params)
        if resp.status_code == 204 or not resp.content:
            return None
        if _containers(resp.content) > limit:
            raise self._too_dense(resp, params)
        body = _body(resp, limit)
        if isinstance(body, str):
            error = self._not_json(resp, body, params)
            del body
            raise error
        return body

    def _json_limit(self) -> float:
        """The most JSON objects and arrays an answer may hold: one per
        :data:`JSON_BYTES_PER_CONTAINER` bytes of ``max_bytes``."""
        limits = getattr(self.http, "limits", None)
        return (limits.max_bytes if limits is not None else 200_000_000) \
            / JSON_BYTES_PER_CONTAINER

    def _too_dense(self, resp: requests.Response,
                   params: Mapping[str, Any] | None) -> ApiError:
        cap = int(self._json_limit() * JSON_BYTES_PER_CONTAINER)
        return ApiError(
            f"the answer holds more JSON objects and arrays than an answer of max_bytes="
            f"{cap:,} may (one per {JSON_BYTES_PER_CONTAINER} bytes): decoding it would take "
            "far more memory than the cap; it was not decoded", status=resp.status_code,
            params=_plain(params), provider=self.provider, url=resp.url, redact=self.redact,
            hint="ask for less (limit=…, page_size=…), or connect(max_bytes=…)")

    def _not_json(self, resp: requests.Response, body: str,
                  params: Mapping[str, Any] | None) -> ApiError:
        kind = resp.headers.get("Content-Type", "unknown").split(";")[0]
        if "json" in kind:
            kind = f"{kind} that does not decode (invalid or nested too deep)"
        return ApiError(f"expected JSON but got {kind} (HTTP {resp.status_code})",
                        status=resp.status_code, body=body[:500], params=_plain(params),
                        provider=self.provider, url=resp.url, redact=self.redact,
                        hint="check the URL points at the API, not a web page or a proxy")

    def error_for(self, resp: requests.Response, body: Any,
                  params: Mapping[str, Any] | None) -> ApiError | AuthenticationError:
        """The typed error for an error answer: one template, the provider's words and hints.

        ``HTTP <status> <reason> — <words> (<code>, field <field>)``; the hint is the
        provider's (by error code, path or status), else a generic one; a 400 lists the
        parameters sent; 404 is :class:`NotFound`; a 401 the provider attributes to a
        credential is an :class:`AuthenticationError` naming it.
        """
        words_of = self.api.errors
        status = resp.status_code
        reason = resp.reason or ""
        path = resp.url or ""
        query = _plain(params)
        words = provider_words(body, words_of.keys)
        if words == reason:
            words = None
        code = _text(body, words_of.code_key)
        field = _text(body, words_of.field_key)
        message = f"HTTP {status} {reason}".strip() + (f" — {words}" if words else "")
        details = [d for d in (code if code != words else None,
                               f"field {field}" if field else None) if d]
        if details:
            message += f" ({', '.join(details)})"
        if body is None and words_of.empty:
            message += f" ({words_of.empty})"
        hint = words_of.hint(status, code, path)
        if hint is None and field:
            hint = f"check the value of {field!r}" + (
                f" (sent {field}={query[field]!r})" if field in query else "")
        if hint is None:
            hint = DEFAULT_HINTS.get(status) or ("retry later" if status >= 500 else None)
        if status == 400 and query and not field:
            hint = (hint or "check the parameters") + " (sent " + ", ".join(
                f"{k}={v!r}" for k, v in query.items()) + ")"
        credential = words_of.credential(status, code, path)
        if credential is not None:
            label = (self.api.field(credential).title if self.api.field(credential)
                     else credential)
            return AuthenticationError(
                f"{message}: the {label} was refused", status=status, error=code,
                provider=self.provider, url=resp.url, redact=self.redact,
                hint=hint or "check " + self.api.credential_hint((credential,)))
        cls = NotFound if status == 404 else ApiError
        return cls(message, status=status, body=body, params=query, provider=self.provider,
                   url=resp.url, hint=hint, redact=self.redact)

    def frame(self, path: str, *, base: str = "base_url", limit: int | None = None,
              explode: str | None = None, progress: bool = True, page_size: int | None = None,
              workers: int | None = None, paging: Paging | None = None,
              collection: Collection | None = None, **params: Any) -> pd.DataFrame:
        """The whole collection at ``path`` as a DataFrame.

        Pages follow the collection's declared paging (else the provider's, else
        :class:`~explorer.session.paging.Detect`); once the first page tells the total, the
        others are fetched concurrently on ``workers`` threads with a ``tqdm.auto`` bar
        (``progress=False`` silences it); ``limit=`` stops at that many rows; ``page_size=``
        changes the page size; a page parameter fetches that page only. Nested objects become
        dotted columns, lists stay list columns (``explode=`` unnests one), and the
        collection's declared time fields become UTC datetimes (``collection=`` declares an
        undeclared one: columns, times, paging). Other keyword arguments are query parameters
        (``None`` dropped). Pages are fetched under the host's adaptive limiter unless
        ``workers=N`` pins a fixed pool.

        >>> import explorer
        >>> itcare = explorer.connect("itcare", sandbox=True)
        >>> itcare.frame("/compute/instances", environments="PRODUCTION", limit=10,
        ...              progress=False).shape
        (10, 53)
        """
        from .frames import to_frame

        collection = collection or find_collection(self.api.collections, base, path)
        records = self.records(path, base=base, limit=limit, progress=progress,
                               page_size=page_size, workers=workers,
                               paging=paging or (collection.paging if collection else None),
                               **params)
        return to_frame(records, collection, explode=explode)

    def records(self, path: str, *, base: str = "base_url", limit: int | None = None,
                progress: bool = True, page_size: int | None = None, workers: int | None = None,
                paging: Paging | None = None, **params: Any) -> list[Any]:
        """Every record of the collection at ``path`` (the JSON items, before any DataFrame),
        paged as :meth:`frame` pages; an answer that does not page as declared, a page met
        twice or too many pages is an :class:`ApiError`."""
        collection = find_collection(self.api.collections, base, path)
        paging = paging or (collection.paging if collection else None) or self.api.paging \
            or Detect()
        paging = paging.with_size(page_size)
        url = self.url(path, base=base)

        def get(query: Any) -> Any:
            if isinstance(query, str):  # a next link, checked by url() like any other
                return self.get(query)
            return self.get(path, base=base, params=query)

        try:
            return fetch_records(get, paging, params, limit=limit, progress=progress,
                                 workers=workers, limiter=self.limiter(base),
                                 desc=f"GET {path}", url=url)
        except PagingError as exc:
            raise ApiError(str(exc), provider=self.provider, url=url, params=_plain(params),
                           redact=self.redact, hint=exc.hint) from None

    # -- life cycle and display -------------------------------------------------------------------
    def close(self) -> None:
        """Close the connections (and stop what the session owns, see :meth:`close_with`)."""
        self.http.close()
        for stop in reversed(self._on_close):
            stop()

    def close_with(self, stop: Callable[[], object]) -> None:
        """Call ``stop()`` when this session closes, is garbage-collected, or at exit
        (``connect("icd", release_file=…)`` ties its private sandbox's ``stop`` to the session).

        >>> import explorer
        >>> s, stopped = explorer.connect("icd", sandbox=True), []
        >>> s.close_with(lambda: stopped.append(True)); s.close(); stopped
        [True]
        """
        self._on_close.append(weakref.finalize(self, stop))

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self) -> dict[str, Any]:
        token = self.flow.current if self.flow else None
        auth = "none" if self.flow is None else (
            "no token yet" if token is None else
            f"{token.token_type} token, expires in {max(0, round(token.expires_in))} s"
            + (f", scope {token.scope}" if token.scope else ""))
        return {"provider": self.api.title, "deployment": self.deployment,
                "base URL": self.base_url, "authentication": auth}

    def __repr__(self) -> str:
        s = self.status()
        return (f"<{type(self).__name__} {self.provider} [{s['deployment']}] {self.base_url} "
                f"auth: {s['authentication']}>")

    def _repr_html_(self) -> str:
        return card(f"explorer session — {self.api.title}", self.status())


def object_of(session: Session, answer: Any, path: str, *,
              base: str = "base_url") -> dict[str, Any]:
    """``answer`` when it is a JSON object, else an :class:`ApiError` naming what came back."""
    if isinstance(answer, dict):
        return answer
    kind = "nothing" if answer is None else f"a JSON {type(answer).__name__}"
    raise ApiError(f"expected a JSON object, got {kind}", provider=session.provider,
                   url=session.url(path, base=base), redact=session.redact,
                   hint="check that the URL points at the API (and the id is right)")


def _text(body: Any, key: str | None) -> str | None:
    value = body.get(key) if key and isinstance(body, Mapping) else None
    return str(value) if isinstance(value, (str, int)) and value != "" else None


def _containers(content: bytes) -> int:
    """The JSON objects and arrays ``content`` may hold (brackets in strings count too)."""
    return content.count(b"{") + content.count(b"[")


def _body(resp: requests.Response, limit: float = float("inf")) -> Any:
    """The decoded JSON of ``resp``, its text if it is not JSON, ``None`` if empty — or, above
    ``limit`` JSON containers, a note instead of the body (a structure bomb is not decoded)."""
    if not resp.content:
        return None
    if _containers(resp.content) > limit:
        return f"(a body of {len(resp.content):,} bytes, too dense in JSON to decode)"
    try:
        return resp.json()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
        return resp.text


def _plain(params: Any) -> dict[str, Any]:
    return dict(params) if isinstance(params, Mapping) else {}
