"""Many validated events in one Kafka message: a JSON array of their original documents.

The worker's internal topics (the floor's and the categorizer's) carry events this way, so a batch
costs one send and one parse instead of one of each per event.
"""

import json
import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter

log = logging.getLogger(__name__)

T = TypeVar("T")


MAX_MESSAGE_BYTES = 512 * 1024
"""Packed messages stay below this, well inside Kafka's default limit of 1 MB per message."""


def pack(values: Sequence[bytes | None]) -> bytes:
    """The documents (each a JSON object) as one JSON array; ``None`` values are left out."""
    return b"[" + b",".join(value for value in values if value) + b"]"


def pack_within(values: Sequence[bytes | None], limit: int = MAX_MESSAGE_BYTES) -> list[bytes]:
    """The documents packed in order into as few messages as keep each below ``limit`` bytes (a
    single larger document gets a message of its own).

    >>> [len(message) for message in pack_within([b"{}", b"{}", b"{}"], limit=9)]
    [7, 4]
    """
    messages: list[bytes] = []
    chunk: list[bytes] = []
    size = 2
    for value in values:
        if not value:
            continue
        if chunk and size + len(value) + 1 > limit:
            messages.append(pack(chunk))
            chunk, size = [], 2
        chunk.append(value)
        size += len(value) + 1
    if chunk:
        messages.append(pack(chunk))
    return messages


def unpack(value: bytes, many: TypeAdapter[list[T]], one: TypeAdapter[Any]) -> list[T]:
    """The events of a packed message. They were validated before they were packed, so a failure
    here is a bug rather than bad input: it is logged, and whatever can still be read is kept."""
    try:
        return many.validate_json(value)
    except ValueError:
        log.exception("could not read a batch message; reading its events one by one")
    try:
        documents = json.loads(value)
    except ValueError:
        log.exception("skipping a batch message that is not JSON")
        return []
    out = []
    for document in documents if isinstance(documents, list) else []:
        try:
            out.append(one.validate_python(document))
        except ValueError:
            log.exception("skipping an unreadable event")
    return out
