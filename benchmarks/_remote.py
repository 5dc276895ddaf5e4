"""The sandbox in a child process, so its work does not compete with the client for this
process's GIL; its request counter is read through a pipe.

    sb = RemoteSandbox("icd", latency=0.02, synthetic_icd=2500, rate_limit=300)
    explorer.connect("icd", **sb.creds); sb.count("/id.who.int/icd"); sb.stop()
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Any


def _serve(conn: Any, api: str, latency: float, options: dict[str, Any]) -> None:
    from explorer import sandbox

    with sandbox.start(latency=latency, **options) as sb:
        conn.send({"creds": sb.credentials(api), "container": sb.credentials(api, auth=False),
                   "url": sb.url})
        while True:
            command, arg = conn.recv()
            if command == "count":
                conn.send(sb.count(arg))
            elif command == "limited":
                conn.send(sb.rate_limited())
            elif command == "reset":
                sb.reset_counters()
                conn.send(None)
            elif command == "rate":
                sb.limit_rate(*arg)
                conn.send(None)
            else:
                conn.send(None)
                return


class RemoteSandbox:
    """A sandbox in a child process; ``creds`` are ``api``'s connect arguments."""

    def __init__(self, api: str, *, latency: float, **options: Any) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, api, latency, options),
                                 daemon=True)
        self._proc.start()
        started = self._conn.recv()
        self.creds: dict[str, Any] = started["creds"]
        self.container: dict[str, Any] = started["container"]
        self.url: str = started["url"]

    def rate_limited(self) -> int:
        """429s the rate limit sent."""
        self._conn.send(("limited", None))
        return self._conn.recv()

    def limit_rate(self, rate_limit: float | None, burst: float | None = None) -> None:
        self._conn.send(("rate", (rate_limit, burst)))
        self._conn.recv()

    def count(self, path_prefix: str | None = None) -> int:
        self._conn.send(("count", path_prefix))
        return self._conn.recv()

    def reset(self) -> None:
        self._conn.send(("reset", None))
        self._conn.recv()

    def stop(self) -> None:
        self._conn.send(("stop", None))
        self._conn.recv()
        self._proc.join(10)
