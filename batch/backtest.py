"""Rolling-origin backtests: MAPE, MASE, interval coverage and cost of each candidate method, and
the choice among them.

Each method's intervals are also calibrated on its backtest (split conformal): ``interval_factor``
is the factor on the interval's half-widths, each side its own, that would have made it cover the
configured share of the backtest's actuals, and :func:`calibrate` applies it to a forecast. A
lower bound at zero, where every method's interval is clipped (counts cannot go below), stays
there: narrowing would lift it above the zeros it covers, and a quiet night's zeros would then
hold the factor at 1 however wide the day's intervals are.
``calibrated_coverage`` checks that out of sample: each fold's interval scaled by the factor the
other folds give. A backtest calibrates one week ahead at most; the factor is applied to the whole
horizon.

The last ``folds * step`` periods are cut into origins; at each origin every method is fitted on
the history before it and forecasts ``horizon`` periods, which are scored against what happened.
MASE scales by the in-sample mean absolute error of the seasonal-naive one-season-ahead forecast
on each fold's training data, so MASE < 1 beats that baseline in-sample and the seasonal-naive
row's MASE is the out-of-sample reference. MAPE skips periods whose actual is zero. A method that
fails on a series (too short for it, degenerate) is left out of that report and named in it.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from batch.forecast import CANDIDATES, ForecastConfig, combine, forecast, season_length

BASELINE = "seasonal_naive"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MethodScore:
    method: str
    mape: float
    mase: float
    coverage: float
    interval_factor: float  # half-widths times this cover the configured share (NaN: cannot tell)
    calibrated_coverage: float  # each fold scaled by the other folds' factor (NaN with one fold)
    folds: int
    points: int
    seconds: float  # mean time to fit and forecast once


@dataclass(frozen=True)
class BacktestReport:
    freq: str
    horizon: int
    folds: int
    origins: list[str]
    scores: list[MethodScore]
    failed: dict[str, str] = field(default_factory=dict)

    def score(self, method: str) -> MethodScore:
        found = next((score for score in self.scores if score.method == method), None)
        if found is None:
            raise ValueError(f"{method} has no backtest score: {self.failed.get(method, 'not a candidate')}")
        return found

    @property
    def best(self) -> MethodScore:
        """The lowest MASE; a tie goes to the method listed first (the simpler one)."""
        return min(self.scores, key=lambda score: score.mase)

    def beats_baseline(self, method: str) -> bool:
        return self.score(method).mase < self.score(BASELINE).mase

    @property
    def reason(self) -> str:
        """Why :attr:`best` was chosen, in a sentence."""
        best, baseline = self.best, self.score(BASELINE)
        gain = 1 - best.mase / baseline.mase if baseline.mase > 0 else 0.0
        return (
            f"{best.method}: lowest MASE ({best.mase:.3f}) of {len(self.scores)} methods over "
            f"{self.folds} origins, {gain:.1%} below {BASELINE} ({baseline.mase:.3f})"
            if best.method != BASELINE
            else f"{BASELINE}: no method beat it (MASE {baseline.mase:.3f}) over {self.folds} origins"
        )

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (NaN, which JSON lacks, as None)."""
        document = asdict(self)
        document["scores"] = [
            {
                key: None if isinstance(value, float) and np.isnan(value) else value
                for key, value in score.items()
            }
            for score in document["scores"]
        ]
        document["chosen"] = self.best.method
        document["reason"] = self.reason
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


MIN_CALIBRATION_POINTS = 20
"""Fewer backtest points than this leave a forecast's interval as its method gives it."""
MIN_FACTOR = 0.5
"""A backtest narrows an interval by half at most: one that most points hit exactly (a quiet
queue, zero forecast and zero actual) has too few misses to tell how narrow it may be."""


def interval_factor(
    actual: np.ndarray, yhat: np.ndarray, lower: np.ndarray, upper: np.ndarray, width: float
) -> float:
    """The smallest factor on the half-widths (below and above ``yhat`` separately, at least
    :data:`MIN_FACTOR`) whose interval holds ``width`` of ``actual``, at split conformal's
    finite-sample level; NaN when there are too few points or no finite factor does (an interval
    of zero width, or one that lies wholly on one side of ``yhat`` where the actuals fall)."""
    n = len(actual)
    if n < MIN_CALIBRATION_POINTS:
        return float("nan")
    below = actual < yhat
    distance = np.abs(actual - yhat)
    half = np.where(below, yhat - lower, upper - yhat)
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(distance == 0, 0.0, np.where(half > 0, distance / half, np.inf))
    needed[below & (lower <= 0) & (actual >= lower)] = 0.0  # at the floor, whatever the factor
    level = min(1.0, np.ceil((n + 1) * width) / n)
    factor = float(np.quantile(needed, level, method="inverted_cdf"))
    return max(factor, MIN_FACTOR) if np.isfinite(factor) else float("nan")


