"""The routing decisions the write-back connectors have taken on, so a decision is applied once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per decision (the tickets.routed event's id) a connector applied, or superseded by a
    # later one for its ticket, or found stale...: claimed before the helpdesk is called, so a
    # decision Kafka delivers again (a restart before the offsets were committed, a rebalance, a
    # message sent twice) is not applied again over an agent's reassignment made in between.
    op.execute(
        """
        CREATE TABLE live.writeback_decisions (
            decision_id  uuid        PRIMARY KEY,
            vendor       text        NOT NULL,
            ticket_id    text        NOT NULL,
            agent_id     text        NOT NULL,
            decided_at   timestamptz NOT NULL,
            claimed_at   timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX writeback_decisions_time_idx ON live.writeback_decisions (decided_at)")
    op.execute(
        "COMMENT ON TABLE live.writeback_decisions IS 'routing decisions a write-back connector took on "
        "(applied, refused, superseded in its batch); rows older than CXA_WRITEBACK_MAX_AGE_SECONDS are "
        "dropped, as such decisions are stale and never applied'"
    )
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON live.writeback_decisions TO cxa_writer")


def downgrade() -> None:
    op.execute("DROP TABLE live.writeback_decisions")
