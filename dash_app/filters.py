"""What an analytics page is filtered by, and the SQL predicate it becomes (pure)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cxa.marts import UNCATEGORIZED

DIMENSIONS = ("channel", "priority", "category", "assigned_agent_id")


@dataclass(frozen=True)
class TicketFilter:
    start: date
    end: date  # inclusive
    categories: tuple[str, ...] = field(default_factory=tuple)
    channels: tuple[str, ...] = field(default_factory=tuple)
    team: str | None = None

    def where(self, time_column: str = "created_at") -> tuple[str, list[Any]]:
        """A WHERE predicate over marts.ticket_analytics (or tables with the same columns)."""
        clauses = [f"{time_column} >= %s", f"{time_column} < %s"]
        params: list[Any] = [self.start, self.end + timedelta(days=1)]
        if self.categories:
            clauses.append("coalesce(category, %s) = ANY(%s)")
            params += [UNCATEGORIZED, list(self.categories)]
        if self.channels:
            clauses.append("channel = ANY(%s)")
            params.append(list(self.channels))
        if self.team:
            clauses.append(
                "assigned_agent_id IN (SELECT DISTINCT agent_id FROM marts.agent_performance_metrics"
                " WHERE team = %s)"
            )
            params.append(self.team)
        return " AND ".join(clauses), params


def parse_filter(
    start: str | None,
    end: str | None,
    categories: list[str] | None,
    channels: list[str] | None,
    team: str | None,
    default_end: date,
) -> TicketFilter:
    """The filter from Dash control values; an empty date falls back to the last 28 days."""
    end_day = date.fromisoformat(end[:10]) if end else default_end
    start_day = date.fromisoformat(start[:10]) if start else end_day - timedelta(days=27)
    if start_day > end_day:
        start_day, end_day = end_day, start_day
    return TicketFilter(start_day, end_day, tuple(categories or ()), tuple(channels or ()), team or None)
