"""Emulator of WHO's ICD-API v2 (``id.who.int``) and of WHO's local docker container.

Mounted by the sandbox core as ``IcdMount(state)`` for hosts ``id.who.int`` (OAuth bearer
required) and ``icd-container`` (no auth, no ICD-10). It serves the REAL and COMPLETE ICD-11
MMS classification of WHO's SimpleTabulation release files - by default the 2024-01 and
2025-01 English files shipped in ``data/icd11/`` (see ``data/NOTICE-ICD.md``; cite WHO with
:data:`CITATION`), or any such files a user downloaded (``state.icd_release_files``, any
release or language) - with the real API's payload shapes (:mod:`.icd_payloads`), search and
autocode over every title (:mod:`.icd_search`), and an optional synthetic chapter
(``state.synthetic_icd`` entities, see :mod:`.synthetic_icd`).

Example:
    >>> import requests
    >>> from explorer import sandbox
    >>> with sandbox.start() as sb:
    ...     base = sb.credentials("icd", auth=False)["base_url"]
    ...     r = requests.get(base + "/icd/release/11/2025-01/mms/codeinfo/1A00",
    ...                      headers={"Accept": "application/json", "API-Version": "v2",
    ...                               "Accept-Language": "en"}, timeout=10)
    ...     r.json()["stemId"], r.headers["Access-Control-Allow-Origin"]
    ('http://id.who.int/icd/release/11/2025-01/mms/257068234', '*')

Routes (under ``/icd``): ``release/11/mms[/{id}[/{residual}]]`` (MultiVersion),
``release/11/{release}/mms`` (top level), ``.../mms/{id}[/other|/unspecified]``,
``.../mms/codeinfo/{code}``, ``.../mms/lookup``, ``.../mms/search`` (GET/POST),
``.../mms/autocode``, ``entity``, ``entity/{id}``, ``entity/search``, ``entity/autocode``,
``release/10[...]`` (id.who.int only); plus ``POST /analytics/clientanalytics`` (WHO's coding
tool's client analytics) and CORS preflights on every path.

Emulator choices (WHO behaviour unknown or only observed on the container):

* CORS on both hosts: every answer carries ``Access-Control-Allow-Origin: *`` and exposes
  ``API-Version``; ``OPTIONS`` -> 204 (methods ``GET, POST, OPTIONS``, the requested headers
  allowed, max age 600 s) without auth or ``API-Version``;
* every answer carries ``API-Version: v2.5.0`` (the API version of WHO's 2025-01 container);
* ``POST /analytics/clientanalytics`` -> 204 (the body is kept in ``mount.analytics``, the
  last 100 only; the bearer is required on ``id.who.int``, as for any call);
* query-parameter names are case-insensitive (``useFlexiSearch`` = ``useFlexisearch``);
* missing ``API-Version`` -> 400, text body ``API-Version header is required`` (any value
  other than ``v2``/``v2.x`` -> 400 ``Unsupported API-Version``);
* missing ``Accept`` -> 412 with empty body on BOTH hosts (observed on the container only);
* missing or unsupported ``Accept-Language`` -> 404 with empty body (region suffixes such as
  ``en-US`` are reduced to ``en``); the languages served are the files' (English by default);
* every ``HEAD`` request -> 405 (the container answers ``HEAD /icd/entity`` with 405);
* the MultiVersion list names exactly the releases served (in the requested language),
  ``latestRelease`` the newest; ICF is not served (404); ICD-10 only for 2019 (a verbatim
  subset);
* ``codeinfo`` of a postcoordinated code (``stem&ext``, ``stem/stem``): each value must lie
  under a ``scaleEntity`` of one of the stem's postcoordination axes (known only where the
  real axes are shipped: 1A00, 8B20) or be a value WHO's real codeinfo answered for that stem
  (2C25.Z: XK8G laterality, XA9HN5 specificAnatomy), else 404 - unless ``flexiblemode=true``,
  which files it under ``otherPostcoordination``; ``convertToTerminalCodes=true`` maps a
  non-leaf stem to its ``/unspecified`` residual when it has one.
"""

from __future__ import annotations

import csv
import json
import os
import random
import threading
import zipfile
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response

from . import icd_payloads as P
from . import icd_search
from ._emulator import Emulator, Offline
from ._icd_release import Release, ReleaseFile, read_header
from ._state import random_secret
from .icd_data import CITATION, FOUND, IcdStore
from .oauth import Issuer
from .synthetic_icd import SyntheticTree, generate

__all__ = ["API_VERSION", "CITATION", "EMULATOR", "ISSUER", "IcdMount"]

