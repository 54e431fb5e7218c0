"""The simulator: determinism, realistic mixes and shapes, lifecycle order, configurable taxonomy."""

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cxa import events
from producers.simulation.engine import Simulation
from producers.simulation.reference import generate_agents, generate_customers
from producers.simulation.runner import backfill, build
from producers.simulation.settings import SimulationSettings
from producers.simulation.shape import ArrivalShape, fit_shape
from producers.simulation.texts import TextBank

END = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def _history(days: int = 14, **overrides: object) -> list[events.EventBase]:
    settings = SimulationSettings(customers=2_000, **overrides)  # type: ignore[arg-type]
    emitted: list[events.EventBase] = []
    backfill(settings, days, emitted.append, end=END)
    return emitted


@pytest.fixture(scope="module")
def history() -> list[events.EventBase]:
    return _history()


def test_the_same_seed_gives_the_same_history() -> None:
    first, second = _history(3), _history(3)
    assert [e.model_dump() for e in first] == [e.model_dump() for e in second]
    other = _history(3, seed=8)
    assert [e.event_id for e in other[:500]] != [e.event_id for e in first[:500]]


def test_events_come_in_time_order_and_every_one_is_valid(history) -> None:
    times = [e.occurred_at for e in history]
    assert times == sorted(times)
    for event in history[:2000]:
        assert events.parse(events.serialize(event)) == event


def test_volume_and_mixes_match_the_settings(history) -> None:
    settings = SimulationSettings()
    created = [e for e in history if isinstance(e, events.TicketCreated)]
    per_day = len(created) / 14
    # the fitted shape makes weekends quiet, so two weeks average below the weekday level
    assert 0.6 * settings.tickets_per_day < per_day < 1.4 * settings.tickets_per_day
    for attribute, mix in (("channel", settings.channel_mix), ("priority", settings.priority_mix)):
        counts = Counter(str(getattr(e, attribute)) for e in created)
        for value, share in mix.items():
            assert counts[value] / len(created) == pytest.approx(share, abs=0.03), (attribute, value)


def test_arrivals_follow_the_weekly_and_daily_shape(history) -> None:
    created = [e for e in history if isinstance(e, events.TicketCreated)]
    weekdays = Counter(e.occurred_at.weekday() for e in created)
    assert min(weekdays[d] for d in range(5)) > 5 * max(weekdays[5], weekdays[6])
    hours = Counter(e.occurred_at.hour for e in created)
    assert hours[10] > 5 * hours[3]


def test_each_ticket_lives_its_life_in_order(history) -> None:
    lives: dict[str, list[events.EventBase]] = defaultdict(list)
    for event in history:
        if isinstance(event, events.TicketEventBase):
            lives[event.ticket_id].append(event)
    checked = 0
    for life in lives.values():
        kinds = [e.event_type for e in life]
        if kinds[0] != "ticket.created":
            continue  # began before the window (cannot happen in a backfill) - guard only
        checked += 1
        assert kinds.count("ticket.created") == 1
        if "ticket.agent_replied" in kinds:
            assert kinds.index("ticket.assigned") < kinds.index("ticket.agent_replied")
        statuses = [e.status for e in life if isinstance(e, events.TicketStatusChanged)]
        if events.TicketStatus.CLOSED in statuses:
            assert statuses[-1] is events.TicketStatus.CLOSED
            assert statuses[statuses.index(events.TicketStatus.CLOSED) - 1] is events.TicketStatus.SOLVED
        for later in ("ticket.csat_submitted", "ticket.reopened"):
            if later in kinds:
                assert kinds.index("ticket.status_changed") < kinds.index(later)
                solved_at = next(e.occurred_at for e in life if getattr(e, "status", None) == "solved")
                assert solved_at <= next(e.occurred_at for e in life if e.event_type == later)
        labels = [e for e in life if e.event_type.startswith("ticket.category_")]
        assert len(labels) <= 1
        if labels:
            assert kinds.index("ticket.agent_replied") < kinds.index(labels[0].event_type)
    assert checked > 5_000


