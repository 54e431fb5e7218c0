"""Forecast methods on data they never saw: held-out MASE, interval coverage and cost per candidate,
and what the nightly job's backtest chose.

Hourly series: call-centre-like arrivals (tests.fixtures.arrivals: Poisson counts on a weekday and
intraday profile with a gamma day factor), with 3, 5 and 8 weeks of history and several seeds. Each
method is fitted on the history and forecasts the next week, scored against it; ``auto`` is the
nightly job's choice (batch.nightly.forecast_series: rolling weekly origins inside the history
only). MASE is scaled by the history's one-week seasonal-naive error, so the seasonal-naive row is
the baseline and ``vs naive`` is the ratio of the two, per series averaged. Coverage is the share
of the held-out week inside the 80% interval; ``auto``'s interval is calibrated on its backtest
(batch.backtest.calibrate), and the ``auto, uncalibrated`` row is the same forecast with the
interval the chosen method gives. Seconds: one fit and forecast (``auto``: the whole backtest and
the final fit). Fifty series per history length by default: a week's coverage moves with its
seven day factors, so five series left it some 5 points either way, and twenty some 2.
"""

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from batch.forecast import METHODS, ForecastConfig, forecast
from batch.nightly import forecast_series
from batch.settings import BatchSettings
from tests.fixtures.arrivals import call_centre_arrivals

WEEK = 168
UNCALIBRATED = "auto, uncalibrated"


def score(train: pd.Series, actual: np.ndarray, predicted: pd.DataFrame) -> tuple[float, float]:
    values = train.to_numpy()
    scale = float(np.mean(np.abs(values[WEEK:] - values[:-WEEK]))) or 1.0
    mase = float(np.mean(np.abs(actual - predicted["yhat"].to_numpy())) / scale)
    inside = (actual >= predicted["yhat_lower"].to_numpy()) & (actual <= predicted["yhat_upper"].to_numpy())
    return mase, float(np.mean(inside))


def run(seeds: int = 50, weeks: tuple[int, ...] = (3, 5, 8)) -> list[dict[str, Any]]:
    for name in ("cmdstanpy", "prophet", "batch"):
        logging.getLogger(name).setLevel(logging.ERROR)
    config = ForecastConfig(freq="h", uncertainty_samples=200, holidays_country=None)
    settings = BatchSettings(CXA_BACKTEST_FOLDS=4)
    rows = []
    for history_weeks in weeks:
        results: dict[str, list[tuple[float, float, float]]] = {
            m: [] for m in (*METHODS, "auto", UNCALIBRATED)
        }
        chosen: list[str] = []
        for seed in range(seeds):
            arrivals = call_centre_arrivals(history_weeks + 1, seed=seed)
            train, actual = arrivals.iloc[:-WEEK], arrivals.iloc[-WEEK:].to_numpy()
            for method in METHODS:
                started = time.perf_counter()
                predicted = forecast(train, WEEK, config, method)
                results[method].append((*score(train, actual, predicted), time.perf_counter() - started))
            started = time.perf_counter()
            choice = forecast_series(train, WEEK, config, settings)
            took = time.perf_counter() - started
            chosen_mase, covered = score(train, actual, choice.predicted)
            results["auto"].append((chosen_mase, covered, took))
            raw = forecast(train, WEEK, config, choice.method)
            results[UNCALIBRATED].append((chosen_mase, score(train, actual, raw)[1], took))
            chosen.append(choice.method)
            logging.info("%d weeks, seed %d: chose %s", history_weeks, seed, choice.reason)
        naive = np.array([mase for mase, _, _ in results["seasonal_naive"]])
        for method, scores in results.items():
            mase = np.array([m for m, _, _ in scores])
            rows.append(
                {
                    "history": f"{history_weeks} weeks hourly",
                    "method": method,
                    "MASE": round(float(mase.mean()), 3),
                    "vs naive": round(float((mase / naive).mean()), 3),
                    "coverage 80%": round(float(np.mean([c for _, c, _ in scores])), 3),
                    "seconds": round(float(np.median([s for _, _, s in scores])), 3),
                    "chosen": ", ".join(f"{m} {chosen.count(m)}" for m in dict.fromkeys(chosen))
                    if method in ("auto", UNCALIBRATED)
                    else "",
                }
            )
    return rows
