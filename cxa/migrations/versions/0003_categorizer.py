"""Categorizer: its predictions in raw; checkpoints and quality monitoring in live.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE raw.ticket_categorizations (
            event_id        uuid PRIMARY KEY,
            ticket_id       text        NOT NULL,
            category        text,
            confidence      double precision NOT NULL,
            top             jsonb       NOT NULL,
            model_version   text        NOT NULL,
            latency_ms      double precision NOT NULL,
            predicted_at    timestamptz NOT NULL,
            ingested_at     timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ticket_categorizations_ticket_idx ON raw.ticket_categorizations (ticket_id)")
    op.execute("COMMENT ON COLUMN raw.ticket_categorizations.category IS 'null when the model abstained'")

    op.execute(
        """
        CREATE TABLE live.categorizer_checkpoints (
            checkpoint_id    bigserial PRIMARY KEY,
            created_at       timestamptz NOT NULL DEFAULT now(),
            worker           text        NOT NULL,
            model_version    text        NOT NULL,
            examples_learned bigint      NOT NULL,
            categories       integer     NOT NULL,
            sha256           text        NOT NULL,
            size_bytes       integer     NOT NULL,
            state            bytea       NOT NULL,
            rejected_at      timestamptz,
            rejected_reason  text
        )
        """
    )
    op.execute(
        "COMMENT ON COLUMN live.categorizer_checkpoints.rejected_reason IS "
        "'set when a worker found the checkpoint corrupt and refused it'"
    )
    op.execute(
        """
        CREATE TABLE live.categorizer_quality (
            measured_at      timestamptz NOT NULL DEFAULT now(),
            worker           text        NOT NULL,
            model_version    text        NOT NULL,
            labelled         bigint      NOT NULL,
            rolling_accuracy double precision,
            rolling_coverage double precision,
            error_rate       double precision NOT NULL,
            PRIMARY KEY (worker, measured_at)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE live.categorizer_categories (
            category         text PRIMARY KEY,
            true_positives   bigint NOT NULL DEFAULT 0,
            false_positives  bigint NOT NULL DEFAULT 0,
            false_negatives  bigint NOT NULL DEFAULT 0,
            precision        double precision GENERATED ALWAYS AS (
                true_positives::double precision / NULLIF(true_positives + false_positives, 0)) STORED,
            recall           double precision GENERATED ALWAYS AS (
                true_positives::double precision / NULLIF(true_positives + false_negatives, 0)) STORED,
            updated_at       timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE live.categorizer_drift_alarms (
            alarm_id      bigserial PRIMARY KEY,
            detected_at   timestamptz NOT NULL DEFAULT now(),
            worker        text        NOT NULL,
            model_version text        NOT NULL,
            labelled      bigint      NOT NULL,
            error_rate    double precision NOT NULL,
            window_size   integer     NOT NULL
        )
        """
    )
    op.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA live TO cxa_writer")


def downgrade() -> None:
    op.execute("DROP TABLE live.categorizer_drift_alarms")
    op.execute("DROP TABLE live.categorizer_categories")
    op.execute("DROP TABLE live.categorizer_quality")
    op.execute("DROP TABLE live.categorizer_checkpoints")
    op.execute("DROP TABLE raw.ticket_categorizations")
