"""The shape of ticket arrivals over the year, the week and the day, fitted to a real ticket log.

`fit_shape` reads any log of ticket open dates (the shipped factors come from the NYC Council
constituent-services cases, 2015-2023) and measures:

- ``weekday``: mean tickets on each weekday over the mean of all days (Monday first);
- ``month``: mean tickets per day in each month over the mean of all days;
- ``holiday``: tickets on a public holiday over the mean of the same weekday without a holiday;
- ``daily_cv``: the spread of each weekday's count around its 28-day centred moving average
  (coefficient of variation), used as day-to-day noise (a gamma-Poisson mixture);
- ``yearly_totals``: tickets per calendar year, to show the trend (growth itself is configurable).

The log has dates only, so the intraday curve is not fitted: ``intraday`` is the usual
contact-centre double peak (late morning and early afternoon, quiet nights), in UTC hours.
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "arrival_shape.json"

# Share of a day's tickets in each UTC hour (sums to 1).
_INTRADAY = np.array(
    [
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.6,
        3.0,
        5.0,
        6.6,
        7.2,
        7.0,
        6.3,
        6.8,
        7.0,
        6.6,
        6.0,
        5.0,
        3.9,
        3.2,
        2.6,
        2.0,
        1.5,
        1.0,
    ]
)


@dataclass(frozen=True)
class ArrivalShape:
    weekday: list[float]
    month: list[float]
    holiday: float
    daily_cv: float
    intraday: list[float] = field(
        default_factory=lambda: [round(float(v), 5) for v in _INTRADAY / _INTRADAY.sum()]
    )
    yearly_totals: dict[str, int] = field(default_factory=dict)
    source: str = ""

    def day_factor(self, day: date, is_holiday: bool) -> float:
        """Expected tickets on ``day`` relative to an average day (before noise and growth)."""
        factor = self.weekday[day.weekday()] * self.month[day.month - 1]
        return factor * self.holiday if is_holiday else factor

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path = SHIPPED) -> "ArrivalShape":
        return cls(**json.loads(path.read_text()))


def fit_shape(
    path: Path, date_column: str = "opendate", country: str = "US", last_full_year: int | None = 2023
) -> ArrivalShape:
    """Fit weekday, month and holiday factors and day-to-day noise to a log of ticket dates."""
    opened = pd.to_datetime(pd.read_csv(path, usecols=[date_column])[date_column], errors="coerce")
    opened = opened.dropna()
    if last_full_year is not None:
        opened = opened[opened.dt.year <= last_full_year]
    daily = opened.dt.normalize().value_counts().sort_index().asfreq("D", fill_value=0)
    if len(daily) < 56:
        raise ValueError(f"{path} spans only {len(daily)} days; fitting needs at least 8 weeks")
    mean = daily.mean()
    calendar = holidays.country_holidays(country, years=range(daily.index[0].year, daily.index[-1].year + 1))
    is_holiday = np.array([day in calendar for day in daily.index.date])
    ordinary = daily[~is_holiday]
    weekday = ordinary.groupby(ordinary.index.dayofweek).mean() / mean
    month = daily.groupby(daily.index.month).mean() / mean
    same_weekday = ordinary.groupby(ordinary.index.dayofweek).mean()
    holiday_days = daily[is_holiday]
    holiday_ratio = (
        float(
            np.mean(
                [
                    count / same_weekday[day.dayofweek]
                    for day, count in holiday_days.items()
                    if same_weekday[day.dayofweek] > 0.2 * same_weekday.max()
                ]
            )
        )
        if len(holiday_days)
        else 1.0
    )
    trend = daily.rolling(28, center=True).mean()
    relative = (daily / trend)[(trend > 0) & (daily.index.dayofweek < 5)].dropna()
    yearly = daily.groupby(daily.index.year).sum()
    return ArrivalShape(
        weekday=[round(float(v), 4) for v in weekday.reindex(range(7), fill_value=0)],
        month=[round(float(v), 4) for v in month.reindex(range(1, 13), fill_value=1)],
        holiday=round(holiday_ratio, 4),
        daily_cv=round(float(relative.std()), 4),
        yearly_totals={str(year): int(total) for year, total in yearly.items()},
        source=f"{path.name}, {daily.index[0].date()} to {daily.index[-1].date()}, "
        f"{int(daily.sum())} tickets",
    )
