"""Volume forecasts: the candidate methods the nightly job chooses from by backtest.

Pure functions over a regular ``pandas.Series`` (a DatetimeIndex in UTC at the series' frequency,
counts as values). Each forecaster returns a frame indexed by the future timestamps with ``yhat``,
``yhat_lower`` and ``yhat_upper`` (the prediction interval), clipped at zero.

Why several: no method wins everywhere. On hourly contact-centre arrivals the same hour of last
week is noisy and the median or mean of the last weeks' same hour is hard to beat; on long daily
series Prophet's trend, yearly shape and holidays pay; statsforecast's MSTL and AutoETS sit in
between. :func:`batch.backtest.choose` scores them per series and grain and keeps the best, and
the seasonal-naive baseline is always a candidate, so the choice is never worse than it in its
own backtest.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
import pandas as pd

AUTO = "auto"
"""Not a forecaster: choose among :data:`CANDIDATES` by rolling-origin backtest."""


@dataclass(frozen=True)
class ForecastConfig:
    freq: str  # "D" or "h"
    interval_width: float = 0.8
    uncertainty_samples: int = 200
    holidays_country: str | None = "US"
    ensemble_weight: float = 0.5  # Prophet's share in the ensemble


def model_version(method: str) -> str:
    """Names the method and the library version that produced a forecast."""
    library = {
        "prophet": "prophet",
        "ensemble": "prophet",
        "mstl": "statsforecast",
        "auto_ets": "statsforecast",
    }
    name = library.get(method)
    return f"{method}/{name}-{version(name)}" if name else method


def normalise_freq(freq: str) -> str:
    """``D`` or ``h`` (pandas' hourly alias) from D/H/d/h."""
    value = freq.strip()
    if value.upper() == "D":
        return "D"
    if value.upper() == "H":
        return "h"
    raise ValueError(f"frequency must be D (daily) or H (hourly), not {freq!r}")


def season_length(freq: str) -> int:
    """One week in periods: the seasonality both grains share."""
    return 7 if normalise_freq(freq) == "D" else 168


def future_index(history: pd.Series, horizon: int, freq: str) -> pd.DatetimeIndex:
    step = pd.tseries.frequencies.to_offset(normalise_freq(freq))
    return pd.date_range(history.index[-1] + step, periods=horizon, freq=step)


def seasonal_naive(history: pd.Series, horizon: int, config: ForecastConfig) -> pd.DataFrame:
    """Each future period repeats the same period one week earlier.

    The interval comes from the empirical quantiles of the history's week-on-week changes.
    """
    season = season_length(config.freq)
    if len(history) < season:
        raise ValueError(f"seasonal naive needs at least {season} periods of history, got {len(history)}")
    last_season = history.to_numpy(dtype=float)[-season:]
    yhat = np.resize(last_season, horizon)
    changes = (history - history.shift(season)).dropna().to_numpy(dtype=float)
    alpha = (1 - config.interval_width) / 2
    low, high = np.quantile(changes, [alpha, 1 - alpha]) if len(changes) else (0.0, 0.0)
    frame = pd.DataFrame(
        {"yhat": yhat, "yhat_lower": yhat + low, "yhat_upper": yhat + high},
        index=future_index(history, horizon, config.freq),
    )
    return frame.clip(lower=0)


def seasonal_average(
    history: pd.Series, horizon: int, config: ForecastConfig, statistic: str, weeks: int
) -> pd.DataFrame:
    """Each future period is the median (or mean) of the same period in the last ``weeks`` weeks
    (as many as the history holds). The interval comes from the empirical quantiles of the
    history's own one-week-ahead errors of the same rule."""
    season = season_length(config.freq)
    values = history.to_numpy(dtype=float)
    available = min(weeks, len(values) // season)
    if available < 1:
        raise ValueError(
            f"a seasonal {statistic} needs at least {season} periods of history, got {len(values)}"
        )
    reduce = np.median if statistic == "median" else np.mean
    phases = values[len(values) - available * season :].reshape(available, season)
    yhat = np.resize(reduce(phases, axis=0), horizon)
    window = max(1, min(available, len(values) // season - 1))  # leaves a week of errors to measure
    errors = [
        values[t] - reduce(values[t - season * window : t : season])
        for t in range(season * window, len(values))
    ]
    alpha = (1 - config.interval_width) / 2
    low, high = np.quantile(errors, [alpha, 1 - alpha]) if errors else (0.0, 0.0)
    frame = pd.DataFrame(
        {"yhat": yhat, "yhat_lower": yhat + low, "yhat_upper": yhat + high},
        index=future_index(history, horizon, config.freq),
    )
    return frame.clip(lower=0)


def statsforecast_model(history: pd.Series, horizon: int, config: ForecastConfig, name: str) -> pd.DataFrame:
    """statsforecast's MSTL (weekly and, hourly, daily seasonality; AutoETS on the trend) or AutoETS
    (seasonal over one day hourly, one week daily)."""
    from statsforecast.models import MSTL, AutoETS

    freq = normalise_freq(config.freq)
    seasons = [24, 168] if freq == "h" else [7]
    model: MSTL | AutoETS
    if name == "mstl":
        usable = [season for season in seasons if len(history) >= 2 * season]
        model = MSTL(season_length=usable or seasons[:1], trend_forecaster=AutoETS(model="ZZN"))
    else:
        model = AutoETS(season_length=seasons[0])
    level = round(config.interval_width * 100)
    predicted = model.forecast(y=history.to_numpy(dtype=float), h=horizon, level=[level])
    frame = pd.DataFrame(
        {
            "yhat": predicted["mean"],
            "yhat_lower": predicted[f"lo-{level}"],
            "yhat_upper": predicted[f"hi-{level}"],
        },
        index=future_index(history, horizon, freq),
    )
    return frame.clip(lower=0)


def prophet_forecast(history: pd.Series, horizon: int, config: ForecastConfig) -> pd.DataFrame:
    """Prophet with weekly (and, hourly, daily) seasonality, yearly from two years of data,
    and the country's public holidays."""
    from prophet import Prophet

    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.WARNING)
    freq = normalise_freq(config.freq)
    span_days = (history.index[-1] - history.index[0]).days
    model = Prophet(
        interval_width=config.interval_width,
        uncertainty_samples=config.uncertainty_samples,
        weekly_seasonality=True,
        daily_seasonality=freq == "h",
        yearly_seasonality=span_days >= 730,
        seasonality_mode="additive",
    )
    if config.holidays_country:
        model.add_country_holidays(country_name=config.holidays_country)
    frame = pd.DataFrame({"ds": history.index.tz_localize(None), "y": history.to_numpy(dtype=float)})
    model.fit(frame)
    future = pd.DataFrame({"ds": future_index(history, horizon, freq).tz_localize(None)})
    predicted = model.predict(future)
    result = predicted[["yhat", "yhat_lower", "yhat_upper"]].set_axis(
        future_index(history, horizon, freq), axis="index"
    )
    if config.uncertainty_samples == 0:
        result["yhat_lower"] = result["yhat_upper"] = result["yhat"]
    return result.clip(lower=0)


def combine(first: pd.DataFrame, second: pd.DataFrame, weight: float) -> pd.DataFrame:
    """Weighted average of two forecasts, point and interval bounds alike."""
    return (first * weight + second * (1 - weight)).clip(lower=0)


FORECASTERS: dict[str, Callable[[pd.Series, int, ForecastConfig], pd.DataFrame]] = {
    "seasonal_naive": seasonal_naive,
    "seasonal_median": lambda history, horizon, config: seasonal_average(
        history, horizon, config, "median", 3
    ),
    "seasonal_mean": lambda history, horizon, config: seasonal_average(history, horizon, config, "mean", 4),
    "mstl": lambda history, horizon, config: statsforecast_model(history, horizon, config, "mstl"),
    "auto_ets": lambda history, horizon, config: statsforecast_model(history, horizon, config, "auto_ets"),
    "prophet": prophet_forecast,
    "ensemble": lambda history, horizon, config: combine(
        prophet_forecast(history, horizon, config),
        seasonal_naive(history, horizon, config),
        config.ensemble_weight,
    ),
}
"""Every method by name: seasonal naive (last week), the median of the last 3 weeks' same period,
the mean of the last 4, statsforecast's MSTL and AutoETS, Prophet, and Prophet averaged with
seasonal naive (``ensemble``)."""
METHODS = tuple(FORECASTERS)
CANDIDATES = METHODS
"""What :data:`AUTO` chooses from by default (CXA_FORECAST_CANDIDATES narrows it)."""


def forecast(history: pd.Series, horizon: int, config: ForecastConfig, method: str) -> pd.DataFrame:
    """Forecast ``horizon`` periods after ``history`` with one of :data:`METHODS`."""
    try:
        forecaster = FORECASTERS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}") from None
    return forecaster(history, horizon, config)


def regular_series(
    counts: pd.Series, freq: str, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> pd.Series:
    """Counts on a complete, gap-free UTC index at ``freq`` (missing periods are zero)."""
    step = normalise_freq(freq)
    index = pd.DatetimeIndex(counts.index)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    series = pd.Series(counts.to_numpy(dtype=float), index=index).groupby(index.floor(step)).sum()
    first = series.index.min() if start is None else utc_timestamp(start)
    last = series.index.max() if end is None else utc_timestamp(end)
    full = pd.date_range(first, last, freq=step)
    return series.reindex(full, fill_value=0.0)


def utc_timestamp(moment: pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
