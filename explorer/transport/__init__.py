"""Transport: the HTTP rules every explorer request follows, and how URLs are read.

* :class:`Transport` — a ``requests.Session`` with timeouts, bounded retries, credential-safe
  redirects and proxies, no cookies (:mod:`._transport`);
* :class:`Limits` — ``max_wait``, ``deadline``, ``max_bytes`` on every request, and the errors
  when one is reached (:mod:`._limits`);
* :func:`check_url`, :func:`origin`, :func:`under`, :func:`is_loopback` — URLs parsed once,
  with urllib3's parser, the one the transport connects with (:mod:`._urls`).

>>> check_url("https://id.who.int/", provider="icd")
'https://id.who.int'
"""

from ._limits import (
    BodyTooLarge,
    DeadlineExceeded,
    LimitExceeded,
    Limits,
    WaitTooLong,
    throttle_listener,
)
from ._transport import (
    CREDENTIAL_HEADERS,
    DEFAULT_TIMEOUT,
    RETRY_STATUSES,
    ClearTextProxy,
    Transport,
    UnreadableAnswer,
)
from ._urls import check_url, is_absolute, is_loopback, origin, parse, under

__all__ = [
    "BodyTooLarge",
    "ClearTextProxy",
    "DeadlineExceeded",
    "LimitExceeded",
    "Limits",
    "WaitTooLong",
    "CREDENTIAL_HEADERS",
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "Transport",
    "UnreadableAnswer",
    "check_url",
    "is_absolute",
    "is_loopback",
    "origin",
    "parse",
    "throttle_listener",
    "under",
]
