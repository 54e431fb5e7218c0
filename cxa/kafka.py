"""Kafka plumbing shared by every component: the producer settings we insist on, topic creation."""

from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from cxa.settings import KafkaSettings
from cxa.topics import ALL_TOPICS


def producer_config(settings: KafkaSettings, **overrides: Any) -> dict[str, Any]:
    """Idempotent, fully acknowledged producer settings with bounded retries."""
    return {
        "bootstrap.servers": settings.bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 10,
        "batch.size": 512 * 1024,
        "compression.type": "lz4",
        # A message not delivered within this time is reported as failed, never dropped silently.
        "delivery.timeout.ms": 60_000,
        **overrides,
    }


def client_config(settings: KafkaSettings, **extra: Any) -> dict[str, Any]:
    """An admin client's or probe consumer's settings: librdkafka's notices (level 6, such as
    'Purging unserved events' when a client closes) stay off the console; warnings still show."""
    return {"bootstrap.servers": settings.bootstrap_servers, "log_level": 4, **extra}


def ensure_topics(settings: KafkaSettings, topics: tuple[str, ...] = ALL_TOPICS) -> list[str]:
    """Create the platform's topics that do not exist yet; returns the names created."""
    admin = AdminClient(client_config(settings))
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [name for name in topics if name not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(name, settings.partitions, settings.replication_factor) for name in missing]
    )
    for future in futures.values():
        try:
            future.result(timeout=30)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return missing


def group_lag(settings: KafkaSettings, group: str, *topics: str) -> int:
    """Messages on ``topics`` that consumer group ``group`` has not committed yet."""
    return sum(topic_lags(settings, group, *topics).values())


def topic_lags(settings: KafkaSettings, group: str, *topics: str) -> dict[str, int]:
    """Per topic, the messages consumer group ``group`` has not committed yet (a topic that does
    not exist yet counts as nothing to read)."""
    lags = dict.fromkeys(topics, 0)
    admin = AdminClient(client_config(settings))
    metadata = admin.list_topics(timeout=10).topics
    partitions = [
        TopicPartition(topic, p) for topic in topics if topic in metadata for p in metadata[topic].partitions
    ]
    if not partitions:
        return lags
    consumer = Consumer(client_config(settings, **{"group.id": f"{group}-lag-probe"}))
    try:
        marks = {
            (tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=10) for tp in partitions
        }
    finally:
        consumer.close()
    request = ConsumerGroupTopicPartitions(group, partitions)
    committed = admin.list_consumer_group_offsets([request])[group].result(timeout=10)
    # Nothing committed yet: everything still on the partition (from its low watermark) is to read.
    offsets = {(tp.topic, tp.partition): tp.offset for tp in committed.topic_partitions}
    for (topic, partition), (low, high) in marks.items():
        lags[topic] += max(0, high - max(offsets.get((topic, partition), low), low))
    return lags
