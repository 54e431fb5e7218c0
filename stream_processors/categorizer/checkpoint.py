"""Versioned, checksummed snapshots of a :class:`Categorizer`'s whole state, as bytes.

Layout: ``MAGIC``, an 8-byte big-endian header length, a JSON header (format version, SHA-256 of
the payload, the config and counters), then the payload (a compressed ``.npz`` of the arrays, loaded
without pickle). Anything that does not check out raises :class:`CorruptCheckpoint`.
"""

import hashlib
import io
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from stream_processors.categorizer.features import Counts
from stream_processors.categorizer.pipeline import Categorizer, CategorizerConfig
from stream_processors.categorizer.text import TextPreparer

MAGIC = b"CXA-CATEGORIZER\n"
FORMAT_VERSION = 3  # 2: the per-category statistics of generative replay; 3: naive Bayes in predictions
READABLE_FORMATS = (1, 2, 3)  # a format-1 checkpoint's statistics are rebuilt from its reservoir


class CorruptCheckpoint(ValueError):
    """A checkpoint that is damaged, truncated or of an unknown format; never use it."""


class NewerCheckpoint(ValueError):
    """A checkpoint of a format this version cannot read, written by a newer one: not damaged, so
    left for the workers that read it (during a rolling upgrade, or after a rollback)."""


@dataclass(frozen=True)
class Snapshot:
    """A categorizer's state copied out (quick, while it must not change) but not yet encoded."""

    header: dict[str, Any]
    arrays: dict[str, npt.NDArray[Any]]


def _packed(prefix: str, documents: Sequence[Counts]) -> dict[str, npt.NDArray[Any]]:
    """Documents as three arrays: their lengths, and all their feature indices and counts."""
    return {
        f"{prefix}_lengths": np.fromiter((len(d.indices) for d in documents), np.int64, len(documents)),
        f"{prefix}_indices": np.concatenate([d.indices for d in documents] or [np.zeros(0, np.int32)]),
        f"{prefix}_counts": np.concatenate([d.counts for d in documents] or [np.zeros(0, np.float32)]),
    }


def _unpacked(prefix: str, arrays: Mapping[str, npt.NDArray[Any]]) -> list[Counts]:
    offsets = np.concatenate([[0], np.cumsum(arrays[f"{prefix}_lengths"])])
    indices, counts = arrays[f"{prefix}_indices"], arrays[f"{prefix}_counts"]
    return [Counts(indices[a:b], counts[a:b]) for a, b in itertools.pairwise(offsets.tolist())]


def snapshot(categorizer: Categorizer) -> Snapshot:
    """Copies of everything a checkpoint holds; the categorizer may go on learning meanwhile."""
    weights = categorizer.model.weights
    rows = np.flatnonzero(np.any(weights != 0, axis=1))
    reservoir = categorizer.reservoir
    latest = list(categorizer.latest)
    arrays: dict[str, npt.NDArray[Any]] = {
        "weight_rows": rows.astype(np.int64),
        "weight_values": weights[rows],
        "df_counts": categorizer.frequencies.counts.copy(),
        **_packed("reservoir", reservoir.documents),
        **_packed("latest", [document for document, _ in latest]),
        **{f"statistics_{name}": value for name, value in categorizer.statistics.arrays().items()},
    }
    header = {
        "format": FORMAT_VERSION,
        "config": asdict(categorizer.config),
        "classes": list(categorizer.classes),
        "documents": categorizer.frequencies.documents,
        "examples_learned": categorizer.examples_learned,
        "reservoir_labels": list(reservoir.labels),
        "reservoir_seen": reservoir.seen,
        "rng": reservoir.rng.bit_generator.state,
        "statistics_labels": list(categorizer.statistics.labels),
        "statistics_rng": categorizer.statistics.rng.bit_generator.state,
        # Whether categories arrive in blocks, and what that rehearses: a restored learner goes
        # on as the original would (checkpoints of earlier versions start these afresh).
        "recent": list(categorizer.recent),
        "latest_labels": [label for _, label in latest],
        "latest_rng": categorizer.rng.bit_generator.state,
    }
    return Snapshot(header, arrays)


