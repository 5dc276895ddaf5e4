"""Emulator of WHO's ICD-API v2 (``id.who.int``) and of WHO's local docker container.

Mounted by the sandbox core as ``IcdMount(state)`` for hosts ``id.who.int`` (OAuth bearer
required) and ``icd-container`` (no auth, no ICD-10). Payload shapes follow real responses
(see ``icd_payloads``); content is the verbatim WHO subset in ``data/icd_data.json`` plus an
optional synthetic chapter (``state.synthetic_icd`` entities, see ``synthetic_icd``).

Emulator choices (WHO behaviour unknown or only observed on the container):

* missing ``API-Version`` -> 400, text body ``API-Version header is required`` (any value
  other than ``v2``/``v2.x`` -> 400 ``Unsupported API-Version``);
* missing ``Accept`` -> 412 with empty body on BOTH hosts (observed on the container only);
* missing or unsupported ``Accept-Language`` -> 404 with empty body (region suffixes such as
  ``en-US`` are reduced to ``en``);
* every ``HEAD`` request -> 405 (the container answers ``HEAD /icd/entity`` with 405);
* the same content is served for releases 2024-01, 2025-01 and 2026-01; ICD-10 only for 2019;
* search: invented scores, at most 50 results (``resultChopped``), empty or punctuation-only
  ``q`` -> 200 with ``"error": true``; synthetic entities are not searchable.
"""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from . import icd_payloads as P
from . import icd_search
from ._emulator import Emulator
from ._state import random_secret
from .icd_data import FOUND, load
from .oauth import Issuer
from .synthetic_icd import generate

__all__ = [
    "EMULATOR",
    "ISSUER",
    "JSON_TYPES",
    "RESIDUALS",
    "IcdMount",
]

RESIDUALS = ("other", "unspecified")
JSON_TYPES = ("application/json", "application/ld+json")


def _empty(status: int) -> Response:
    return Response(b"", status=status)


def _text(status: int, body: str) -> Response:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


