"""Seeded GOPACS data: announcements, cleared buckets, expenses, metrics, UFTP participants.

Example:
    >>> from explorer.sandbox._gopacs_data import GopacsData
    >>> d = GopacsData(0)
    >>> len(d.announcements), d.bucket(0)["organisationName"] in ORGANISATIONS
    (500, True)

Emulator choices:
    * 500 announcements whose problem periods end before or shortly after ``ANCHOR``
      (2025-06-30); those still running at the anchor are ``ANNOUNCEMENT_OPEN``, about 5 %
      ``ANNOUNCEMENT_CANCELLED``, the rest ``ANNOUNCEMENT_CLOSED``; type is mostly
      ``CONGESTIONMANAGEMENT``, some ``REDISPATCH``. ``day`` is the UTC midnight of the
      problem start. Problem periods last 2 to 12 hours.
    * Profiles hold one value per quarter hour of the problem period, shaped like real
      congestion profiles (:func:`congestion_profile`): plateaus and linear ramps of 1 to 4
      hours between them, deterministic from the seed.
    * 10,000 cleared buckets from Dec 2018 to the anchor, newest first, generated lazily per
      index; PTUs are 15 min; ``buyVolumeInMWh`` = ``sellVolumeInMWh`` = sum of PTU MW x 0.25.
    * expenses/metrics cover Jan 2019 - Jun 2025, monthly.
    * UFTP participants: 4 DSOs and 20 aggregators (AGR) with a base64 32-byte ed25519-like
      ``publicKey``; 50 contracts ``CTR-2024-0001``..``CTR-2024-0050`` each with one DSO and
      one to three AGRs.
"""

from __future__ import annotations

import base64
import random
import uuid
from functools import cached_property
from typing import Any

from explorer.sandbox._data import ANCHOR, iso_z

__all__ = ["ORGANISATIONS", "QUARTER_MS", "GopacsData", "congestion_profile", "timespan"]

ORGANISATIONS = ("TenneT", "Liander", "Enexis", "Stedin", "Westland Infra", "Coteq", "Rendo")
_ZIP_RANGES = {"TenneT": (1000, 9999), "Liander": (1000, 2199), "Enexis": (5000, 6999),
               "Stedin": (2200, 3399), "Westland Infra": (2670, 2699), "Coteq": (7400, 7699),
               "Rendo": (7900, 7999)}
_DSOS = ("dso.liander.nl", "dso.enexis.nl", "dso.stedin.net", "tso.tennet.eu")
_AGR_WORDS = ("flex", "vpp", "greenpower", "energyhub", "batterij", "windkracht", "zonpark",
              "netbalans", "powerpool", "smartgrid")
_CATEGORIES = ("THREE_PHASE_NETWORK_REDUCE", "THREE_PHASE_NETWORK_INCREASE",
               "SINGLE_PHASE_NETWORK_REDUCE")
_START_2019 = 1546300800  # 2019-01-01T00:00Z
_BUCKET_START = 1543622400  # 2018-12-01T00:00Z
QUARTER_MS = 900_000


def timespan(start_ms: int, quarters: int) -> dict[str, Any]:
    """GOPACS TimeSpan: epoch-ms bounds, hours and quarter count."""
    return {"startTime": start_ms, "endTime": start_ms + quarters * QUARTER_MS,
            "durationInHours": quarters / 4, "numberOfQuartersInTimeSpan": quarters}


