"""Run the simulation: backfill (history, as fast as possible) or live (paced, closed loop)."""

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer

from cxa import events, topics
from producers.publisher import Publisher
from producers.simulation.engine import Emit, Simulation
from producers.simulation.reference import generate_agents, generate_customers
from producers.simulation.settings import SimulationSettings
from producers.simulation.shape import ArrivalShape
from producers.simulation.texts import TextBank

log = logging.getLogger(__name__)

Progress = Callable[[datetime, int], None]


def topic_of(event: events.EventBase) -> str:
    return topics.AGENT_EVENTS if isinstance(event, events.AgentEventBase) else topics.TICKET_EVENTS


def publishing(publisher: Publisher) -> Emit:
    def emit(event: events.EventBase) -> None:
        assert isinstance(event, events.TicketEventBase | events.AgentEventBase)
        publisher.publish(topic_of(event), event.key, events.serialize(event))

    return emit


def build(settings: SimulationSettings, start: datetime, emit: Emit, *, live: bool = False) -> Simulation:
    texts = TextBank.load(settings.texts_path, settings.text_column, settings.label_column)
    shape = ArrivalShape.load(settings.shape_path) if settings.shape_path else ArrivalShape.load()
    customers = generate_customers(settings, start)
    agents = generate_agents(settings, texts.categories, start)
    # Live runs number their tickets apart from any backfill of the same seed.
    prefix = f"L{settings.seed}.{start:%Y%m%d%H%M%S}" if live else None
    return Simulation(
        settings,
        texts,
        shape,
        customers,
        agents,
        start,
        emit,
        external_routing=live,
        policy=None if live else "skills",
        id_prefix=prefix,
    )


@dataclass(frozen=True)
class BackfillResult:
    start: datetime
    end: datetime
    events: int
    tickets: int
    seconds: float


def backfill(
    settings: SimulationSettings,
    days: int,
    emit: Emit,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> BackfillResult:
    """Simulate ``days`` of history up to ``end`` (default: this midnight, UTC).

    The same seed, days and end give the same events with the same ids, so repeating a backfill
    adds nothing downstream.
    """
    end = end or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    started = time.perf_counter()
    simulation = build(settings, start, emit)
    day = start
    while day < end:
        day = min(day + timedelta(days=1), end)
        simulation.run_until(day)
        if progress:
            progress(day, simulation.emitted)
    return BackfillResult(
        start, end, simulation.emitted, simulation.ticket_count, time.perf_counter() - started
    )


class RoutedDecisions:
    """Reads tickets.routed in a background thread; the simulation applies decisions in order."""

    def __init__(self, settings: SimulationSettings, group: str) -> None:
        self.decisions: queue.Queue[events.TicketRouted] = queue.Queue()
        self._stop = threading.Event()
        self._consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka.bootstrap_servers,
                "group.id": group,
                "auto.offset.reset": "latest",
                "enable.auto.commit": True,
            }
        )
        self._thread = threading.Thread(target=self._run, name="routed-decisions", daemon=True)

    def start(self) -> None:
        self._consumer.subscribe([topics.TICKETS_ROUTED])
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for message in self._consumer.consume(num_messages=500, timeout=0.2):
                value = message.value()
                if message.error() or value is None:
                    continue
                try:
                    self.decisions.put(events.ROUTED_ADAPTER.validate_json(value))
                except ValueError as exc:
                    log.warning("ignoring a malformed routing decision: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._consumer.close()


def live(
    settings: SimulationSettings,
    emit: Emit,
    speed: float = 1.0,
    duration: timedelta | None = None,
    on_tick: Callable[[Simulation], None] | None = None,
) -> Simulation:
    """Run on the wall clock (``speed`` simulated seconds per second) until Ctrl-C or ``duration``.

    Tickets wait for the router's decision on tickets.routed; whatever is not routed within
    ``route_timeout_seconds`` (simulated) is assigned by ``fallback_policy``.
    """
    origin = datetime.now(UTC)
    simulation = build(settings, origin, emit, live=True)
    decisions = RoutedDecisions(settings, group=f"cxa-simulator-{settings.seed}")
    decisions.start()
    wall_origin = time.monotonic()
    try:
        while True:
            elapsed = time.monotonic() - wall_origin
            if duration is not None and elapsed * speed >= duration.total_seconds():
                break
            simulation.run_until(origin + timedelta(seconds=elapsed * speed))
            while not decisions.decisions.empty():
                decision = decisions.decisions.get_nowait()
                simulation.route(decision.ticket_id, decision.agent_id, decision.policy)
            if on_tick:
                on_tick(simulation)
            time.sleep(0.05)
    finally:
        decisions.stop()
    return simulation
