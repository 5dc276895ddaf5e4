"""What an API emulator declares, so that the sandbox's generic parts (server, token servers,
credentials, banner) need no provider name.

An emulator module (``explorer/sandbox/<provider>.py``) defines ``EMULATOR``:

* ``name`` — the provider's name (what ``connect()`` and ``Sandbox.credentials()`` take);
* ``mount`` — its mount class: ``Mount(state)``, ``hosts`` (the real hosts it answers for),
  ``handle(request, host, path) -> Response``;
* ``issuers`` — the token servers it brings (:class:`~explorer.sandbox.oauth.Issuer`);
* ``make_credentials(rng)`` — its fresh credentials (ids from ``rng``, secrets random);
* ``credentials(box, **options)`` — ``connect()`` keyword arguments for a running sandbox;
* ``banner(box)`` — lines for ``python -m explorer sandbox`` (credentials, curl commands);
* ``knobs`` — its own settings and their defaults (``sandbox.start(action_seconds=…)``);
* ``options`` — session options ``connect(…, sandbox=…)`` applies unless given;
* ``offline`` — ``connect()`` options that serve a user's own file through a private sandbox
  (:class:`Offline`: ICD's ``release_file=`` sets the knob ``icd_release_files``).

>>> from explorer.sandbox.itcare import EMULATOR
>>> EMULATOR.name, EMULATOR.mount.hosts
('itcare', ('itcare.cegedim.cloud', 'api.cegedim.cloud'))
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Emulator", "Offline"]


@dataclass(frozen=True)
class Offline:
    """A ``connect()`` option naming a user's file that a private sandbox then serves
    (``connect("icd", release_file=path)``).

    ``read(value) -> (knob value, session options)`` checks the file(s) before anything
    starts (a :class:`ValueError` saying what is wrong otherwise); the session options are
    what the file says about itself (ICD: its language).
    """

    knob: str
    read: Callable[[Any], tuple[Any, dict[str, Any]]]
    #: what the file is, for messages ("a WHO SimpleTabulation file (.zip, .txt, .txt.gz)")
    what: str


@dataclass(frozen=True)
class Emulator:
    """One API's emulator (see the module docstring)."""

    name: str
    mount: type
    make_credentials: Callable[[random.Random], dict[str, Any]]
    credentials: Callable[..., dict[str, Any]]
    banner: Callable[[Any], list[str]]
    issuers: tuple[Any, ...] = ()
    #: the emulator's own knobs and their defaults (``start(**knobs)``, ``box.<knob> = …``)
    knobs: Mapping[str, Any] = field(default_factory=dict)
    #: session options ``connect(sandbox=…)`` uses unless given (``{"cache": "memory"}``)
    options: Mapping[str, Any] = field(default_factory=dict)
    #: ``connect()`` options served offline by a private sandbox (``{"release_file": …}``)
    offline: Mapping[str, Offline] = field(default_factory=dict)
