"""Holders for secrets whose ``repr`` never shows them: in objects, in ``vars()`` and in the
locals a traceback may print (``%xmode Verbose``, ``pytest -l``, rich's ``show_locals``).

* :class:`Secret` wraps one value; :meth:`Secret.reveal` is the only way to read it.
* :class:`SecretHeaders` is a header mapping (case-insensitive, as requests uses) and
  :class:`SecretForm` a form or JSON body: both show their keys, never their values;
  :class:`SecretBody` is an encoded body (bytes) that shows its length only.

>>> s = Secret("s3cr3t"); s, str(s), s.reveal()
(Secret('***'), '***', 's3cr3t')
>>> SecretHeaders({"Authorization": "Bearer abc"})
SecretHeaders({'Authorization': '***'})
>>> SecretForm(grant_type="password", password="pw")
SecretForm({'grant_type': '***', 'password': '***'})
"""

from __future__ import annotations

from typing import Any

from requests.structures import CaseInsensitiveDict

__all__ = ["MASK", "Secret", "SecretBody", "SecretForm", "SecretHeaders", "reveal"]

MASK = "***"


class Secret:
    """One secret value (a client secret, a password, an API key, a token)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value itself: pass it straight to where it is sent, never to a variable that a
        traceback could show."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = lambda self: MASK  # noqa: E731 - str() is as safe as repr()

    def __reduce__(self) -> Any:  # pickling would write the value out
        raise TypeError("a Secret cannot be pickled")


def reveal(value: Secret | str | None) -> str | None:
    """The plain value of a :class:`Secret` (a plain string or ``None`` passes through)."""
    return value.reveal() if isinstance(value, Secret) else value


class SecretHeaders(CaseInsensitiveDict):
    """HTTP headers that may hold credentials: the mapping works as usual, its ``repr`` masks
    every value. A prepared request's headers are one too, so the frames of requests, urllib3
    and http.client (``headers`` in their locals) show masks; ``copy()`` (what requests does
    on each redirect) keeps the type."""

    def __repr__(self) -> str:
        return f"SecretHeaders({ {k: MASK for k in self.keys()} !r})"

    def copy(self) -> SecretHeaders:
        return SecretHeaders(self._store.values())


class SecretBody(bytes):
    """A request body holding credentials (a token request's form or JSON), sent as it is;
    its ``repr`` shows only its length (``body`` in urllib3's frames).

    >>> SecretBody(b"client_secret=s3cr3t")
    SecretBody(<20 bytes>)
    """

    def __repr__(self) -> str:
        return f"SecretBody(<{len(self)} bytes>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # pickling would write the value out
        raise TypeError("a SecretBody cannot be pickled")


class SecretForm(dict):
    """A token-request body (form fields or JSON) whose ``repr`` masks every value."""

    def __repr__(self) -> str:
        return f"SecretForm({ {k: MASK for k in self} !r})"
