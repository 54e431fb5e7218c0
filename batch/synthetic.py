"""A deterministic synthetic support history: customers, a roster and full ticket lifecycles.

For tests, demos and benchmarks of the batch side when no real history is at hand. Same seed,
same history. Arrivals follow a weekly and intraday profile per channel; every ticket walks a
plausible lifecycle (label, assignment, replies, pending spells, solves, reopens, CSAT), cut at
``end`` so recent tickets are still open. :func:`generate_predictions` adds the stream
categorizer's answers (``raw.ticket_categorizations``) to a history, on request.
"""

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cxa.events import (
    AgentReplied,
    AgentStatus,
    AgentStatusChanged,
    CategoryPredicted,
    Channel,
    CsatSubmitted,
    CustomerReplied,
    Priority,
    TicketAssigned,
    TicketCategoryConfirmed,
    TicketCategoryCorrected,
    TicketCreated,
    TicketReopened,
    TicketStatus,
    TicketStatusChanged,
)

CATEGORIES = ("billing", "technical", "account", "shipping", "returns")
CHANNEL_WEIGHTS = {
    Channel.EMAIL: 0.35,
    Channel.CHAT: 0.25,
    Channel.PHONE: 0.15,
    Channel.WEB: 0.15,
    Channel.SOCIAL: 0.10,
}
PRIORITY_WEIGHTS = {Priority.LOW: 0.2, Priority.NORMAL: 0.55, Priority.HIGH: 0.2, Priority.URGENT: 0.05}
# Mean minutes to the first reply per channel (real-time channels answer fast).
FIRST_REPLY_MEAN = {
    Channel.CHAT: 3.0,
    Channel.PHONE: 2.0,
    Channel.EMAIL: 240.0,
    Channel.WEB: 180.0,
    Channel.SOCIAL: 90.0,
}
WEEKDAY_FACTOR = (1.15, 1.1, 1.05, 1.0, 0.95, 0.45, 0.35)  # Monday first


@dataclass(frozen=True)
class Customer:
    customer_id: str
    segment: str
    plan: str
    region: str
    language: str
    signup_at: datetime
    lifetime_value: float


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    team: str
    skills: dict[str, float]
    languages: list[str]
    capacity: int
    shift_start: time
    shift_hours: float
    work_days: list[int]
    hired_at: datetime


@dataclass
class History:
    customers: list[Customer] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    ticket_events: list[Any] = field(default_factory=list)
    agent_events: list[Any] = field(default_factory=list)
    predictions: list[CategoryPredicted] = field(default_factory=list)


def hourly_profile(hour: int) -> float:
    """Relative arrivals by UTC hour: quiet nights, a morning and an afternoon peak."""
    return 0.15 + math.exp(-((hour - 10) ** 2) / 8) + 0.8 * math.exp(-((hour - 15) ** 2) / 10)


def generate_history(start: date, days: int, tickets_per_day: float, seed: int = 7) -> History:
    """Customers, agents and every event of about ``days * tickets_per_day`` tickets from ``start``."""
    rng = random.Random(seed)
    history = History()
    begin = datetime.combine(start, time(0), tzinfo=UTC)
    end = begin + timedelta(days=days)
    customers = max(20, int(days * tickets_per_day / 6))
    history.customers = [generate_customer(rng, index, begin) for index in range(customers)]
    agent_count = max(6, math.ceil(tickets_per_day / 25))
    history.agents = [generate_agent(rng, index, begin) for index in range(agent_count)]
    history.agent_events = list(generate_shifts(rng, history.agents, begin, days))
    weights = [hourly_profile(hour) for hour in range(24)]
    mean_weight = sum(weights) / 24
    counter = 0
    for day in range(days):
        day_start = begin + timedelta(days=day)
        # A slow upward trend and weekly seasonality.
        level = tickets_per_day * WEEKDAY_FACTOR[day_start.weekday()] / (sum(WEEKDAY_FACTOR) / 7)
        level *= 1 + 0.2 * day / max(days, 1)
        for hour in range(24):
            expected = level / 24 * weights[hour] / mean_weight
            for _ in range(poisson(rng, expected)):
                created_at = day_start + timedelta(hours=hour, seconds=rng.uniform(0, 3600))
                counter += 1
                ticket_events = generate_ticket(rng, f"T{counter:07d}", created_at, history)
                history.ticket_events.extend(e for e in ticket_events if e.occurred_at < end)
    return history


def poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def event_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def generate_customer(rng: random.Random, index: int, begin: datetime) -> Customer:
    segment = rng.choices(["smb", "mid_market", "enterprise", "consumer"], [0.35, 0.2, 0.1, 0.35])[0]
    return Customer(
        customer_id=f"C{index:06d}",
        segment=segment,
        plan=rng.choice(["free", "basic", "pro", "enterprise"]),
        region=rng.choice(["emea", "amer", "apac"]),
        language=rng.choices(["en", "de", "fr", "es"], [0.7, 0.1, 0.1, 0.1])[0],
        signup_at=begin - timedelta(days=rng.randint(1, 1500)),
        lifetime_value=round(rng.lognormvariate(6, 1), 2),
    )


def generate_agent(rng: random.Random, index: int, begin: datetime) -> Agent:
    team = ("chat", "phone", "email", "email", "web_social")[index % 5]
    return Agent(
        agent_id=f"A{index:04d}",
        name=f"Agent {index}",
        team=team,
        skills={category: round(rng.uniform(0.3, 1.0), 2) for category in CATEGORIES},
        languages=["en", *rng.sample(["de", "fr", "es"], rng.randint(0, 2))],
        capacity=3 if team in ("chat", "phone") else 6,
        shift_start=time(rng.choice([6, 8, 9, 10, 12, 14])),
        shift_hours=8.0,
        work_days=[1, 2, 3, 4, 5] if index % 4 else [3, 4, 5, 6, 7],
        hired_at=begin - timedelta(days=rng.randint(30, 2000)),
    )


def generate_shifts(rng: random.Random, agents: list[Agent], begin: datetime, days: int) -> list[Any]:
    events: list[Any] = []
    for day in range(days):
        day_start = begin + timedelta(days=day)
        for agent in agents:
            if day_start.isoweekday() not in agent.work_days:
                continue
            online = day_start + timedelta(hours=agent.shift_start.hour, minutes=rng.randint(-5, 10))
            offline = online + timedelta(hours=agent.shift_hours)
            lunch = online + timedelta(hours=4)
            for at, status in (
                (online, AgentStatus.ONLINE),
                (lunch, AgentStatus.AWAY),
                (lunch + timedelta(minutes=30), AgentStatus.ONLINE),
                (offline, AgentStatus.OFFLINE),
            ):
                events.append(
                    AgentStatusChanged(
                        event_id=event_uuid(rng), agent_id=agent.agent_id, occurred_at=at, status=status
                    )
                )
    return events


