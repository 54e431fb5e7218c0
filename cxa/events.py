"""Event contracts: the envelope and every event type, as frozen pydantic models.

Every message on ``tickets.events`` and ``agents.events`` is UTF-8 JSON of one of these models.
``event_type`` discriminates; ``event_id`` is the idempotency key of every sink downstream.
A breaking change adds a new ``schema_version`` and consumers accept both.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final, Literal
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from cxa.deadletters import Refusal


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00, which is before year 1 in UTC
        raise ValueError("the time is out of range in UTC") from None


def _storable(value: str) -> str:
    """Refuse U+0000, which PostgreSQL cannot store. (Lone surrogates, not Unicode characters
    either, pydantic already refuses as strings, and its JSON parser as escapes.)"""
    if "\x00" in value:
        raise ValueError("contains the character U+0000, which cannot be stored")
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
Text = Annotated[str, AfterValidator(_storable)]
"""Free text: any Unicode string that every sink can store."""
EntityId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")]
Category = Annotated[Text, Field(min_length=1, max_length=100)]


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    WEB = "web"
    SOCIAL = "social"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class EventBase(BaseModel):
    """The envelope every event carries."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    event_id: UUID = Field(default_factory=uuid4)
    schema_version: Literal[1] = 1
    occurred_at: UtcDatetime


class TicketEventBase(EventBase):
    ticket_id: EntityId

    @property
    def key(self) -> str:
        return self.ticket_id


class AgentEventBase(EventBase):
    agent_id: EntityId

    @property
    def key(self) -> str:
        return self.agent_id


class TicketCreated(TicketEventBase):
    event_type: Literal["ticket.created"] = "ticket.created"
    customer_id: EntityId
    channel: Channel
    priority: Priority
    subject: Text = Field(max_length=1_000)
    body: Text = Field(max_length=100_000)
    language: LanguageCode = "en"


class TicketCategoryConfirmed(TicketEventBase):
    """A support agent confirmed the ticket's category (the label the categorizer learns from)."""

    event_type: Literal["ticket.category_confirmed"] = "ticket.category_confirmed"
    agent_id: EntityId
    category: Category


class TicketCategoryCorrected(TicketEventBase):
    """A support agent replaced the ticket's category with the right one."""

    event_type: Literal["ticket.category_corrected"] = "ticket.category_corrected"
    agent_id: EntityId
    category: Category
    previous_category: Category | None = None


class TicketAssigned(TicketEventBase):
    """The ticket was given to a support agent; a later assignment is a transfer."""

    event_type: Literal["ticket.assigned"] = "ticket.assigned"
    agent_id: EntityId
    policy: Text | None = Field(default=None, max_length=50, description="Who decided, e.g. 'router'")


class AgentReplied(TicketEventBase):
    event_type: Literal["ticket.agent_replied"] = "ticket.agent_replied"
    agent_id: EntityId
    is_public: bool = True


class CustomerReplied(TicketEventBase):
    event_type: Literal["ticket.customer_replied"] = "ticket.customer_replied"
    customer_id: EntityId


class TicketStatusChanged(TicketEventBase):
    event_type: Literal["ticket.status_changed"] = "ticket.status_changed"
    status: TicketStatus
    agent_id: EntityId | None = None


class TicketPriorityChanged(TicketEventBase):
    """The ticket's priority was changed (by an agent, a triage rule or the customer). The ticket's
    priority is the latest one; its SLA targets follow it, measured from creation as before."""

    event_type: Literal["ticket.priority_changed"] = "ticket.priority_changed"
    priority: Priority
    agent_id: EntityId | None = None


class TicketReopened(TicketEventBase):
    event_type: Literal["ticket.reopened"] = "ticket.reopened"
    customer_id: EntityId | None = None


class CsatSubmitted(TicketEventBase):
    event_type: Literal["ticket.csat_submitted"] = "ticket.csat_submitted"
    rating: int = Field(ge=1, le=5)
    comment: Text | None = Field(default=None, max_length=10_000)


class AgentStatusChanged(AgentEventBase):
    event_type: Literal["agent.status_changed"] = "agent.status_changed"
    status: AgentStatus


class AgentCapacityChanged(AgentEventBase):
    event_type: Literal["agent.capacity_changed"] = "agent.capacity_changed"
    capacity: int = Field(ge=0, le=100, description="Tickets the agent can hold at once")


class AgentSkillsChanged(AgentEventBase):
    event_type: Literal["agent.skills_changed"] = "agent.skills_changed"
    skills: dict[Category, Annotated[float, Field(ge=0, le=1)]] = Field(
        description="Proficiency per category, 0 (none) to 1 (expert)"
    )
    languages: list[LanguageCode] = Field(min_length=1)


class TicketRouted(TicketEventBase):
    """The router's decision for a waiting ticket, published on ``tickets.routed``.

    Not a lifecycle event: the ticketing system applies the decision and reports it as
    ``ticket.assigned`` on ``tickets.events``.
    """

    event_type: Literal["ticket.routed"] = "ticket.routed"
    agent_id: EntityId
    policy: Text = Field(max_length=50, description="optimizer, greedy-fallback, greedy, ...")
    score: float
    score_parts: dict[str, float] = Field(default_factory=dict)
    solver_ms: float = Field(ge=0)
    reason: Text = Field(default="", max_length=500)


