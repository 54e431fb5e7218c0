"""Faust's Kafka transport with a bounded fetch wait, which is what keeps latency low.

aiokafka keeps one fetch request in flight per broker, and a partition whose last records are
still being consumed is left out of the next request. So a request often covers only quiet
partitions (the labels topic, a floor topic between batches) and the broker holds it for
``fetch.max.wait.ms`` while records pile up on the busy ones. Faust hard-codes that wait to
1500 ms, which delivered events in bursts about two seconds apart; a short wait costs a few idle
fetch requests per second and bounds the delay to about that wait.
"""

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka


def with_fetch_wait(app: faust.App, fetch_max_wait_ms: int) -> None:
    """Give ``app`` the Kafka transport, its consumer fetching with ``fetch_max_wait_ms``."""

    class BoundedWaitThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> aiokafka.AIOKafkaConsumer:
            consumer = super()._create_worker_consumer(transport)
            # Read by the consumer when it starts and builds its fetcher; no public setter.
            consumer._fetch_max_wait_ms = fetch_max_wait_ms
            return consumer

    class BoundedWaitConsumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> BoundedWaitThread:
            return BoundedWaitThread(self, loop=self.loop, beacon=self.beacon)

    class BoundedWaitTransport(faust_aiokafka.Transport):
        Consumer = BoundedWaitConsumer

    app.transport = BoundedWaitTransport(app.conf.broker_consumer, app)
