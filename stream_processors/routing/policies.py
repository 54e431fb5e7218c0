"""The heuristic policies: greedy by urgency, and the round-robin and least-loaded baselines.

Each takes a :class:`MicroBatch` and returns (ticket index, agent index) pairs, at most one per ticket
and never more per agent than the batch capacity.
"""

from stream_processors.routing.microbatch import MicroBatch, Pair


def assign_greedy(batch: MicroBatch) -> list[Pair]:
    """Most urgent ticket first, each to its best-scoring eligible agent with room left."""
    room = list(batch.capacities)
    pairs: list[Pair] = []
    for t in batch.by_urgency():
        for _, a in batch.options[t]:
            if room[a] > 0:
                room[a] -= 1
                pairs.append((t, a))
                break
    return pairs


def assign_round_robin(batch: MicroBatch, turn: int = 0) -> list[Pair]:
    """Oldest ticket first, each to the next eligible agent in a fixed rotation (by agent id).

    ``turn`` is where the rotation starts, so a caller can carry it from batch to batch.
    """
    rotation = sorted(range(len(batch.agents)), key=lambda a: batch.agents[a].agent_id)
    if not rotation:
        return []
    room = list(batch.capacities)
    position = turn % len(rotation)
    pairs: list[Pair] = []
    for t in batch.by_arrival():
        eligible = {a for _, a in batch.options[t]}
        for step in range(len(rotation)):
            a = rotation[(position + step) % len(rotation)]
            if a in eligible and room[a] > 0:
                room[a] -= 1
                pairs.append((t, a))
                position = (position + step + 1) % len(rotation)
                break
    return pairs


def assign_least_loaded(batch: MicroBatch) -> list[Pair]:
    """Oldest ticket first, each to the eligible agent with the lowest load over capacity."""
    room = list(batch.capacities)
    given = [0] * len(batch.agents)
    pairs: list[Pair] = []

    def load_key(a: int) -> tuple[float, int, str]:
        agent = batch.agents[a]
        return ((agent.load + given[a]) / agent.capacity, agent.handled_today + given[a], agent.agent_id)

    for t in batch.by_arrival():
        eligible = [a for _, a in batch.options[t] if room[a] > 0]
        if eligible:
            a = min(eligible, key=load_key)
            room[a] -= 1
            given[a] += 1
            pairs.append((t, a))
    return pairs