def test_agents_correct_some_priorities_at_their_first_reply_mostly_upwards(history) -> None:
    created = {e.ticket_id: e for e in history if isinstance(e, events.TicketCreated)}
    changes = [e for e in history if isinstance(e, events.TicketPriorityChanged)]
    share = len(changes) / len(created)
    assert share == pytest.approx(SimulationSettings().priority_change_rate, abs=0.01)
    assert len({e.ticket_id for e in changes}) == len(changes)  # once per ticket
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    steps = [rank[created[e.ticket_id].priority] - rank[e.priority] for e in changes]
    assert set(steps) <= {-1, 1}
    assert 0.55 < steps.count(1) / len(steps) < 0.9
    first_reply = {}
    for event in history:
        if isinstance(event, events.AgentReplied):
            first_reply.setdefault(event.ticket_id, event)
    for change in changes:  # by the agent who answers, just before the answer
        reply = first_reply[change.ticket_id]
        assert (change.agent_id, change.occurred_at) == (reply.agent_id, reply.occurred_at)
    without = _history(3, priority_change_rate=0.0)
    assert not any(isinstance(e, events.TicketPriorityChanged) for e in without)


def test_labels_are_revealed_later_and_some_first_guesses_are_corrected(history) -> None:
    created = [e for e in history if isinstance(e, events.TicketCreated)]
    confirmed = [e for e in history if isinstance(e, events.TicketCategoryConfirmed)]
    corrected = [e for e in history if isinstance(e, events.TicketCategoryCorrected)]
    assert len(confirmed) + len(corrected) > 0.9 * len(created)
    share = len(corrected) / (len(confirmed) + len(corrected))
    assert share == pytest.approx(SimulationSettings().wrong_first_guess_share, abs=0.03)
    assert all(e.previous_category != e.category for e in corrected)
    texts = TextBank.load()
    bodies = {e.ticket_id: e.body for e in created}
    for label in confirmed[:300]:
        assert bodies[label.ticket_id] in texts.by_category[label.category]


def test_csat_falls_with_waiting(history) -> None:
    created = {e.ticket_id: e.occurred_at for e in history if isinstance(e, events.TicketCreated)}
    first_reply: dict[str, datetime] = {}
    for e in history:
        if isinstance(e, events.AgentReplied):
            first_reply.setdefault(e.ticket_id, e.occurred_at)
    quick, slow = [], []
    for e in history:
        if isinstance(e, events.CsatSubmitted) and e.ticket_id in first_reply:
            wait = first_reply[e.ticket_id] - created[e.ticket_id]
            (quick if wait < timedelta(minutes=15) else slow).append(e.rating >= 4)
    assert sum(quick) / len(quick) > sum(slow) / len(slow) + 0.05


def test_agents_follow_their_shifts(history) -> None:
    settings = SimulationSettings()
    agents = {a.agent_id: a for a in generate_agents(settings, TextBank.load().categories, END)}
    for event in history:
        if isinstance(event, events.AgentStatusChanged) and event.status == "online":
            assert agents[event.agent_id].on_shift(event.occurred_at + timedelta(seconds=1))


def test_reference_data_is_seeded_and_plausible() -> None:
    settings = SimulationSettings(customers=5_000)
    customers = generate_customers(settings, END)
    assert customers == generate_customers(settings, END)
    segments = Counter(c.segment for c in customers)
    assert segments["consumer"] > segments["smb"] > segments["enterprise"] > 0
    agents = generate_agents(settings, TextBank.load().categories, END)
    assert len({a.team for a in agents}) == settings.teams
    assert all(1 <= a.capacity <= 10 and "en" in a.languages for a in agents)
    assert all(0 <= p <= 1 for a in agents for p in a.skills.values())