def congestion_profile(rng: random.Random, quarters: int) -> tuple[list[float], list[float]]:
    """The required and remaining MW of a problem period, one value per quarter hour.

    Emulator choice, shaped like real congestion profiles rather than noise: the period is cut
    into segments of 4 to 16 quarter hours (1 to 4 h; a shorter rest joins the segment
    before), alternately a plateau (one level) and a linear ramp to the next level; levels lie
    between 10 % and 100 % of a peak of 2 to 25 MW. What remains to be solved is a share of
    what is required, one share per segment (so it has the same plateaus and ramps). Values
    are rounded to 0.1 MW.

    >>> required, remaining = congestion_profile(random.Random(1), 12)
    >>> len(required), len(set(required[:4])), all(0 <= r <= q for r, q in
    ...                                            zip(remaining, required))
    (12, 1, True)
    """
    peak = rng.uniform(2.0, 25.0)
    lengths: list[int] = []
    left = quarters
    while left > 0:
        n = min(left, rng.randint(4, 16))
        if n < 4 and lengths:  # a short rest joins the segment before
            lengths[-1] += n
        else:
            lengths.append(n)
        left -= n
    level = peak * rng.uniform(0.1, 0.5)
    required: list[float] = []
    shares: list[float] = []
    for i, n in enumerate(lengths):
        share = round(rng.uniform(0.0, 1.0), 2)
        if i % 2 == 0:  # a plateau
            values = [level] * n
        else:  # a ramp to a new level, at least a fifth of the peak away
            target = level
            while abs(target - level) < 0.2 * peak:
                target = peak * rng.uniform(0.1, 1.0)
            values = [level + (target - level) * (j + 1) / n for j in range(n)]
            level = target
        required += values
        shares += [share] * n
    return ([round(v, 1) for v in required],
            [round(v * s, 1) for v, s in zip(required, shares, strict=True)])


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class GopacsData:
    """Lazily generated GOPACS data for one seed."""

    BUCKETS = 10_000

    def __init__(self, seed: int) -> None:
        self.seed = seed

    @cached_property
    def announcements(self) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}:gopacs:announcements")
        out = []
        for n in range(500):
            org = rng.choice(ORGANISATIONS)
            start = (ANCHOR - (499 - n) * 86400 - rng.randrange(-20, 60) * 3600) // 900 * 900
            quarters = rng.randrange(8, 49)
            start_ms = start * 1000
            end_ms = start_ms + quarters * QUARTER_MS
            created = start_ms - rng.randrange(2, 48) * 3_600_000
            state = ("ANNOUNCEMENT_CANCELLED" if rng.random() < 0.05 else
                     "ANNOUNCEMENT_OPEN" if end_ms > ANCHOR * 1000 else "ANNOUNCEMENT_CLOSED")
            required, remaining = congestion_profile(
                random.Random(f"{self.seed}:gopacs:profile:{n}"), quarters)
            lo, hi = _ZIP_RANGES[org]
            zips = sorted({str(rng.randrange(lo, hi + 1)) for _ in range(rng.randrange(1, 6))})
            area = f"Regio {zips[0]}"
            out.append({
                "id": _uuid(rng), "problemId": _uuid(rng),
                "message": f"Congestie verwacht in {area}; biedingen gevraagd.",
                "type": "CONGESTIONMANAGEMENT" if rng.random() < 0.9 else "REDISPATCH",
                "complianceType": "MANDATORY" if rng.random() < 0.3 else "VOLUNTARY",
                "announcementState": state, "organisationName": org,
                "problemAreaDescription": area,
                "requestAreaDescriptionBuyOrders": f"{area} (koop)",
                "requestAreaDescriptionSellOrders": f"{area} (verkoop)",
                "createdTimestamp": created,
                "lastUpdatedTimestamp": created + rng.randrange(0, 3_600_000),
                "day": start_ms - start_ms % 86_400_000,
                "problemPeriod": timespan(start_ms, quarters),
                "bidValidityPeriod": timespan(created, max(1, (start_ms - created) // QUARTER_MS)),
                "requiredProblemProfileInMW": required,
                "remainingProblemProfileInMW": remaining,
                "congestedZipCodes": zips,
            })
        return out

    @cached_property
    def announcement_ids(self) -> dict[str, dict[str, Any]]:
        return {a["id"]: a for a in self.announcements}

    def effectivity(self, ann: dict[str, Any]) -> list[dict[str, Any]]:
        """The EAN solving effectivity of one announcement."""
        rng = random.Random(f"{self.seed}:gopacs:ean:{ann['id']}")
        period = ann["problemPeriod"]
        total = period["numberOfQuartersInTimeSpan"]
        cuts = sorted(rng.sample(range(1, total), min(total - 1, rng.randrange(0, 3))))
        bounds = [0, *cuts, total]
        out = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            cats = rng.sample(_CATEGORIES, rng.randrange(1, 3))
            out.append({
                "during": timespan(period["startTime"] + a * QUARTER_MS, b - a),
                "eansByCategory": {c: [f"871{rng.randrange(10**14, 10**15)}"
                                       for _ in range(rng.randrange(1, 6))] for c in cats},
            })
        return out

    def bucket(self, i: int) -> dict[str, Any]:
        """Cleared bucket number ``i`` (0 = newest)."""
        rng = random.Random(f"{self.seed}:gopacs:bucket:{i}")
        step = (ANCHOR - _BUCKET_START) // self.BUCKETS
        start = (ANCHOR - (i + 1) * step) // 900 * 900
        ptus = []
        for q in range(rng.randrange(4, 17)):
            mw = round(rng.uniform(0.5, 25.0), 2)
            t0 = start + q * 900
            ptus.append({"startTime": iso_z(t0), "endTime": iso_z(t0 + 900),
                         "buyVolumeInMW": mw, "sellVolumeInMW": mw})
        volume = round(sum(p["buyVolumeInMW"] for p in ptus) * 0.25, 3)
        return {
            "clearingEventId": _uuid(rng), "organisationName": rng.choice(ORGANISATIONS[:4]),
            "buyVolumeInMWh": volume, "sellVolumeInMWh": volume,
            "startTime": iso_z(start), "endTime": iso_z(start + len(ptus) * 900),
            "clearedVolumesForPtus": ptus,
        }

    @cached_property
    def organisations(self) -> list[dict[str, str]]:
        rng = random.Random(f"{self.seed}:gopacs:orgs")
        return [{"id": _uuid(rng), "name": name} for name in ORGANISATIONS]

    def _months(self) -> list[tuple[int, int]]:
        return [(y, m) for y in range(2019, 2026) for m in range(1, 13) if (y, m) <= (2025, 6)]

    @cached_property
    def expenses(self) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:gopacs:expenses")
        ids = [o["id"] for o in self.organisations]
        rows = []
        for y, m in self._months():
            vol = {i: round(rng.uniform(0, 500), 2) for i in ids}
            rows.append({"year": y, "month": m, "sellVolumesPerOrganisation": vol,
                         "buyVolumesPerOrganisation": dict(vol),
                         "spreadPerOrganisation": {i: round(rng.uniform(0, 40000), 2)
                                                   for i in ids}})
        return {"organisations": self.organisations, "expenses": rows}

    @cached_property
    def metrics(self) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:gopacs:metrics")
        keys = ("spreadInEuro", "buyVolumeInMWh", "sellVolumeInMWh", "buyOrderPriceInEuro",
                "sellOrderPriceInEuro")
        total = dict.fromkeys(keys, 0.0)
        years: dict[int, list[dict[str, Any]]] = {}
        for y, m in self._months():
            vol = round(rng.uniform(100, 5000), 2)
            buy, sell = round(vol * rng.uniform(40, 120), 2), round(vol * rng.uniform(20, 90), 2)
            vc = {"spreadInEuro": round(buy - sell, 2), "buyVolumeInMWh": vol,
                  "sellVolumeInMWh": vol, "buyOrderPriceInEuro": buy, "sellOrderPriceInEuro": sell}
            for k in keys:
                total[k] = round(total[k] + vc[k], 2)
            years.setdefault(y, []).append({"month": m, "volumeAndCosts": vc})
        return {"volumeAndCostsPerYear": [{"year": y, "volumeAndCostsPerMonth": ms}
                                          for y, ms in years.items()],
                "volumeAndCostsInTotal": total,
                "numberOfActiveGridConnections": 1200 + rng.randrange(800)}

    @cached_property
    def participants(self) -> dict[str, dict[str, str]]:
        rng = random.Random(f"{self.seed}:gopacs:participants")
        domains = list(_DSOS) + [f"agr.{w}{n}.nl" for n in (1, 2) for w in _AGR_WORDS]
        return {d: {"domain": d, "role": "DSO" if d in _DSOS else "AGR",
                     "publicKey": base64.b64encode(rng.randbytes(32)).decode()}
                for d in domains}

    @cached_property
    def contracts(self) -> dict[str, dict[str, list[str]]]:
        rng = random.Random(f"{self.seed}:gopacs:contracts")
        agrs = [d for d, p in self.participants.items() if p["role"] == "AGR"]
        return {f"CTR-2024-{n:04d}": {"DSO": [rng.choice(_DSOS)],
                                      "AGR": rng.sample(agrs, rng.randrange(1, 4))}
                for n in range(1, 51)}
