"""Shared helpers of the reliability tests: a private sandbox per test, probes on a session.

Probes are ordinary ``requests`` response hooks on the session's own transports (nothing is
patched): they count the 401s the API answered and time every token response.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from explorer import sandbox
from explorer.sandbox import Faults


@pytest.fixture
def sb() -> Iterator[sandbox.Sandbox]:
    """A private sandbox (knobs, counters and faults are this test's own)."""
    with sandbox.start(token_lifetime=2, latency=0.0) as box:
        yield box


class MixedRetryAfter(Faults):
    """:class:`Faults` whose ``Retry-After`` depends on the injected status.

    The sandbox reads ``faults.retry_after`` right after ``faults.pick()`` on the same thread, so a
    thread-local value per pick gives ``429 → Retry-After: 1`` and ``503 → Retry-After: 0``.
    """

    def __init__(self, *args: Any, retry_after_by_kind: dict[int, int], **kwargs: Any) -> None:
        self._local = threading.local()
        self._by_kind = dict(retry_after_by_kind)
        self._default = 0
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def retry_after(self) -> int:
        return int(getattr(self._local, "value", self._default))

    @retry_after.setter
    def retry_after(self, value: int) -> None:
        self._default = int(value)

    def pick(self, path: str, is_token: bool):  # type: ignore[override]
        kind = super().pick(path, is_token)
        self._local.value = self._by_kind.get(kind, self._default) if isinstance(kind, int) \
            else self._default
        return kind


@dataclass
class Probe:
    """Counts what one session saw: 401 answers, token responses (with their times)."""

    seen_401: list[requests.Response] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    token_statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_api(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        if resp.status_code == 401:
            with self.lock:
                # a cached transport (requests-cache) runs the hooks twice on one response
                if not any(r is resp for r in self.seen_401):
                    self.seen_401.append(resp)

    @property
    def api_401(self) -> int:
        return len(self.seen_401)

    def on_token(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self.lock:
            self.token_times.append(time.monotonic())
            self.token_statuses.append(resp.status_code)

    def gaps(self) -> list[float]:
        t = sorted(self.token_times)
        return [b - a for a, b in zip(t, t[1:], strict=False)]


def attach(session: Any) -> Probe:
    """A :class:`Probe` hooked to ``session``'s API and token transports."""
    probe = Probe()
    session.http.hooks["response"].append(probe.on_api)
    if session.flow is not None:
        session.flow.endpoint.http.hooks["response"].append(probe.on_token)
    return probe


def report(capsys: pytest.CaptureFixture[str], title: str, figures: dict[str, Any]) -> None:
    """Print the measured figures, also in a normal (captured) pytest run."""
    line = ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in figures.items())
    with capsys.disabled():
        print(f"\n[{title}] {line}")
