"""One small error hierarchy; every message names the provider, the URL and what to do next.

    ExplorerError
    ├── ConfigurationError      missing or invalid settings (before any request)
    ├── AuthenticationError     the token endpoint refused us, or the API kept answering 401
    └── ApiError                the API answered an error (status, URL, parsed body) or no answer
        └── NotFound            404, or an unknown code / id / release

Messages, reprs and attributes never hold a secret: every session registers its secrets and
tokens with a :class:`Redactor` (in every encoding explorer sends them), and an error's text,
URL, hint, body and the server's words pass through it before they are stored. Errors are raised
without a chained context (a context could hold a library's exception naming a token).

>>> try:
...     raise NotFound("no such code", provider="icd", url="https://id.who.int/x", status=404)
... except ApiError as exc:
...     print(exc.status, exc.provider)
404 icd
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "ExplorerError",
    "NotFound",
    "Redactor",
    "encodings",
]

MASK = "***"


class _Values(set):
    """The redactor's values: a set whose repr shows none of them."""

    def __repr__(self) -> str:
        return f"<{len(self)} redacted values>"


def encodings(value: str) -> set[str]:
    """``value`` and every form explorer may send it in: percent-encoded (path, query),
    form-encoded, JSON-escaped, base64 (a Basic value of its own) — and Python's own repr,
    which a message formatting ``{value!r}`` writes (``'`` escaped when ``"`` is there too).

    >>> sorted(encodings("a+b c"))
    ['YStiIGM', 'a%2Bb%20c', 'a%2Bb+c', 'a+b c']
    >>> value = 'it\\'s "x"'
    >>> repr(value)[1:-1] in encodings(value), repr(value)[1:-1] == value
    (True, False)
    """
    forms = {value, quote(value, safe=""), quote_plus(value),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             repr(value)[1:-1], ascii(value)[1:-1]}
    forms.add(json.dumps(value).replace("/", "\\/")[1:-1])  # some servers escape "/" too
    forms.add(base64.b64encode(value.encode()).decode("ascii").rstrip("="))
    return forms


class Redactor:
    """Replaces registered secret values by ``***`` in any text, in every encoding explorer
    sends them (:func:`encodings`).

    >>> r = Redactor(); r.add("s3cr3t+value")
    >>> r("token s3cr3t+value leaked, form s3cr3t%2Bvalue too")
    'token *** leaked, form *** too'
    >>> r
    <Redactor <3 redacted values>>
    """

    def __init__(self) -> None:
        self._values: set[str] = _Values()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Register secrets (and their encodings); ``None`` and very short values are ignored
        (they would mask ordinary words)."""
        with self._lock:
            for value in values:
                if value and len(value) >= 4:
                    self._values.update(v for v in encodings(value) if len(v) >= 4)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def deep(self, value: Any, _depth: int = 0) -> Any:
        """``value`` with every string inside it redacted (dicts, lists; bounded depth)."""
        if isinstance(value, str):
            return self(value)
        if _depth > 50:
            return None
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self.deep(v, _depth + 1)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.deep(v, _depth + 1) for v in value)
        return value

    def __repr__(self) -> str:
        return f"<Redactor {self._values!r}>"


def _cleaner(redact: Redactor | None) -> Callable[[str], str]:
    return redact or (lambda text: text)


class ExplorerError(Exception):
    """Base of every error raised by explorer.

    Attributes: ``provider`` (e.g. ``"icd"``), ``url`` (without secrets), ``hint`` (what to do).
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        url: str | None = None,
        hint: str | None = None,
        redact: Redactor | None = None,
    ) -> None:
        clean = _cleaner(redact)
        self.provider = provider
        self.url = clean(url) if url else url
        self.hint = clean(hint) if hint else hint
        self.detail = clean(message)
        super().__init__(self._compose())

    def _compose(self) -> str:
        head = f"[{self.provider}] " if self.provider else ""
        text = head + self.detail
        if self.url:
            text += f" (URL: {self.url})"
        if self.hint:
            text += f"\nWhat to do: {self.hint}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConfigurationError(ExplorerError):
    """A setting is missing or invalid: names the arguments or environment variables to set."""


class AuthenticationError(ExplorerError):
    """The token endpoint refused the credentials, or the API rejected a fresh token.

    ``error`` and ``error_description`` are the server's own words (RFC 6749 §5.2);
    ``status`` is the HTTP status of the refusal (``None`` when the server was unreachable).
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_description: str | None = None,
        status: int | None = None,
        **kwargs: Any,
    ) -> None:
        clean = _cleaner(kwargs.get("redact"))
        self.error = clean(error) if error else error
        self.error_description = clean(error_description) if error_description else None
        self.status = status
        super().__init__(message, **kwargs)


class ApiError(ExplorerError):
    """The API answered with an error status, or gave no usable answer.

    ``status`` (``None`` when there was no HTTP answer: connection refused, dropped, timed out),
    ``body`` (parsed JSON, text, or ``None`` for an empty body) and ``params`` (the query sent).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: Any = None,
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        redact = kwargs.get("redact")
        clean = _cleaner(redact)
        self.status = status
        self.body = redact.deep(body) if redact is not None else body
        self.params = {k: clean(v) if isinstance(v, str) else v
                       for k, v in (params or {}).items()}
        super().__init__(message, **kwargs)


class NotFound(ApiError):
    """404, or an unknown code, id or release (the message names it)."""