ROUTED_ADAPTER: TypeAdapter[TicketRouted] = TypeAdapter(TicketRouted)


class CategoryPredicted(TicketEventBase):
    """The categorizer's answer for a created ticket, published on ``tickets.categorized``.

    ``category`` is None when the model abstains (confidence below its threshold); ``top`` still
    lists its best guesses. Not a lifecycle event: agents confirm or correct it on ``tickets.events``.
    ``occurred_at`` is when the answer was computed; ``ticket_created_at`` is the ticket's own time,
    which the marts date it by (a replayed history is then scored per day of the history).
    """

    event_type: Literal["ticket.category_predicted"] = "ticket.category_predicted"
    ticket_created_at: UtcDatetime | None = Field(
        default=None, description="The ticket.created event's occurred_at; absent from older workers' answers"
    )
    category: Category | None
    confidence: float = Field(ge=0, le=1)
    top: list[tuple[Category, Annotated[float, Field(ge=0, le=1)]]] = Field(max_length=10)
    model_version: Text = Field(max_length=100)
    latency_ms: float = Field(ge=0, description="Text preparation and prediction time for this ticket")


PREDICTED_ADAPTER: TypeAdapter[CategoryPredicted] = TypeAdapter(CategoryPredicted)


TicketEvent = Annotated[
    TicketCreated
    | TicketCategoryConfirmed
    | TicketCategoryCorrected
    | TicketAssigned
    | AgentReplied
    | CustomerReplied
    | TicketStatusChanged
    | TicketPriorityChanged
    | TicketReopened
    | CsatSubmitted,
    Field(discriminator="event_type"),
]
AgentEvent = Annotated[
    AgentStatusChanged | AgentCapacityChanged | AgentSkillsChanged,
    Field(discriminator="event_type"),
]
Event = Annotated[TicketEvent | AgentEvent, Field(discriminator="event_type")]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
TICKET_EVENT_ADAPTER: TypeAdapter[TicketEvent] = TypeAdapter(TicketEvent)
AGENT_EVENT_ADAPTER: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)


class InvalidEvent(ValueError):
    """A message that breaks the contract; ``reason`` says what is wrong and where, ``kind`` which
    rule it breaks (the dead letter's kind)."""

    def __init__(self, reason: str, kind: Refusal = Refusal.SCHEMA) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def describe(error: ValidationError) -> str:
    """One line naming every wrong field, e.g. ``ticket.created.priority: Input should be ...``."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "message"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse(raw: bytes, adapter: TypeAdapter[Any] = EVENT_ADAPTER) -> Any:
    """Parse UTF-8 JSON bytes into an event model, or raise :class:`InvalidEvent` saying why."""
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        malformed = any(item["type"] == "json_invalid" for item in exc.errors(include_url=False))
        raise InvalidEvent(describe(exc), Refusal.MALFORMED if malformed else Refusal.SCHEMA) from exc


MAX_AHEAD: Final = timedelta(minutes=5)
"""How far ahead of the receiver's clock an event may be dated by default (clock skew between systems)."""

LONGEST_AHEAD: Final = timedelta(days=100 * 365)
"""The most any receiver may be set to accept: beyond a century "now + skew" leaves the calendar's
range for no use."""

EARLIEST_OCCURRED_AT: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Events dated before this are refused: no ticketing system in use has history that old, and a
year-1 or epoch-zero date is a bug upstream that would otherwise top every "oldest" figure."""


def check_occurred_at(occurred_at: datetime, now: datetime, max_ahead: timedelta) -> None:
    """Raise :class:`InvalidEvent` (kind ``clock_skew``) for an event dated more than ``max_ahead``
    after ``now`` or before :data:`EARLIEST_OCCURRED_AT`, so that no event can move the floor's
    clock, SLA timers or "today" counters to another era.

    >>> now = datetime(2026, 1, 5, tzinfo=UTC)
    >>> try:
    ...     check_occurred_at(datetime(9999, 1, 1, tzinfo=UTC), now, timedelta(minutes=5))
    ... except InvalidEvent as refused:
    ...     print(refused.kind, refused.reason[:45])
    clock_skew occurred_at 9999-01-01T00:00:00+00:00 is more
    """
    if occurred_at > now + max_ahead:
        raise InvalidEvent(
            f"occurred_at {occurred_at.isoformat()} is more than {max_ahead.total_seconds():.0f} s "
            f"ahead of the clock ({now.isoformat()})",
            Refusal.CLOCK_SKEW,
        )
    if occurred_at < EARLIEST_OCCURRED_AT:
        raise InvalidEvent(
            f"occurred_at {occurred_at.isoformat()} is before {EARLIEST_OCCURRED_AT:%Y-%m-%d}",
            Refusal.CLOCK_SKEW,
        )


def serialize(event: BaseModel) -> bytes:
    """The wire form of an event: compact UTF-8 JSON."""
    return event.model_dump_json().encode("utf-8")


def json_schema() -> dict[str, Any]:
    """JSON Schema of every event on the source topics, for the teams who publish them."""
    schema = EVENT_ADAPTER.json_schema()
    schema["title"] = "cxa event"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
