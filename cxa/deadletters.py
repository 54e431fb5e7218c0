"""Dead letters: what a refused message carries, and the kinds of refusal.

Shared by the worker that writes dead letters (to ``cxa.deadletter`` and ``live.deadletters``) and by
the tools that read them (``cxa deadletter``, the wall board), so both spell them alike.
"""

from enum import StrEnum
from typing import Final


class Refusal(StrEnum):
    """Why a message was dead-lettered; the ``kind`` of a dead letter, counted per kind."""

    MALFORMED = "malformed"
    """Not UTF-8 JSON (or nested too deeply to read)."""
    SCHEMA = "schema"
    """JSON that breaks the event contract (missing or wrong fields, characters PostgreSQL cannot store)."""
    NO_VALUE = "no_value"
    """A message without a value (a tombstone)."""
    WRONG_TOPIC = "wrong_topic"
    """An event on a topic that does not carry it."""
    KEY_MISMATCH = "key_mismatch"
    """The message key is not the event's entity id."""
    TOO_LARGE = "too_large"
    """Bigger than ``CXA_WORKER_MAX_MESSAGE_BYTES``."""
    CLOCK_SKEW = "clock_skew"
    """Dated too far ahead of the worker's clock, or before the earliest date accepted."""
    DUPLICATE_ID = "duplicate_id"
    """An ``event_id`` that already landed with other content."""
    STORE_REFUSED = "store_refused"
    """PostgreSQL (or Kafka) refused this one event although it passed validation."""
    HANDLER_ERROR = "handler_error"
    """A bug in the worker's code for this event."""


REASON_HEADER: Final = "cxa.error.reason"
KIND_HEADER: Final = "cxa.error.kind"
AT_HEADER: Final = "cxa.error.at"
ORIGIN_TOPIC_HEADER: Final = "cxa.origin.topic"
ORIGIN_PARTITION_HEADER: Final = "cxa.origin.partition"
ORIGIN_OFFSET_HEADER: Final = "cxa.origin.offset"
TRUNCATED_HEADER: Final = "cxa.value.truncated"
"""Present when the dead letter's value is cut short; it holds the original size in bytes."""
NULL_VALUE_HEADER: Final = "cxa.value.null"
"""Present when the original message had no value (a tombstone): the dead letter's value is empty."""
KEY_TRUNCATED_HEADER: Final = "cxa.key.truncated"
"""Present when the dead letter's key is cut short (to 1 KiB); it holds the original size in bytes."""
REPLAY_OF_HEADER: Final = "cxa.replay.of"
"""On a message ``cxa deadletter replay`` re-published: ``topic/partition/offset`` of the original."""

REASON_MAX_BYTES: Final = 1024
"""A reason is cut to this many bytes of UTF-8 (a whole character at a time)."""


def cap_reason(reason: str, limit: int = REASON_MAX_BYTES) -> str:
    """The reason as storable text (U+0000 and lone surrogates escaped), cut to ``limit`` bytes of
    UTF-8 and marked with an ellipsis when cut.

    >>> cap_reason("é" * 10, limit=9)  # two bytes each, and three for the ellipsis
    'ééé…'
    >>> cap_reason("key 'a\\x00b\\udc00'")
    "key 'a\\\\x00b\\\\udc00'"
    """
    encoded = reason.replace("\x00", "\\x00").encode("utf-8", errors="backslashreplace")
    if len(encoded) <= limit:
        return encoded.decode("utf-8")
    return encoded[: limit - len(_ELLIPSIS)].decode("utf-8", errors="ignore") + "…"


_ELLIPSIS = "…".encode()