def generate_ticket(rng: random.Random, ticket_id: str, created_at: datetime, history: History) -> list[Any]:
    """One ticket's lifecycle events in time order."""
    channel = rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
    priority = rng.choices(list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values()))[0]
    customer = rng.choice(history.customers)
    agents = history.agents
    category = rng.choice(CATEGORIES)
    at = created_at
    ids = {"ticket_id": ticket_id}

    def later(mean_minutes: float) -> datetime:
        nonlocal at
        at = at + timedelta(minutes=max(0.2, rng.expovariate(1 / mean_minutes)))
        return at

    agent = rng.choice(agents).agent_id
    events: list[Any] = [
        TicketCreated(
            event_id=event_uuid(rng),
            occurred_at=at,
            customer_id=customer.customer_id,
            channel=channel,
            priority=priority,
            subject=f"{category} question",
            body=f"Help with {category}, please.",
            language=customer.language,
            **ids,
        ),
        TicketAssigned(
            event_id=event_uuid(rng), occurred_at=later(2), agent_id=agent, policy="router", **ids
        ),
    ]
    if rng.random() < 0.2:
        guess = rng.choice([c for c in CATEGORIES if c != category])
        events.append(
            TicketCategoryCorrected(
                event_id=event_uuid(rng),
                occurred_at=later(1),
                agent_id=agent,
                category=category,
                previous_category=guess,
                **ids,
            )
        )
    else:
        events.append(
            TicketCategoryConfirmed(
                event_id=event_uuid(rng), occurred_at=later(1), agent_id=agent, category=category, **ids
            )
        )
    if rng.random() < 0.05:
        events.append(
            AgentReplied(
                event_id=event_uuid(rng), occurred_at=later(2), agent_id=agent, is_public=False, **ids
            )
        )
    events.append(
        AgentReplied(
            event_id=event_uuid(rng), occurred_at=later(FIRST_REPLY_MEAN[channel]), agent_id=agent, **ids
        )
    )
    if rng.random() < 0.3:
        events.append(
            TicketStatusChanged(
                event_id=event_uuid(rng),
                occurred_at=later(1),
                status=TicketStatus.PENDING,
                agent_id=agent,
                **ids,
            )
        )
        events.append(
            CustomerReplied(
                event_id=event_uuid(rng), occurred_at=later(300), customer_id=customer.customer_id, **ids
            )
        )
        events.append(
            TicketStatusChanged(
                event_id=event_uuid(rng),
                occurred_at=later(1),
                status=TicketStatus.OPEN,
                agent_id=agent,
                **ids,
            )
        )
    if rng.random() < 0.1:
        agent = rng.choice(agents).agent_id
        events.append(
            TicketAssigned(
                event_id=event_uuid(rng), occurred_at=later(30), agent_id=agent, policy="router", **ids
            )
        )
        events.append(AgentReplied(event_id=event_uuid(rng), occurred_at=later(20), agent_id=agent, **ids))
    solve_mean = 20.0 if channel in (Channel.CHAT, Channel.PHONE) else 600.0
    events.append(
        TicketStatusChanged(
            event_id=event_uuid(rng),
            occurred_at=later(solve_mean),
            status=TicketStatus.SOLVED,
            agent_id=agent,
            **ids,
        )
    )
    if rng.random() < 0.08:
        events.append(
            TicketReopened(
                event_id=event_uuid(rng), occurred_at=later(600), customer_id=customer.customer_id, **ids
            )
        )
        events.append(AgentReplied(event_id=event_uuid(rng), occurred_at=later(60), agent_id=agent, **ids))
        events.append(
            TicketStatusChanged(
                event_id=event_uuid(rng),
                occurred_at=later(120),
                status=TicketStatus.SOLVED,
                agent_id=agent,
                **ids,
            )
        )
    if rng.random() < 0.4:
        satisfied = rng.random() < 0.75
        rating = rng.choice([4, 5]) if satisfied else rng.choice([1, 2, 3])
        events.append(CsatSubmitted(event_id=event_uuid(rng), occurred_at=later(120), rating=rating, **ids))
    events.append(
        TicketStatusChanged(
            event_id=event_uuid(rng), occurred_at=later(2880), status=TicketStatus.CLOSED, **ids
        )
    )
    return events


def generate_predictions(
    history: History,
    seed: int = 7,
    accuracy: float = 0.85,
    abstain_rate: float = 0.05,
    model_version: str = "synthetic-v1",
) -> list[CategoryPredicted]:
    """The categorizer's answer a few milliseconds after each ticket's creation.

    Right for ``accuracy`` of the tickets against the category agents settled on, abstaining for
    ``abstain_rate``; a wrong answer is mostly the next category in :data:`CATEGORIES`, so the
    confusion has a pattern. Its own random stream: the history's events stay as they are.
    """
    rng = random.Random(seed)
    labels = [
        e for e in history.ticket_events if isinstance(e, TicketCategoryConfirmed | TicketCategoryCorrected)
    ]
    settled = {label.ticket_id: label.category for label in sorted(labels, key=lambda e: e.occurred_at)}
    predictions = []
    for event in history.ticket_events:
        if not isinstance(event, TicketCreated):
            continue
        truth = settled.get(event.ticket_id) or rng.choice(CATEGORIES)  # unlabelled yet
        draw = rng.random()
        if draw < abstain_rate:
            category, confidence = None, rng.uniform(0.1, 0.4)
        elif draw < abstain_rate + accuracy or truth not in CATEGORIES:
            category, confidence = truth, rng.uniform(0.6, 1.0)
        else:
            index = CATEGORIES.index(truth)
            step = 1 if rng.random() < 0.7 else rng.randint(2, len(CATEGORIES) - 1)
            category, confidence = CATEGORIES[(index + step) % len(CATEGORIES)], rng.uniform(0.45, 0.8)
        latency_ms = round(rng.uniform(1.0, 10.0), 2)
        predictions.append(
            CategoryPredicted(
                event_id=event_uuid(rng),
                ticket_id=event.ticket_id,
                occurred_at=event.occurred_at + timedelta(milliseconds=latency_ms),
                category=category,
                confidence=round(confidence, 3),
                top=[(category or truth, round(confidence, 3))],
                model_version=model_version,
                latency_ms=latency_ms,
            )
        )
    return predictions
