"""Foreground sandbox for humans: start it, print credentials and curl commands, wait.

Example:
    $ python -m explorer sandbox            # wired by the project's CLI to ``run()``
    >>> from explorer.sandbox.cli import banner
    >>> from explorer import sandbox
    >>> with sandbox.start() as sb:
    ...     "curl" in banner(sb)
    True

Printing the sandbox's own, throw-away credentials is this module's job; they are random
per start and only valid against this local sandbox. Each emulator writes its own section
(``EMULATOR.banner``).
"""

from __future__ import annotations

import threading
from typing import Any

from explorer import sandbox

__all__ = ["banner", "run"]


def banner(sb: sandbox.Sandbox) -> str:
    """The text printed by :func:`run` (credentials and ready-to-paste curl commands)."""
    lines = [
        f"explorer sandbox running at {sb.url}  (Ctrl-C to stop)",
        "Every real host is mounted as " + sb.url + "/<host>/<path>.",
    ]
    for emulator in sandbox.emulators().values():
        lines += ["", *emulator.banner(sb)]
    return "\n".join(lines)


def run(port: int = 8765, token_lifetime: float | None = None, latency_ms: float = 0,
        **knobs: Any) -> None:
    """Start a sandbox on ``port`` in the foreground until Ctrl-C."""
    sb = sandbox.start(port, token_lifetime=token_lifetime, latency=latency_ms / 1000, **knobs)
    try:
        print(banner(sb), flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
