"""Re-routing: tickets given to an agent who went offline before starting them wait again."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from stream_processors.routing.types import WaitingTicket


@dataclass(frozen=True, slots=True)
class Assignment:
    """A ticket routed to an agent; ``is_started`` once the agent has acted on it."""

    ticket: WaitingTicket
    agent_id: str
    is_started: bool = False


@dataclass(frozen=True, slots=True)
class Requeued:
    """The waiting set after re-routing, and the assignments that stand."""

    waiting: tuple[WaitingTicket, ...]
    kept: tuple[Assignment, ...]
    returned: tuple[str, ...]


def requeue_unstarted(
    waiting: Sequence[WaitingTicket], assignments: Iterable[Assignment], offline_agent_ids: Iterable[str]
) -> Requeued:
    """Return to ``waiting`` every not-yet-started ticket held by an agent now offline.

    A returned ticket keeps its creation time and SLA due time, so it is as urgent as it really
    is and the next batch routes it to someone else (offline agents are not eligible).
    """
    offline = set(offline_agent_ids)
    present = {ticket.ticket_id for ticket in waiting}
    queue = list(waiting)
    kept: list[Assignment] = []
    returned: list[str] = []
    for assignment in assignments:
        if assignment.agent_id in offline and not assignment.is_started:
            returned.append(assignment.ticket.ticket_id)
            if assignment.ticket.ticket_id not in present:
                present.add(assignment.ticket.ticket_id)
                queue.append(assignment.ticket)
        else:
            kept.append(assignment)
    return Requeued(waiting=tuple(queue), kept=tuple(kept), returned=tuple(returned))
