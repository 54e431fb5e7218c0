"""A production-grade Kafka publisher: idempotent, keyed, every delivery report checked."""

import logging
from types import TracebackType
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from cxa.kafka import producer_config
from cxa.settings import KafkaSettings

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """Some messages were not delivered; the message says how many and why."""


class Publisher:
    """Publishes bytes to Kafka and keeps count of what the broker confirmed.

    Use as a context manager: leaving the block (normally, on error or on Ctrl-C) flushes what is
    queued and raises :class:`PublishError` if anything was not delivered.
    """

    def __init__(self, settings: KafkaSettings, **overrides: Any) -> None:
        self._producer = Producer(producer_config(settings, **overrides))
        self.sent = 0
        self.delivered = 0
        self.failed = 0
        self._first_errors: list[str] = []

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.delivered += 1
            return
        self.failed += 1
        if len(self._first_errors) < 5:
            self._first_errors.append(f"{message.topic()} key={message.key()!r}: {error.str()}")

    def publish(
        self, topic: str, key: str, value: bytes, headers: list[tuple[str, str | bytes]] | None = None
    ) -> None:
        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key.encode("utf-8"),
                    headers=headers,
                    on_delivery=self._on_delivery,
                )
                break
            except BufferError:
                # The local queue is full: wait for deliveries to make room (back-pressure).
                self._producer.poll(0.1)
        self.sent += 1
        self._producer.poll(0)

    def flush(self, timeout: float = 60.0) -> None:
        remaining = self._producer.flush(timeout)
        if remaining:
            raise PublishError(
                f"{remaining} of {self.sent} messages were still undelivered after {timeout:.0f} s. "
                "Is Kafka reachable at KAFKA_BOOTSTRAP_SERVERS?"
            )
        if self.failed:
            raise PublishError(
                f"{self.failed} of {self.sent} messages were not delivered, for example: "
                + "; ".join(self._first_errors)
            )

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            log.warning("stopping: flushing %d queued messages", self.sent - self.delivered)
        self.flush()
