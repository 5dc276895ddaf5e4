"""Command line: the seeds' curl steps, with explorer's sessions.

    explorer token <api>               print a bearer token (what the seeds do with curl)
    explorer get <api> <path>          print the JSON of a GET
    explorer sandbox [--port 8765]     run the sandbox in the foreground

``<api>`` is any registered provider (``explorer.apis.names()``). Add ``--sandbox`` to
``token``/``get`` to use the embedded sandbox. Credentials come from the environment or a
``.env`` file, as ``connect`` reads them. Errors print one clear line, exit code 1. Output
cut short by the reader (``explorer get … | head -1``) ends quietly, exit code 0.

>>> main(["get", "icd", "/icd/entity", "--sandbox"])  # doctest: +ELLIPSIS
{
  "@context": ...
0
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import apis
from .errors import ExplorerError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="explorer", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for cmd, text in (("token", "print a bearer token"), ("get", "GET a path, print JSON")):
        s = sub.add_parser(cmd, help=text)
        s.add_argument("api", help=", ".join(apis.names()) + " (or another registered API)")
        if cmd == "get":
            s.add_argument("path", help="path under the API's base URL, e.g. /icd/entity")
            s.add_argument("-q", "--query", action="append", default=[], metavar="KEY=VALUE",
                           help="query parameter (repeatable)")
        s.add_argument("--sandbox", action="store_true", help="use the embedded sandbox")
        s.add_argument("--environment", help="the API's environment, for APIs that have "
                                             "several (GOPACS: acceptance, production)")
        s.add_argument("--base-url", help="override the API base URL")
        s.add_argument("--token-url", help="override the token URL")
    s = sub.add_parser("sandbox", help="run the sandbox in the foreground")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--token-lifetime", type=float, default=None, metavar="S")
    s.add_argument("--latency", type=float, default=0.0, metavar="MS")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); the exit code.

    A reader that stops reading (``| head``) is not an error: the rest of the output is
    dropped and the exit code is 0, without a traceback.
    """
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here, while we can still say what to do
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    return code


def _quiet_stdout() -> None:
    """Send whatever is still buffered for stdout nowhere: Python flushes stdout again at
    exit, and a closed pipe would print "Exception ignored … BrokenPipeError" there."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (a captured stdout): nothing to do
        pass


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sandbox":
        from .sandbox.cli import run

        run(port=args.port, token_lifetime=args.token_lifetime, latency_ms=args.latency)
        return 0
    from .connect import connect

    kwargs = {k: v for k, v in (("environment", args.environment), ("base_url", args.base_url),
                                ("token_url", args.token_url)) if v}
    try:
        session = connect(args.api, sandbox=args.sandbox, **kwargs)
        if args.command == "token":
            token = session.token
            if token is None:
                print("this session uses no token", file=sys.stderr)
                return 1
            print(token.access_token)
        else:
            query = dict(q.split("=", 1) for q in args.query if "=" in q)
            print(json.dumps(session.get(args.path, **query), indent=2, ensure_ascii=False))
    except ExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
