"""Publishing from an asyncio service: a request is answered only once Kafka has its events."""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from cxa import topics
from cxa.events import EventBase, TicketEventBase, serialize
from cxa.settings import KafkaSettings

log = logging.getLogger(__name__)


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


class NotConnected(RuntimeError):
    """Kafka has not been reached since the service started."""


class KafkaPublisher:
    """Idempotent, fully acknowledged (acks=all) producer; :meth:`publish` returns once every
    record is acknowledged, or raises (a timeout included): the caller answers 503 and the vendor
    retries, which the deterministic event ids make harmless.

    Kafka need not be up when the service starts (a compose stack starting together, a broker
    restarting): :meth:`start` tries once and then keeps trying in the background, every
    ``retry_seconds`` doubling to a minute; until it connects, :meth:`ready` is false and
    :meth:`publish` raises :class:`NotConnected`."""

    def __init__(self, settings: KafkaSettings, timeout_seconds: float, retry_seconds: float = 1.0) -> None:
        self._settings = settings
        self._timeout = timeout_seconds
        self._retry_seconds = retry_seconds
        self._producer: AIOKafkaProducer | None = None
        self._connecting: asyncio.Task[None] | None = None

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            compression_type="lz4",
            request_timeout_ms=int(self._timeout * 1000),
        )

    async def _connect_once(self) -> bool:
        producer = self._new_producer()
        try:
            await producer.start()
        except KafkaError as exc:
            await producer.stop()
            log.warning(
                "Kafka at %s is not reachable (%s): answering 503 until it is (KAFKA_BOOTSTRAP_SERVERS)",
                self._settings.bootstrap_servers,
                exc,
            )
            return False
        self._producer = producer
        log.info("connected to Kafka at %s", self._settings.bootstrap_servers)
        return True

    async def _keep_connecting(self) -> None:
        delay = self._retry_seconds
        while True:
            await asyncio.sleep(delay)
            if await self._connect_once():
                return
            delay = min(delay * 2, 60.0)

    async def start(self) -> None:
        """Connect (in the server's event loop, which aiokafka needs), or go on trying."""
        if not await self._connect_once():
            self._connecting = asyncio.create_task(self._keep_connecting())

    async def stop(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._producer is not None:
            await self._producer.stop()

    async def publish(self, records: list[Record]) -> None:
        producer = self._producer
        if producer is None:
            raise NotConnected(f"Kafka at {self._settings.bootstrap_servers} has not been reached yet")
        sends = [
            await producer.send(r.topic, r.value, key=r.key.encode("utf-8"), headers=r.headers)
            for r in records
        ]
        await asyncio.wait_for(asyncio.gather(*sends), self._timeout)

    async def ready(self) -> bool:
        """Kafka answers a metadata request within two seconds."""
        if self._producer is None:
            return False
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), 2.0)
        except Exception:
            return False
        return True
