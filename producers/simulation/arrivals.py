"""When tickets arrive and in which category: a day-by-day non-homogeneous Poisson process.

Expected tickets on a day = base volume x growth x the fitted weekday/month/holiday factors x
gamma noise (the fitted day-to-day spread); each hour takes its intraday share, and arrival times
are uniform inside the hour. Incident bursts add extra tickets of one category for a few hours.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import holidays
import numpy as np

from producers.simulation.settings import SimulationSettings
from producers.simulation.shape import ArrivalShape


@dataclass(frozen=True)
class Arrival:
    at: datetime
    category: str
    incident: bool = False


class ArrivalProcess:
    def __init__(
        self,
        settings: SimulationSettings,
        shape: ArrivalShape,
        category_weights: dict[str, float],
        origin: date,
    ) -> None:
        self._settings = settings
        self._shape = shape
        self._categories = list(category_weights)
        weights = np.array(list(category_weights.values()), dtype=float)
        self._category_p = weights / weights.sum()
        self._intraday = np.array(shape.intraday) / sum(shape.intraday)
        self._origin = origin
        self._rng = np.random.default_rng(settings.seed)
        self._holidays = holidays.country_holidays("US")

    def expected(self, day: date) -> float:
        """Expected tickets on ``day`` before noise and incidents."""
        years = (day - self._origin).days / 365.25
        growth = (1 + self._settings.growth_per_year) ** years
        return self._settings.tickets_per_day * growth * self._shape.day_factor(day, day in self._holidays)

    def day(self, day: date) -> list[Arrival]:
        rng = self._rng
        cv = self._shape.daily_cv
        noise = rng.gamma(1 / cv**2, cv**2) if cv > 0 else 1.0
        expected = self.expected(day) * noise
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        counts = rng.poisson(expected * self._intraday)
        total = int(counts.sum())
        hours = np.repeat(np.arange(24), counts)
        seconds = hours * 3600 + rng.uniform(0, 3600, total)
        categories = rng.choice(len(self._categories), size=total, p=self._category_p)
        arrivals = [
            Arrival(midnight + timedelta(seconds=float(s)), self._categories[c])
            for s, c in zip(seconds, categories, strict=True)
        ]
        for _ in range(rng.poisson(self._settings.incidents_per_month / 30.4)):
            arrivals += self._incident(midnight, expected)
        arrivals.sort(key=lambda arrival: arrival.at)
        return arrivals

    def _incident(self, midnight: datetime, expected: float) -> list[Arrival]:
        """A burst in one category: extra tickets for 2-6 hours, starting in a busy hour."""
        rng = self._rng
        category = self._categories[int(rng.integers(len(self._categories)))]
        start = float(rng.choice(24, p=self._intraday)) * 3600 + float(rng.uniform(0, 3600))
        duration = float(rng.uniform(2, 6)) * 3600
        hourly = expected / 24
        extra = int(rng.poisson(self._settings.incident_multiplier * hourly * duration / 3600))
        offsets = np.sort(rng.uniform(start, min(start + duration, 86_399), extra))
        return [Arrival(midnight + timedelta(seconds=float(s)), category, True) for s in offsets]

    def days(self, start: date, end: date) -> Iterator[list[Arrival]]:
        """Arrivals of every day from ``start`` up to (not including) ``end``."""
        day = start
        while day < end:
            yield self.day(day)
            day += timedelta(days=1)
