"""The router: assigns waiting tickets to support agents in micro-batches.

A pure package (no Faust, Kafka or database): it scores ticket-agent pairs (skill fit and
urgency, reported in parts), decides who is eligible, and assigns a batch with a PuLP/CBC model
under a time budget, falling back to greedy, or with the greedy, round-robin, least-loaded or exact
assignment policies.
"""

from stream_processors.routing.config import RoutingConfig
from stream_processors.routing.eligibility import batch_capacities, ineligibility, is_eligible
from stream_processors.routing.router import route
from stream_processors.routing.scoring import score_parts
from stream_processors.routing.types import AgentState, Decision, Policy, ScoreParts, WaitingTicket

__all__ = [
    "AgentState",
    "Decision",
    "Policy",
    "RoutingConfig",
    "ScoreParts",
    "WaitingTicket",
    "batch_capacities",
    "ineligibility",
    "is_eligible",
    "route",
    "score_parts",
]
