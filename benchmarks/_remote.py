"""The sandbox in a child process, so its work does not compete with the client for this
process's GIL; its request counter is read through a pipe.

    sb = RemoteSandbox("icd", latency=0.02, synthetic_icd=2500)
    explorer.connect("icd", **sb.creds); sb.count("/id.who.int/icd"); sb.stop()
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Any


def _serve(conn: Any, api: str, latency: float, synthetic_icd: int) -> None:
    from explorer import sandbox

    with sandbox.start(latency=latency, synthetic_icd=synthetic_icd) as sb:
        conn.send(sb.credentials(api))
        while True:
            command, arg = conn.recv()
            if command == "count":
                conn.send(sb.count(arg))
            elif command == "reset":
                sb.reset_counters()
                conn.send(None)
            else:
                conn.send(None)
                return


class RemoteSandbox:
    """A sandbox in a child process; ``creds`` are ``api``'s connect arguments."""

    def __init__(self, api: str, *, latency: float, synthetic_icd: int = 0) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, api, latency, synthetic_icd),
                                 daemon=True)
        self._proc.start()
        self.creds: dict[str, Any] = self._conn.recv()

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
