"""Values that batch jobs write into the marts and the dashboard reads back: spelled once, here."""

from enum import StrEnum

UNCATEGORIZED = "uncategorized"
"""The category of a ticket no agent has categorized yet (dbt's ``ticket_volume_hourly`` spells it
too). Not a queue of its own: its volume is the labelling backlog, not demand, so it gets no
forecast."""


class ForecastGrain(StrEnum):
    """The ``grain`` of ``marts.ticket_volume_forecast`` and ``marts.forecast_backtest`` rows."""

    HOUR = "hour"
    DAY = "day"
