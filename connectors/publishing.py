"""Publishing from an asyncio service: a request is answered only once Kafka has its events."""

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaProducer

from cxa import topics
from cxa.events import EventBase, TicketEventBase, serialize
from cxa.settings import KafkaSettings


@dataclass(frozen=True)
class Record:
    topic: str
    key: str
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def topic_of(event: EventBase) -> str:
    return topics.TICKET_EVENTS if isinstance(event, TicketEventBase) else topics.AGENT_EVENTS


def record_of(event: EventBase) -> Record:
    """A contract event as the record for its topic, keyed by its ticket or agent."""
    return Record(topic_of(event), event.key, serialize(event))  # type: ignore[attr-defined]


class Publishing(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, records: list[Record]) -> None: ...

    async def ready(self) -> bool: ...


class KafkaPublisher:
    """Idempotent, fully acknowledged (acks=all) producer; :meth:`publish` returns once every
    record is acknowledged, or raises (a timeout included): the caller answers 503 and the vendor
    retries, which the deterministic event ids make harmless."""

    def __init__(self, settings: KafkaSettings, timeout_seconds: float) -> None:
        self._settings = settings
        self._timeout = timeout_seconds
        self._producer: AIOKafkaProducer

    async def start(self) -> None:
        """Connect (in the server's event loop, which aiokafka needs)."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            compression_type="lz4",
            request_timeout_ms=int(self._timeout * 1000),
        )
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, records: list[Record]) -> None:
        sends = [
            await self._producer.send(r.topic, r.value, key=r.key.encode("utf-8"), headers=r.headers)
            for r in records
        ]
        await asyncio.wait_for(asyncio.gather(*sends), self._timeout)

    async def ready(self) -> bool:
        """Kafka answers a metadata request within two seconds."""
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), 2.0)
        except Exception:
            return False
        return True
