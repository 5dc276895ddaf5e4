"""One small error hierarchy; every message names the provider, the URL and what to do next.

    ExplorerError
    ├── ConfigurationError      missing or invalid settings (before any request)
    ├── AuthenticationError     the token endpoint refused us, or the API kept answering 401
    └── ApiError                the API answered an error (status, URL, parsed body) or no answer
        └── NotFound            404, or an unknown code / id / release

Messages and reprs never hold a secret: every session registers its secrets and tokens with a
:class:`Redactor`, and the text of an error passes through it before it is stored.

>>> try:
...     raise NotFound("no such code", provider="icd", url="https://id.who.int/x", status=404)
... except ApiError as exc:
...     print(exc.status, exc.provider)
404 icd
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "ExplorerError",
    "NotFound",
    "Redactor",
]

MASK = "***"


class Redactor:
    """Replaces registered secret values by ``***`` in any text.

    >>> r = Redactor(); r.add("s3cr3t-value")
    >>> r("token s3cr3t-value leaked")
    'token *** leaked'
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            for value in values:
                # Very short values would mask ordinary words; they are not worth hiding.
                if value and len(value) >= 4:
                    self._values.add(value)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text


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
        clean = redact or (lambda text: text)
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
        clean = kwargs.get("redact") or (lambda text: text)
        self.error = error
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
        clean = kwargs.get("redact") or (lambda text: text)
        self.status = status
        self.body = body
        self.params = {k: clean(v) if isinstance(v, str) else v
                       for k, v in (params or {}).items()}
        super().__init__(message, **kwargs)


class NotFound(ApiError):
    """404, or an unknown code, id or release (the message names it)."""
