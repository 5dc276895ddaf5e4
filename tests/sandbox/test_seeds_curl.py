# ruff: noqa: E501  (the seed commands are kept verbatim)
"""The seed pages' curl commands, run with real curl against the sandbox.

Each command is copied from the vendor page; only ``https://`` becomes
``http://127.0.0.1:PORT/`` and the placeholders become the sandbox credentials.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import subprocess
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")

KEYCLOAK_KEYS = {"access_token", "expires_in", "refresh_expires_in", "refresh_token",
                 "token_type", "not-before-policy", "session_state", "scope"}


def run(sb, command: str, **subs: str) -> tuple[int, str]:
    """Run a seed command in bash; returns (HTTP status, body)."""
    command = command.replace("https://", sb.url + "/")
    for old, new in subs.items():
        command = command.replace(old, new)
    command = command.replace("curl ", "curl -s -w '\\n%{http_code}' ", 1)
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30,
                         check=True).stdout
    body, _, status = out.rpartition("\n")
    return int(status), body


ITCARE_TOKEN = '''curl -X POST "https://accounts.cegedim.cloud/auth/realms/cloud/protocol/openid-connect/token" \\
-H "Authorization: Basic $(echo -n 'CLIENT_ID:CLIENT_SECRET' | base64)" \\
-H "Content-Type: application/x-www-form-urlencoded" \\
-d "grant_type=client_credentials"'''
ITCARE_CALL = '''curl -X GET "https://itcare.cegedim.cloud/itcare/{api-definition}/{api-endpoint}" -H "Authorization: Bearer {token}"'''
ITCARE_REFRESH = '''curl -X POST "https://accounts.cegedim.cloud/auth/realms/cloud/protocol/openid-connect/token" \\
-H "Authorization: Basic $(echo -n 'CLIENT_ID:CLIENT_SECRET' | base64)" \\
-H "Content-Type: application/x-www-form-urlencoded" \\
-d "grant_type=client_credentials&refresh_token=****************"'''
GOPACS_TOKEN = '''curl -X POST "https://auth.acc.gopacs-services.eu/realm/gopacs/protocol/openid-connect/token" \\
-H "Content-Type: application/x-www-form-urlencoded" \\
-d "client_id=xxxxxx" \\
-d "client_secret=xxxxxxxxxx" \\
-d "grant_type=client_credentials"'''


def _itcare_subs(sb) -> dict[str, str]:
    c = sb.credentials("itcare")
    # RFC 6749 2.3.1: the halves are form-urlencoded before base64 (a no-op for these)
    return {"CLIENT_ID": quote(c["client_id"], safe=""),
            "CLIENT_SECRET": quote(c["client_secret"], safe="")}


def test_itcare_token_call_and_refresh_style(sb):
    status, body = run(sb, ITCARE_TOKEN, **_itcare_subs(sb))
    tok = json.loads(body)
    assert status == 200 and set(tok) == KEYCLOAK_KEYS
    assert (tok["expires_in"], tok["refresh_expires_in"], tok["token_type"]) == (1200, 7200,
                                                                                 "bearer")
    status, body = run(sb, ITCARE_CALL, **{"{api-definition}": "compute",
                                           "{api-endpoint}": "instances",
                                           "{token}": tok["access_token"]})
    assert status == 200 and json.loads(body)["totalElements"] == 2500
    status, body = run(sb, ITCARE_REFRESH, **_itcare_subs(sb),
                       **{"****************": tok["refresh_token"]})
    assert status == 200 and set(json.loads(body)) == KEYCLOAK_KEYS


def test_gopacs_token(sb):
    c = sb.credentials("gopacs")
    subs = {"client_secret=xxxxxxxxxx": f"client_secret={c['client_secret']}",
            "client_id=xxxxxx": f"client_id={c['client_id']}"}
    # as printed (the code block says /realm/, a typo of the table's /realms/): not served
    status, _ = run(sb, GOPACS_TOKEN, **subs)
    assert status == 404
    status, body = run(sb, GOPACS_TOKEN.replace("/realm/", "/realms/"), **subs)
    tok = json.loads(body)
    assert status == 200 and set(tok) == KEYCLOAK_KEYS
    assert (tok["expires_in"], tok["refresh_expires_in"], tok["token_type"],
            tok["not-before-policy"]) == (300, 1800, "bearer", 0)
    status, body = run(sb, 'curl "https://api.acc.gopacs-services.eu/uftp-participants/v3/'
                           'participants/dso.enexis.nl" -H "Authorization: Bearer TOKEN" '
                           '-H "Accept: application/json"', TOKEN=tok["access_token"])
    assert status == 200 and json.loads(body)["domain"] == "dso.enexis.nl"


@pytest.mark.skipif(importlib.util.find_spec("explorer.sandbox.icd") is None,
                    reason="explorer.sandbox.icd (ICD emulator) not written yet")
def test_who_icd_token_and_entity(sb):
    c = sb.credentials("icd")
    user = f"{quote(c['client_id'], safe='')}:{quote(c['client_secret'], safe='')}"
    status, body = run(sb, "curl -X POST https://icdaccessmanagement.who.int/connect/token "
                           f"-u {shlex.quote(user)} "
                           "-d grant_type=client_credentials -d scope=icdapi_access")
    tok = json.loads(body)
    assert status == 200 and set(tok) == {"access_token", "expires_in", "token_type", "scope"}
    assert tok["token_type"] == "Bearer" and tok["scope"] == "icdapi_access"
    status, body = run(sb, 'curl "https://id.who.int/icd/entity" -H "Authorization: Bearer T" '
                           '-H "Accept: application/json" -H "Accept-Language: en" '
                           '-H "API-Version: v2"', T=tok["access_token"])
    entity = json.loads(body)
    assert status == 200 and ("@id" in entity or "title" in entity)


def test_jindexe_token_and_bearer_call(sb):
    c = sb.credentials("jindexe")
    payload = json.dumps({"grant_type": "password", "username": c["username"],
                          "password": c["password"]})
    status, body = run(sb, "curl -X POST https://api.jindexe.net/public/token "
                           f"-H 'X-API-KEY: {c['api_key']}' "
                           "-H 'Content-Type: application/json' "
                           f"-d {shlex.quote(payload)}")
    tok = json.loads(body)
    assert status == 200 and set(tok) == {"access_token", "expires_in", "token_type", "scope",
                                          "refresh_token"}
    assert (tok["expires_in"], tok["token_type"], tok["scope"]) == (86400, "bearer", "user")
    refresh = json.dumps({"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
    status, body = run(sb, "curl -X POST https://api.jindexe.net/public/token "
                           f"-H 'X-API-KEY: {c['api_key']}' -d {shlex.quote(refresh)}")
    assert status == 200 and json.loads(body)["refresh_token"] != tok["refresh_token"]
    status, body = run(sb, "curl https://api.jindexe.net/user/me "
                           f"-H 'X-API-KEY: {c['api_key']}' "
                           f"-H 'Authorization: Bearer {json.loads(body)['access_token']}'")
    assert status == 200 and json.loads(body)["email"] == c["username"]


def test_cli_banner_commands_run(sb):
    from explorer.sandbox.cli import banner

    text = banner(sb)
    assert sb.url in text and "curl" in text
    if shutil.which("jq") is None:
        return
    lines = [ln for ln in text.splitlines() if ln.startswith(("TOKEN=", "curl "))]
    script = "set -e\n" + "\n".join(lines[:2])  # ICD token + entity call
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip()