RESIDUALS = ("other", "unspecified")
API_VERSION = "v2.5.0"
CORS_ALLOW_HEADERS = ("Authorization, Accept, Accept-Language, API-Version, Content-Type, "
                      "linearizationname, releaseId, code, id, include")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "API-Version, Content-Length, Content-Type",
}
ANALYTICS_PATH = "/analytics/clientanalytics"


def _empty(status: int, headers: dict | None = None) -> Response:
    return Response(b"", status=status, headers=headers)


def _text(status: int, body: str) -> Response:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


def _params(request: Request) -> dict[str, str]:
    """Query and form parameters with lower-cased names (the query wins)."""
    out = {k.lower(): v for k, v in request.form.items()}
    out.update({k.lower(): v for k, v in request.args.items()})
    return out


class IcdMount:
    """The ICD mount: ``handle(request, host, path) -> Response`` (see the module docstring)."""

    hosts = ("id.who.int", "icd-container")

    def __init__(self, state: Any) -> None:
        self.state = state
        self.store = IcdStore(getattr(state, "icd_release_files", None))
        self.rng = random.Random(getattr(state, "seed", 0))
        self._rng_lock = threading.Lock()
        self._synthetic: SyntheticTree | None = None
        self.analytics: deque[dict] = deque(maxlen=100)
        self.store.warm_once()  # parse the releases in the background (first request waits)

    # -- synthetic tree ---------------------------------------------------------------------
    @property
    def synthetic(self) -> SyntheticTree | None:
        size = int(getattr(self.state, "synthetic_icd", 0) or 0)
        if size <= 0:
            return None
        tree = self._synthetic
        if tree is None or len(tree) != size:
            tree = self._synthetic = generate(size, getattr(self.state, "seed", 0))
        return tree

    def _extra_chapters(self) -> tuple[str, ...]:
        syn = self.synthetic
        return (syn.chapter_key,) if syn is not None else ()

    # -- entry point ------------------------------------------------------------------------
    def handle(self, request: Request, host: str, path: str) -> Response:
        response = self._handle(request, host, path)
        response.headers.update(CORS_HEADERS)
        response.headers["API-Version"] = API_VERSION
        return response

    def _handle(self, request: Request, host: str, path: str) -> Response:
        if request.method == "OPTIONS":
            return self._preflight(request)
        if host == "id.who.int":
            denied = self.state.auth.check(request, issuers=(ISSUER.name,))
            if denied is not None:
                return denied
        if path.rstrip("/") == ANALYTICS_PATH:
            return self._analytics(request)
        if request.method == "HEAD":
            return _empty(405, {"Allow": "GET, POST"})
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
            result = self._route(request, host, path, parts[1:], _params(request))
        except KeyError:
            return _empty(404)
        if isinstance(result, Response):
            return result
        ctype = "application/ld+json" if "application/ld+json" in accept else "application/json"
        body = json.dumps(result, ensure_ascii=False).encode("utf-8")
        return Response(body, status=200, content_type=f"{ctype}; charset=utf-8")

    def _preflight(self, request: Request) -> Response:
        asked = request.headers.get("Access-Control-Request-Headers", "").strip()
        allowed = CORS_ALLOW_HEADERS + (", " + asked if asked else "")
        return _empty(204, {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": allowed,
            "Access-Control-Max-Age": "600",
        })

    def _analytics(self, request: Request) -> Response:
        if request.method != "POST":
            return _empty(405, {"Allow": "POST, OPTIONS"})
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _empty(400)
        if isinstance(body, dict):
            self.analytics.append(body)
        return _empty(204)

    # -- routing ----------------------------------------------------------------------------
    def _lang(self, request: Request, languages) -> str | None:
        raw = request.headers.get("Accept-Language", "")
        lang = raw.split(",")[0].split(";")[0].strip().lower()
        if lang not in languages and "-" in lang:
            lang = lang.split("-")[0]
        return lang if lang in languages else None

    def _route(self, request, host, path, parts, params):
        method_ok = request.method == "GET" or (
            request.method == "POST" and parts[-1] == "search")
        if not method_ok:
            return _empty(405, {"Allow": "GET"})
        if parts[0] == "entity":
            return self._foundation(request, parts[1:], params)
        if parts[0] != "release" or len(parts) < 2:
            return _empty(404)
        if parts[1] == "10":
            if host != "id.who.int":
                return _empty(404)
            return self._icd10(request, parts[2:])
        if parts[1] == "11":
            return self._icd11(request, path, parts[2:], params)
        return _empty(404)

    def _icd11(self, request, path, parts, params):
        store = self.store
        if not parts:
            return _empty(404)
        if parts[0] == "mms":  # MultiVersion endpoints
            every = {lg for r in store.release_ids for lg in store.languages(r)}
            lang = self._lang(request, every)
            if lang is None:
                return _empty(404)
            releases = [r for r in store.release_ids if lang in store.languages(r)]
            if len(parts) == 1:
                return P.multiversion(releases)
            key = "/".join(parts[1:3])
            if len(parts) > 3:
                return _empty(404)
            having = [r for r in releases if key in store.release(r).index]
            if not having and self._synthetic_has(key):
                having = releases
            return P.multiversion(having, key) if having else _empty(404)
        release = parts[0]
        if release not in store.files or len(parts) < 2 or parts[1] != "mms":
            return _empty(404)
        lang = self._lang(request, store.languages(release))
        if lang is None:
            return _empty(404)
        rest = parts[2:]
        if not rest:
            return P.top_level(store, release, lang, self._extra_chapters())
        if rest[0] == "codeinfo" and len(rest) >= 2:
            code = unquote(path.split("/codeinfo/", 1)[1])
            return self._codeinfo(release, code, params)
        if rest == ["search"]:
            return icd_search.search(store, release, lang, params, self._search_rng())
        if rest == ["autocode"]:
            return icd_search.autocode(store, release, lang, params)
        if rest == ["lookup"]:
            return self._lookup(release, lang, params.get("foundationuri", ""), params)
        if len(rest) > 2 or (len(rest) == 2 and rest[1] not in RESIDUALS):
            return _empty(404)
        return self._lin_entity("/".join(rest), release, lang, params)

    def _search_rng(self) -> random.Random:
        with self._rng_lock:
            return random.Random(self.rng.getrandbits(64))

    def _synthetic_has(self, key: str) -> bool:
        syn = self.synthetic
        return syn is not None and key in syn

    @staticmethod
    def _include(params: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(i.strip() for i in params.get("include", "").split(",") if i.strip())

    def _lin_entity(self, key, release, lang, params):
        rel = self.store.release(release)
        row = rel.index.get(key)
        if row is not None:
            return P.lin_entity(self.store, release, row, lang, self._include(params))
        syn = self.synthetic
        if syn is not None and key in syn:
            return syn.payload(key, release, lang, self._include(params))
        return _empty(404)

    # -- codeinfo / lookup ------------------------------------------------------------------
    def _codeinfo(self, release: str, code: str, params) -> dict | Response:
        rel = self.store.release(release)
        flexible = icd_search.flag(params, "flexiblemode", False)
        tokens = _split_code(code)
        stem = tokens[0][1]
        if not stem or any(not value for _, value in tokens[1:]):
            return _empty(404)
        row = rel.by_code.get(stem)
        if row is None:
            syn = self.synthetic
            if syn is not None and stem in syn.by_code and len(tokens) == 1:
                return P.codeinfo(release, code, syn.by_code[stem], None, {})
            return _empty(404)
        if len(tokens) == 1:
            if icd_search.flag(params, "convertToTerminalCodes", False) and not rel.is_leaf(row):
                terminal = rel.index.get(rel.keys[row] + "/unspecified")
                if terminal is not None:
                    return P.codeinfo(release, rel.codes[terminal], rel.keys[terminal], None,
                                      {})
            return P.codeinfo(release, code, rel.keys[row], None, {})
        axes: dict[str, list[str]] = {}
        rec = self.store.enrich("en", rel.keys[row])
        scales = rec.get("postcoordinationScale", ())
        seen = {value: name for example in rec.get("codeinfoExamples", ())
                for name, values in example.items() if name != "code" for value in values}
        for sep, value in tokens[1:]:
            axis = _axis_of(rel, scales, value, sep)
            name = axis["axis"] if axis is not None else seen.get(value)
            if axis is not None and axis["multi"] == "NotAllowed" and name in axes:
                name = None  # a second value on a single-valued axis
            if name is None:
                if not flexible:
                    return _empty(404)
                name = "otherPostcoordination"
            axes.setdefault(name, []).append(value)
        return P.codeinfo(release, code, rel.keys[row], stem, axes)

    def _lookup(self, release, lang, uri, params):
        uri = uri.strip().rstrip("/")
        if not (uri.startswith(FOUND + "/") or uri.startswith("https://id.who.int/icd/entity/")):
            return _empty(404)
        fid = uri.rsplit("/", 1)[-1]
        rel = self.store.release(release)
        row = rel.by_foundation.get(fid)
        if row is not None:
            if not rel.codes[row]:  # an uncoded grouping: its unspecified residual
                row = rel.index.get(rel.keys[row] + "/unspecified", row)
        elif fid in self.store.aggregated and lang == "en":
            row = rel.index.get(self.store.aggregated[fid])
        if row is None:
            return _empty(404)
        return P.lin_entity(self.store, release, row, lang, self._include(params))

    # -- foundation -------------------------------------------------------------------------
    def _foundation(self, request, rest, params):
        store = self.store
        release = params.get("releaseid") or store.latest
        if release not in store.files:
            return _empty(404)
        lang = self._lang(request, store.languages(release))
        if lang is None:
            return _empty(404)
        if not rest:
            return P.foundation_top(store, release, lang)
        if rest == ["search"]:
            return icd_search.search(store, release, lang, params, self._search_rng(),
                                     foundation=True)
        if rest == ["autocode"]:
            return icd_search.autocode(store, release, lang, params, foundation=True)
        if len(rest) != 1:
            return _empty(404)
        if not P.foundation_known(store.release(release), rest[0]):
            # without releaseId: the newest served release that has the entity (emulator
            # choice), so that every foundation URI of every served file answers
            older = [r for r in store.release_ids if not params.get("releaseid")
                     and lang in store.languages(r)
                     and P.foundation_known(store.release(r), rest[0])]
            if not older:
                return _empty(404)
            release = older[0]
        return P.foundation_entity(store, release, rest[0], lang, self._include(params))

    # -- ICD-10 -----------------------------------------------------------------------------
    def _icd10(self, request, rest):
        icd10 = self.store.icd10
        if self._lang(request, ("en",)) is None:
            return _empty(404)
        if not rest:
            return P.icd10_multiversion(icd10)
        if len(rest) == 1 and rest[0] in icd10["entities"]:
            return P.icd10_multiversion(icd10, rest[0])
        release = rest[0]
        if release not in icd10["served"] or len(rest) > 2:
            return _empty(404)
        if len(rest) == 1:
            return P.icd10_top(icd10, release, "en")
        if rest[1] not in icd10["entities"]:
            return _empty(404)
        return P.icd10_entity(icd10, rest[1], release, "en")


def _axis_of(rel: Release, scales, value: str, sep: str) -> dict | None:
    """The stem's postcoordination axis whose value sets hold the code ``value``."""
    vrow = rel.by_code.get(value)
    if vrow is None:
        return None
    is_extension = rel.chapters_no[vrow] == "X"
    if (sep == "&") != is_extension:  # '&' joins extension codes, '/' stem codes
        return None
    for axis in scales:
        for key in axis["scale"]:
            srow = rel.index.get(key)
            if srow is not None and srow <= vrow < rel.ends[srow]:
                return axis
    return None


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


#: the citation WHO's licence asks for wherever ICD-11 content is shown (its §1.3)
CITATION_LINES = ["ICD-11 content served here: " + CITATION]


def _banner(box: Any) -> list[str]:
    from explorer.sandbox._curl import basic_header, form_header

    icd = box.credentials("icd")
    return [
        "== WHO ICD-API ==",
        *CITATION_LINES,
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


def _release_files(value: Any) -> tuple[list[ReleaseFile], dict[str, Any]]:
    """``connect("icd", release_file=…)``: one SimpleTabulation file (or several: one release
    in several languages, or several releases), read and checked before anything is served;
    the session's language is the (first) file's."""
    paths = [value] if isinstance(value, (str, os.PathLike)) else list(value or ())
    if not paths:
        raise ValueError("no release file given")
    files = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        try:
            files.append(read_header(path))
        except (OSError, EOFError, UnicodeDecodeError, ValueError, csv.Error,
                zipfile.BadZipFile) as exc:
            raise ValueError(f"{path.name} is not a readable WHO SimpleTabulation file "
                             f"({type(exc).__name__}: {exc})") from None
    return files, {"language": files[0].language}


#: ``connect("icd", sandbox=…)`` keeps answers in memory: sandbox data never lands in the
#: user's payload store. ``connect("icd", release_file=path)`` serves a downloaded release
#: offline (a private sandbox, the no-auth mount).
EMULATOR = Emulator("icd", IcdMount, _make_credentials, _credentials, _banner,
                    issuers=(ISSUER,), knobs={"synthetic_icd": 0, "icd_release_files": None},
                    options={"cache": "memory"},
                    offline={"release_file": Offline(
                        "icd_release_files", _release_files,
                        "an ICD-11 MMS SimpleTabulation file (.zip, .txt or .txt.gz) as WHO "
                        "publishes it: the spreadsheet download of a release, "
                        "https://icd.who.int/browse (Info)")})
