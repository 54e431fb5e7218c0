"""Dead letters published by others than this worker (the ingest gateway's refused webhooks and
``POST /events`` bodies, origin ``webhook/<vendor>`` or ``http/events``) recorded in
``live.deadletters``, so that ``cxa deadletter list`` and the wall board show them beside the
worker's own. Keyed by where the letter sits on ``cxa.deadletter``: recorded once, however often
it is read again.
"""

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from cxa import deadletters
from cxa.deadletters import Refusal
from stream_processors.ingest.deadletters import DeadLetter, DeadLetterStore, Source
from stream_processors.retrying import retrying

Headers = Sequence[tuple[str, bytes]]


def _header(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("utf-8", "replace")
    return None


def gateway_letter(letter: Source, headers: Headers, own_topics: Collection[str]) -> DeadLetter | None:
    """The dead letter to record for a record read from ``cxa.deadletter``, or None when this
    worker refused it itself (it recorded it then) or the record says nothing of where it is from."""
    origin = _header(headers, deadletters.ORIGIN_TOPIC_HEADER)
    if origin is None or origin in own_topics:
        return None
    try:
        kind = Refusal(_header(headers, deadletters.KIND_HEADER) or "")
    except ValueError:
        kind = Refusal.MALFORMED
    try:
        at = datetime.fromisoformat(_header(headers, deadletters.AT_HEADER) or "")
    except ValueError:
        at = datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    reason = _header(headers, deadletters.REASON_HEADER) or "no reason given"
    source = Source(origin, letter.partition, letter.offset, letter.key, letter.value)
    return DeadLetter(source=source, kind=kind, reason=reason, at=at)


class GatewayDeadLetters:
    def __init__(
        self,
        store: DeadLetterStore,
        own_topics: Collection[str],
        max_value_bytes: int,
        retry_max_seconds: float,
    ) -> None:
        self.store, self.own_topics = store, frozenset(own_topics)
        self.max_value_bytes, self.retry_max_seconds = max_value_bytes, retry_max_seconds

    async def handle(self, records: Sequence[tuple[Source, Headers]]) -> int:
        """Record the gateway's letters among ``records``; returns how many there were."""
        letters = [
            letter
            for source, headers in records
            if (letter := gateway_letter(source, headers, self.own_topics)) is not None
        ]
        if letters:
            await retrying(
                lambda: self.store.record(letters, self.max_value_bytes),
                what="recording the gateway's dead letters in live.deadletters",
                max_delay=self.retry_max_seconds,
                retry_all=True,
            )
        return len(letters)
