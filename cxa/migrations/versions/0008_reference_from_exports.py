"""Reference data from helpdesk exports: what an export may not carry is nullable.

A Zendesk or Freshdesk user export has ids, names, languages and groups, but rarely a customer's
segment, plan or lifetime value, or an agent's shift. Unknown is stored as NULL rather than made up.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPTIONAL = {
    "customers": ("segment", "plan", "region", "language", "signup_at", "lifetime_value"),
    "agents": ("team", "shift_start", "shift_hours", "work_days", "hired_at"),
}


def upgrade() -> None:
    for table, columns in OPTIONAL.items():
        for column in columns:
            op.execute(f"ALTER TABLE raw.{table} ALTER COLUMN {column} DROP NOT NULL")
    op.execute("COMMENT ON COLUMN raw.agents.shift_start IS 'start of the shift, UTC; NULL when unknown'")


def downgrade() -> None:
    for table, columns in OPTIONAL.items():
        for column in columns:
            op.execute(f"ALTER TABLE raw.{table} ALTER COLUMN {column} SET NOT NULL")
    op.execute("COMMENT ON COLUMN raw.agents.shift_start IS 'local start of the shift, UTC'")
