"""Faust's Kafka transport with a bounded fetch wait, an idempotent producer, and a consumer that
commits only what agents handled, also around rebalances.

Fetch wait: aiokafka keeps one fetch request in flight per broker, and a partition whose last
records are still being consumed is left out of the next request. So a request often covers only
quiet partitions (the labels topic, a floor topic between batches) and the broker holds it for
``fetch.max.wait.ms`` while records pile up on the busy ones. Faust hard-codes that wait to
1500 ms, which delivered events in bursts about two seconds apart; a short wait costs a few idle
fetch requests per second and bounds the delay to about that wait.

Producer: Faust enables idempotence only for its exactly-once mode; every producer of this
platform sets ``acks=all`` and idempotence, so a retried send never writes a message twice.

Rebalances: Faust's streams acknowledge a record fetched before a rebalance without handing it to
an agent (it is meant to be read again from the committed offsets); its consumer counts an offset
range it jumped over as handled, and drops a record fetched again below the offset it read last.
Around a rebalance (a broker restart while PostgreSQL was away and a batch waited for it) that
committed past some hundred events per partition that no agent handled, or left records of one
partition never delivered, so that its commit stopped for good. So the worker's consumer (1) counts
no acknowledgement of a record fetched in an earlier generation of the group, or during a
rebalance, (2) drops no record and counts no gap outside changelog topics (:class:`ReadOffsets`),
and (3) reads a partition again from its committed offset when records past one never handled have
been handled for ``HEAD_GAP_SECONDS``; Faust itself would commit past a single such record (it
takes one missing offset for a transaction's marker), so that one is read again once first (and
what retention deleted, before the partition's first offset, is not waited for); and (4) after a
rebalance, reads a partition with no committed offset from its first one (aiokafka seeks only to
a committed offset above 0, so such a partition kept its position past the records dropped; a
broker crash that took the group's first commits with it lost two records so).
Nothing unhandled is committed, nothing stays behind, and what is read twice the idempotent
sinks keep once.

Acknowledgement: see :func:`acknowledged_batches`.
"""

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast

import aiokafka
import faust
from aiokafka.errors import KafkaError
from faust.streams import Stream
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, EventT, Message, StreamT

from stream_processors.ingest.deadletters import Outgoing
from stream_processors.ingest.handler import Publish

log = logging.getLogger(__name__)

HEAD_GAP_SECONDS = 10.0
"""How long records may be handled past one never handled before the partition is read again from
its committed offset (with acknowledgements in order, any such gap is a record Faust skipped)."""
FIRST_OFFSETS_SECONDS = 5.0
"""How long the broker may take to give partitions' first offsets. Faust's recovery allows the whole
seek after a rebalance ``broker_request_timeout`` and stops for good past it; without an answer,
a partition with no commit is sought to 0, which Kafka resets to its first offset."""


def is_changelog(tp: TP) -> bool:
    """Whether ``tp`` is a table's changelog, which Faust's own bookkeeping keeps as it is."""
    return tp.topic.endswith("-changelog")


class ReadOffsets(defaultdict[TP, int | None]):
    """Faust's consumer keeps the offset it read last per partition: it drops a record below it as
    read already, and counts the offsets it jumps over as handled (a "gap", normal in compacted
    topics). Both went wrong around rebalances, so outside changelog topics the offset read last
    reads as unknown: no record is dropped and no gap counted. A record delivered twice is handled
    twice, and the idempotent sinks keep it once."""

    def __init__(self) -> None:
        super().__init__(lambda: None)

    def __getitem__(self, tp: TP) -> int | None:
        return super().__getitem__(tp) if is_changelog(tp) else None


