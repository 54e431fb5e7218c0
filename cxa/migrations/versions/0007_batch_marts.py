"""The nightly job's output tables: forecasts, backtests, staffing and the shift plan.

Owned here (dbt owns the marts it builds; these the Python job writes). ``IF NOT EXISTS``, because
databases of earlier versions have them already, created by the job itself.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = (
    "ticket_volume_forecast",
    "forecast_backtest",
    "staffing_requirements",
    "staffing_gap",
    "shift_plan",
)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS marts.ticket_volume_forecast (
            run_date        date        NOT NULL,
            run_at          timestamptz NOT NULL,
            model_version   text        NOT NULL,
            method          text        NOT NULL,
            queue_type      text        NOT NULL,
            queue           text        NOT NULL,
            grain           text        NOT NULL,
            period_at       timestamptz NOT NULL,
            yhat            double precision NOT NULL,
            yhat_lower      double precision NOT NULL,
            yhat_upper      double precision NOT NULL,
            interval_width  double precision NOT NULL,
            PRIMARY KEY (run_date, queue_type, queue, grain, period_at)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS marts.forecast_backtest (
            run_date        date        NOT NULL,
            run_at          timestamptz NOT NULL,
            model_version   text        NOT NULL,
            queue_type      text        NOT NULL,
            queue           text        NOT NULL,
            grain           text        NOT NULL,
            method          text        NOT NULL,
            horizon         integer     NOT NULL,
            folds           integer     NOT NULL,
            points          integer     NOT NULL,
            mape            double precision,
            mase            double precision NOT NULL,
            coverage        double precision NOT NULL,
            beats_baseline  boolean     NOT NULL,
            PRIMARY KEY (run_date, queue_type, queue, grain, method)
        )
        """
    )
    # The grain is spelt as cxa.marts.ForecastGrain spells it; anything else is refused on write.
    for table in ("ticket_volume_forecast", "forecast_backtest"):
        op.execute(f"ALTER TABLE marts.{table} DROP CONSTRAINT IF EXISTS {table}_grain_check")
        op.execute(
            f"ALTER TABLE marts.{table} ADD CONSTRAINT {table}_grain_check CHECK (grain IN ('hour', 'day'))"
        )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS marts.staffing_requirements (
            run_date                date        NOT NULL,
            run_at                  timestamptz NOT NULL,
            channel                 text        NOT NULL,
            period_at               timestamptz NOT NULL,
            model                   text        NOT NULL,
            forecast_arrivals       double precision NOT NULL,
            aht_seconds             double precision NOT NULL,
            workload_erlangs        double precision NOT NULL,
            agents_on_queue         integer     NOT NULL,
            agents_required         integer     NOT NULL,
            expected_service_level  double precision,
            expected_wait_seconds   double precision,
            expected_occupancy      double precision NOT NULL,
            PRIMARY KEY (run_date, channel, period_at)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS marts.staffing_gap (
            run_date          date        NOT NULL,
            run_at            timestamptz NOT NULL,
            period_at         timestamptz NOT NULL,
            hour_of_week      integer     NOT NULL,
            agents_required   integer     NOT NULL,
            agents_scheduled  integer     NOT NULL,
            agents_planned    integer     NOT NULL,
            gap               integer     NOT NULL,
            PRIMARY KEY (run_date, period_at)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS marts.shift_plan (
            run_date          date        NOT NULL,
            run_at            timestamptz NOT NULL,
            hour_of_week      integer     NOT NULL,
            shift_starts      integer     NOT NULL,
            agents_on_shift   integer     NOT NULL,
            agents_required   integer     NOT NULL,
            shift_hours       integer     NOT NULL,
            total_cost        double precision NOT NULL,
            solver_status     text        NOT NULL,
            PRIMARY KEY (run_date, hour_of_week)
        )
        """
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON marts.{table} TO cxa_transformer")
        op.execute(f"GRANT SELECT ON marts.{table} TO cxa_analyst, cxa_dashboard")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS marts.{table}")
