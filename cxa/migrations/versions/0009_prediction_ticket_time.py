"""Predictions keep the ticket's time beside the time they were computed.

A worker that replays a history computes every answer today; the marts date a prediction by its
ticket's creation, so precision per day covers the whole history. Existing rows take the time of
their ticket's ticket.created event where raw has it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE raw.ticket_categorizations ADD COLUMN ticket_created_at timestamptz")
    op.execute(
        "COMMENT ON COLUMN raw.ticket_categorizations.ticket_created_at IS "
        "'the ticket.created event''s occurred_at; predicted_at is when the answer was computed'"
    )
    op.execute(
        """
        UPDATE raw.ticket_categorizations AS c
        SET ticket_created_at = created.occurred_at
        FROM (
            SELECT ticket_id, min(occurred_at) AS occurred_at
            FROM raw.ticket_events
            WHERE event_type = 'ticket.created'
            GROUP BY ticket_id
        ) AS created
        WHERE created.ticket_id = c.ticket_id
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE raw.ticket_categorizations DROP COLUMN ticket_created_at")
