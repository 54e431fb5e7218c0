"""Values that batch jobs write into the marts and the dashboard reads back: spelled once, here."""

from enum import StrEnum


class ForecastGrain(StrEnum):
    """The ``grain`` of ``marts.ticket_volume_forecast`` and ``marts.forecast_backtest`` rows."""

    HOUR = "hour"
    DAY = "day"
