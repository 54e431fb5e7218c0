"""The backtest's interval calibration beside each score: the factor the shipped interval was scaled
by and the coverage that scaling gets out of sample, so the marts show what the shipped band covers.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE marts.forecast_backtest"
        " ADD COLUMN interval_factor double precision,"
        " ADD COLUMN calibrated_coverage double precision"
    )
    op.execute(
        "COMMENT ON COLUMN marts.forecast_backtest.coverage IS "
        "'share of the backtest''s actuals inside the method''s own interval'"
    )
    op.execute(
        "COMMENT ON COLUMN marts.forecast_backtest.interval_factor IS "
        "'half-widths times this covered the configured share of the backtest''s actuals; the chosen "
        "method''s shipped interval is scaled by it, a lower bound at zero staying there (NULL: too few "
        "points, or no factor covers them; shipped as the method gives it)'"
    )
    op.execute(
        "COMMENT ON COLUMN marts.forecast_backtest.calibrated_coverage IS "
        "'each origin''s interval scaled by the factor of the other origins: what the shipped interval "
        "covers out of sample (NULL with one origin)'"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE marts.forecast_backtest DROP COLUMN interval_factor, DROP COLUMN calibrated_coverage"
    )
    op.execute("COMMENT ON COLUMN marts.forecast_backtest.coverage IS NULL")
