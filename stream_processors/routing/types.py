"""What the router reasons about: waiting tickets, support agents' state, and its decisions."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from cxa.events import AgentStatus, Channel, Priority


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")


class Policy(StrEnum):
    """Who made a decision: the policy asked for, or the fallback that stood in for it."""

    OPTIMIZER = "optimizer"
    GREEDY_FALLBACK = "greedy-fallback"
    GREEDY = "greedy"
    ROUND_ROBIN = "round-robin"
    LEAST_LOADED = "least-loaded"
    ASSIGNMENT = "assignment"


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    """A categorized ticket waiting for a support agent.

    ``category`` is ``None`` when the categorizer abstained; ``category_confidence`` is its
    probability for ``category`` (0 when it abstained).
    """

    ticket_id: str
    category: str | None
    category_confidence: float
    priority: Priority
    language: str
    created_at: datetime
    sla_due_at: datetime
    channel: Channel

    def __post_init__(self) -> None:
        _require_aware("created_at", self.created_at)
        _require_aware("sla_due_at", self.sla_due_at)
        if not 0.0 <= self.category_confidence <= 1.0:
            raise ValueError(f"category_confidence must be in [0, 1], got {self.category_confidence}")


@dataclass(frozen=True, slots=True)
class AgentState:
    """A support agent as the router sees them at decision time.

    ``skills`` maps a category to proficiency in [0, 1]; ``load`` is the tickets currently held,
    ``capacity`` how many the agent may hold at once; ``handled_today`` and ``occupancy`` (share of
    logged-in time spent handling, in [0, 1]) feed fairness.
    """

    agent_id: str
    status: AgentStatus
    skills: Mapping[str, float]
    languages: frozenset[str]
    capacity: int
    load: int = 0
    handled_today: int = 0
    occupancy: float = 0.0

    def __post_init__(self) -> None:
        if self.capacity < 0 or self.load < 0:
            raise ValueError("capacity and load must not be negative")
        if not 0.0 <= self.occupancy <= 1.0:
            raise ValueError(f"occupancy must be in [0, 1], got {self.occupancy}")
        if any(not 0.0 <= level <= 1.0 for level in self.skills.values()):
            raise ValueError("skill proficiency must be in [0, 1]")
        object.__setattr__(self, "skills", MappingProxyType(dict(self.skills)))
        object.__setattr__(self, "languages", frozenset(self.languages))

    @property
    def free_capacity(self) -> int:
        return max(0, self.capacity - self.load)

    @property
    def utilisation(self) -> float:
        return self.load / self.capacity if self.capacity else 1.0


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """The weighted parts of a ticket-agent score; ``total`` is their sum."""

    skill: float
    priority: float
    sla: float
    waiting: float
    balance: float

    @property
    def urgency(self) -> float:
        return self.priority + self.sla + self.waiting

    @property
    def total(self) -> float:
        return self.skill + self.priority + self.sla + self.waiting + self.balance


@dataclass(frozen=True, slots=True)
class Decision:
    """One ticket given to one support agent, with the reasons."""

    ticket_id: str
    agent_id: str
    policy: Policy
    parts: ScoreParts
    solver_ms: float
    reason: str
    decided_at: datetime
    score: float = field(init=False)

    def __post_init__(self) -> None:
        _require_aware("decided_at", self.decided_at)
        object.__setattr__(self, "score", self.parts.total)
