"""Keyword arguments of the ICD helpers, checked: a misspelt one is a
:class:`~explorer.errors.ConfigurationError` naming the closest real one, not a bare
``TypeError`` (``search("x", chapter="01")`` → "did you mean chapters=?").

>>> @checked
... def search(q, *, chapters=None, subtrees=None):
...     return q
>>> try:
...     search("x", chapter="01")
... except ConfigurationError as exc:
...     print(exc.detail)
...     print(exc.hint)
search() got an unknown keyword argument 'chapter'
did you mean chapters=? search() takes: chapters=, subtrees=
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ...errors import ConfigurationError

__all__ = ["checked", "unknown_argument"]

F = TypeVar("F", bound=Callable[..., Any])
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def unknown_argument(function: str, name: str, takes: list[str]) -> ConfigurationError:
    """The error for ``function(name=…)`` when ``function`` takes only ``takes``."""
    close = difflib.get_close_matches(name, takes, n=1, cutoff=0.6)
    listed = ", ".join(f"{t}=" for t in takes) or "no keyword arguments"
    hint = (f"did you mean {close[0]}=? " if close else "") + f"{function}() takes: {listed}"
    return ConfigurationError(f"{function}() got an unknown keyword argument {name!r}",
                              provider="icd", hint=hint)


def checked(fn: F) -> F:
    """``fn`` with its keyword arguments checked before the call (see the module docstring);
    its signature and docstring are kept."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return fn
    takes = [p.name for p in params if p.kind in _NAMED and p.name != "self"]
    known = set(takes)
    keyword_only = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for name in kwargs:
            if name not in known:
                raise unknown_argument(fn.__name__, name, keyword_only or takes)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
