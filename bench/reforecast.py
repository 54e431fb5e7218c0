"""Intraday reforecast on backfilled history: how much today's arrivals so far improve the rest of
the day's forecast over the nightly one.

Hourly call-centre-like arrivals (tests.fixtures.arrivals: a weekday and intraday profile, Poisson
counts, a gamma day factor with a 15% coefficient of variation), and the same without the day
factor (every day runs at its profile: what the revision costs when there is nothing to learn from
the morning). For each of the 7 days after 8
weeks of history, the nightly job's forecast (batch.nightly.forecast_series, the method its
backtest chose) is made at midnight from the history before it; at each checkpoint the rest of the
day is revised from the arrivals so far (batch.reforecast.revise). Scored on what then arrived:
the error of the rest of the day's total and the hourly MAE over the rest of the day, nightly
against revised, summed over days and series.
"""

import logging
from typing import Any

import numpy as np

from batch.forecast import ForecastConfig
from batch.nightly import forecast_series
from batch.reforecast import day_factor_prior, revise
from batch.settings import BatchSettings
from tests.fixtures.arrivals import call_centre_arrivals

CHECKPOINTS = (9.0, 12.0, 15.0)  # hours of the day (UTC) at which the rest of the day is revised


def run(
    seeds: int = 4, priors: tuple[float | None, ...] = (None, 20.0), day_cvs: tuple[float, ...] = (0.15, 0.0)
) -> list[dict[str, Any]]:
    """``priors``: pseudo-arrivals of the revision; None estimates them from the history
    (batch.reforecast.day_factor_prior, what `cxa batch reforecast` does by default)."""
    for name in ("cmdstanpy", "prophet", "batch"):
        logging.getLogger(name).setLevel(logging.ERROR)
    config = ForecastConfig(freq="h", uncertainty_samples=0, holidays_country=None)
    settings = BatchSettings(CXA_BACKTEST_FOLDS=4)
    # (day factor, checkpoint, prior) -> [nightly total error, revised total error, nightly MAE, revised MAE]
    errors: dict[tuple[float, float, float | None], list[list[float]]] = {}
    for day_cv, seed in ((cv, seed) for cv in day_cvs for seed in range(seeds)):
        series = call_centre_arrivals(9, day_cv=day_cv, seed=100 + seed)
        arrivals = series.to_numpy()
        for day in range(7):
            start = (8 * 7 + day) * 24
            history = series.iloc[:start]
            estimated = day_factor_prior(history.resample("D").sum().tolist())
            nightly = forecast_series(history, 24, config, settings).predicted["yhat"].to_numpy()
            actual = arrivals[start : start + 24]
            for checkpoint in CHECKPOINTS:
                hour = int(checkpoint)
                rest_actual = actual[hour:]
                for prior in priors:
                    weight = estimated if prior is None else prior
                    revised = revise(nightly, float(actual[:hour].sum()), checkpoint, weight).rest
                    errors.setdefault((day_cv, checkpoint, prior), []).append(
                        [
                            abs(rest_actual.sum() - nightly[hour:].sum()),
                            abs(rest_actual.sum() - revised.sum()),
                            float(np.mean(np.abs(rest_actual - nightly[hour:]))),
                            float(np.mean(np.abs(rest_actual - revised))),
                        ]
                    )
            logging.info("day factor %.2f, seed %d, day %d done", day_cv, seed, day)
    rows = []
    for (day_cv, checkpoint, prior), values in errors.items():
        total_n, total_r, mae_n, mae_r = np.array(values).mean(axis=0)
        rows.append(
            {
                "day factor (CV)": day_cv,
                "revised at (UTC)": f"{int(checkpoint):02d}:00",
                "prior arrivals": "estimated" if prior is None else prior,
                "days": len(values),
                "rest-of-day total error, nightly": round(float(total_n), 1),
                "revised": round(float(total_r), 1),
                "improvement": f"{1 - total_r / total_n:.0%}",
                "hourly MAE, nightly": round(float(mae_n), 2),
                "hourly MAE, revised": round(float(mae_r), 2),
                "MAE improvement": f"{1 - mae_r / mae_n:.0%}",
            }
        )
    return rows
