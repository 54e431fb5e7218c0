"""Reference data loaded into raw: customers and the support-agent roster.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE raw.customers (
            customer_id     text PRIMARY KEY,
            segment         text        NOT NULL,
            plan            text        NOT NULL,
            region          text        NOT NULL,
            language        text        NOT NULL,
            signup_at       timestamptz NOT NULL,
            lifetime_value  numeric(12, 2) NOT NULL,
            loaded_at       timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE raw.agents (
            agent_id        text PRIMARY KEY,
            name            text        NOT NULL,
            team            text        NOT NULL,
            skills          jsonb       NOT NULL,
            languages       text[]      NOT NULL,
            capacity        integer     NOT NULL,
            shift_start     time        NOT NULL,
            shift_hours     numeric(4, 2) NOT NULL,
            work_days       smallint[]  NOT NULL,
            hired_at        timestamptz NOT NULL,
            loaded_at       timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("COMMENT ON COLUMN raw.agents.skills IS 'proficiency per category, 0 to 1'")
    op.execute("COMMENT ON COLUMN raw.agents.work_days IS 'ISO weekdays, 1 = Monday'")
    op.execute("COMMENT ON COLUMN raw.agents.shift_start IS 'local start of the shift, UTC'")


def downgrade() -> None:
    op.execute("DROP TABLE raw.agents")
    op.execute("DROP TABLE raw.customers")