def use_worker_transport(app: faust.App, fetch_max_wait_ms: int) -> None:
    """Give ``app`` the Kafka transport described above."""

    class WorkerConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> aiokafka.AIOKafkaConsumer:
            consumer = super()._create_worker_consumer(transport)
            # Read by the consumer when it starts and builds its fetcher; no public setter.
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

        async def first_offsets(self, partitions: Sequence[TP]) -> Mapping[TP, int]:
            """The partitions' first offsets, given up after ``FIRST_OFFSETS_SECONDS`` in the
            consumer's own thread (aiokafka retries for the whole request timeout, 90 s, and the
            thread runs two calls at a time: fetches and commits would wait behind it)."""
            return cast(Mapping[TP, int], await self.call_thread(self._first_offsets, partitions))

        async def _first_offsets(self, partitions: Sequence[TP]) -> Mapping[TP, int]:
            consumer = self._ensure_consumer()
            return cast(
                Mapping[TP, int],
                await asyncio.wait_for(consumer.beginning_offsets(partitions), FIRST_OFFSETS_SECONDS),
            )

    class WorkerConsumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> WorkerConsumerThread:
            return WorkerConsumerThread(self, loop=self.loop, beacon=self.beacon)

        def __post_init__(self) -> None:
            super().__post_init__()
            self._read_offset = ReadOffsets()
            self.head_gaps: dict[TP, float] = {}
            self.read_again_at: dict[TP, int] = {}  # the offset each was last read again from
            self.reading_again: set[asyncio.Future[None]] = set()
            self.log_starts: dict[TP, int] = {}  # each partition's first offset, as the broker last said

        async def perform_seek(self) -> None:
            """Faust's seek to the committed offsets after a rebalance, and a partition with none to
            its first offset: aiokafka seeks only to a committed offset above 0, so such a partition
            (a new group, or one whose first commits a broker crash took with it) kept its position
            past the records fetched and dropped around the rebalance, and lost them."""
            fresh = []
            for partition, offset in (await self.seek_to_committed()).items():
                tp = TP(partition.topic, partition.partition)
                self._read_offset[tp] = offset if offset is not None and offset >= 0 else None
                if not offset and not is_changelog(tp):
                    self._committed_offset[tp] = None  # the broker has none: it was lost, or never was
                    fresh.append(tp)
                elif offset is not None:  # as Faust; which keeps its own when the broker has none
                    self._committed_offset[tp] = offset or None
            self.head_gaps.clear()  # a new generation: what is missing may be read again once more
            self.read_again_at.clear()
            starts = await self._first_offsets(fresh) if fresh else {}
            for tp in fresh:
                await self.seek(tp, starts.get(tp, 0))  # 0 when the broker did not say: Kafka resets it

        async def _first_offsets(self, tps: Sequence[TP]) -> dict[TP, int]:
            """The partitions' first offsets (what retention deleted is before them), or none for
            those the broker did not give within ``FIRST_OFFSETS_SECONDS``."""
            try:  # bounded in the consumer's thread; and here, should that thread be stuck
                thread = cast(WorkerConsumerThread, self._thread)
                offsets = await asyncio.wait_for(thread.first_offsets(tps), 2 * FIRST_OFFSETS_SECONDS)
            except (TimeoutError, KafkaError) as exc:
                log.warning("the first offsets of %s are unknown (%s)", sorted(tps), exc)
                return {}
            starts = {
                TP(tp.topic, tp.partition): int(o) for tp, o in offsets.items() if o is not None and o >= 0
            }
            self.log_starts.update(starts)
            return starts

        def ack(self, message: Message) -> bool:
            if self.app.rebalancing or message.generation_id != self.app.consumer_generation_id:
                return False  # read again from the committed offset once the group is stable
            return bool(super().ack(message))

        def _new_offset(self, tp: TP) -> int | None:
            acked = self._acked.get(tp)
            committed = self._committed_offset.get(tp)
            start = self.log_starts.get(tp)
            if start is not None and (committed is None or start > committed):
                # Nothing before the partition's first offset can be missing: retention deleted it,
                # or (with no commit) reading began there. Faust measures its own gap check from it.
                self._committed_offset[tp] = committed = start
            # Faust sees a gap before the first record handled only when two offsets or more are
            # missing (one is a transaction's marker, never delivered), and none at offset 0. A record
            # dropped around a rebalance is one offset too: hold the commit and read it again first,
            # once; still missing after that, it is a marker, committed past as Faust does.
            first = min(acked) if acked else None
            skipped = (
                first is not None
                and committed is not None
                and first > committed
                and not (first == committed + 1 and self.read_again_at.get(tp) == committed)
                and not is_changelog(tp)
            )
            offset = None if skipped else cast(int | None, super()._new_offset(tp))
            if offset is not None or not acked or committed is None or self.app.rebalancing:
                self.head_gaps.pop(tp, None)
                return offset
            since = self.head_gaps.setdefault(tp, time.monotonic())
            if time.monotonic() - since >= HEAD_GAP_SECONDS and tp in self.assignment():
                del self.head_gaps[tp]
                log.warning(
                    "%s: offsets from %d to %d were never handled, later ones were: reading again from %d",
                    tp,
                    committed,
                    min(acked) - 1,
                    committed,
                )
                self.read_again_at[tp] = committed
                again = asyncio.ensure_future(self._read_again(tp, committed))
                self.reading_again.add(again)
                again.add_done_callback(self.reading_again.discard)
            return None

        async def _read_again(self, tp: TP, offset: int) -> None:
            """Read ``tp`` again from ``offset``, having asked for its first offset: if retention deleted
            what is missing, there is nothing to read again, and the commit goes on from there."""
            generation = self.app.consumer_generation_id
            start = (await self._first_offsets([tp])).get(tp, offset)
            if self.app.consumer_generation_id != generation or tp not in self.assignment():
                return  # a rebalance came between: the partition is read from its commit anyway
            acked = self._acked.get(tp)
            if start > offset and acked and min(acked) <= start:
                return  # all that was missing is gone: the next commit goes on from the first offset
            await self.seek(tp, max(offset, start))

    class WorkerProducer(faust_aiokafka.Producer):
        def _settings_extra(self) -> Mapping[str, Any]:
            return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}

    class WorkerTransport(faust_aiokafka.Transport):
        Consumer = WorkerConsumer
        Producer = WorkerProducer

    app.transport = WorkerTransport(app.conf.broker_consumer, app)


