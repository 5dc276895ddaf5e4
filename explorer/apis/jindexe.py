"""Jindexe: profile, session and DataFrames (seed "Appeler l'API", apis.md §3).

``X-API-KEY`` on every call; a user token from ``POST /public/token`` with a JSON password
grant, refreshed with the refresh token. Route families: ``/ext/`` (nothing), ``/public/`` (key),
``/user/`` and ``/pro/`` (key and token). No public base URL is known: it must be given.

Lists are pages ``{"items", "page" (1-based), "limit", "total"}``; ``createdAt``,
``updatedAt`` and ``publishedAt`` (ISO-8601 with an offset) become UTC datetimes.

>>> import explorer
>>> jx = explorer.connect("jindexe", sandbox=True)
>>> len(jx.establishments(city="Lyon", progress=False))
16
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import requests

from ..errors import ApiError, ConfigurationError, NotFound
from ..session import Session
from ..session.frames import Spec, object_of, to_series
from ..session.paging import JINDEXE_PAGES
from .profile import Profile

__all__ = ["ESTABLISHMENT", "POST", "PROFILE", "JindexeSession"]

ESTABLISHMENT = Spec(
    path="/public/establishments",
    columns=("id", "name", "slug", "description", "address.street", "address.postalCode",
             "address.city", "address.country", "location.lat", "location.lng", "phone",
             "email", "website", "categories", "openingHours", "pictures", "createdAt",
             "updatedAt"),
    iso_times=("createdAt", "updatedAt"),
)
ESTABLISHMENT_DETAIL = Spec(path="/public/establishments/{id}", columns=ESTABLISHMENT.columns,
                            iso_times=ESTABLISHMENT.iso_times)
LISTING = Spec(path="/pro/establishments/{id}",
               columns=(*ESTABLISHMENT.columns, "role", "visibility", "feeds"),
               iso_times=ESTABLISHMENT.iso_times)
POST = Spec(
    path="/pro/establishments/{id}/posts",
    columns=("id", "establishmentId", "title", "content", "media", "publishedAt", "feeds",
             "status"),
    iso_times=("publishedAt",),
)
ME = Spec(path="/user/me", columns=("id", "email", "firstname", "lastname", "establishments"))

_HINTS = {
    "invalid_api_key": "check api_key=… (or JINDEXE_API_KEY)",
    "access_denied": "this route needs a user token: set username=… and password=… (or "
                     "JINDEXE_USERNAME / JINDEXE_PASSWORD)",
    "insufficient_scope": "your user does not manage this establishment (see jx.me())",
    "invalid_grant": "the user token was refused; check JINDEXE_USERNAME / JINDEXE_PASSWORD",
    "invalid_request": "check the parameters",
    "not_found": "check the id or route",
}


class JindexeSession(Session):
    """A session to the Jindexe API, with DataFrame helpers.

    >>> import explorer
    >>> jx = explorer.connect("jindexe", sandbox=True)
    >>> len(jx.establishments(q="boulangerie", city="Paris", progress=False))
    1
    """

    paging = JINDEXE_PAGES.with_size(100)
    frame_specs = (ESTABLISHMENT, ESTABLISHMENT_DETAIL, LISTING, POST, ME)

    def _needs(self, url: str) -> tuple[bool, bool]:
        path = url[len(self.base_url):] if url.startswith(self.base_url) else url
        if path.startswith("/ext/"):
            return False, False
        if path.startswith(("/user/", "/pro/")):
            return True, True
        return False, True

    def _missing(self, what: str) -> ConfigurationError:
        if "key" in what:
            hint = "set api_key=… (or JINDEXE_API_KEY); ask Jindexe for an API key"
            where = "every /public/, /user/ and /pro/ route"
        else:
            hint = ("set username=… and password=… (or JINDEXE_USERNAME / JINDEXE_PASSWORD): "
                    "your Jindexe account")
            where = "/user/ and /pro/ routes (a user token)"
        return ConfigurationError(f"this call needs {what}: {where} require it, and none was "
                                  "configured", provider=self.provider, hint=hint)

    def establishments(self, *, q: str | None = None, category: str | None = None,
                       city: str | None = None, limit: int | None = None,
                       progress: bool = True, explode: str | None = None) -> pd.DataFrame:
        """Establishments (``GET /public/establishments``, key only), all pages.

        ``q`` searches names and descriptions, ``category`` is a slug (``"boulangerie"``),
        ``city`` a city name. Columns: :data:`ESTABLISHMENT` (``address.*``,
        ``location.*``; ``categories``, ``openingHours``, ``pictures`` as list columns).

        >>> import explorer
        >>> jx = explorer.connect("jindexe", sandbox=True)
        >>> len(jx.establishments(city="Lyon", limit=10, progress=False))
        10
        """
        return self.frame("/public/establishments", q=q, category=category, city=city,
                          limit=limit, progress=progress, explode=explode)

    def establishment(self, establishment_id: int | str) -> pd.Series:
        """One establishment (``GET /public/establishments/{id}``, key only)."""
        path = self.path("public", "establishments", establishment_id)
        record = object_of(self, self.get(path), path)
        return to_series(record, ESTABLISHMENT_DETAIL, name=record.get("name"))

    def me(self) -> pd.Series:
        """The signed-in user (``GET /user/me``, key and token); ``establishments`` a list."""
        record = object_of(self, self.get("/user/me"), "/user/me")
        return to_series(record, ME, name=record.get("email"))

    def listing(self, establishment_id: int | str) -> pd.Series:
        """The listing ("fiche établissement", ``GET /pro/establishments/{id}``, key and token).

        >>> import explorer
        >>> jx = explorer.connect("jindexe", sandbox=True)
        >>> jx.listing(jx.me()["establishments"][0]["id"])["stats.posts"]
        3
        """
        path = self.path("pro", "establishments", establishment_id)
        record = object_of(self, self.get(path), path)
        return to_series(record, LISTING, name=record.get("name"))

    def posts(self, establishment_id: int | str, *, limit: int | None = None,
              progress: bool = True) -> pd.DataFrame:
        """Posts of a managed establishment (``GET /pro/establishments/{id}/posts``).

        Columns: :data:`POST` (``publishedAt`` UTC; ``feeds``, ``media`` list columns).
        """
        return self.frame(self.path("pro", "establishments", establishment_id, "posts"),
                          limit=limit, progress=progress)

    def error_for(self, resp: requests.Response, body: Any,
                  params: Mapping[str, Any] | None) -> ApiError:
        """``{"error", "error_description"}`` bodies, in Jindexe's words."""
        status = resp.status_code
        head = f"HTTP {status} {resp.reason or ''}".strip()
        code = body.get("error") if isinstance(body, Mapping) else None
        words = body.get("error_description") if isinstance(body, Mapping) else None
        if not words and isinstance(body, str) and "<html" not in body[:200].lower():
            words = body.strip()[:300] or None
        message = head + (f" — {words}" if words else "") + (f" ({code})" if code else "")
        hint = _HINTS.get(str(code)) or ("retry later" if status >= 500 else None)
        query = dict(params or {})
        if status == 400 and query:
            hint = (hint or "check the parameters") + " (sent " + ", ".join(
                f"{k}={v!r}" for k, v in query.items()) + ")"
        cls = NotFound if status == 404 else ApiError
        return cls(message, status=status, body=body, params=query, provider=self.provider,
                   url=resp.url, hint=hint, redact=self.redact)


PROFILE = Profile(
    name="jindexe",
    title="Jindexe",
    grant="password",
    urls={},
    headers={"Accept": "application/json"},
    api_key_header="X-API-KEY",
    token_body="json",
    token_needs_api_key=True,
    env={"api_key": "JINDEXE_API_KEY", "username": "JINDEXE_USERNAME",
         "password": "JINDEXE_PASSWORD", "base_url": "JINDEXE_BASE_URL"},
    required=("api_key", "base_url"),
    signup="ask Jindexe for an API key; username and password are your Jindexe account",
    session_class=JindexeSession,
)
