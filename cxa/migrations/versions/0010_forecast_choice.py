"""Forecasts chosen by backtest: which method each series and grain got, why, and what it cost.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE marts.forecast_backtest"
        " ADD COLUMN is_chosen boolean NOT NULL DEFAULT false,"
        " ADD COLUMN reason text,"
        " ADD COLUMN fit_seconds double precision"
    )
    op.execute(
        "COMMENT ON COLUMN marts.forecast_backtest.is_chosen IS "
        "'the method this run forecast the series and grain with'"
    )
    op.execute(
        "COMMENT ON COLUMN marts.forecast_backtest.reason IS 'why it was chosen (on the chosen row only)'"
    )
    op.execute(
        "COMMENT ON COLUMN marts.forecast_backtest.fit_seconds IS 'mean seconds to fit and forecast once'"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE marts.forecast_backtest"
        " DROP COLUMN is_chosen, DROP COLUMN reason, DROP COLUMN fit_seconds"
    )
