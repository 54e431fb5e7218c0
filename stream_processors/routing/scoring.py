"""How well a ticket fits a support agent, in separately reported parts.

>>> from datetime import UTC, datetime, timedelta
>>> from cxa.events import AgentStatus, Channel, Priority
>>> now = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
>>> ticket = WaitingTicket("t1", "billing", 1.0, Priority.URGENT, "en", now - timedelta(minutes=15),
...                        now + timedelta(hours=1), Channel.EMAIL)
>>> agent = AgentState("a1", AgentStatus.ONLINE, {"billing": 0.8}, frozenset({"en"}), capacity=3)
>>> parts = score_parts(ticket, agent, now, RoutingConfig())
>>> round(parts.skill, 2), round(parts.priority, 2), round(parts.sla, 2), round(parts.waiting, 2)
(0.8, 1.0, 0.5, 0.25)
>>> round(parts.total, 2)
2.75
"""

from datetime import datetime

from stream_processors.routing.config import RoutingConfig
from stream_processors.routing.types import AgentState, ScoreParts, WaitingTicket


def effective_category(ticket: WaitingTicket, config: RoutingConfig) -> str | None:
    """The category routing trusts: ``None`` if the categorizer abstained or was too unsure."""
    if ticket.category is None or ticket.category_confidence < config.min_category_confidence:
        return None
    return ticket.category


def skill_fit(ticket: WaitingTicket, agent: AgentState, config: RoutingConfig) -> float:
    """Proficiency in the predicted category, blended towards neutral as confidence drops."""
    category = effective_category(ticket, config)
    if category is None:
        return config.neutral_skill_fit
    confidence = ticket.category_confidence
    return confidence * agent.skills.get(category, 0.0) + (1.0 - confidence) * config.neutral_skill_fit


def urgency_parts(ticket: WaitingTicket, now: datetime, config: RoutingConfig) -> tuple[float, float, float]:
    """Weighted (priority, SLA pressure, waiting time) of a ticket at ``now``."""
    priority = config.priority_weight * config.priority_levels[ticket.priority]
    time_left = (ticket.sla_due_at - now) / config.sla_horizon
    sla = config.sla_weight * min(1.0, max(0.0, 1.0 - time_left))
    waited = (now - ticket.created_at) / config.wait_horizon
    waiting = config.waiting_weight * min(1.0, max(0.0, waited))
    return priority, sla, waiting


def balance_part(agent: AgentState, config: RoutingConfig) -> float:
    """Weighted preference for agents who have been less occupied today."""
    return config.balance_weight * (1.0 - agent.occupancy)


def score_parts(ticket: WaitingTicket, agent: AgentState, now: datetime, config: RoutingConfig) -> ScoreParts:
    priority, sla, waiting = urgency_parts(ticket, now, config)
    return ScoreParts(
        skill=config.skill_weight * skill_fit(ticket, agent, config),
        priority=priority,
        sla=sla,
        waiting=waiting,
        balance=balance_part(agent, config),
    )
