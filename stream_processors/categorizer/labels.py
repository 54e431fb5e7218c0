"""Labelled examples on their way from the worker that predicted to the learner, many per message.

Layout: ``MAGIC``, a 4-byte big-endian header length, a JSON header (per example: ticket id, true
category, predicted category, whether the model abstained, number of features), then every
example's feature indices (little-endian int32) and then their counts (float32), concatenated.
Binary arrays keep a batch of a few hundred examples to one small message that decodes without a
per-number parse.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stream_processors.categorizer.features import Counts

MAGIC = b"CXL1"


@dataclass(frozen=True, slots=True)
class Labelled:
    """A ticket's features with the category an agent settled on and what the model had said."""

    ticket_id: str
    category: str
    predicted: str | None
    abstained: bool
    features: Counts


def encode(batch: Sequence[Labelled]) -> bytes:
    """One message for the whole batch.

    >>> features = Counts(np.array([3, 9], np.int32), np.ones(2, np.float32))
    >>> one = Labelled("T1", "card", "card", False, features)
    >>> [item.features.indices.tolist() for item in decode(encode([one, one]))]
    [[3, 9], [3, 9]]
    """
    header = json.dumps(
        [
            [item.ticket_id, item.category, item.predicted, item.abstained, len(item.features.indices)]
            for item in batch
        ]
    ).encode("utf-8")
    indices = np.concatenate([item.features.indices for item in batch] or [np.zeros(0, np.int32)])
    counts = np.concatenate([item.features.counts for item in batch] or [np.zeros(0, np.float32)])
    return b"".join(
        [
            MAGIC,
            len(header).to_bytes(4, "big"),
            header,
            indices.astype("<i4").tobytes(),
            counts.astype("<f4").tobytes(),
        ]
    )


def encode_within(batch: Sequence[Labelled], limit: int = 512 * 1024) -> list[bytes]:
    """The batch in as few messages as keep each below about ``limit`` bytes."""
    messages = []
    start, size = 0, 0
    for end, item in enumerate(batch):
        cost = 8 * len(item.features.indices) + 64 + len(item.ticket_id) + len(item.category)
        if end > start and size + cost > limit:
            messages.append(encode(batch[start:end]))
            start, size = end, 0
        size += cost
    if start < len(batch):
        messages.append(encode(batch[start:]))
    return messages


def decode(value: bytes) -> list[Labelled]:
    """The examples of one message; ``ValueError`` if it is not one :func:`encode` made."""
    if not value.startswith(MAGIC):
        raise ValueError("not a labelled-examples message (bad magic bytes)")
    start = len(MAGIC) + 4
    size = int.from_bytes(value[len(MAGIC) : start], "big")
    try:
        rows = json.loads(value[start : start + size])
        lengths = [int(row[4]) for row in rows]
    except (ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"unreadable labelled-examples header: {exc}") from exc
    total = sum(lengths)
    arrays = value[start + size :]
    if len(arrays) != 8 * total:
        raise ValueError(
            f"labelled-examples message holds {len(arrays)} bytes of features, expected {8 * total}"
        )
    indices = np.frombuffer(arrays, dtype="<i4", count=total).astype(np.int32)
    counts = np.frombuffer(arrays, dtype="<f4", count=total, offset=4 * total).astype(np.float32)
    out = []
    offset = 0
    for row, length in zip(rows, lengths, strict=True):
        # Copies: a view would keep the whole message alive for as long as the reservoir keeps it.
        features = Counts(indices[offset : offset + length].copy(), counts[offset : offset + length].copy())
        out.append(Labelled(str(row[0]), str(row[1]), row[2], bool(row[3]), features))
        offset += length
    return out
