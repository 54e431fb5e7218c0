"""One micro-batch as the policies see it: tickets, agents, capacities and scored eligible pairs."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from stream_processors.routing.config import RoutingConfig
from stream_processors.routing.eligibility import batch_capacities
from stream_processors.routing.scoring import balance_part, effective_category, skill_fit, urgency_parts
from stream_processors.routing.types import AgentState, WaitingTicket

Pair = tuple[int, int]
"""(ticket index, agent index) within a batch."""


@dataclass(frozen=True)
class MicroBatch:
    """``options[t]`` lists ticket t's eligible agents as (score, agent index), best first."""

    tickets: tuple[WaitingTicket, ...]
    agents: tuple[AgentState, ...]
    capacities: tuple[int, ...]
    urgency: tuple[float, ...]
    options: tuple[tuple[tuple[float, int], ...], ...]
    now: datetime

    @property
    def pair_count(self) -> int:
        return sum(len(choices) for choices in self.options)

    def score(self, pair: Pair) -> float:
        ticket, agent = pair
        return next(score for score, index in self.options[ticket] if index == agent)

    def by_urgency(self) -> list[int]:
        """Ticket indices, most urgent first (then oldest, then by id)."""
        return sorted(
            range(len(self.tickets)),
            key=lambda t: (-self.urgency[t], self.tickets[t].created_at, self.tickets[t].ticket_id),
        )

    def by_arrival(self) -> list[int]:
        """Ticket indices, oldest first (then by id)."""
        return sorted(
            range(len(self.tickets)), key=lambda t: (self.tickets[t].created_at, self.tickets[t].ticket_id)
        )


def build_batch(
    tickets: Sequence[WaitingTicket],
    agents: Sequence[AgentState],
    now: datetime,
    config: RoutingConfig,
    *,
    use_skills: bool = True,
    fairness: bool = True,
) -> MicroBatch:
    """Score every eligible (ticket, agent) pair; agents who may take nothing now are left out.

    ``use_skills=False`` drops the skill threshold from eligibility and ``fairness=False`` the
    fairness and utilisation caps (the naive baselines route that way); scores are the same.
    """
    capacities = batch_capacities(agents, len(tickets), config, fairness=fairness)
    open_agents = [a for a, capacity in enumerate(capacities) if capacity > 0]
    by_language: dict[str, list[int]] = defaultdict(list)
    for a in open_agents:
        for language in agents[a].languages:
            by_language[language].append(a)
    balance = [balance_part(agent, config) for agent in agents]
    urgency: list[float] = []
    options: list[tuple[tuple[float, int], ...]] = []
    for ticket in tickets:
        ticket_urgency = sum(urgency_parts(ticket, now, config))
        urgency.append(ticket_urgency)
        # Agents with batch capacity are online with room, and by_language speak the language:
        # of the eligibility rules only the skill threshold is left to check here.
        category = effective_category(ticket, config) if use_skills else None
        choices = [
            (config.skill_weight * skill_fit(ticket, agents[a], config) + ticket_urgency + balance[a], a)
            for a in by_language.get(ticket.language, ())
            if category is None or agents[a].skills.get(category, 0.0) >= config.min_skill
        ]
        choices.sort(key=lambda choice: (-choice[0], agents[choice[1]].agent_id))
        options.append(tuple(choices))
    return MicroBatch(
        tickets=tuple(tickets),
        agents=tuple(agents),
        capacities=tuple(capacities),
        urgency=tuple(urgency),
        options=tuple(options),
        now=now,
    )
