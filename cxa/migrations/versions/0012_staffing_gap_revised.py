"""The nightly staffing gap with today's remaining hours revised by the intraday reforecast.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The hours the latest intraday revision covers take its agents (summed over channels, as the
    # nightly sums them); every other hour keeps the nightly's.
    op.execute(
        """
        CREATE VIEW marts.staffing_gap_revised AS
        WITH revision AS (
            SELECT period_at, sum(agents_required)::integer AS agents_required, max(run_at) AS revised_at
            FROM marts.intraday_forecast
            WHERE run_date = (SELECT max(run_date) FROM marts.intraday_forecast)
            GROUP BY period_at
        )
        SELECT g.run_date, g.period_at, g.hour_of_week,
               coalesce(r.agents_required, g.agents_required) AS agents_required,
               g.agents_required AS agents_required_nightly,
               g.agents_scheduled, g.agents_planned,
               coalesce(r.agents_required, g.agents_required) - g.agents_scheduled AS gap,
               r.revised_at
        FROM marts.staffing_gap g
        LEFT JOIN revision r USING (period_at)
        WHERE g.run_date = (SELECT max(run_date) FROM marts.staffing_gap)
        """
    )
    op.execute(
        "COMMENT ON VIEW marts.staffing_gap_revised IS 'the latest nightly staffing gap per hour, "
        "with the hours left today revised by cxa batch reforecast (revised_at is set on those)'"
    )
    op.execute("GRANT SELECT ON marts.staffing_gap_revised TO cxa_dashboard, cxa_analyst")


def downgrade() -> None:
    op.execute("DROP VIEW marts.staffing_gap_revised")
