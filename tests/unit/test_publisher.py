import pytest

from cxa.settings import KafkaSettings
from producers.publisher import Publisher, PublishError


def test_undeliverable_messages_are_reported_not_dropped() -> None:
    settings = KafkaSettings(KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")  # nothing listens there
    publisher = Publisher(settings, **{"delivery.timeout.ms": 500, "linger.ms": 0})
    publisher.publish("tickets.events", "T1", b"{}")
    with pytest.raises(PublishError, match="1 of 1 messages were not delivered"):
        publisher.flush(timeout=10)