def publisher(topic: faust.TopicT) -> Publish:
    """Sends :class:`Outgoing` messages to ``topic``, returning once Kafka has every one of them."""

    async def publish(messages: Sequence[Outgoing]) -> None:
        sent = [
            await topic.send(
                key=message.key,
                value=message.value,
                headers=list(message.headers) or None,
                partition=message.partition,
            )
            for message in messages
        ]
        await asyncio.gather(*sent)

    return publish


async def acknowledged_batches(
    stream: StreamT[bytes], size: int, within: float
) -> AsyncIterator[list[EventT]]:
    """Batches of at most ``size`` events (or what came ``within`` seconds), each acknowledged, so its
    offsets may be committed, only when the loop body has finished with it and asks for the next.

    Faust's own ``take`` acknowledges a batch in a ``finally``, so also when the agent is stopped in
    the middle of it (a SIGTERM while the batch is retried, PostgreSQL being down), and the worker's
    final commit then skips messages that never landed. And once a batch is given up that way, any
    later message acknowledged could commit past it. So the stream's acks are off, and only here are
    events acknowledged, in order.
    """
    channel = stream.channel
    if isinstance(channel, faust.TopicT) and channel.internal:
        # Faust's own stream iteration creates an internal topic; its batching does not.
        await channel.maybe_declare()
    manual = cast(Stream[bytes], cast(Stream[bytes], stream).noack())
    async for batch in manual.noack_take(size, within=within):
        taken = cast(list[EventT], batch)
        yield taken
        for event in taken:
            await manual.ack(event)
