"""Who may take which ticket, and how many tickets each agent may take in one batch."""

import math
from collections.abc import Sequence

from cxa.events import AgentStatus
from stream_processors.routing.config import RoutingConfig
from stream_processors.routing.scoring import effective_category
from stream_processors.routing.types import AgentState, WaitingTicket


def ineligibility(
    ticket: WaitingTicket, agent: AgentState, config: RoutingConfig, *, use_skills: bool = True
) -> str | None:
    """Why ``agent`` may not take ``ticket`` (``None`` if they may).

    With an unknown category any online agent with free capacity who speaks the language may.
    """
    if agent.status is not AgentStatus.ONLINE:
        return f"agent is {agent.status.value}"
    if agent.free_capacity <= 0:
        return "agent is at capacity"
    if ticket.language not in agent.languages:
        return f"agent does not speak {ticket.language}"
    category = effective_category(ticket, config)
    if use_skills and category is not None:
        proficiency = agent.skills.get(category, 0.0)
        if proficiency < config.min_skill:
            return f"{category} proficiency {proficiency:.2f} below {config.min_skill:.2f}"
    return None


def is_eligible(
    ticket: WaitingTicket, agent: AgentState, config: RoutingConfig, *, use_skills: bool = True
) -> bool:
    return ineligibility(ticket, agent, config, use_skills=use_skills) is None


def fair_cap(agents: Sequence[AgentState], ticket_count: int, config: RoutingConfig) -> int:
    """The most tickets one agent may receive in a batch of ``ticket_count``."""
    available = [agent for agent in agents if agent.status is AgentStatus.ONLINE and agent.free_capacity]
    if not available:
        return 0
    takeable = min(ticket_count, sum(agent.free_capacity for agent in available))
    return max(1, math.ceil(config.fairness_factor * takeable / len(available) - 1e-9))


def batch_capacities(
    agents: Sequence[AgentState], ticket_count: int, config: RoutingConfig, *, fairness: bool = True
) -> list[int]:
    """Per agent, how many tickets they may receive now: free capacity, the fairness cap and the
    utilisation cap, whichever is smallest (free capacity alone with ``fairness=False``)."""
    cap = fair_cap(agents, ticket_count, config)
    capacities = []
    for agent in agents:
        if agent.status is not AgentStatus.ONLINE:
            capacities.append(0)
        elif not fairness:
            capacities.append(agent.free_capacity)
        else:
            below_max = math.floor(config.max_utilisation * agent.capacity + 1e-9) - agent.load
            capacities.append(max(0, min(agent.free_capacity, cap, below_max)))
    return capacities
