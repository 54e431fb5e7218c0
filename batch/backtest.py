"""Rolling-origin backtests: MAPE, MASE and interval coverage of each method against the baseline.

The last ``folds * step`` periods are cut into origins; at each origin every method is fitted on
the history before it and forecasts ``horizon`` periods, which are scored against what happened.
MASE scales by the in-sample mean absolute error of the seasonal-naive one-season-ahead forecast
on each fold's training data, so MASE < 1 beats that baseline in-sample and the seasonal-naive
row's MASE is the out-of-sample reference. MAPE skips periods whose actual is zero.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from batch.forecast import ForecastConfig, combine, forecast, season_length

BASELINE = "seasonal_naive"


@dataclass(frozen=True)
class MethodScore:
    method: str
    mape: float
    mase: float
    coverage: float
    folds: int
    points: int


@dataclass(frozen=True)
class BacktestReport:
    freq: str
    horizon: int
    folds: int
    origins: list[str]
    scores: list[MethodScore]

    def score(self, method: str) -> MethodScore:
        return next(score for score in self.scores if score.method == method)

    @property
    def best(self) -> MethodScore:
        return min(self.scores, key=lambda score: score.mase)

    def beats_baseline(self, method: str) -> bool:
        return self.score(method).mase < self.score(BASELINE).mase

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["best"] = self.best.method
        return document


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error over periods with a non-zero actual (a fraction, not %)."""
    mask = actual != 0
    if not mask.any():
        return float("nan")
    return float(np.mean(np.abs((actual[mask] - predicted[mask]) / actual[mask])))


def naive_scale(train: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal-naive forecast (the MASE denominator)."""
    if len(train) <= season:
        raise ValueError(f"MASE needs more than {season} training periods, got {len(train)}")
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    return scale if scale > 0 else 1.0


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actuals inside the prediction interval."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


def origins(length: int, horizon: int, folds: int, step: int, min_train: int) -> list[int]:
    """Training lengths (cut points) of each fold, oldest first; the last fold ends the series."""
    cuts = [length - horizon - step * index for index in range(folds)]
    cuts = sorted(cut for cut in cuts if cut >= min_train)
    if not cuts:
        raise ValueError(
            f"series of {length} periods is too short for a {horizon}-period horizon "
            f"after {min_train} training periods"
        )
    return cuts


def rolling_origin(
    series: pd.Series,
    horizon: int,
    config: ForecastConfig,
    folds: int = 4,
    step: int | None = None,
    methods: Sequence[str] = ("prophet", BASELINE, "ensemble"),
) -> BacktestReport:
    """Backtest ``methods`` on ``series`` at ``folds`` rolling origins ``step`` periods apart."""
    season = season_length(config.freq)
    cuts = origins(len(series), horizon, folds, step or horizon, min_train=2 * season + 1)
    values = series.to_numpy(dtype=float)
    parts: dict[str, list[np.ndarray]] = {method: [] for method in methods}
    for cut in cuts:
        actual = values[cut : cut + horizon]
        scale = np.full(len(actual), naive_scale(values[:cut], season))
        for method, predicted in fit_all(series.iloc[:cut], horizon, config, methods).items():
            parts[method].append(
                np.vstack(
                    [actual, predicted["yhat"], predicted["yhat_lower"], predicted["yhat_upper"], scale]
                )
            )
    scores = []
    for method, blocks in parts.items():
        actual, yhat, lower, upper, scale = np.hstack(blocks)
        scores.append(
            MethodScore(
                method=method,
                mape=mape(actual, yhat),
                mase=float(np.mean(np.abs(actual - yhat) / scale)),
                coverage=coverage(actual, lower, upper),
                folds=len(blocks),
                points=len(actual),
            )
        )
    return BacktestReport(
        freq=config.freq,
        horizon=horizon,
        folds=len(cuts),
        origins=[str(series.index[cut]) for cut in cuts],
        scores=scores,
    )


def fit_all(
    train: pd.Series, horizon: int, config: ForecastConfig, methods: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """Forecasts of every method from one training window (the ensemble reuses the two fits)."""
    fitted: dict[str, pd.DataFrame] = {}
    needs_prophet = "prophet" in methods or "ensemble" in methods
    if needs_prophet:
        fitted["prophet"] = forecast(train, horizon, config, "prophet")
    fitted[BASELINE] = forecast(train, horizon, config, BASELINE)
    if "ensemble" in methods:
        fitted["ensemble"] = combine(fitted["prophet"], fitted[BASELINE], config.ensemble_weight)
    return {method: fitted[method] for method in methods}