def encode(state: Snapshot) -> bytes:
    """Checkpoint bytes of a snapshot (compression and checksum: the slow part)."""
    buffer = io.BytesIO()
    arrays: dict[str, Any] = dict(state.arrays)  # numpy's stubs take ** as its own keyword options
    np.savez_compressed(buffer, **arrays)
    payload = buffer.getvalue()
    header = {**state.header, "sha256": hashlib.sha256(payload).hexdigest()}
    encoded = json.dumps(header).encode("utf-8")
    return MAGIC + len(encoded).to_bytes(8, "big") + encoded + payload


def dump(categorizer: Categorizer) -> bytes:
    """The categorizer's state as checkpoint bytes."""
    return encode(snapshot(categorizer))


def read_header(blob: bytes) -> dict[str, Any]:
    """The checked header of a checkpoint (the payload's checksum included)."""
    if not blob.startswith(MAGIC):
        raise CorruptCheckpoint("not a categorizer checkpoint (bad magic bytes)")
    start = len(MAGIC) + 8
    size = int.from_bytes(blob[len(MAGIC) : start], "big")
    try:
        header: dict[str, Any] = json.loads(blob[start : start + size])
    except ValueError as exc:
        raise CorruptCheckpoint(f"unreadable header: {exc}") from exc
    if not isinstance(header, dict):
        raise CorruptCheckpoint("unreadable header: not an object")
    version = header.get("format")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise NewerCheckpoint(f"checkpoint format {version} is newer than this version's {FORMAT_VERSION}")
    if version not in READABLE_FORMATS:
        raise CorruptCheckpoint(f"unknown checkpoint format {version!r}")
    digest = hashlib.sha256(blob[start + size :]).hexdigest()
    if digest != header.get("sha256"):
        raise CorruptCheckpoint(f"checksum mismatch (stored {header.get('sha256')}, computed {digest})")
    return header


def load(blob: bytes, preparer: TextPreparer | None = None) -> Categorizer:
    """A categorizer restored from checkpoint bytes, or :class:`CorruptCheckpoint` (or
    :class:`NewerCheckpoint`)."""
    header = read_header(blob)
    start = len(MAGIC) + 8 + int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 8], "big")
    try:
        arrays = np.load(io.BytesIO(blob[start:]), allow_pickle=False)
        known = {item.name for item in fields(CategorizerConfig)}
        # A newer version's settings this one lacks only shape how it would go on learning (one
        # that changes predictions comes with a new format, which older versions refuse).
        config = {name: value for name, value in dict(header["config"]).items() if name in known}
        config["char_ngrams"] = tuple(config["char_ngrams"])
        if header["format"] == 1:
            # Its statistics are rebuilt from the reservoir, a part of what it learnt: it goes on
            # predicting as it did, from the linear model alone.
            config["naive_bayes_weight"] = 0.0
        categorizer = Categorizer(CategorizerConfig(**config), preparer)
        categorizer.model.restore(header["classes"], arrays["weight_rows"], arrays["weight_values"])
        categorizer.frequencies.counts[:] = arrays["df_counts"]
        categorizer.frequencies.documents = int(header["documents"])
        categorizer.examples_learned = int(header["examples_learned"])
        reservoir = categorizer.reservoir
        reservoir.documents = _unpacked("reservoir", arrays)
        reservoir.labels = list(header["reservoir_labels"])
        reservoir.seen = int(header["reservoir_seen"])
        reservoir.rng.bit_generator.state = header["rng"]
        if header["format"] == 1:  # kept by an earlier version: what the reservoir still holds
            categorizer.statistics.observe(reservoir.documents, reservoir.labels)
        else:
            prefix = "statistics_"
            categorizer.statistics.restore(
                header["statistics_labels"],
                {name.removeprefix(prefix): arrays[name] for name in arrays.files if name.startswith(prefix)},
            )
            categorizer.statistics.rng.bit_generator.state = header["statistics_rng"]
        if "latest_rng" in header:
            categorizer.recent.extend(header["recent"])
            latest = zip(_unpacked("latest", arrays), header["latest_labels"], strict=True)
            categorizer.latest.extend(latest)
            categorizer.rng.bit_generator.state = header["latest_rng"]
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise CorruptCheckpoint(f"inconsistent checkpoint: {exc}") from exc
    if len(reservoir.documents) != len(reservoir.labels):
        raise CorruptCheckpoint("inconsistent checkpoint: reservoir sizes differ")
    return categorizer
