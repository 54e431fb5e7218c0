"""Intraday reforecast: the rest of today's hourly forecast revised from today's arrivals so far.

The nightly forecast gets the shape of the day right (when the peaks come) more often than its
level: a day-level factor (weather, an outage, a campaign) moves every hour of the day together.
So the morning's arrivals say how this day runs against the forecast, and the rest of the day is
scaled by that ratio, as workforce-management tools do. The ratio is shrunk toward 1 by
``prior_arrivals`` pseudo-arrivals on both sides: the posterior mean of a gamma day factor with
mean 1 given Poisson arrivals, whose prior weight is 1 / CV^2 of the day factor.
:func:`day_factor_prior` estimates it from the series' own daily history, so a series whose days
run as forecast (nothing to learn from the morning) is barely revised, and one whose days swing is
revised a lot.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def day_factor_prior(
    daily: Sequence[float], weeks: int = 4, default: float = 20.0, most: float = 1e6
) -> float:
    """Pseudo-arrivals ``1 / CV^2`` of the day-level factor, from daily totals (oldest first): each
    day against the mean of the same weekday in the ``weeks`` before it, the variance of that ratio
    beyond what Poisson noise and the mean's own noise explain. ``default`` with under a week of
    such days; ``most`` (hardly any revision) when the days vary no more than chance.

    >>> rng = np.random.default_rng(0)
    >>> steady = rng.poisson(500, size=70)  # days as forecast: a weight of a day's tickets or more
    >>> day_factor_prior(steady) > 500
    True
    >>> swinging = rng.poisson(500 * rng.gamma(25, 1 / 25, size=70))  # a day factor, CV 0.2: 25
    >>> 10 < day_factor_prior(swinging) < 60
    True
    """
    totals = np.asarray(daily, dtype=float)
    ratios, noise = [], []
    for day in range(7 * weeks, len(totals)):
        expected = totals[day - 7 * weeks : day : 7].mean()
        if expected > 0:
            ratios.append(totals[day] / expected)
            noise.append(1 / expected)
    if len(ratios) < 7:
        return default
    cv2 = float(np.var(ratios, ddof=1)) / (1 + 1 / weeks) - float(np.mean(noise))
    return most if cv2 <= 1 / most else 1 / cv2


@dataclass(frozen=True)
class Revision:
    ratio: float  # today's arrivals so far against the forecast for the same time, shrunk
    arrivals_so_far: float
    forecast_so_far: float
    rest: FloatArray  # the revised forecast of each remaining hour (the current one's remainder first)


def revise(
    day: FloatArray, arrivals_so_far: float, elapsed_hours: float, prior_arrivals: float = 20.0
) -> Revision:
    """Revise ``day`` (today's 24 hourly forecasts, UTC midnight first) after ``elapsed_hours`` of
    the day with ``arrivals_so_far``.

    >>> day = np.full(24, 10.0)
    >>> r = revise(day, arrivals_so_far=120.0, elapsed_hours=8.0, prior_arrivals=20.0)
    >>> round(r.ratio, 3), len(r.rest), float(r.rest[0])
    (1.4, 16, 14.0)
    >>> round(revise(day, 4.0, 0.5).ratio, 3)  # half an hour in, 4 against 5: barely moved
    0.96
    """
    if not 0 <= elapsed_hours < len(day):
        raise ValueError(f"elapsed_hours must be within the day's {len(day)} hours, not {elapsed_hours}")
    whole = int(elapsed_hours)
    part = elapsed_hours - whole
    forecast_so_far = float(day[:whole].sum() + part * day[whole])
    ratio = (arrivals_so_far + prior_arrivals) / (forecast_so_far + prior_arrivals)
    remaining = day[whole:].astype(float)
    remaining[0] *= 1 - part  # what is left of the current hour
    return Revision(ratio, arrivals_so_far, forecast_so_far, remaining * ratio)
