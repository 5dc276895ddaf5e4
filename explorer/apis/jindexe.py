"""Jindexe: provider, session and DataFrames (seed "Appeler l'API", apis.md §3).

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

import pandas as pd

from ..auth import Route
from ..session import (
    Collection,
    ErrorWords,
    Field,
    Filter,
    NumberedPages,
    Provider,
    Session,
    Single,
)
from ..session.frames import to_series
from ..session.session import object_of

__all__ = ["ESTABLISHMENT", "POST", "PROVIDER", "JindexeSession"]

ESTABLISHMENT = Collection(
    path="/public/establishments",
    name="establishments",
    title="Establishments",
    columns=("id", "name", "slug", "description", "address.street", "address.postalCode",
             "address.city", "address.country", "location.lat", "location.lng", "phone",
             "email", "website", "categories", "openingHours", "pictures", "createdAt",
             "updatedAt"),
    iso_times=("createdAt", "updatedAt"),
    filters=(Filter("q", label="Search", help="words in names and descriptions"),
             Filter("category", label="Category", help="a category slug, e.g. boulangerie"),
             Filter("city", label="City")),
)
ESTABLISHMENT_DETAIL = Collection(path="/public/establishments/{id}",
                                  columns=ESTABLISHMENT.columns,
                                  iso_times=ESTABLISHMENT.iso_times, paging=Single())
LISTING = Collection(path="/pro/establishments/{id}",
                     columns=(*ESTABLISHMENT.columns, "role", "visibility", "feeds"),
                     iso_times=ESTABLISHMENT.iso_times, paging=Single())
POST = Collection(
    path="/pro/establishments/{id}/posts",
    columns=("id", "establishmentId", "title", "content", "media", "publishedAt", "feeds",
             "status"),
    iso_times=("publishedAt",),
)
ME = Collection(path="/user/me", columns=("id", "email", "firstname", "lastname",
                                          "establishments"), paging=Single())

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
        path = self.id_path("public", "establishments", establishment_id)
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
        path = self.id_path("pro", "establishments", establishment_id)
        record = object_of(self, self.get(path), path)
        return to_series(record, LISTING, name=record.get("name"))

    def posts(self, establishment_id: int | str, *, limit: int | None = None,
              progress: bool = True) -> pd.DataFrame:
        """Posts of a managed establishment (``GET /pro/establishments/{id}/posts``).

        Columns: :data:`POST` (``publishedAt`` UTC; ``feeds``, ``media`` list columns).
        """
        return self.frame(self.id_path("pro", "establishments", establishment_id, "posts"),
                          limit=limit, progress=progress)


_KEY_ROUTES = "every /public/, /user/ and /pro/ route"
_USER_ROUTES = "/user/ and /pro/ routes (a user token)"

PROVIDER = Provider(
    name="jindexe",
    title="Jindexe",
    grant="password",
    urls={},
    api_key_header="X-API-KEY",
    token_body="json",
    token_path="/public/token",
    token_credentials=("api_key",),
    routes=(
        Route("/ext/", credentials=()),
        Route("/user/", credentials=("api_key", "token"), why=_USER_ROUTES),
        Route("/pro/", credentials=("api_key", "token"), why=_USER_ROUTES),
        Route("/", credentials=("api_key",), why=_KEY_ROUTES),
    ),
    fields=(
        Field("api_key", label="API key", env="JINDEXE_API_KEY", secret=True,
              required="always",
              help="set api_key=… (or JINDEXE_API_KEY); ask Jindexe for an API key"),
        Field("username", env="JINDEXE_USERNAME", help="your Jindexe account"),
        Field("password", env="JINDEXE_PASSWORD", secret=True),
        Field("base_url", label="Base URL", env="JINDEXE_BASE_URL", kind="url",
              required="always", main=True, placeholder="https://…"),
    ),
    errors=ErrorWords(keys=("error_description",), code_key="error", hints=_HINTS,
                      refused={"invalid_api_key": "api_key"}),
    collections=(ESTABLISHMENT, ESTABLISHMENT_DETAIL, LISTING, POST, ME),
    paging=NumberedPages(size=100),
    signup="ask Jindexe for an API key; username and password are your Jindexe account",
    session_class=JindexeSession,
)
