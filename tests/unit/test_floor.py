"""The floor's state and board, from events (pure: no Faust, no database)."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxa import events
from cxa.metrics import ticket_metrics
from stream_processors.floor import FloorState, Tracked, board
from stream_processors.floor.handler import apply_floor_message
from stream_processors.packing import pack
from stream_processors.routing import Policy, route

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _state() -> FloorState:
    return FloorState({}, {}, {})


def _agent(state: FloorState, agent_id: str, status: str = "online", capacity: int = 2) -> None:
    state.apply(
        events.AgentSkillsChanged(agent_id=agent_id, occurred_at=T0, skills={"refund": 0.9}, languages=["en"])
    )
    state.apply(events.AgentCapacityChanged(agent_id=agent_id, occurred_at=T0, capacity=capacity))
    state.apply(events.AgentStatusChanged(agent_id=agent_id, occurred_at=T0, status=status))


def _created(state: FloorState, ticket_id: str, minutes: float = 0, priority: str = "normal") -> None:
    state.apply(
        events.TicketCreated(
            ticket_id=ticket_id,
            occurred_at=T0 + timedelta(minutes=minutes),
            customer_id="C1",
            channel="email",
            priority=priority,
            subject="s",
            body="b",
        )
    )


def test_new_tickets_wait_and_assigned_ones_count_against_capacity() -> None:
    state = _state()
    _agent(state, "A1")
    _created(state, "T1")
    _created(state, "T2", minutes=1)
    assert [t.ticket_id for t in state.waiting(T0, timedelta(seconds=10))] == ["T1", "T2"]
    state.apply(events.TicketAssigned(ticket_id="T1", occurred_at=T0, agent_id="A1"))
    assert [t.ticket_id for t in state.waiting(T0, timedelta(seconds=10))] == ["T2"]
    (agent,) = state.agent_states(T0)
    assert (agent.load, agent.capacity) == (1, 2)
    state.apply(events.TicketStatusChanged(ticket_id="T1", occurred_at=T0, status="pending"))
    assert state.agent_states(T0)[0].load == 0  # waiting on the customer frees the agent
    state.apply(events.TicketStatusChanged(ticket_id="T1", occurred_at=T0, status="open"))
    assert state.agent_states(T0)[0].load == 1
    state.apply(events.TicketStatusChanged(ticket_id="T1", occurred_at=T0, status="closed"))
    assert "T1" not in state.tickets
    assert state.agent_states(T0)[0].load == 0


def test_a_ticket_whose_agent_goes_offline_waits_again() -> None:
    state = _state()
    _agent(state, "A1")
    _created(state, "T1")
    state.apply(events.TicketAssigned(ticket_id="T1", occurred_at=T0, agent_id="A1"))
    state.apply(events.AgentStatusChanged(agent_id="A1", occurred_at=T0, status="away"))
    assert state.waiting(T0, timedelta(0)) == []
    state.apply(events.AgentStatusChanged(agent_id="A1", occurred_at=T0, status="offline"))
    assert [t.ticket_id for t in state.waiting(T0, timedelta(0))] == ["T1"]


def test_routed_tickets_are_not_routed_again_until_the_assignment_is_late() -> None:
    state = _state()
    _created(state, "T1")
    state.mark_routed(["T1"], T0)
    assert state.waiting(T0 + timedelta(seconds=5), timedelta(seconds=10)) == []
    assert len(state.waiting(T0 + timedelta(seconds=11), timedelta(seconds=10))) == 1
    later = T0 + timedelta(seconds=11)
    state.mark_routed(["T1"], later)  # unanswered twice: the next try waits twice as long
    assert state.waiting(later + timedelta(seconds=15), timedelta(seconds=10)) == []
    assert len(state.waiting(later + timedelta(seconds=21), timedelta(seconds=10))) == 1
    state.apply(events.AgentStatusChanged(agent_id="A1", occurred_at=T0, status="online"))
    state.apply(events.TicketAssigned(ticket_id="T1", occurred_at=later, agent_id="A1"))
    assert state.tickets["T1"]["routings"] == 0


def test_predictions_and_labels_set_the_category() -> None:
    state = _state()
    _created(state, "T1")
    state.apply(
        events.CategoryPredicted(
            ticket_id="T1",
            occurred_at=T0,
            category="refund",
            confidence=0.7,
            top=[("refund", 0.7)],
            model_version="m1",
            latency_ms=1.0,
        )
    )
    (ticket,) = state.waiting(T0, timedelta(0))
    assert (ticket.category, ticket.category_confidence) == ("refund", 0.7)
    state.apply(
        events.TicketCategoryCorrected(ticket_id="T1", occurred_at=T0, agent_id="A1", category="card_arrival")
    )
    (ticket,) = state.waiting(T0, timedelta(0))
    assert (ticket.category, ticket.category_confidence) == ("card_arrival", 1.0)


def test_the_router_assigns_the_floors_waiting_tickets() -> None:
    state = _state()
    _agent(state, "A1", capacity=1)
    _agent(state, "A2", status="offline")
    _created(state, "T1", priority="low")
    _created(state, "T2", priority="urgent")
    now = T0 + timedelta(minutes=2)
    decisions = route(state.waiting(now, timedelta(0)), state.agent_states(now), now, Policy.OPTIMIZER)
    assert [(d.ticket_id, d.agent_id) for d in decisions] == [("T2", "A1")]


def test_the_board_counts_what_the_wall_shows() -> None:
    state = _state()
    _agent(state, "A1")
    _agent(state, "A2", status="away")
    for number in range(5):
        _created(state, f"T{number}", minutes=number, priority="urgent" if number == 0 else "normal")
    state.apply(events.TicketAssigned(ticket_id="T1", occurred_at=T0, agent_id="A1"))
    state.apply(events.AgentReplied(ticket_id="T1", occurred_at=T0 + timedelta(minutes=3), agent_id="A1"))
    for rating in (5, 4, 2):
        state.apply(events.CsatSubmitted(ticket_id="T9", occurred_at=T0, rating=rating))
    now = T0 + timedelta(minutes=5, seconds=30)
    wall = board(state, now, at_risk_within=timedelta(minutes=30))
    assert wall.waiting == 4
    assert wall.backlog == 5
    assert wall.oldest_waiting_at == T0
    assert wall.arrivals_last_minute == 1  # 10:04, the last complete minute
    assert wall.arrivals_last_hour == 5
    assert (wall.csat_positive_today, wall.csat_total_today) == (2, 3)
    assert [(q.category, q.priority, q.waiting) for q in wall.queues] == [
        ("uncategorized", "normal", 3),
        ("uncategorized", "urgent", 1),
    ]
    (risk,) = wall.at_risk  # urgent: 30 minutes to first reply, 24.5 left
    assert risk.ticket_id == "T0"
    assert risk.minutes_left == pytest.approx(24.5)
    assert [(a.agent_id, a.status, a.load) for a in wall.agents] == [("A1", "online", 1), ("A2", "away", 0)]


def test_at_risk_follows_the_sla_clock_of_the_marts_which_pending_and_on_hold_stop() -> None:
    created = events.TicketCreated(
        ticket_id="T1",
        occurred_at=T0,
        customer_id="C1",
        channel="email",
        priority="urgent",
        subject="s",
        body="b",
    )
    lifecycle: list[events.EventBase] = [
        created,
        events.TicketStatusChanged(ticket_id="T1", occurred_at=T0 + timedelta(minutes=10), status="pending"),
        events.TicketStatusChanged(ticket_id="T1", occurred_at=T0 + timedelta(minutes=70), status="open"),
        events.TicketStatusChanged(ticket_id="T1", occurred_at=T0 + timedelta(minutes=75), status="on_hold"),
        events.TicketReopened(ticket_id="T1", occurred_at=T0 + timedelta(minutes=95)),
    ]
    state = _state()
    for moment, event in enumerate(lifecycle):
        state.apply(event)
        now = event.occurred_at + timedelta(seconds=1)
        wall = board(state, now, at_risk_within=timedelta(minutes=30))
        marts = ticket_metrics(lifecycle[: moment + 1], as_of=now)
        if state.tickets["T1"]["status"] == "open":
            (risk,) = wall.at_risk
            assert risk.due_at == marts.first_reply_due_at
        else:  # the clock stands still: nothing can breach meanwhile
            assert wall.at_risk == []
    # 30 minutes of target, 60 pending and 20 on hold: due 110 minutes after creation.
    assert wall.at_risk[0].due_at == T0 + timedelta(minutes=110)
    (waiting,) = state.waiting(now, reroute_after=timedelta(0))
    assert waiting.sla_due_at == T0 + timedelta(minutes=110)


def test_a_creation_delivered_again_does_not_reset_the_ticket() -> None:
    state = _state()
    _created(state, "T1")
    state.apply(
        events.TicketStatusChanged(ticket_id="T1", occurred_at=T0 + timedelta(minutes=5), status="solved")
    )
    _created(state, "T1")  # the same event again, as at-least-once delivery may bring it
    wall = board(state, T0 + timedelta(minutes=6), at_risk_within=timedelta(minutes=30))
    assert (wall.backlog, wall.waiting, wall.arrivals_last_hour) == (0, 0, 1)


def test_a_pause_after_the_due_time_does_not_move_it() -> None:
    """Breached at 30 minutes: waiting on the customer afterwards does not give the time back."""
    state = _state()
    _created(state, "T1", priority="urgent")
    for minutes, status in [(40, "pending"), (100, "open")]:
        state.apply(
            events.TicketStatusChanged(
                ticket_id="T1", occurred_at=T0 + timedelta(minutes=minutes), status=status
            )
        )
    (risk,) = board(state, T0 + timedelta(minutes=101), at_risk_within=timedelta(minutes=30)).at_risk
    assert risk.due_at == T0 + timedelta(minutes=30)
    assert risk.minutes_left == -71


_STATUSES = ["open", "pending", "on_hold", "solved"]
_PRIORITY_CHANGES = ["priority:urgent", "priority:high", "priority:normal", "priority:low"]
_LIFECYCLE = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=36 * 60),
        st.sampled_from([*_STATUSES, "reopened", *_PRIORITY_CHANGES]),
    ),
    max_size=8,
)


def _step(moment: datetime, change: str) -> events.EventBase:
    if change == "reopened":
        return events.TicketReopened(ticket_id="T1", occurred_at=moment)
    if change.startswith("priority:"):
        return events.TicketPriorityChanged(
            ticket_id="T1", occurred_at=moment, priority=change.removeprefix("priority:")
        )
    return events.TicketStatusChanged(ticket_id="T1", occurred_at=moment, status=change)


@given(
    priority=st.sampled_from(["urgent", "high", "normal", "low"]),
    start_minutes=st.integers(min_value=0, max_value=7 * 24 * 60),  # any hour of a week
    steps=_LIFECYCLE,
    business_hours=st.booleans(),
)
def test_the_boards_due_time_is_the_marts_ticket_by_ticket(
    priority: str, start_minutes: int, steps: list[tuple[int, str]], business_hours: bool
) -> None:
    """The same events through the floor and through ``cxa.metrics``: at every step, an open ticket
    is due when the marts say (calendar or business clock, the current priority's target), and a
    stopped clock puts none at risk."""
    moment = T0 + timedelta(minutes=start_minutes)
    lifecycle: list[events.EventBase] = [
        events.TicketCreated(
            ticket_id="T1",
            occurred_at=moment,
            customer_id="C1",
            channel="email",
            priority=priority,
            subject="s",
            body="b",
        )
    ]
    for gap, change in steps:
        moment += timedelta(minutes=gap)
        lifecycle.append(_step(moment, change))
    state = FloorState({}, {}, {}, business_hours=business_hours)
    for applied, event in enumerate(lifecycle, start=1):
        state.apply(event)
        now = event.occurred_at
        wall = board(state, now, at_risk_within=timedelta(days=365))  # every running clock
        marts = ticket_metrics(lifecycle[:applied], as_of=now)
        due = marts.first_reply_due_business_at if business_hours else marts.first_reply_due_at
        assert state.tickets["T1"]["priority"] == marts.priority.value
        if marts.status.value == "open":
            (risk,) = wall.at_risk
            assert risk.due_at == due
            (waiting,) = state.waiting(now, reroute_after=timedelta(0))
            assert waiting.sla_due_at == due
        else:
            assert wall.at_risk == []


def test_a_ticket_kept_by_the_earlier_floor_keeps_its_due_time() -> None:
    """State written before the floor kept the clock's stretches: created + target + stopped."""
    state = _state()
    state.tickets["T1"] = {
        "priority": "urgent",
        "channel": "email",
        "language": "en",
        "created_at": T0.isoformat(),
        "category": None,
        "confidence": 0.0,
        "agent_id": None,
        "status": "pending",
        "first_reply_at": None,
        "routed_at": None,
        "routings": 0,
        "stopped_minutes": 5.0,
        "stopped_since": (T0 + timedelta(minutes=15)).isoformat(),  # ran 0-10, stopped 10-15 and since
    }
    state.apply(events.TicketReopened(ticket_id="T1", occurred_at=T0 + timedelta(minutes=45)))
    (risk,) = board(state, T0 + timedelta(minutes=46), at_risk_within=timedelta(minutes=30)).at_risk
    assert risk.due_at == T0 + timedelta(minutes=30 + 5 + 30)


def test_tracked_state_flushes_only_what_changed() -> None:
    durable = {"T1": {"status": "open"}, "T2": {"status": "open"}}
    kept = Tracked(durable)
    kept["T1"] = {"status": "pending"}
    kept["T3"] = {"status": "open"}
    del kept["T2"]
    assert kept.flush(durable) == 3
    assert durable == {"T1": {"status": "pending"}, "T3": {"status": "open"}}
    assert kept.flush(durable) == 0


def test_a_floor_message_carries_a_batch_and_skips_nothing_valid() -> None:
    state = _state()
    first = events.serialize(
        events.TicketCreated(
            ticket_id="T1",
            occurred_at=T0,
            customer_id="C1",
            channel="chat",
            priority="high",
            subject="s",
            body="b",
        )
    )
    later = events.serialize(
        events.AgentStatusChanged(agent_id="A1", occurred_at=T0 + timedelta(minutes=1), status="online")
    )
    assert apply_floor_message(state, pack([first, None, later])) == T0 + timedelta(minutes=1)
    assert set(state.tickets) == {"T1"}
    assert set(state.agents) == {"A1"}
    assert apply_floor_message(state, b"tick") is None


def test_an_unreadable_event_in_a_batch_is_skipped_and_the_rest_applied() -> None:
    state = _state()
    good = events.serialize(events.AgentStatusChanged(agent_id="A2", occurred_at=T0, status="online"))
    assert apply_floor_message(state, pack([b'{"event_type": "nonsense"}', good])) == T0
    assert "A2" in state.agents
    assert apply_floor_message(state, b"[not json") is None