class IcdMount:
    hosts = ("id.who.int", "icd-container")

    def __init__(self, state):
        self.state = state
        self.data = load()
        self.rng = random.Random(getattr(state, "seed", 0))
        self._synthetic = None

    # -- synthetic tree ---------------------------------------------------------------------
    @property
    def synthetic(self):
        size = int(getattr(self.state, "synthetic_icd", 0) or 0)
        if size <= 0:
            return None
        if self._synthetic is None or len(self._synthetic) != size:
            self._synthetic = generate(size, getattr(self.state, "seed", 0))
        return self._synthetic

    def _extra_chapters(self):
        return (self.synthetic.chapter_key,) if self.synthetic is not None else ()

    # -- entry point ------------------------------------------------------------------------
    def handle(self, request: Request, host: str, path: str) -> Response:
        if host == "id.who.int":
            denied = self.state.auth.check(request, issuers=(ISSUER.name,))
            if denied is not None:
                return denied
        if request.method == "HEAD":
            return Response(b"", status=405, headers={"Allow": "GET, POST"})
        accept = request.headers.get("Accept", "")
        if not accept.strip():
            return _empty(412)
        version = request.headers.get("API-Version", "").strip()
        if not version:
            return _text(400, "API-Version header is required (e.g. API-Version: v2)")
        if not (version == "v2" or version.startswith("v2.")):
            return _text(400, f"Unsupported API-Version: {version}")
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["icd"] or len(parts) < 2:
            return _empty(404)
        try:
            result = self._route(request, host, path, parts[1:])
        except KeyError:
            return _empty(404)
        if isinstance(result, Response):
            return result
        ctype = "application/ld+json" if "application/ld+json" in accept else "application/json"
        body = json.dumps(result, ensure_ascii=False).encode("utf-8")
        return Response(body, status=200, content_type=f"{ctype}; charset=utf-8")

    # -- routing ----------------------------------------------------------------------------
    def _lang(self, request: Request, languages) -> str | None:
        raw = request.headers.get("Accept-Language", "")
        lang = raw.split(",")[0].split(";")[0].strip().lower()
        if lang not in languages and "-" in lang:
            lang = lang.split("-")[0]
        return lang if lang in languages else None

    def _route(self, request, host, path, parts):
        method_ok = request.method == "GET" or (
            request.method == "POST" and parts[-1] == "search"
        )
        if not method_ok:
            return Response(b"", status=405, headers={"Allow": "GET"})
        if parts[0] == "entity":
            return self._foundation(request, parts[1:])
        if parts[0] != "release" or len(parts) < 2:
            return _empty(404)
        if parts[1] == "10":
            if host != "id.who.int":
                return _empty(404)
            return self._icd10(request, parts[2:])
        if parts[1] == "11":
            return self._icd11(request, path, parts[2:])
        return _empty(404)

    def _icd11(self, request, path, parts):
        data = self.data
        if not parts:
            return _empty(404)
        if parts[0] in ("mms", "icf"):  # MultiVersion endpoints
            if not self._lang(request, data.releases[data.latest]["availableLanguages"]):
                return _empty(404)
            lin = parts[0]
            releases = list(data.all_releases) if lin == "mms" else P.ICF_RELEASES
            if len(parts) == 1:
                return P.multiversion(lin, releases)
            if lin == "icf":
                return _empty(404)
            key = "/".join(parts[1:3])
            if len(parts) > 3 or not self._has_entity(key):
                return _empty(404)
            return P.multiversion(lin, list(data.releases), key)
        release = parts[0]
        if release not in data.releases or len(parts) < 2 or parts[1] != "mms":
            return _empty(404)
        lang = self._lang(request, data.releases[release]["availableLanguages"])
        if lang is None:
            return _empty(404)
        rest = parts[2:]
        if not rest:
            return P.top_level(data, release, lang, self._extra_chapters())
        params = request.args
        if rest[0] == "codeinfo" and len(rest) >= 2:
            code = unquote(path.split("/codeinfo/", 1)[1])
            return self._codeinfo(release, code, params)
        if rest == ["search"]:
            merged = {**request.args.to_dict(), **request.form.to_dict()}
            return icd_search.search(data, release, lang, merged, self.rng)
        if rest == ["autocode"]:
            return icd_search.autocode(data, release, lang, params)
        if rest == ["lookup"]:
            return self._lookup(release, lang, params.get("foundationUri", ""), params)
        if len(rest) > 2 or (len(rest) == 2 and rest[1] not in RESIDUALS):
            return _empty(404)
        return self._lin_entity("/".join(rest), release, lang, params)

    def _has_entity(self, key: str) -> bool:
        syn = self.synthetic
        return key in self.data.entities or (syn is not None and key in syn)

    def _include(self, params) -> tuple[str, ...]:
        return tuple(i.strip() for i in params.get("include", "").split(",") if i.strip())

    def _lin_entity(self, key, release, lang, params):
        include = self._include(params)
        if key in self.data.entities:
            return P.lin_entity(self.data, key, release, lang, include)
        syn = self.synthetic
        if syn is not None and key in syn:
            return syn.payload(key, release, lang, include)
        return _empty(404)

    def _codeinfo(self, release, code, params):
        data = self.data
        flexible = icd_search._flag(params, "flexiblemode", False)
        tokens = [t for t in _split_code(code)]
        if not tokens or not tokens[0][1]:
            return _empty(404)
        stem = tokens[0][1]
        syn = self.synthetic
        stem_key = data.by_code.get(stem)
        if stem_key is None and syn is not None:
            stem_key = syn.by_code.get(stem)
        if stem_key is None:
            return _empty(404)
        axes: dict[str, list[str]] = {}
        for sep, value in tokens[1:]:
            axis = data.raw["extensionAxes"].get(value) if sep == "&" else None
            if axis is None and sep == "/" and value in data.by_code:
                axis = "associatedWith"
            if axis is None:
                if not flexible or not value:
                    return _empty(404)
                axis = "otherPostcoordination"
            axes.setdefault(axis, []).append(value)
        if not axes:
            return P.codeinfo(release, code, stem_key, None, {})
        return P.codeinfo(release, code, stem_key, stem, axes)

    def _lookup(self, release, lang, uri, params):
        fid = uri.strip().rstrip("/").rsplit("/", 1)[-1]
        if not uri.startswith(FOUND + "/") and not uri.startswith("https://id.who.int/icd/entity/"):
            return _empty(404)
        data = self.data
        key = None
        rec = data.entities.get(fid)
        if rec is not None:
            key = fid
            if not rec.get("code") and fid + "/unspecified" in data.entities:
                key = fid + "/unspecified"
        elif fid in data.aggregated:
            key = data.aggregated[fid]
        if key is None:
            return _empty(404)
        return P.lin_entity(data, key, release, lang, self._include(params))

    # -- foundation -------------------------------------------------------------------------
    def _foundation(self, request, rest):
        data = self.data
        release = request.args.get("releaseId") or data.latest
        if release not in data.releases:
            return _empty(404)
        lang = self._lang(request, data.releases[release]["availableLanguages"])
        if lang is None:
            return _empty(404)
        if not rest:
            return P.foundation_top(data, release, lang)
        if rest == ["search"]:
            merged = {**request.args.to_dict(), **request.form.to_dict()}
            return icd_search.search(data, release, lang, merged, self.rng, foundation=True)
        if rest == ["autocode"]:
            return icd_search.autocode(data, release, lang, request.args, foundation=True)
        if len(rest) != 1 or rest[0] not in P.foundation_keys(data):
            return _empty(404)
        return P.foundation_entity(data, rest[0], release, lang, self._include(request.args))

    # -- ICD-10 -----------------------------------------------------------------------------
    def _icd10(self, request, rest):
        data = self.data
        if self._lang(request, ("en",)) is None:
            return _empty(404)
        icd10 = data.icd10
        if not rest:
            return P.icd10_multiversion(data)
        if len(rest) == 1 and rest[0] in icd10["entities"]:
            return P.icd10_multiversion(data, rest[0])
        release = rest[0]
        if release not in icd10["served"] or len(rest) > 2:
            return _empty(404)
        if len(rest) == 1:
            return P.icd10_top(data, release, "en")
        if rest[1] not in icd10["entities"]:
            return _empty(404)
        return P.icd10_entity(data, rest[1], release, "en")


