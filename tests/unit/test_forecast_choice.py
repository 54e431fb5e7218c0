"""The nightly job's forecast per series and grain: the candidate its backtest scores best."""

import numpy as np
import pandas as pd
import pytest

from batch import forecast as forecasting
from batch.backtest import BASELINE, rolling_origin
from batch.forecast import ForecastConfig, forecast
from batch.nightly import forecast_series
from batch.settings import BatchSettings
from tests.fixtures.arrivals import call_centre_arrivals

HOURLY = ForecastConfig(freq="h", uncertainty_samples=50, holidays_country=None)
WEEK = 168


def held_out_mase(train: pd.Series, actual: np.ndarray, predicted: pd.DataFrame) -> float:
    values = train.to_numpy()
    scale = np.mean(np.abs(values[WEEK:] - values[:-WEEK]))
    return float(np.mean(np.abs(actual - predicted["yhat"].to_numpy())) / scale)


@pytest.mark.parametrize("weeks", [3, 5, 8])
def test_on_hourly_call_centre_arrivals_the_choice_beats_seasonal_naive_on_the_next_week(weeks: int) -> None:
    settings = BatchSettings(CXA_BACKTEST_FOLDS=4)
    ratios = []
    for seed in range(4):
        arrivals = call_centre_arrivals(weeks + 1, seed=seed)
        train, actual = arrivals.iloc[:-WEEK], arrivals.iloc[-WEEK:].to_numpy()
        chosen = forecast_series(train, WEEK, HOURLY, settings)
        assert chosen.report is not None
        # Never worse than the baseline in its own backtest: the baseline is a candidate.
        assert chosen.report.score(chosen.method).mase <= chosen.report.score(BASELINE).mase
        assert chosen.reason.startswith(f"{chosen.method}: ")
        naive = forecast(train, WEEK, HOURLY, BASELINE)
        ratios.append(held_out_mase(train, actual, chosen.predicted) / held_out_mase(train, actual, naive))
    assert np.mean(ratios) <= 0.95, ratios  # at least 5% below seasonal naive on data it never saw


def test_a_method_that_fails_is_left_out_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(history: pd.Series, horizon: int, config: ForecastConfig) -> pd.DataFrame:
        raise np.linalg.LinAlgError("singular matrix")

    monkeypatch.setitem(forecasting.FORECASTERS, "mstl", broken)
    report = rolling_origin(call_centre_arrivals(4), WEEK, HOURLY, folds=2, methods=("mstl", "seasonal_mean"))
    assert [score.method for score in report.scores] == ["seasonal_mean", BASELINE]
    assert report.failed == {"mstl": "LinAlgError: singular matrix"}
    assert all(score.seconds >= 0 for score in report.scores)


def test_a_configured_method_is_used_and_a_short_history_falls_back_to_the_baseline() -> None:
    arrivals = call_centre_arrivals(3)
    fixed = forecast_series(arrivals, WEEK, HOURLY, BatchSettings(CXA_FORECAST_METHOD="seasonal_mean"))
    assert fixed.method == "seasonal_mean"
    assert fixed.report is not None
    assert [score.method for score in fixed.report.scores] == ["seasonal_mean", BASELINE]
    assert fixed.reason.startswith("set by CXA_FORECAST_METHOD; ")
    short = forecast_series(arrivals.iloc[: WEEK + 100], WEEK, HOURLY, BatchSettings())
    assert (short.method, short.report) == (BASELINE, None)
    assert short.reason.startswith("no backtest")
    assert len(short.predicted) == WEEK


def test_seasonal_averages_take_the_same_hour_of_the_last_weeks() -> None:
    arrivals = call_centre_arrivals(4, seed=2)
    config = ForecastConfig(freq="h")
    weeks = arrivals.to_numpy().reshape(4, WEEK)
    median = forecast(arrivals, WEEK, config, "seasonal_median")
    mean = forecast(arrivals, WEEK, config, "seasonal_mean")
    assert np.allclose(median["yhat"], np.median(weeks[-3:], axis=0))
    assert np.allclose(mean["yhat"], weeks.mean(axis=0))
    assert (median["yhat_lower"] <= median["yhat"]).all()
    assert (median["yhat"] <= median["yhat_upper"]).all()
    assert (median["yhat_upper"] > median["yhat_lower"]).mean() > 0.9  # a real interval, not a line


def test_settings_name_the_methods_they_refuse() -> None:
    with pytest.raises(ValueError, match="unknown forecast method 'arima'"):
        BatchSettings(CXA_FORECAST_METHOD="arima")
    with pytest.raises(ValueError, match="unknown forecast method\\(s\\) tbats"):
        BatchSettings(CXA_FORECAST_CANDIDATES="mstl, tbats")
    assert BatchSettings(CXA_FORECAST_CANDIDATES="mstl, prophet").candidates() == ("mstl", "prophet")
