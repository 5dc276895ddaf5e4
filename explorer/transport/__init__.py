"""Transport: the HTTP rules every explorer request follows, and how URLs are read.

* :class:`Transport` — a ``requests.Session`` with timeouts, bounded retries, credential-safe
  redirects (:mod:`._transport`);
* :func:`check_url`, :func:`origin`, :func:`under`, :func:`is_loopback` — URLs parsed once,
  with urllib3's parser, the one the transport connects with (:mod:`._urls`).

>>> check_url("https://id.who.int/", provider="icd")
'https://id.who.int'
"""

from ._transport import CREDENTIAL_HEADERS, DEFAULT_TIMEOUT, RETRY_STATUSES, Transport
from ._urls import check_url, is_absolute, is_loopback, origin, parse, under

__all__ = [
    "CREDENTIAL_HEADERS",
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "Transport",
    "check_url",
    "is_absolute",
    "is_loopback",
    "origin",
    "parse",
    "under",
]
