"""Pieces of the curl commands the sandbox banner prints (shared by the emulators).

>>> form_header()
"-H 'Content-Type: application/x-www-form-urlencoded'"
"""

from __future__ import annotations

import shlex
from urllib.parse import quote

__all__ = ["basic_header", "form_header"]


def basic_header(client_id: str, secret: str) -> str:
    """A curl ``-H`` argument with HTTP Basic credentials, each half form-urlencoded first
    (RFC 6749 2.3.1)."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return f"\"Authorization: Basic $(echo -n {shlex.quote(pair)} | base64 -w0)\""


def form_header() -> str:
    """The curl ``-H`` argument of a form body."""
    return "-H 'Content-Type: application/x-www-form-urlencoded'"
