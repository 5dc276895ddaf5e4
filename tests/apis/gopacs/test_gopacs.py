"""GOPACS as DataFrames, over real sockets against the sandbox."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

import explorer
from explorer.apis.gopacs import ANNOUNCEMENT, CLEARED_BUCKET, PTU_COLUMNS
from explorer.errors import ApiError, AuthenticationError, ConfigurationError, NotFound
from explorer.sandbox import Faults
from explorer.session.frames import TIME_DTYPE

IDCONS = "/idcons.acc.gopacs-services.eu"
REPORTING = "/public-reporting.gopacs-services.eu/clearedbuckets"


@pytest.fixture(scope="module")
def announcements(gopacs):
    return gopacs.announcements(progress=False)


@pytest.fixture
def public(sb, clean_env):
    """A GOPACS session with URLs only: no client, no API key."""
    urls = {k: v for k, v in sb.credentials("gopacs").items() if k.endswith("_url")}
    urls.pop("token_url")
    return explorer.connect("gopacs", environment="acceptance", **urls)


def test_announcements_epoch_ms_become_utc(sb, gopacs, announcements):
    assert len(announcements) == 500 and announcements["id"].is_unique
    assert list(announcements.columns) == list(ANNOUNCEMENT.columns)
    for column in ANNOUNCEMENT.epoch_ms:
        assert str(announcements[column].dtype) == TIME_DTYPE
    first = announcements.iloc[0]
    assert first["problemPeriod.endTime"] - first["problemPeriod.startTime"] == pd.Timedelta(
        minutes=15) * first["problemPeriod.numberOfQuartersInTimeSpan"]
    assert isinstance(first["requiredProblemProfileInMW"], list)
    sb.reset_counters()
    paged = gopacs.frame("/public/announcements", base="idcons_url", page_size=100,
                         progress=False)
    assert len(paged) == 500 and sb.count(IDCONS + "/public/announcements") == 5
    assert paged["id"].tolist() == announcements["id"].tolist()


def test_announcement_profile_long_form(gopacs, announcements):
    row = announcements.iloc[3]
    profile = gopacs.announcement_profile(row)
    n = len(row["requiredProblemProfileInMW"])
    assert list(profile.columns) == ["announcementId", "organisationName", "quarter", "start",
                                     "end", "requiredMW", "remainingMW"]
    assert len(profile) == n and profile["quarter"].tolist() == list(range(n))
    assert profile["start"][0] == row["problemPeriod.startTime"]
    assert (profile["start"].diff().dropna() == pd.Timedelta(minutes=15)).all()
    assert profile["end"].iloc[-1] == row["problemPeriod.endTime"]
    assert profile["requiredMW"].tolist() == row["requiredProblemProfileInMW"]
    assert profile["remainingMW"].tolist() == row["remainingProblemProfileInMW"]
    by_id = gopacs.announcement_profile(row["id"])
    pd.testing.assert_frame_equal(by_id, profile)
    raw = gopacs.get("/public/announcements", base="idcons_url", size=1)["content"][0]
    assert len(gopacs.announcement_profile(raw)) == len(raw["requiredProblemProfileInMW"])
    everything = gopacs.announcement_profile(announcements.head(10))
    assert len(everything) == announcements.head(10)["requiredProblemProfileInMW"].map(
        len).sum()
    assert str(everything["start"].dtype) == TIME_DTYPE
    with pytest.raises(NotFound, match="no public announcement"):
        gopacs.announcement_profile("no-such-id")


def test_machine_announcements_time_window(gopacs, announcements):
    start = datetime(2025, 6, 1, tzinfo=timezone.utc)
    df = gopacs.machine_announcements(start=start, end="2025-06-15T00:00:00Z")
    assert len(df) > 0 and str(df["problemPeriod.startTime"].dtype) == TIME_DTYPE
    assert (df["problemPeriod.endTime"] > pd.Timestamp(start)).all()
    assert (df["problemPeriod.startTime"] < pd.Timestamp("2025-06-15", tz="UTC")).all()
    zip_code = announcements["congestedZipCodes"][0][0]
    by_zip = gopacs.machine_announcements(postal_code=zip_code,
                                          type="CONGESTIONMANAGEMENT")
    assert all(zip_code in z for z in by_zip["congestedZipCodes"])
    none = gopacs.machine_announcements(start="2030-01-01")
    assert none.empty and list(none.columns) == list(ANNOUNCEMENT.columns)


def test_cleared_buckets_and_ptus(sb, gopacs):
    sb.reset_counters()
    df = gopacs.cleared_buckets(progress=False)
    assert len(df) == 10_000 and sb.count(REPORTING) == 20
    assert list(df.columns) == list(CLEARED_BUCKET.columns)
    assert str(df["startTime"].dtype) == TIME_DTYPE
    lo, hi = pd.Timestamp("2025-06-01", tz="UTC"), pd.Timestamp("2025-06-10", tz="UTC")
    window = df[(df["endTime"] > lo) & (df["startTime"] < hi)]
    assert 0 < len(window) < 100
    ptus = gopacs.cleared_bucket_ptus(start="2025-06-01", end=hi.to_pydatetime(),
                                      progress=False)
    assert list(ptus.columns) == list(PTU_COLUMNS)
    assert list(ptus["clearingEventId"].unique()) == window["clearingEventId"].tolist()
    assert len(ptus) == window["clearedVolumesForPtus"].map(len).sum()
    assert str(ptus["startTime"].dtype) == TIME_DTYPE
    assert ((ptus["endTime"] - ptus["startTime"]) == pd.Timedelta(minutes=15)).all()
    sums = ptus.groupby("clearingEventId")["buyVolumeInMW"].sum() * 0.25
    volumes = window.set_index("clearingEventId")["buyVolumeInMWh"]
    assert (sums.reindex(volumes.index) - volumes).abs().max() < 1e-3
    long = gopacs.cleared_buckets(limit=3, long=True, progress=False)
    assert long["clearingEventId"].nunique() == 3


def test_expenses_and_metrics_are_tidy(gopacs):
    expenses = gopacs.expenses()
    assert list(expenses.columns) == ["year", "month", "period", "organisationId",
                                      "organisationName", "sellVolume", "buyVolume", "spread"]
    assert expenses["organisationName"].notna().all()
    assert len(expenses) == expenses[["year", "month"]].drop_duplicates().shape[0] * \
        expenses["organisationId"].nunique()
    assert str(expenses["period"].dtype) == "period[M]"
    metrics = gopacs.performance_metrics()
    assert metrics[["year", "month"]].duplicated().sum() == 0
    assert {"spreadInEuro", "buyVolumeInMWh"} <= set(metrics.columns)
    assert metrics.attrs["numberOfActiveGridConnections"] > 0
    total = metrics.attrs["volumeAndCostsInTotal"]["buyVolumeInMWh"]
    assert abs(metrics["buyVolumeInMWh"].sum() - total) < 1


def test_public_endpoints_work_without_credentials(public):
    assert public.flow is None
    assert len(public.announcements(limit=5, progress=False)) == 5
    assert len(public.cleared_buckets(limit=5, progress=False)) == 5


def test_participant_needs_a_token_and_says_so(public, gopacs):
    with pytest.raises(ConfigurationError) as err:
        public.participant("dso.liander.nl")
    text = str(err.value)
    assert "GOPACS_CLIENT_ID" in text and "GOPACS_CLIENT_SECRET" in text and "token" in text
    one = gopacs.participant("dso.liander.nl")
    assert one["domain"] == "dso.liander.nl" and len(one["publicKey"]) == 44
    contract = gopacs.contract_participants("CTR-2024-0001", "AGR")
    assert list(contract.columns) == ["domain", "publicKey"] and len(contract) >= 1
    with pytest.raises(NotFound, match="UFTP participant"):
        gopacs.participant("unknown.example")


def test_ean_effectivity_needs_the_api_key(sb, public, gopacs, announcements):
    aid = announcements["id"][0]
    with pytest.raises(ConfigurationError) as err:
        public.ean_effectivity(aid)
    assert "GOPACS_API_KEY" in str(err.value) and "API-key" in str(err.value)
    df = gopacs.ean_effectivity(announcements.iloc[0])
    assert list(df.columns) == ["announcementId", "startTime", "endTime", "category", "ean"]
    assert len(df) > 0 and str(df["startTime"].dtype) == TIME_DTYPE
    assert df["startTime"].min() == announcements["problemPeriod.startTime"][0]
    creds = {k: v for k, v in sb.credentials("gopacs").items() if k != "api_key"}
    wrong = explorer.connect("gopacs", api_key="not-the-key", **creds)
    with pytest.raises(AuthenticationError) as bad:  # which credential is wrong, said
        wrong.ean_effectivity(aid)
    assert bad.value.status == 401 and "API key was refused" in str(bad.value)
    assert "not-the-key" not in str(bad.value)


def test_bad_parameters_name_themselves(gopacs):
    with pytest.raises(ApiError) as err:
        gopacs.frame("/machineannouncements", base="idcons_url", starttime="soon")
    assert err.value.status == 400 and "starttime='soon'" in str(err.value)
    assert err.value.params == {"starttime": "soon"}


def test_announcements_page_failing_once_is_retried(sb, gopacs):
    sb.faults = Faults(script=[None, 503], match=IDCONS + "/public/announcements",
                       retry_after=0)
    df = gopacs.frame("/public/announcements", base="idcons_url", page_size=100,
                      progress=False)
    assert len(df) == 500 and df["id"].is_unique and sb.faults.injected[503] == 1


# -- the profile chart (issue #14) ----------------------------------------------------------------
def test_profile_plot_is_a_step_plot_with_the_legend_off_the_data(gopacs, announcements):
    matplotlib = pytest.importorskip("matplotlib", reason="plots need the notebooks extra")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    longest = announcements.sort_values("problemPeriod.durationInHours", ascending=False,
                                        kind="stable").iloc[0]
    ax = gopacs.plot_profile(longest)
    fig = ax.figure
    try:
        lines = ax.get_lines()
        assert [line.get_label() for line in lines] == ["required", "remaining"]
        assert all(line.get_drawstyle() == "steps-post" for line in lines)
        profile = gopacs.announcement_profile(longest)
        # every quarter hour is drawn, the last one up to the end of the problem period
        x = lines[0].get_xdata()
        assert len(x) == len(profile) + 1
        assert pd.Timestamp(x[-1]) == longest["problemPeriod.endTime"]
        assert list(lines[0].get_ydata()[:-1]) == profile["requiredMW"].tolist()
        assert ax.get_title(loc="left") == (
            f"Congestion profile — {longest['problemAreaDescription']}")
        # the legend is drawn, inside the figure, and does not overlap the axes' data area
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legend = ax.get_legend().get_window_extent(renderer)
        data_area = ax.get_window_extent(renderer)
        assert not legend.overlaps(data_area), (legend, data_area)
        assert fig.bbox.contains(legend.x0, legend.y0) and fig.bbox.contains(legend.x1,
                                                                              legend.y1)
        # several announcements: one pair of lines each, labelled
        several = gopacs.announcement_profile(announcements.head(2))
        ax2 = explorer.apis.gopacs.plot_profile(several)
        assert len(ax2.get_lines()) == 4
        assert all(" — " in line.get_label() for line in ax2.get_lines())
    finally:
        plt.close("all")
