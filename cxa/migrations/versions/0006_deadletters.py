"""Dead letters in the database: one row per refused message, for operators and the wall board.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keyed by where the message was read, so a batch retried or redelivered after a crash records
    # each refused message once. The value is kept (as sent, or cut short) for `cxa deadletter replay`.
    op.execute(
        """
        CREATE TABLE live.deadletters (
            origin_topic      text        NOT NULL,
            origin_partition  integer     NOT NULL,
            origin_offset     bigint      NOT NULL,
            kind              text        NOT NULL,
            reason            text        NOT NULL,
            message_key       bytea,
            message_value     bytea,
            value_bytes       integer     NOT NULL,
            is_truncated      boolean     NOT NULL,
            dead_lettered_at  timestamptz NOT NULL,
            replayed_at       timestamptz,
            PRIMARY KEY (origin_topic, origin_partition, origin_offset)
        )
        """
    )
    op.execute("CREATE INDEX deadletters_time_idx ON live.deadletters (dead_lettered_at)")
    op.execute(
        """
        CREATE VIEW live.deadletter_counts AS
        SELECT kind,
               origin_topic,
               count(*)                                  AS dead_letters,
               count(*) FILTER (WHERE replayed_at IS NULL) AS not_replayed,
               max(dead_lettered_at)                     AS last_dead_lettered_at
        FROM live.deadletters
        GROUP BY kind, origin_topic
        """
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON live.deadletters TO cxa_writer")
    op.execute("GRANT SELECT ON live.deadletters, live.deadletter_counts TO cxa_writer, cxa_dashboard")


def downgrade() -> None:
    op.execute("DROP VIEW live.deadletter_counts")
    op.execute("DROP TABLE live.deadletters")
