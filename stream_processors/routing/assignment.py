"""The exact optimum of a batch by the assignment method, the yardstick for the other policies.

With capacities expanded into slots, the batch's model (each ticket at most once, each agent at
most their batch capacity) is an assignment problem: ``scipy.optimize.linear_sum_assignment`` on
the ticket x slot score matrix, plus one zero-score "stay waiting" column per ticket, gives the
optimum over *all* eligible pairs in milliseconds.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment

from stream_processors.routing.microbatch import MicroBatch, Pair

_FORBIDDEN = 1e9


def assign_optimal(batch: MicroBatch) -> list[Pair]:
    ticket_count = len(batch.tickets)
    if ticket_count == 0:
        return []
    wanted = [0] * len(batch.agents)
    for choices in batch.options:
        for _, a in choices:
            wanted[a] += 1
    slots = [a for a, capacity in enumerate(batch.capacities) for _ in range(min(capacity, wanted[a]))]
    first_slot: dict[int, int] = {}
    for column, a in enumerate(slots):
        first_slot.setdefault(a, column)
    cost = np.full((ticket_count, len(slots) + ticket_count), _FORBIDDEN)
    cost[:, len(slots) :] = 0.0
    for t, choices in enumerate(batch.options):
        for score, a in choices:
            if a in first_slot:
                start = first_slot[a]
                cost[t, start : start + min(batch.capacities[a], wanted[a])] = -score
    rows, columns = linear_sum_assignment(cost)
    return [
        (int(t), slots[column])
        for t, column in zip(rows, columns, strict=True)
        if column < len(slots) and cost[t, column] < _FORBIDDEN
    ]
