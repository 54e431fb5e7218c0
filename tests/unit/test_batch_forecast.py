"""Forecasts and rolling-origin backtests on small synthetic series, and the backtest command."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from batch.backtest import (
    BASELINE,
    MIN_FACTOR,
    calibrate,
    coverage,
    interval_factor,
    mape,
    naive_scale,
    origins,
    rolling_origin,
)
from batch.forecast import (
    FORECASTERS,
    METHODS,
    ForecastConfig,
    combine,
    forecast,
    normalise_freq,
    regular_series,
    seasonal_naive,
)
from batch.nightly import forecast_series
from batch.series import read_series
from batch.settings import BatchSettings
from cxa.cli import app

WEEK = np.array([100, 110, 105, 95, 90, 30, 20], dtype=float)


def weekly_series(weeks: int, noise: float = 0.0, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    values = np.tile(WEEK, weeks) + rng.normal(0, noise, 7 * weeks)
    index = pd.date_range("2025-01-06", periods=7 * weeks, freq="D", tz="UTC")  # a Monday
    return pd.Series(values.clip(min=0), index=index)


def test_seasonal_naive_repeats_last_week_with_an_interval() -> None:
    history = weekly_series(4, noise=5)
    result = seasonal_naive(history, 10, ForecastConfig(freq="D"))
    assert list(result.index) == list(
        pd.date_range(history.index[-1] + pd.Timedelta(days=1), periods=10, freq="D")
    )
    assert np.allclose(result["yhat"].to_numpy()[:7], history.to_numpy()[-7:])
    assert (result["yhat_lower"] <= result["yhat"]).all()
    assert (result["yhat"] <= result["yhat_upper"]).all()
    assert (result >= 0).all().all()


def test_metrics() -> None:
    actual = np.array([10.0, 0.0, 20.0])
    assert mape(actual, np.array([11.0, 5.0, 18.0])) == pytest.approx(0.1)  # zero actual skipped
    assert coverage(actual, actual - 1, actual + 1) == 1.0
    assert naive_scale(np.tile(WEEK, 3), 7) == 1.0  # a perfectly seasonal history: scale floor
    assert origins(100, 10, 3, 10, 20) == [70, 80, 90]
    with pytest.raises(ValueError, match="too short"):
        origins(20, 10, 3, 10, 15)


def test_backtest_of_a_pure_weekly_pattern_scores_the_baseline_perfectly() -> None:
    report = rolling_origin(weekly_series(8), 7, ForecastConfig(freq="D"), folds=3, methods=(BASELINE,))
    score = report.score(BASELINE)
    assert (score.mase, score.mape, score.coverage) == (0.0, 0.0, 1.0)
    assert (report.folds, score.points) == (3, 21)
    with pytest.raises(ValueError, match="prophet has no backtest score: not a candidate"):
        report.score("prophet")


def test_a_backtest_of_a_silent_queue_is_valid_json() -> None:
    # Every actual zero: MAPE is undefined, which JSON cannot spell as NaN.
    silent = weekly_series(6) * 0
    report = rolling_origin(silent, 7, ForecastConfig(freq="D"), folds=2, methods=(BASELINE,))
    assert np.isnan(report.score(BASELINE).mape)
    document = json.loads(json.dumps(report.as_dict(), allow_nan=False))
    assert document["scores"][0]["mape"] is None
    assert document["scores"][0]["mase"] == 0.0


def test_prophet_and_ensemble_forecast_a_noisy_weekly_series() -> None:
    history = weekly_series(10, noise=4)
    config = ForecastConfig(freq="D", uncertainty_samples=50, holidays_country=None)
    prophet = forecast(history, 14, config, "prophet")
    naive = forecast(history, 14, config, BASELINE)
    ensemble = forecast(history, 14, config, "ensemble")
    assert len(prophet) == 14
    assert ((prophet["yhat_lower"] <= prophet["yhat"]) & (prophet["yhat"] <= prophet["yhat_upper"])).all()
    # Prophet learns the weekly shape: weekdays well above weekends.
    assert prophet["yhat"].iloc[:5].min() > prophet["yhat"].iloc[5:7].max()
    # Point forecasts are deterministic (the intervals are sampled).
    assert np.allclose(ensemble["yhat"], combine(prophet, naive, 0.5)["yhat"])
    with pytest.raises(ValueError, match="unknown method"):
        forecast(history, 3, config, "arima")


def test_regular_series_fills_gaps_and_normalises_frequency() -> None:
    stamps = pd.to_datetime(["2026-01-01 10:15", "2026-01-01 10:45", "2026-01-01 13:00"]).tz_localize("UTC")
    series = regular_series(pd.Series(1.0, index=stamps), "H")
    assert series.tolist() == [2.0, 0.0, 0.0, 1.0]
    assert normalise_freq("d") == "D"
    with pytest.raises(ValueError, match="D \\(daily\\) or H"):
        normalise_freq("W")


def test_read_series_counts_events_or_sums_values(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("when,other\n2026-01-01,x\n2026-01-01,y\n2026-01-03,z\nnot a date,w\n")
    assert read_series(events, "when", "D").tolist() == [2.0, 0.0, 1.0]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("ts,calls\n2026-01-01T00:00:00Z,5\n2026-01-01T12:00:00Z,7\n2026-01-02T00:00:00Z,1\n")
    assert read_series(pairs, "ts", "D", value_col="calls").tolist() == [12.0, 1.0]
    with pytest.raises(ValueError, match="not found"):
        read_series(pairs, "nope", "D")


def test_backtest_command_prints_a_table_and_json(tmp_path: Path) -> None:
    series = weekly_series(12, noise=6, seed=3)
    path = tmp_path / "volume.csv"
    pd.DataFrame({"day": series.index.strftime("%Y-%m-%d"), "tickets": series.round().to_numpy()}).to_csv(
        path, index=False
    )
    args = ["batch", "backtest", "--file", str(path), "--timestamp-col", "day", "--value-col", "tickets"]
    args += ["--freq", "D", "--horizon", "7", "--folds", "2", "--holidays", ""]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "seasonal_naive" in table.output
    assert "MASE" in table.output
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {score["method"] for score in report["scores"]} == set(METHODS)
    scores = {score["method"]: score for score in report["scores"]}
    assert scores[report["chosen"]]["mase"] == min(score["mase"] for score in scores.values())
    assert "chosen: " + report["chosen"] in table.output
    assert report["folds"] == 2
    assert report["series"]["periods"] == 84
    missing = CliRunner().invoke(app, ["batch", "backtest", "--file", str(path), "--timestamp-col", "when"])
    assert missing.exit_code == 1


def test_interval_factor_is_the_smallest_that_covers_the_share_asked_for() -> None:
    yhat = np.full(20, 10.0)
    lower, upper = yhat - 2, yhat + 4  # an asymmetric interval: each side scales on its own
    actual = yhat + np.tile([-1, -2, -3, -4, 1, 2, 4, 6, 8, 12], 2).astype(float)
    # Distances in half-widths: 0.5, 1, 1.5, 2 below and 0.25, 0.5, 1, 1.5, 2, 3 above, twice.
    # Split conformal's level for 20 points: ceil(21 * 0.8) / 20 = 0.85, so 17 of 20 inside.
    assert interval_factor(actual, yhat, lower, upper, 0.8) == 2.0
    assert interval_factor(actual, yhat, lower, upper, 0.5) == 1.5  # 11 of 20
    scaled = calibrate(pd.DataFrame({"yhat": yhat, "yhat_lower": lower, "yhat_upper": upper}), 2.0)
    inside = coverage(actual, scaled["yhat_lower"].to_numpy(), scaled["yhat_upper"].to_numpy())
    assert inside == 0.9  # four actuals tie at twice the half-width
    assert (scaled["yhat_lower"] == 6.0).all()
    assert (scaled["yhat_upper"] == 18.0).all()
    clipped = calibrate(pd.DataFrame({"yhat": [1.0], "yhat_lower": [0.0], "yhat_upper": [2.0]}), 3)
    assert clipped["yhat_lower"].tolist() == [0.0]


def test_an_interval_the_backtest_cannot_calibrate_is_left_as_it_is() -> None:
    yhat = np.full(40, 10.0)
    assert np.isnan(interval_factor(yhat[:10] + 1, yhat[:10], yhat[:10] - 1, yhat[:10] + 1, 0.8))  # too few
    assert np.isnan(interval_factor(yhat + 1, yhat, yhat, yhat, 0.8))  # zero width
    # An interval wholly below the forecast (an empirical error quantile above zero on a trend):
    # no factor brings the actuals above the forecast inside it.
    assert np.isnan(interval_factor(yhat + 1, yhat, yhat - 3, yhat - 1, 0.8))
    # A quiet queue: nearly every hour forecast 0 and 0 arrivals; the interval narrows by half at most.
    quiet = np.zeros(40)
    assert interval_factor(quiet, quiet, quiet, quiet + 2, 0.8) == MIN_FACTOR


def test_a_lower_bound_at_zero_stays_there_so_quiet_nights_do_not_hold_the_factor_at_one() -> None:
    # Half the hours are nights: forecast 0.5, interval clipped at 0, no arrivals. The days' interval
    # is far too wide (every actual within 0.4 of its half-widths).
    night = np.tile([0.5, 0.0, 2.0, 0.0], (12, 1))
    day = np.column_stack([np.full(12, 10.0), np.full(12, 5.0), np.full(12, 15.0), np.linspace(8, 12, 12)])
    yhat, lower, upper, actual = np.vstack([night, day]).T
    factor = interval_factor(actual, yhat, lower, upper, 0.8)
    assert factor == MIN_FACTOR  # narrowing a night's bound above 0 would have held it at 1
    scaled = calibrate(pd.DataFrame({"yhat": yhat, "yhat_lower": lower, "yhat_upper": upper}), factor)
    assert scaled["yhat_lower"].tolist() == [0.0] * 12 + [7.5] * 12
    assert scaled["yhat_upper"].tolist() == [1.25] * 12 + [12.5] * 12
    assert coverage(actual, scaled["yhat_lower"].to_numpy(), scaled["yhat_upper"].to_numpy()) == 1.0


def test_calibrated_intervals_cover_what_they_claim_where_the_raw_ones_do_not() -> None:
    # Heavy-tailed day factors AutoETS's interval misjudges; the backtest's own errors set the
    # width the nightly job ships.
    rng = np.random.default_rng(3)
    index = pd.date_range("2025-01-06", periods=7 * 30, freq="D", tz="UTC")
    values = np.tile(WEEK, 30) * rng.gamma(4, 0.25, 7 * 30)
    series = pd.Series(values, index=index)
    config = ForecastConfig(freq="D")
    report = rolling_origin(series, 7, config, folds=20, step=7, methods=("auto_ets",))
    ets = report.score("auto_ets")
    assert ets.coverage > 0.85  # AutoETS's own 80% interval: too wide here
    assert ets.interval_factor < 1
    assert 0.75 <= ets.calibrated_coverage <= 0.85
    one_fold = rolling_origin(series, 7, config, folds=1, methods=("auto_ets",))
    assert np.isnan(one_fold.score("auto_ets").calibrated_coverage)
    chosen = forecast_series(series.iloc[:-7], 7, config, BatchSettings(CXA_FORECAST_METHOD="auto_ets"))
    assert chosen.report is not None
    factor = chosen.report.score("auto_ets").interval_factor
    assert f"interval x{factor:.2f}" in chosen.reason
    raw = forecast(series.iloc[:-7], 7, config, "auto_ets")
    assert np.allclose(
        chosen.predicted["yhat_upper"] - chosen.predicted["yhat"], factor * (raw["yhat_upper"] - raw["yhat"])
    )


def test_a_configured_method_that_fails_its_backtest_still_forecasts_uncalibrated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mstl = FORECASTERS["mstl"]

    def needs_three_weeks(history: pd.Series, horizon: int, config: ForecastConfig) -> pd.DataFrame:
        if len(history) < 21:
            raise ValueError("too short for it")
        return mstl(history, horizon, config)

    monkeypatch.setitem(FORECASTERS, "mstl", needs_three_weeks)
    series = weekly_series(4, noise=3)  # every backtest origin trains on under three weeks
    settings = BatchSettings(CXA_FORECAST_METHOD="mstl", CXA_BACKTEST_FOLDS=2)
    chosen = forecast_series(series, 7, ForecastConfig(freq="D"), settings)
    assert chosen.report is not None
    assert "mstl" in chosen.report.failed
    assert chosen.method == "mstl"
    assert "interval as the method gives it" in chosen.reason
    assert len(chosen.predicted) == 7
