"""One retry loop for every Faust agent, and what counts as a failure worth retrying.

A *transient* failure (PostgreSQL or Kafka unreachable, a timeout, a serialization conflict, a table
that a migration has not created yet) is the world's fault: the work is retried with backoff while
consumption pauses, and nothing is lost. A *permanent* one (a row PostgreSQL refuses, a record
Kafka refuses as too large, a bug in a handler) would fail the same way forever: it is raised, so
that the caller can isolate the events that cause it and dead-letter them.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import psycopg
from aiokafka import errors as kafka_errors
from faust.exceptions import ProducerSendError

from cxa.deadletters import Refusal

log = logging.getLogger(__name__)

T = TypeVar("T")

_ROW_SQLSTATE_CLASSES = ("22", "23", "54")
"""Data exceptions, integrity violations, program limits: what one row's values can cause."""

_TRANSIENT_KAFKA = (
    kafka_errors.KafkaTimeoutError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.ProducerClosed,
)


def _cause(exc: BaseException) -> BaseException:
    """The Kafka error inside Faust's wrapper of what ``send`` raised."""
    if isinstance(exc, ProducerSendError) and exc.__cause__ is not None:
        return exc.__cause__
    return exc


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` may go away by itself (retry) rather than recur for the same input (isolate)."""
    exc = _cause(exc)
    if isinstance(exc, psycopg.DataError) and exc.sqlstate is None:
        return False  # refused on the client side (a value libpq cannot send): the same every time
    if isinstance(exc, psycopg.Error):
        # Connection failures carry no SQLSTATE; a missing table or a permission is an operator's
        # fix for every event alike, never a reason to dead-letter the one at hand.
        return not (exc.sqlstate or "").startswith(_ROW_SQLSTATE_CLASSES)
    if isinstance(exc, kafka_errors.KafkaError):
        return bool(exc.retriable) or isinstance(exc, _TRANSIENT_KAFKA)
    return isinstance(exc, OSError)  # TimeoutError and ConnectionError included


def refusal_of(exc: BaseException) -> Refusal:
    """The dead letter's kind for an event that fails permanently with ``exc``."""
    if isinstance(_cause(exc), psycopg.Error | kafka_errors.KafkaError):
        return Refusal.STORE_REFUSED
    return Refusal.HANDLER_ERROR


async def retrying(
    action: Callable[[], Awaitable[T]],
    *,
    what: str,
    max_delay: float,
    retry_all: bool = False,
) -> T:
    """``action()``, retried with exponential backoff (0.5 s up to ``max_delay``) while it fails
    transiently (or on any failure, with ``retry_all``); a permanent failure is raised at once.

    The wait is a plain ``asyncio.sleep``, so stopping the worker cancels it at once.
    """
    delay = 0.5
    while True:
        try:
            return await action()
        except Exception as exc:
            if not (retry_all or is_transient(exc)):
                raise
            log.warning("%s failed (%s: %s); retrying in %.1f s", what, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


async def isolating(
    items: Sequence[T],
    step: Callable[[Sequence[T]], Awaitable[None]],
    *,
    what: str,
    max_delay: float,
    refuse: Callable[[T, Exception], Awaitable[None]],
) -> list[T]:
    """Run ``step`` over ``items``, retrying transient failures; on a permanent failure split the
    items in halves until the offending ones are alone, hand each to ``refuse`` (which dead-letters
    it, or logs it) and go on with the rest. Returns the items ``step`` succeeded on, in order.

    A batch with one bad item among n costs about 2 log2(n) extra attempts.
    """
    if not items:
        return []
    try:
        await retrying(lambda: step(items), what=what, max_delay=max_delay)
        return list(items)
    except Exception as exc:
        if len(items) == 1:
            log.error("%s failed for one item, which is set aside: %s: %s", what, type(exc).__name__, exc)
            await refuse(items[0], exc)
            return []
    middle = len(items) // 2
    first = await isolating(items[:middle], step, what=what, max_delay=max_delay, refuse=refuse)
    return first + await isolating(items[middle:], step, what=what, max_delay=max_delay, refuse=refuse)