def _split_code(code: str) -> list[tuple[str, str]]:
    """``'2C25.Z&XK8G/1A00'`` -> ``[('', '2C25.Z'), ('&', 'XK8G'), ('/', '1A00')]``."""
    out, sep, buf = [], "", ""
    for ch in code.strip():
        if ch in "&/":
            out.append((sep, buf))
            sep, buf = ch, ""
        else:
            buf += ch
    out.append((sep, buf))
    return out


# -- the emulator's declaration -------------------------------------------------------------
#: WHO's IdentityServer (3600 s, scope ``icdapi_access``).
ISSUER = Issuer("icd", "icdaccessmanagement.who.int", "", "identityserver", 3600, None,
                "icdapi_access", "icd")


def _make_credentials(rng: Any) -> dict[str, str]:
    """Emulator choice: ids ``<guid>_<guid>`` as WHO's; the secret is 44 characters of base64
    that always holds ``+``, ``%`` and ``:``, so that clients must form-urlencode it before
    HTTP Basic (RFC 6749 section 2.3.1)."""
    import secrets
    import uuid

    guid = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))  # noqa: E731
    chars = list(random_secret()[:41])
    for special in "+%:":
        chars.insert(secrets.randbelow(len(chars) + 1), special)
    return {"client_id": f"{guid()}_{guid()}", "client_secret": "".join(chars)}


def _credentials(box: Any, *, auth: bool = True, **options: Any) -> dict[str, Any]:
    """``auth=False``: the no-auth mount (WHO's local container)."""
    if not auth:
        return {"base_url": f"{box.url}/icd-container", "auth": None}
    return {**box.state.credentials["icd"], "token_url": box.state.auth.token_url("icd"),
            "base_url": f"{box.url}/id.who.int"}


def _banner(box: Any) -> list[str]:
    from explorer.sandbox._curl import basic_header, form_header

    icd = box.credentials("icd")
    return [
        "== WHO ICD-API ==",
        f"client_id     = {icd['client_id']}",
        f"client_secret = {icd['client_secret']}",
        f"token_url     = {icd['token_url']}",
        f"base_url      = {icd['base_url']}   (no-auth container: {box.url}/icd-container)",
        f"TOKEN=$(curl -s -X POST {icd['token_url']} -H "
        f"{basic_header(icd['client_id'], icd['client_secret'])} {form_header()} "
        "-d 'grant_type=client_credentials&scope=icdapi_access' | jq -r .access_token)",
        f"curl -s {icd['base_url']}/icd/entity -H \"Authorization: Bearer $TOKEN\" "
        "-H 'Accept: application/json' -H 'Accept-Language: en' -H 'API-Version: v2'",
    ]


#: ``connect("icd", sandbox=…)`` keeps answers in memory: sandbox data never lands in the
#: user's payload store.
EMULATOR = Emulator("icd", IcdMount, _make_credentials, _credentials, _banner,
                    issuers=(ISSUER,), knobs={"synthetic_icd": 0},
                    options={"cache": "memory"})
