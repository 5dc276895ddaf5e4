"""Foreground sandbox for humans: start it, print credentials and curl commands, wait.

Example:
    $ python -m explorer sandbox            # wired by the project's CLI to ``run()``
    >>> from explorer.sandbox.cli import banner
    >>> from explorer import sandbox
    >>> with sandbox.start() as sb:
    ...     "curl" in banner(sb)
    True

Printing the sandbox's own, throw-away credentials is this module's job; they are random
per start and only valid against this local sandbox.
"""

from __future__ import annotations

import shlex
import threading
from urllib.parse import quote

from explorer import sandbox


def _basic(client_id: str, secret: str) -> str:
    # RFC 6749 2.3.1: form-urlencode each half before base64
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return f"\"Authorization: Basic $(echo -n {shlex.quote(pair)} | base64 -w0)\""


def banner(sb: sandbox.Sandbox) -> str:
    """The text printed by :func:`run` (credentials and ready-to-paste curl commands)."""
    icd, itc, jdx = sb.credentials("icd"), sb.credentials("itcare"), sb.credentials("jindexe")
    gop = sb.credentials("gopacs", environment="acceptance")
    form = "-H 'Content-Type: application/x-www-form-urlencoded'"
    icd_basic = _basic(icd["client_id"], icd["client_secret"])
    itc_basic = _basic(itc["client_id"], itc["client_secret"])
    lines = [
        f"explorer sandbox running at {sb.url}  (Ctrl-C to stop)",
        "Every real host is mounted as " + sb.url + "/<host>/<path>.",
        "",
        "== WHO ICD-API ==",
        f"client_id     = {icd['client_id']}",
        f"client_secret = {icd['client_secret']}",
        f"token_url     = {icd['token_url']}",
        f"base_url      = {icd['base_url']}   (no-auth container: {sb.url}/icd-container)",
        f"TOKEN=$(curl -s -X POST {icd['token_url']} -H {icd_basic}"
        f" {form} -d 'grant_type=client_credentials&scope=icdapi_access' | jq -r .access_token)",
        f"curl -s {icd['base_url']}/icd/entity -H \"Authorization: Bearer $TOKEN\" "
        "-H 'Accept: application/json' -H 'Accept-Language: en' -H 'API-Version: v2'",
        "",
        "== ITCare ==",
        f"client_id     = {itc['client_id']}",
        f"client_secret = {itc['client_secret']}",
        f"TOKEN=$(curl -s -X POST {itc['token_url']} -H {itc_basic}"
        f" {form} -d 'grant_type=client_credentials' | jq -r .access_token)",
        f"curl -s '{itc['base_url']}/compute/instances?size=5' -H \"Authorization: Bearer $TOKEN\"",
        "",
        "== GOPACS (acceptance; production: auth.gopacs-services.eu / api.gopacs-services.eu) ==",
        f"client_id     = {gop['client_id']}",
        f"client_secret = {gop['client_secret']}",
        f"API_KEY       = {gop['api_key']}",
        f"TOKEN=$(curl -s -X POST {gop['token_url']} {form} -d 'client_id={gop['client_id']}'"
        f" -d 'client_secret={gop['client_secret']}' -d 'grant_type=client_credentials'"
        " | jq -r .access_token)",
        f"curl -s {gop['base_url']}/uftp-participants/v3/participants/dso.liander.nl"
        " -H \"Authorization: Bearer $TOKEN\"",
        f"curl -s '{gop['idcons_url']}/public/announcements?page=0&size=5'",
        f"curl -s '{gop['reporting_url']}/clearedbuckets?page=0&size=5'",
        "",
        "== Jindexe ==",
        f"X-API-KEY = {jdx['api_key']}",
        f"username  = {jdx['username']}",
        f"password  = {jdx['password']}",
        f"TOKEN=$(curl -s -X POST {jdx['base_url']}/public/token -H 'X-API-KEY: {jdx['api_key']}'"
        " -H 'Content-Type: application/json' -d "
        + shlex.quote('{"grant_type":"password","username":"' + jdx["username"]
                      + '","password":"' + jdx["password"] + '"}')
        + " | jq -r .access_token)",
        f"curl -s {jdx['base_url']}/user/me -H 'X-API-KEY: {jdx['api_key']}'"
        " -H \"Authorization: Bearer $TOKEN\"",
    ]
    return "\n".join(lines)


def run(port: int = 8765, token_lifetime: float | None = None, latency_ms: float = 0) -> None:
    """Start a sandbox on ``port`` in the foreground until Ctrl-C."""
    sb = sandbox.start(port, token_lifetime=token_lifetime, latency=latency_ms / 1000)
    try:
        print(banner(sb), flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