def scaled_bounds(yhat: Any, lower: Any, upper: Any, factor: float) -> tuple[Any, Any]:
    """The interval's bounds with its half-widths multiplied by ``factor`` (arrays or series); a
    lower bound at zero or below stays where it is."""
    return lower + (1 - factor) * (yhat - lower) * (lower > 0), yhat + factor * (upper - yhat)


def calibrate(predicted: pd.DataFrame, factor: float) -> pd.DataFrame:
    """The forecast with its interval's half-widths multiplied by ``factor``, clipped at zero."""
    yhat = predicted["yhat"]
    lower, upper = scaled_bounds(yhat, predicted["yhat_lower"], predicted["yhat_upper"], factor)
    return pd.DataFrame({"yhat": yhat, "yhat_lower": lower, "yhat_upper": upper}, index=predicted.index).clip(
        lower=0
    )


def cross_calibrated_coverage(blocks: Sequence[np.ndarray], width: float) -> float:
    """Share of actuals inside each fold's interval once scaled by the factor the other folds give
    (rows of a block: actual, yhat, lower, upper); a fold the others cannot calibrate keeps its
    own interval, as the nightly job would ship it. NaN with fewer than two folds."""
    if len(blocks) < 2:
        return float("nan")
    inside = []
    for index, block in enumerate(blocks):
        others = np.hstack([other for position, other in enumerate(blocks) if position != index])
        factor = interval_factor(others[0], others[1], others[2], others[3], width)
        factor = 1.0 if np.isnan(factor) else factor
        actual, yhat, lower, upper = block[:4]
        low, high = scaled_bounds(yhat, lower, upper, factor)
        inside.append((actual >= low) & (actual <= high))
    return float(np.mean(np.hstack(inside)))


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
    methods: Sequence[str] = CANDIDATES,
) -> BacktestReport:
    """Backtest ``methods`` (the baseline always among them) on ``series`` at ``folds`` rolling
    origins ``step`` periods apart."""
    season = season_length(config.freq)
    methods = list(dict.fromkeys([*methods, BASELINE]))
    cuts = origins(len(series), horizon, folds, step or horizon, min_train=season + 1)
    values = series.to_numpy(dtype=float)
    parts: dict[str, list[np.ndarray]] = {method: [] for method in methods}
    seconds: dict[str, list[float]] = {method: [] for method in methods}
    failed: dict[str, str] = {}
    for cut in cuts:
        actual = values[cut : cut + horizon]
        scale = np.full(len(actual), naive_scale(values[:cut], season))
        fitted = fit_all(series.iloc[:cut], horizon, config, [m for m in methods if m not in failed])
        for method, outcome in fitted.items():
            if isinstance(outcome, Exception):
                failed[method] = f"{type(outcome).__name__}: {outcome}"
                log.warning("%s left out of the backtest: %s", method, failed[method])
                continue
            predicted, took = outcome
            seconds[method].append(took)
            parts[method].append(
                np.vstack(
                    [actual, predicted["yhat"], predicted["yhat_lower"], predicted["yhat_upper"], scale]
                )
            )
    scores = []
    for method, blocks in parts.items():
        if method in failed:
            continue
        actual, yhat, lower, upper, scale = np.hstack(blocks)
        width = config.interval_width
        scores.append(
            MethodScore(
                method=method,
                mape=mape(actual, yhat),
                mase=float(np.mean(np.abs(actual - yhat) / scale)),
                coverage=coverage(actual, lower, upper),
                interval_factor=interval_factor(actual, yhat, lower, upper, width),
                calibrated_coverage=cross_calibrated_coverage(blocks, width),
                folds=len(blocks),
                points=len(actual),
                seconds=float(np.mean(seconds[method])),
            )
        )
    return BacktestReport(
        freq=config.freq,
        horizon=horizon,
        folds=len(cuts),
        origins=[str(series.index[cut]) for cut in cuts],
        scores=scores,
        failed=failed,
    )


def fit_all(
    train: pd.Series, horizon: int, config: ForecastConfig, methods: Sequence[str]
) -> dict[str, tuple[pd.DataFrame, float] | Exception]:
    """Each method's forecast from one training window and the seconds it took, or the error it
    raised (the ensemble reuses the Prophet and seasonal-naive fits)."""
    fitted: dict[str, tuple[pd.DataFrame, float] | Exception] = {}
    for method in methods:
        started = time.perf_counter()
        try:
            first, second = fitted.get("prophet"), fitted.get(BASELINE)
            if method == "ensemble" and isinstance(first, tuple) and isinstance(second, tuple):
                predicted = combine(first[0], second[0], config.ensemble_weight)
                took = first[1] + second[1]
            else:
                predicted = forecast(train, horizon, config, method)
                took = time.perf_counter() - started
        except Exception as exc:  # a candidate that cannot fit this series is left out
            if method == BASELINE:
                raise
            fitted[method] = exc
            continue
        fitted[method] = (predicted, took)
    return fitted
