"""GOPACS: provider, session and DataFrames (seed "OAuth2 Client credentials …", apis.md §2).

Client credentials with id and secret in the form body on Keycloak realm ``gopacs``, in the
``acceptance`` or ``production`` environment. Several hosts: ``base_url`` (UFTP participants,
Bearer), ``idcons_url`` (announcements: public, or ``API_KEY`` header under ``/public-api/``),
``reporting_url`` (public reporting, no auth). Credentials are optional at connect: public
endpoints work without them, and calls that need one say which.

Times: epoch milliseconds on IDCONS (announcements, EAN effectivity), ISO-8601 ``Z`` strings on
public reporting (cleared buckets); both become UTC datetimes in the declared columns.

>>> import explorer
>>> gopacs = explorer.connect("gopacs", sandbox=True)
>>> profile = gopacs.announcement_profile(gopacs.announcements(limit=1).iloc[0])
>>> list(profile.columns[2:])
['quarter', 'start', 'end', 'requiredMW', 'remainingMW']
>>> ax = plot_profile(profile)        # a step plot (matplotlib, from the notebooks extra)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..auth import Route
from ..errors import NotFound
from ..session import (
    Collection,
    ErrorWords,
    Field,
    Filter,
    Provider,
    Session,
    Single,
    SpringPages,
)
from ..session.collections import timestamp
from ..session.frames import TIME_DTYPE, parse_times, to_frame, to_series
from ..session.session import object_of

__all__ = ["ANNOUNCEMENT", "CLEARED_BUCKET", "PROVIDER", "GopacsSession", "plot_profile"]

QUARTER = pd.Timedelta(minutes=15)

# -- declared collections ------------------------------------------------------------------------
_TIMESPAN = ("startTime", "endTime", "durationInHours", "numberOfQuartersInTimeSpan")
ANNOUNCEMENT = Collection(
    path="/public/announcements",
    name="announcements",
    title="Congestion announcements",
    base="idcons_url",
    columns=(
        "id", "problemId", "message", "type", "complianceType", "announcementState",
        "organisationName", "problemAreaDescription", "requestAreaDescriptionBuyOrders",
        "requestAreaDescriptionSellOrders", "createdTimestamp", "lastUpdatedTimestamp", "day",
        *(f"problemPeriod.{k}" for k in _TIMESPAN),
        *(f"bidValidityPeriod.{k}" for k in _TIMESPAN),
        "requiredProblemProfileInMW", "remainingProblemProfileInMW", "congestedZipCodes",
    ),
    epoch_ms=("createdTimestamp", "lastUpdatedTimestamp", "day", "problemPeriod.startTime",
              "problemPeriod.endTime", "bidValidityPeriod.startTime",
              "bidValidityPeriod.endTime"),
    paging=SpringPages(500),
)
MACHINE_ANNOUNCEMENT = Collection(
    path="/machineannouncements", name="machine_announcements",
    title="Announcements for machines", base="idcons_url", columns=ANNOUNCEMENT.columns,
    epoch_ms=ANNOUNCEMENT.epoch_ms, paging=Single(),
    filters=(Filter("postal_code", param="postalcode", label="Postal code",
                    help="4 digits match the area"),
             Filter("start", param="starttime", label="From", kind="date", time_format="ms"),
             Filter("end", param="endtime", label="Until", kind="date", time_format="ms"),
             Filter("type", label="Type", kind="choice",
                    choices=("CONGESTIONMANAGEMENT", "CONGESTIONMANAGEMENT_CAPACITY_LIMITATION")),
             Filter("state", label="State", kind="choice",
                    choices=("ANNOUNCEMENT_OPEN", "ANNOUNCEMENT_CLOSED",
                             "ANNOUNCEMENT_CANCELLED"))))
CLEARED_BUCKET = Collection(
    path="/clearedbuckets",
    name="cleared_buckets",
    title="Cleared buckets",
    base="reporting_url",
    columns=("clearingEventId", "organisationName", "buyVolumeInMWh", "sellVolumeInMWh",
             "startTime", "endTime", "clearedVolumesForPtus"),
    iso_times=("startTime", "endTime", "clearedVolumesForPtus.startTime",
               "clearedVolumesForPtus.endTime"),
    paging=SpringPages(500),
    filters=(Filter("start", label="From", kind="date"),
             Filter("end", label="Until", kind="date")),
)
EXPENSES = Collection(path="/expenses", name="expenses", title="Monthly expenses",
                      base="reporting_url", paging=Single())
PERFORMANCE = Collection(path="/performance-metrics", name="performance_metrics",
                         title="Performance metrics", base="reporting_url", paging=Single())
PTU_COLUMNS = ("clearingEventId", "organisationName", "bucketStartTime", "bucketEndTime",
               "startTime", "endTime", "buyVolumeInMW", "sellVolumeInMW")
PROFILE_COLUMNS = ("announcementId", "organisationName", "quarter", "start", "end",
                   "requiredMW", "remainingMW")
EAN_COLUMNS = ("announcementId", "startTime", "endTime", "category", "ean")
EXPENSE_COLUMNS = ("year", "month", "period", "organisationId", "organisationName",
                   "sellVolume", "buyVolume", "spread")
METRIC_KEYS = ("spreadInEuro", "buyVolumeInMWh", "sellVolumeInMWh", "buyOrderPriceInEuro",
               "sellOrderPriceInEuro")
PARTICIPANT = Collection(columns=("domain", "publicKey"))
_API_KEY_HINT = ("set api_key=… (or GOPACS_API_KEY); generate it in the GOPACS UI: "
                 "User menu > Settings > Generate API-key")


class GopacsSession(Session):
    """A session to the GOPACS APIs, with DataFrame helpers.

    >>> import explorer
    >>> gopacs = explorer.connect("gopacs", sandbox=True)
    >>> gopacs.cleared_buckets(limit=10, progress=False).shape
    (10, 7)
    """

    def __init__(self, api: Provider, *, environment: str | None = None, **kwargs: Any) -> None:
        super().__init__(api, **kwargs)
        self.environment = environment or api.default_environment

    # -- IDCONS ---------------------------------------------------------------------------------
    def announcements(self, *, limit: int | None = None, progress: bool = True,
                      explode: str | None = None) -> pd.DataFrame:
        """Public congestion announcements (IDCONS ``/public/announcements``), all pages.

        Columns: :data:`ANNOUNCEMENT`; epoch-ms times as UTC datetimes; the MW profiles and
        zip codes are list columns (see :meth:`announcement_profile` for the long form).

        >>> import explorer
        >>> gopacs = explorer.connect("gopacs", sandbox=True)
        >>> len(gopacs.announcements(limit=50, progress=False))
        50
        """
        return self.frame("/public/announcements", base="idcons_url", limit=limit,
                          progress=progress, explode=explode)

    def machine_announcements(self, *, postal_code: str | int | None = None,
                              start: Any = None, end: Any = None, type: str | None = None,
                              state: str | None = None) -> pd.DataFrame:
        """Announcements for machines (IDCONS ``/machineannouncements``, a bare array).

        ``start``/``end`` (datetimes, dates, ISO strings or epoch ms; naive = UTC) select
        problem periods overlapping the window; ``type`` e.g. ``"CONGESTIONMANAGEMENT"``,
        ``state`` e.g. ``"ANNOUNCEMENT_OPEN"``. GOPACS asks clients to poll at most every
        5 minutes.

        >>> import explorer
        >>> gopacs = explorer.connect("gopacs", sandbox=True)
        >>> len(gopacs.machine_announcements(postal_code="6548", start="2025-06-01"))
        1
        """
        return self.frame("/machineannouncements", base="idcons_url", progress=False,
                          **MACHINE_ANNOUNCEMENT.query(dict(
                              postal_code=postal_code, start=start, end=end, type=type,
                              state=state)))

    def announcement(self, announcement_id: str) -> pd.Series:
        """One public announcement, found by id in ``/public/announcements``."""
        return to_series(self._announcement(announcement_id), ANNOUNCEMENT,
                         name=announcement_id)

    def _announcement(self, announcement_id: str) -> dict[str, Any]:
        self.id_path(announcement_id, what="announcement id")  # '', '.', '..': NotFound, no request
        records = self.records("/public/announcements", base="idcons_url", progress=False)
        for record in records:
            if isinstance(record, dict) and str(record.get("id")) == str(announcement_id):
                return record
        raise NotFound(f"no public announcement with id {announcement_id!r}",
                       provider=self.provider, url=self.url("/public/announcements",
                                                            base="idcons_url"),
                       hint="pass the announcement itself (a row of announcements() or its "
                            "JSON) to skip the look-up")

    def announcement_profile(self, announcement: Any) -> pd.DataFrame:
        """The MW profile of announcements in long form: one row per quarter hour.

        ``announcement`` is an id, the JSON of one, a row of :meth:`announcements` or a
        whole DataFrame of them. Columns: ``announcementId``, ``organisationName``,
        ``quarter`` (0-based), ``start``/``end`` (UTC, from ``problemPeriod.startTime``),
        ``requiredMW``, ``remainingMW``.

        >>> import explorer
        >>> gopacs = explorer.connect("gopacs", sandbox=True)
        >>> profile = gopacs.announcement_profile(gopacs.announcements(limit=5, progress=False))
        >>> profile.columns.tolist()[-4:]
        ['start', 'end', 'requiredMW', 'remainingMW']
        """
        if isinstance(announcement, pd.DataFrame):
            rows = [r for _, r in announcement.iterrows()]
        elif isinstance(announcement, (Mapping, pd.Series)):
            rows = [announcement]
        else:
            rows = [self._announcement(str(announcement))]
        parts = [_profile(r) for r in rows]
        parts = [p for p in parts if len(p)]
        if not parts:
            return _typed(pd.DataFrame({c: [] for c in PROFILE_COLUMNS}), ("start", "end"))
        return pd.concat(parts, ignore_index=True)

    def plot_profile(self, announcement: Any, *, ax: Any = None) -> Any:
        """A step plot of the MW profile of ``announcement`` (as for
        :meth:`announcement_profile`), titled with its problem area; returns the Axes.

        >>> import explorer
        >>> gopacs = explorer.connect("gopacs", sandbox=True)
        >>> ax = gopacs.plot_profile(gopacs.announcements(limit=1, progress=False).iloc[0])
        >>> ax.get_title(loc="left").startswith("Congestion profile — Regio ")
        True
        """
        if not isinstance(announcement, (Mapping, pd.Series, pd.DataFrame)):
            announcement = self._announcement(str(announcement))
        title = None
        if isinstance(announcement, (Mapping, pd.Series)):
            area = announcement.get("problemAreaDescription")
            title = f"Congestion profile — {area}" if area else None
        return plot_profile(self.announcement_profile(announcement), title=title, ax=ax)

    def ean_effectivity(self, announcement: Any) -> pd.DataFrame:
        """EAN solving effectivity of one announcement, one row per EAN (needs the API key).

        IDCONS ``/public-api/1.0/announcements/{id}/eansolvingeffectivity`` with the
        ``API_KEY`` header (``api_key=`` or ``GOPACS_API_KEY``). Columns: ``announcementId``,
        ``startTime``, ``endTime`` (UTC), ``category``, ``ean``.

        >>> import explorer
        >>> gopacs = explorer.connect("gopacs", sandbox=True)
        >>> latest = gopacs.announcements(limit=1, progress=False).iloc[0]
        >>> gopacs.ean_effectivity(latest).columns.tolist()
        ['announcementId', 'startTime', 'endTime', 'category', 'ean']
        """
        aid = _announcement_id(announcement)
        path = self.id_path("public-api", "1.0", "announcements", aid, "eansolvingeffectivity",
                            what="announcement id")
        answer = self.get(path, base="idcons_url")
        rows: dict[str, list[Any]] = {c: [] for c in EAN_COLUMNS}
        for span in answer if isinstance(answer, list) else []:
            during = _obj(_obj(span).get("during"))
            for category, eans in _obj(_obj(span).get("eansByCategory")).items():
                for ean in eans if isinstance(eans, list) else []:
                    rows["announcementId"].append(aid)
                    rows["startTime"].append(during.get("startTime"))
                    rows["endTime"].append(during.get("endTime"))
                    rows["category"].append(category)
                    rows["ean"].append(str(ean))
        df = pd.DataFrame(rows)
        for column in ("startTime", "endTime"):
            df[column] = parse_times(df[column], "ms", column)
        return df

    # -- public reporting -------------------------------------------------------------------------
    def cleared_buckets(self, *, start: Any = None, end: Any = None, long: bool = False,
                        limit: int | None = None, progress: bool = True) -> pd.DataFrame:
        """Cleared buckets (public reporting ``/clearedbuckets``), all pages.

        ``start``/``end`` keep buckets overlapping the window (filtered here: the API has no
        time filter). Columns: :data:`CLEARED_BUCKET` (``clearedVolumesForPtus`` a list
        column); ``long=True`` gives one row per PTU instead (:meth:`cleared_bucket_ptus`).

        >>> import explorer
        >>> gopacs = explorer.connect("gopacs", sandbox=True)
        >>> gopacs.cleared_buckets(limit=10, long=True, progress=False).shape
        (105, 8)
        """
        window = start is not None or end is not None
        df = self.frame("/clearedbuckets", base="reporting_url", progress=progress,
                        limit=None if window else limit)
        if window:
            keep = pd.Series(True, index=df.index)
            if start is not None:
                keep &= df["endTime"] > timestamp(start)
            if end is not None:
                keep &= df["startTime"] < timestamp(end)
            df = df[keep].reset_index(drop=True)
            if limit is not None:
                df = df.head(limit)
        return _ptus(df) if long else df

    def cleared_bucket_ptus(self, *, start: Any = None, end: Any = None,
                            limit: int | None = None, progress: bool = True) -> pd.DataFrame:
        """Per-PTU cleared volumes in long form: one row per bucket and PTU.

        Columns: ``clearingEventId``, ``organisationName``, ``bucketStartTime``,
        ``bucketEndTime``, ``startTime``, ``endTime`` (the PTU's, UTC), ``buyVolumeInMW``,
        ``sellVolumeInMW``. ``limit`` counts buckets.
        """
        return self.cleared_buckets(start=start, end=end, long=True, limit=limit,
                                    progress=progress)

    def expenses(self) -> pd.DataFrame:
        """Monthly expenses per organisation (public reporting ``/expenses``), tidy.

        One row per month and organisation: ``year``, ``month``, ``period`` (monthly
        ``Period``), ``organisationId``, ``organisationName``, ``sellVolume``,
        ``buyVolume``, ``spread``.
        """
        answer = object_of(self, self.get("/expenses", base="reporting_url"), "/expenses",
                           base="reporting_url")
        names = {_key(_obj(o).get("id")): _obj(o).get("name")
                 for o in _list(answer.get("organisations"))}
        rows: dict[str, list[Any]] = {c: [] for c in EXPENSE_COLUMNS if c != "period"}
        for entry in map(_obj, _list(answer.get("expenses"))):
            sell = _obj(entry.get("sellVolumesPerOrganisation"))
            buy = _obj(entry.get("buyVolumesPerOrganisation"))
            spread = _obj(entry.get("spreadPerOrganisation"))
            for org in dict.fromkeys([*sell, *buy, *spread]):
                rows["year"].append(entry.get("year"))
                rows["month"].append(entry.get("month"))
                rows["organisationId"].append(org)
                rows["organisationName"].append(names.get(org))
                rows["sellVolume"].append(sell.get(org))
                rows["buyVolume"].append(buy.get(org))
                rows["spread"].append(spread.get(org))
        df = pd.DataFrame(rows)
        df.insert(2, "period", _periods(df))
        return df

    def performance_metrics(self) -> pd.DataFrame:
        """Monthly volumes and costs (public reporting ``/performance-metrics``), tidy.

        One row per month: ``year``, ``month``, ``period``, ``spreadInEuro``,
        ``buyVolumeInMWh``, ``sellVolumeInMWh``, ``buyOrderPriceInEuro``,
        ``sellOrderPriceInEuro``. ``df.attrs`` holds ``volumeAndCostsInTotal`` and
        ``numberOfActiveGridConnections``.
        """
        answer = object_of(self, self.get("/performance-metrics", base="reporting_url"),
                           "/performance-metrics", base="reporting_url")
        rows: dict[str, list[Any]] = {c: [] for c in ("year", "month", *METRIC_KEYS)}
        for year in map(_obj, _list(answer.get("volumeAndCostsPerYear"))):
            for month in map(_obj, _list(year.get("volumeAndCostsPerMonth"))):
                values = _obj(month.get("volumeAndCosts"))
                rows["year"].append(year.get("year"))
                rows["month"].append(month.get("month"))
                for key in METRIC_KEYS:
                    rows[key].append(values.get(key))
        df = pd.DataFrame(rows)
        df.insert(2, "period", _periods(df))
        df.attrs["volumeAndCostsInTotal"] = answer.get("volumeAndCostsInTotal")
        df.attrs["numberOfActiveGridConnections"] = answer.get("numberOfActiveGridConnections")
        return df

    # -- UFTP participants (Bearer) ---------------------------------------------------------------
    def participant(self, domain: str) -> pd.Series:
        """A UFTP participant by domain (``/uftp-participants/v3/participants/{domain}``).

        Needs the client credentials (Bearer). Values: ``domain``, ``publicKey``.

        >>> import explorer
        >>> gopacs = explorer.connect("gopacs", sandbox=True)
        >>> gopacs.participant("dso.liander.nl").index.tolist()
        ['domain', 'publicKey']
        """
        path = self.id_path("uftp-participants", "v3", "participants", domain, what="domain")
        record = object_of(self, self.get(path), path)
        return to_series(record, PARTICIPANT, name=domain)

    def contract_participants(self, contract_id: str, role: str = "DSO") -> pd.DataFrame:
        """UFTP participants of a contract in a role (``AGR`` or ``DSO``): domain, publicKey."""
        self.id_path(role, what="role")
        path = self.id_path("uftp-participants", "v3", "participants", "contracts",
                            contract_id, "roles", role.upper(), what="contract id")
        return to_frame(self.get(path), PARTICIPANT)


# -- plotting ------------------------------------------------------------------------------------
def plot_profile(profile: pd.DataFrame, *, title: str | None = None, ax: Any = None) -> Any:
    """A step plot of a long-form MW profile (:meth:`GopacsSession.announcement_profile`):
    each quarter hour holds its value until the next (``where="post"``, the last one until its
    end); required MW as a line over a light area, remaining MW as a line; one pair per
    announcement. The legend sits right of the axes, off the lines. Returns the matplotlib
    Axes (a new figure's, with constrained layout, unless ``ax`` is given).

    >>> import explorer
    >>> gopacs = explorer.connect("gopacs", sandbox=True)
    >>> profile = gopacs.announcement_profile(gopacs.announcements(limit=1, progress=False))
    >>> ax = plot_profile(profile, title="Congestion profile")
    >>> [(line.get_label(), line.get_drawstyle()) for line in ax.get_lines()]
    [('required', 'steps-post'), ('remaining', 'steps-post')]
    """
    import matplotlib.pyplot as plt  # the notebooks extra: imported only to plot
    from matplotlib import dates as mdates

    if ax is None:
        _fig, ax = plt.subplots(figsize=(9, 3.4), layout="constrained")
    groups = [g for _, g in profile.groupby("announcementId", sort=False, dropna=False)]
    for i, part in enumerate(groups or [profile]):
        if part.empty:
            continue
        times = [*part["start"], part["end"].iloc[-1]]  # the last quarter ends at its end
        required = [*part["requiredMW"], part["requiredMW"].iloc[-1]]
        remaining = [*part["remainingMW"], part["remainingMW"].iloc[-1]]
        suffix = "" if len(groups) == 1 else (f" — {part['organisationName'].iloc[0]} "
                                              f"{str(part['announcementId'].iloc[0])[:8]}")
        color = f"C{2 * i}"
        ax.fill_between(times, required, step="post", color=color, alpha=0.12, linewidth=0)
        ax.step(times, required, where="post", color=color, linewidth=1.8,
                label=f"required{suffix}")
        ax.step(times, remaining, where="post", color=f"C{2 * i + 1}", linewidth=1.4,
                label=f"remaining{suffix}")
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("MW")
    ax.set_ylim(bottom=0)
    ax.grid(True, color="#ddd", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title, loc="left")
    if ax.get_lines():
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
                  frameon=False)
    return ax


# -- helpers -------------------------------------------------------------------------------------
def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _key(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, type(None))) else str(value)


def _time(value: Any) -> pd.Timestamp | None:
    """A start time from a row (Timestamp) or JSON (epoch ms); ``None`` when unusable."""
    try:
        stamp = timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if stamp is None or pd.isna(stamp) else stamp


def _numbers(values: list[Any], n: int) -> np.ndarray:
    padded = pd.Series(values + [None] * (n - len(values)), dtype=object)
    return pd.to_numeric(padded, errors="coerce").astype(float).to_numpy()


def _announcement_id(announcement: Any) -> str:
    if isinstance(announcement, (Mapping, pd.Series)):
        value = announcement.get("id")
        if value is None:
            raise ValueError("this announcement has no 'id'")
        return str(value)
    if announcement is None:
        raise ValueError("no announcement given")
    return str(announcement)


def _get(row: Any, dotted: str) -> Any:
    """``row["a.b"]`` of a flattened row, or ``row["a"]["b"]`` of a JSON object."""
    if dotted in row:
        return row[dotted]
    value = row
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, (Mapping, pd.Series)) else None
    return value


def _profile(row: Any) -> pd.DataFrame:
    required = _get(row, "requiredProblemProfileInMW")
    remaining = _get(row, "remainingProblemProfileInMW")
    required = list(required) if isinstance(required, (list, tuple, np.ndarray)) else []
    remaining = list(remaining) if isinstance(remaining, (list, tuple, np.ndarray)) else []
    n = max(len(required), len(remaining))
    start = _time(_get(row, "problemPeriod.startTime"))
    try:
        starts = pd.DatetimeIndex([start + QUARTER * i for i in range(n)] if start is not None
                                  else [pd.NaT] * n, tz="UTC").astype(TIME_DTYPE)
    except (OverflowError, ValueError):  # out of pandas' datetime range
        starts = pd.DatetimeIndex([pd.NaT] * n, tz="UTC").astype(TIME_DTYPE)
    ident, org = row.get("id"), row.get("organisationName")
    return pd.DataFrame({
        "announcementId": pd.Series([ident] * n, dtype=object),
        "organisationName": pd.Series([org] * n, dtype=object),
        "quarter": np.arange(n),
        "start": starts,
        "end": starts + QUARTER if start is not None else starts,
        "requiredMW": _numbers(required, n),
        "remainingMW": _numbers(remaining, n),
    })


def _ptus(df: pd.DataFrame) -> pd.DataFrame:
    keep = ["clearingEventId", "organisationName", "startTime", "endTime",
            "clearedVolumesForPtus"]
    long = df[keep].rename(columns={"startTime": "bucketStartTime",
                                    "endTime": "bucketEndTime"})
    long["clearedVolumesForPtus"] = [v if isinstance(v, list) else []
                                     for v in long["clearedVolumesForPtus"]]
    long = long.explode("clearedVolumesForPtus", ignore_index=True)
    ptus = long.pop("clearedVolumesForPtus").tolist()
    get = {k: [p.get(k) if isinstance(p, dict) else None for p in ptus]
           for k in ("startTime", "endTime", "buyVolumeInMW", "sellVolumeInMW")}
    for key in ("startTime", "endTime"):
        long[key] = parse_times(pd.Series(get[key], dtype=object), "iso", key)
    for key in ("buyVolumeInMW", "sellVolumeInMW"):
        long[key] = pd.to_numeric(pd.Series(get[key], dtype=object), errors="coerce")
    return long[list(PTU_COLUMNS)]


def _periods(df: pd.DataFrame) -> pd.PeriodIndex:
    """Monthly periods of the ``year`` and ``month`` columns (``NaT`` where unusable)."""
    out = []
    for year, month in zip(df["year"].tolist(), df["month"].tolist(), strict=True):
        try:
            out.append(pd.Period(year=int(year), month=int(month), freq="M"))
        except (TypeError, ValueError, OverflowError):
            out.append(pd.NaT)
    return pd.PeriodIndex(out, freq="M")


def _typed(df: pd.DataFrame, times: tuple[str, ...]) -> pd.DataFrame:
    for column in times:
        df[column] = df[column].astype(TIME_DTYPE)
    return df


def _env(auth: str, api: str, idcons: str) -> dict[str, str]:
    return {
        "token_url": f"https://{auth}/realms/gopacs/protocol/openid-connect/token",
        "base_url": f"https://{api}",
        "idcons_url": f"https://{idcons}",
        "reporting_url": "https://public-reporting.gopacs-services.eu",
    }


_HINTS: dict[int | str, str] = {
    404: "check the id or path",
    400: "check the parameters; times are epoch milliseconds",
    403: "this API client lacks the role for this API; check its roles in the UI",
}

PROVIDER = Provider(
    name="gopacs",
    title="GOPACS",
    grant="client_credentials",
    environments={
        "acceptance": _env("auth.acc.gopacs-services.eu", "api.acc.gopacs-services.eu",
                           "idcons.acc.gopacs-services.eu"),
        "production": _env("auth.gopacs-services.eu", "api.gopacs-services.eu",
                           "idcons.gopacs-services.eu"),
    },
    default_environment="production",
    auth_method="client_secret_post",
    api_key_header="API_KEY",
    routes=(
        Route("/", base="base_url", credentials=("token",),
              why="the UFTP participants API (Bearer token)"),
        Route("/public-api/", base="idcons_url", credentials=("api_key",),
              why="the IDCONS public-api (API_KEY header)"),
    ),
    fields=(
        Field("client_id", env="GOPACS_CLIENT_ID"),
        Field("client_secret", env="GOPACS_CLIENT_SECRET", secret=True),
        Field("api_key", label="API key", env="GOPACS_API_KEY", secret=True,
              help=_API_KEY_HINT),
        Field("environment", env="GOPACS_ENVIRONMENT", kind="setting",
              choices=("acceptance", "production")),
    ),
    errors=ErrorWords(
        keys=("message", "errorMessage", "error_description", "detail", "title", "error"),
        hints=_HINTS,
        path_hints=((404, "/uftp-participants/",
                     "no such UFTP participant or contract (check the domain or contract id)"),
                    (401, "/public-api/", "check the key; " + _API_KEY_HINT)),
        refused_paths=(("/public-api/", "api_key"),)),
    collections=(ANNOUNCEMENT, MACHINE_ANNOUNCEMENT, CLEARED_BUCKET, EXPENSES, PERFORMANCE),
    paging=SpringPages(500),
    signup="create an API client in the GOPACS UI (API Clients > + Add)",
    session_class=GopacsSession,
)
