"""A corpus of hostile messages for the source topics, each with the dead letter it must become.

Every message is what some producer could really send: bytes that are not JSON or not UTF-8,
tombstones, documents nested 10,000 deep, NaN, wrong types, unknown event types, keys that name
another entity, characters PostgreSQL cannot store, bodies over the worker's size limit, dates in
other eras, event ids reused for other content. The valid ones among them (events for tickets and
support agents nobody has heard of, exotic but storable text, the largest body allowed) must land.
"""

import json
import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from cxa import topics
from cxa.deadletters import Refusal

NESTING = 10_000
MAX_MESSAGE_BYTES = 262_144
"""The worker's default CXA_WORKER_MAX_MESSAGE_BYTES."""


class HostileMessage(NamedTuple):
    topic: str
    key: bytes | None
    value: bytes | None
    expected: Refusal | None
    """The dead letter's kind, or None if the message is valid and must land in raw."""
    label: str = ""


def hostile_messages(seed: int, now: datetime) -> list[HostileMessage]:
    """The corpus, with entity ids prefixed ``H<seed>-`` and valid times shortly before ``now``."""
    prefix = f"H{seed}-"
    at = (now - timedelta(minutes=1)).isoformat()
    ids = uuid.UUID(int=seed)  # event ids drawn from the seed: the same corpus for the same seed

    def event_id(n: int) -> str:
        return str(uuid.uuid5(ids, str(n)))

    def created(n: int, **changes: Any) -> dict[str, Any]:
        return {
            "event_id": event_id(n),
            "event_type": "ticket.created",
            "schema_version": 1,
            "occurred_at": at,
            "ticket_id": f"{prefix}T{n}",
            "customer_id": f"{prefix}C{n}",
            "channel": "email",
            "priority": "high",
            "subject": "My card does not work",
            "body": "It is refused at every shop since this morning.",
            **changes,
        }

    def ticket(n: int, event_type: str, **fields: Any) -> dict[str, Any]:
        return {
            "event_id": event_id(n),
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": at,
            "ticket_id": f"{prefix}T{n}",
            **fields,
        }

    def agent(n: int, event_type: str, **fields: Any) -> dict[str, Any]:
        return {
            "event_id": event_id(n),
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": at,
            "agent_id": f"{prefix}A{n}",
            **fields,
        }

    def encoded(document: Any) -> bytes:
        # json.dumps writes NaN and Infinity as such, and escapes U+0000 and lone surrogates
        return json.dumps(document).encode("utf-8")

    def on_tickets(
        label: str, document: dict[str, Any], expected: Refusal | None, key: bytes | None = None
    ) -> HostileMessage:
        return HostileMessage(
            topics.TICKET_EVENTS,
            key if key is not None else document["ticket_id"].encode(),
            encoded(document),
            expected,
            label,
        )

    def on_agents(label: str, document: dict[str, Any], expected: Refusal | None) -> HostileMessage:
        return HostileMessage(
            topics.AGENT_EVENTS, document["agent_id"].encode(), encoded(document), expected, label
        )

    def raw_ticket(label: str, n: int, value: bytes | None, expected: Refusal | None) -> HostileMessage:
        return HostileMessage(topics.TICKET_EVENTS, f"{prefix}T{n}".encode(), value, expected, label)

    nested_array = b"[" * NESTING + b"]" * NESTING
    nested_subject = encoded(created(12, subject="PLACEHOLDER")).replace(
        b'"PLACEHOLDER"', b'{"a":' * NESTING + b"1" + b"}" * NESTING
    )
    duplicate = created(60, subject="The first copy")
    agent_duplicate = agent(62, "agent.capacity_changed", capacity=4)
    corpus = [
        # -- not UTF-8 JSON --
        raw_ticket("malformed JSON", 1, b"{not json", Refusal.MALFORMED),
        raw_ticket("truncated JSON", 2, encoded(created(2))[:-7], Refusal.MALFORMED),
        raw_ticket("empty value", 3, b"", Refusal.MALFORMED),
        raw_ticket("trailing bytes", 4, encoded(created(4)) + b"}", Refusal.MALFORMED),
        raw_ticket("invalid UTF-8", 5, b"\xff\xfe\xfd" + encoded(created(5)), Refusal.MALFORMED),
        raw_ticket(
            "invalid UTF-8 in a string",
            6,
            encoded(created(6, subject="PLACEHOLDER")).replace(b"PLACEHOLDER", b"caf\xe9"),
            Refusal.MALFORMED,
        ),
        raw_ticket("deep nesting", 11, nested_array, Refusal.MALFORMED),
        raw_ticket("deep nesting in a field", 12, nested_subject, Refusal.MALFORMED),
        # a lone surrogate escape is no Unicode character: the JSON parser refuses it
        on_tickets("lone surrogate", created(13, subject="card \udc00 blocked"), Refusal.MALFORMED),
        on_tickets("lone high surrogate", created(14, body="\ud800 and more"), Refusal.MALFORMED),
        # -- tombstones --
        raw_ticket("tombstone", 20, None, Refusal.NO_VALUE),
        HostileMessage(
            topics.AGENT_EVENTS, f"{prefix}A20".encode(), None, Refusal.NO_VALUE, "agent tombstone"
        ),
        HostileMessage(topics.TICKET_EVENTS, None, None, Refusal.NO_VALUE, "tombstone without a key"),
        # -- against the contract --
        on_tickets("NaN rating", ticket(21, "ticket.csat_submitted", rating=float("nan")), Refusal.SCHEMA),
        on_agents(
            "NaN skill",
            agent(22, "agent.skills_changed", skills={"card_arrival": float("nan")}, languages=["en"]),
            Refusal.SCHEMA,
        ),
        on_agents(
            "infinite skill",
            agent(23, "agent.skills_changed", skills={"card_arrival": float("inf")}, languages=["en"]),
            Refusal.SCHEMA,
        ),
        on_tickets("priority of the wrong type", created(24, priority=5), Refusal.SCHEMA),
        on_tickets("rating as text", ticket(25, "ticket.csat_submitted", rating="five"), Refusal.SCHEMA),
        on_tickets("ticket id as a number", created(26, ticket_id=26), Refusal.SCHEMA, key=b"26"),
        raw_ticket("a JSON array", 27, b"[1, 2, 3]", Refusal.SCHEMA),
        raw_ticket("JSON null", 28, b"null", Refusal.SCHEMA),
        raw_ticket("a JSON string", 29, b'"ticket.created"', Refusal.SCHEMA),
        on_tickets("unknown event type", ticket(30, "ticket.exploded"), Refusal.SCHEMA),
        on_tickets(
            "no event type", {k: v for k, v in created(31).items() if k != "event_type"}, Refusal.SCHEMA
        ),
        on_tickets("missing body", {k: v for k, v in created(32).items() if k != "body"}, Refusal.SCHEMA),
        on_tickets("an extra field", created(33, mood="angry"), Refusal.SCHEMA),
        on_tickets("schema version 2", created(34, schema_version=2), Refusal.SCHEMA),
        on_tickets("naive time", created(35, occurred_at="2026-01-05T10:00:00"), Refusal.SCHEMA),
        on_tickets("NUL in the subject", created(36, subject="card\x00blocked"), Refusal.SCHEMA),
        on_tickets(
            "NUL in a comment", ticket(37, "ticket.csat_submitted", rating=1, comment="\x00"), Refusal.SCHEMA
        ),
        on_agents(
            "NUL in a category",
            agent(38, "agent.skills_changed", skills={"card\x00": 0.5}, languages=["en"]),
            Refusal.SCHEMA,
        ),
        on_tickets(
            "body over the schema's limit", created(39, body="x" * 150_000), Refusal.SCHEMA
        ),  # under the byte limit
        # -- on the wrong topic, or keyed by another entity --
        on_tickets("key of another ticket", created(40), Refusal.KEY_MISMATCH, key=f"{prefix}T999".encode()),
        on_tickets("key not UTF-8", created(41), Refusal.KEY_MISMATCH, key=b"\xff\xfe"),
        HostileMessage(
            topics.AGENT_EVENTS,
            f"{prefix}T42".encode(),
            encoded(created(42)),
            Refusal.WRONG_TOPIC,
            "ticket event on the agents' topic",
        ),
        HostileMessage(
            topics.TICKET_EVENTS,
            f"{prefix}A43".encode(),
            encoded(agent(43, "agent.status_changed", status="online")),
            Refusal.WRONG_TOPIC,
            "agent event on the tickets' topic",
        ),
        # -- too large --
        on_tickets("huge body", created(44, body="x" * (MAX_MESSAGE_BYTES + 1_000)), Refusal.TOO_LARGE),
        raw_ticket("huge garbage", 45, b"\x00" * (MAX_MESSAGE_BYTES + 1), Refusal.TOO_LARGE),
        # -- in another era --
        on_tickets("year 9999", created(50, occurred_at="9999-12-31T23:59:59+00:00"), Refusal.CLOCK_SKEW),
        on_tickets(
            "an hour ahead",
            created(51, occurred_at=(now + timedelta(hours=1)).isoformat()),
            Refusal.CLOCK_SKEW,
        ),
        on_tickets("year 1", created(52, occurred_at="0001-01-01T00:00:00+00:00"), Refusal.CLOCK_SKEW),
        # before year 1 once in UTC: no UTC time at all, so the contract itself refuses it
        on_tickets(
            "year 1, an hour east", created(53, occurred_at="0001-01-01T00:00:00+01:00"), Refusal.SCHEMA
        ),
        on_tickets("the epoch", created(54, occurred_at="1970-01-01T00:00:00+00:00"), Refusal.CLOCK_SKEW),
        on_tickets(
            "the last second of 1999",
            created(55, occurred_at="1999-12-31T23:59:59+00:00"),
            Refusal.CLOCK_SKEW,
        ),
        # -- event ids used twice: the same content lands once, other content is refused --
        on_tickets("first copy", duplicate, None),
        on_tickets("identical copy", duplicate, None),
        on_tickets(
            "other content, same event id", {**duplicate, "subject": "The second copy"}, Refusal.DUPLICATE_ID
        ),
        on_agents("agent event, first copy", agent_duplicate, None),
        on_agents("agent event, same id", {**agent_duplicate, "capacity": 40}, Refusal.DUPLICATE_ID),
        # -- valid, if odd: they land, and the floor takes them in its stride --
        on_tickets("largest body allowed", created(70, body="y" * 100_000), None),
        on_tickets(
            "exotic text",
            created(71, subject="Карта 🙂 \u202ebidi\u202c e\u0301", body="😀 \U0010ffff 表 \ufeff"),
            None,
        ),
        on_tickets("status of an unknown ticket", ticket(72, "ticket.status_changed", status="solved"), None),
        on_tickets(
            "unknown ticket given to an unknown agent",
            ticket(73, "ticket.assigned", agent_id=f"{prefix}A73", policy="manual"),
            None,
        ),
        on_tickets("CSAT for an unknown ticket", ticket(74, "ticket.csat_submitted", rating=5), None),
        on_tickets(
            "category confirmed for an unknown ticket",
            ticket(75, "ticket.category_confirmed", agent_id=f"{prefix}A75", category="card_arrival"),
            None,
        ),
        on_tickets("unknown ticket reopened", ticket(76, "ticket.reopened"), None),
        on_tickets(
            "reply by an unknown agent", ticket(77, "ticket.agent_replied", agent_id=f"{prefix}A77"), None
        ),
        on_agents("unknown agent online", agent(78, "agent.status_changed", status="online"), None),
        on_agents("unknown agent's capacity", agent(79, "agent.capacity_changed", capacity=0), None),
        on_agents(
            "unknown agent's exotic skills",
            agent(80, "agent.skills_changed", skills={"카드 🙂": 1.0, "x" * 100: 0.0}, languages=["ko"]),
            None,
        ),
    ]
    assert len({message.label for message in corpus}) == len(corpus), "labels name messages"
    return corpus
