"""Tiny HTML cards for notebook displays (``_repr_html_``): escaped, no secrets passed in."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["card"]


def card(title: str, rows: dict[str, Any]) -> str:
    """An HTML table with a title; every value is escaped.

    >>> card("Token", {"scope": "<x>"})  # doctest: +ELLIPSIS
    '<div class="explorer-card">...&lt;x&gt;...'
    """
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{escape(str(k))}</th>"
        f"<td style='text-align:left'>{escape('—' if v is None else str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return (f'<div class="explorer-card"><strong>{escape(title)}</strong>'
            f"<table>{body}</table></div>")