def test_any_labelled_file_is_a_taxonomy(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(
        "utterance,intent\nwhere is my parcel,delivery\nrefund please,refund\nparcel lost,delivery\n"
    )
    texts = TextBank.load(path, "utterance", "intent")
    assert texts.categories == ["delivery", "refund"]
    settings = SimulationSettings(
        customers=100, agents=5, teams=2, texts_path=path, text_column="utterance", label_column="intent"
    )
    emitted: list[events.EventBase] = []
    backfill(settings, 3, emitted.append, end=END + timedelta(days=2))
    labels = {e.category for e in emitted if isinstance(e, events.TicketCategoryConfirmed)}
    assert labels <= {"delivery", "refund"}
    assert labels
    with pytest.raises(ValueError, match="CXA_SIM_TEXT_COLUMN"):
        TextBank.load(path, "text", "intent")


def test_fit_shape_recovers_a_known_weekly_pattern(tmp_path: Path) -> None:
    start = datetime(2021, 1, 4, tzinfo=UTC)
    rows = ["opendate"]
    for day in range(7 * 30):
        date = (start + timedelta(days=day)).date()
        rows += [date.isoformat()] * (40 if date.weekday() < 5 else 10)
    path = tmp_path / "log.csv"
    path.write_text("\n".join(rows) + "\n")
    shape = fit_shape(path, last_full_year=None)
    assert shape.weekday[0] == pytest.approx(40 / ((5 * 40 + 2 * 10) / 7), rel=0.05)
    assert shape.weekday[6] == pytest.approx(10 / ((5 * 40 + 2 * 10) / 7), rel=0.05)
    assert shape.holiday == pytest.approx(1.0, abs=0.05)  # holidays were ordinary days here
    assert ArrivalShape.load().source.startswith("nycomplaints.csv")


def test_external_routing_waits_then_falls_back() -> None:
    settings = SimulationSettings(customers=200, agents=10, route_timeout_seconds=60)
    emitted: list[events.EventBase] = []
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    texts = TextBank.load()
    simulation = Simulation(
        settings,
        texts,
        ArrivalShape.load(),
        generate_customers(settings, start),
        generate_agents(settings, texts.categories, start),
        start,
        emitted.append,
        external_routing=True,
    )
    simulation.run_until(start + timedelta(minutes=3))
    created = [e for e in emitted if isinstance(e, events.TicketCreated)]
    assert created
    routed = created[-1]
    online = next(a for a, s in simulation.staff.items() if s.available)
    assert simulation.route(routed.ticket_id, online, "optimizer")
    assert not simulation.route(routed.ticket_id, online, "optimizer")  # already assigned
    simulation.run_until(start + timedelta(minutes=10))
    assigned = [e for e in emitted if isinstance(e, events.TicketAssigned)]
    by_router = [e for e in assigned if e.ticket_id == routed.ticket_id]
    assert [e.policy for e in by_router] == ["router:optimizer"]
    fallback = [e for e in assigned if e.ticket_id != routed.ticket_id]
    assert fallback
    assert all(e.policy == settings.fallback_policy for e in fallback)
    created_at_of = {e.ticket_id: e.occurred_at for e in emitted if isinstance(e, events.TicketCreated)}
    for event in fallback:
        created_at = created_at_of[event.ticket_id]
        assert event.occurred_at - created_at >= timedelta(seconds=60)


def test_live_runs_never_repeat_each_others_event_ids() -> None:
    settings = SimulationSettings(customers=200, agents=10)

    def live_run(start: datetime) -> list[events.EventBase]:
        emitted: list[events.EventBase] = []
        simulation = build(settings, start, emitted.append, live=True)
        simulation.run_until(start + timedelta(minutes=30))
        return emitted

    first = live_run(datetime(2026, 3, 2, 10, tzinfo=UTC))
    again = live_run(datetime(2026, 3, 2, 10, tzinfo=UTC))
    later = live_run(datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
    assert first
    assert later
    assert [e.event_id for e in again] == [e.event_id for e in first]  # one run, one set of ids
    assert not {e.event_id for e in first} & {e.event_id for e in later}  # the sink would drop them
