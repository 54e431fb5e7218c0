"""PostgreSQL I/O of the categorizer: checkpoints, predictions in raw, quality figures in live."""

import json
from collections.abc import Sequence
from typing import Protocol

from cxa import events
from cxa.db import LazyAsyncPool
from stream_processors.categorizer import MonitorReport


class CategorizerStore(Protocol):
    async def checkpoint_ids(self, newer_than: int) -> list[int]:
        """Ids of usable (not rejected) checkpoints newer than ``newer_than``, newest first."""
        ...

    async def read_checkpoint(self, checkpoint_id: int) -> bytes: ...

    async def save_checkpoint(
        self,
        state: bytes,
        *,
        worker: str,
        model_version: str,
        examples_learned: int,
        categories: int,
        sha256: str,
        keep: int,
    ) -> int: ...

    async def reject_checkpoint(self, checkpoint_id: int, reason: str) -> None: ...

    async def write_predictions(self, predictions: Sequence[events.CategoryPredicted]) -> None: ...

    async def write_quality(self, worker: str, model_version: str, report: MonitorReport) -> None: ...


_PREDICTION_SQL = """
INSERT INTO raw.ticket_categorizations
    (event_id, ticket_id, category, confidence, top, model_version, latency_ms, predicted_at,
     ticket_created_at)
VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)
ON CONFLICT (event_id) DO NOTHING
"""
_CATEGORY_SQL = """
INSERT INTO live.categorizer_categories (category, true_positives, false_positives, false_negatives)
VALUES (%s, %s, %s, %s)
ON CONFLICT (category) DO UPDATE SET
    true_positives = live.categorizer_categories.true_positives + EXCLUDED.true_positives,
    false_positives = live.categorizer_categories.false_positives + EXCLUDED.false_positives,
    false_negatives = live.categorizer_categories.false_negatives + EXCLUDED.false_negatives,
    updated_at = now()
"""


class PostgresCategorizerStore:
    def __init__(self, database_url: str) -> None:
        self._database = LazyAsyncPool(database_url)

    async def close(self) -> None:
        await self._database.close()

    async def checkpoint_ids(self, newer_than: int) -> list[int]:
        pool = await self._database.opened()
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT checkpoint_id FROM live.categorizer_checkpoints "
                "WHERE checkpoint_id > %s AND rejected_at IS NULL ORDER BY checkpoint_id DESC",
                (newer_than,),
            )
            return [int(row[0]) for row in await cursor.fetchall()]

    async def read_checkpoint(self, checkpoint_id: int) -> bytes:
        pool = await self._database.opened()
        async with pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT state FROM live.categorizer_checkpoints WHERE checkpoint_id = %s", (checkpoint_id,)
            )
            row = await cursor.fetchone()
        if row is None:
            raise LookupError(f"no checkpoint {checkpoint_id}")
        return bytes(row[0])

    async def save_checkpoint(
        self,
        state: bytes,
        *,
        worker: str,
        model_version: str,
        examples_learned: int,
        categories: int,
        sha256: str,
        keep: int,
    ) -> int:
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "INSERT INTO live.categorizer_checkpoints "
                "(worker, model_version, examples_learned, categories, sha256, size_bytes, state) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING checkpoint_id",
                (worker, model_version, examples_learned, categories, sha256, len(state), state),
            )
            row = await cursor.fetchone()
            assert row is not None
            checkpoint_id = int(row[0])
            await conn.execute(
                "DELETE FROM live.categorizer_checkpoints WHERE rejected_at IS NULL AND checkpoint_id <= "
                "(SELECT checkpoint_id FROM live.categorizer_checkpoints WHERE rejected_at IS NULL "
                " ORDER BY checkpoint_id DESC OFFSET %s LIMIT 1)",
                (keep,),
            )
        return checkpoint_id

    async def reject_checkpoint(self, checkpoint_id: int, reason: str) -> None:
        pool = await self._database.opened()
        async with pool.connection() as conn:
            await conn.execute(
                "UPDATE live.categorizer_checkpoints SET rejected_at = now(), rejected_reason = %s "
                "WHERE checkpoint_id = %s",
                (reason, checkpoint_id),
            )

    async def write_predictions(self, predictions: Sequence[events.CategoryPredicted]) -> None:
        if not predictions:
            return
        rows = [
            (
                p.event_id,
                p.ticket_id,
                p.category,
                p.confidence,
                json.dumps(p.top),
                p.model_version,
                p.latency_ms,
                p.occurred_at,
                p.ticket_created_at,
            )
            for p in predictions
        ]
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(_PREDICTION_SQL, rows)

    async def write_quality(self, worker: str, model_version: str, report: MonitorReport) -> None:
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.execute(
                "INSERT INTO live.categorizer_quality (worker, model_version, labelled, rolling_accuracy, "
                "rolling_coverage, error_rate) VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    worker,
                    model_version,
                    report.labelled,
                    report.rolling_accuracy,
                    report.rolling_coverage,
                    report.error_rate,
                ),
            )
            if report.categories:
                await cursor.executemany(
                    _CATEGORY_SQL,
                    [
                        (name, c.true_positives, c.false_positives, c.false_negatives)
                        for name, c in report.categories.items()
                    ],
                )
            if report.alarms:
                await cursor.executemany(
                    "INSERT INTO live.categorizer_drift_alarms "
                    "(worker, model_version, labelled, error_rate, window_size) VALUES (%s, %s, %s, %s, %s)",
                    [(worker, model_version, a.labelled, a.error_rate, a.window) for a in report.alarms],
                )
