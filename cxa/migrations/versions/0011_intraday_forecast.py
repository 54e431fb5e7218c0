"""The rest of today's hourly forecast per channel, revised from today's arrivals so far, and the
agents each revised hour needs.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE marts.intraday_forecast (
            run_date         date        NOT NULL,
            run_at           timestamptz NOT NULL,
            channel          text        NOT NULL,
            period_at        timestamptz NOT NULL,
            yhat             double precision NOT NULL,
            yhat_lower       double precision NOT NULL,
            yhat_upper       double precision NOT NULL,
            nightly_yhat     double precision NOT NULL,
            ratio            double precision NOT NULL,
            arrivals_so_far  double precision NOT NULL,
            forecast_so_far  double precision NOT NULL,
            agents_required  integer     NOT NULL,
            PRIMARY KEY (run_date, channel, period_at)
        )
        """
    )
    op.execute(
        "COMMENT ON TABLE marts.intraday_forecast IS 'the latest revision of the rest of the day by "
        "cxa batch reforecast: hourly rates from the current hour to midnight UTC, the nightly rate "
        "times the day''s ratio of arrivals so far to forecast so far'"
    )
    op.execute("GRANT SELECT ON marts.intraday_forecast TO cxa_dashboard, cxa_analyst")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON marts.intraday_forecast TO cxa_transformer")


def downgrade() -> None:
    op.execute("DROP TABLE marts.intraday_forecast")
