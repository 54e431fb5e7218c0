"""Airflow DAGs: the cxa nightly job as three tasks, dbt -> forecasts -> staffing; and the intraday
reforecast every 15 minutes.

Each nightly task runs the same step as `cxa batch nightly` (`cxa batch nightly --steps <step>`),
measured at the end of the run's data interval, so a backfilled or re-run date rebuilds that date's
rows. The reforecast runs `cxa batch reforecast` as of the end of its 15 minutes.
The workers need the cxa package installed (the cxa image) and DATABASE_URL in their environment;
CXA_COMMAND names the executable if it is not `cxa` on the PATH.
"""

import os
from datetime import UTC, datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

CXA = os.environ.get("CXA_COMMAND", "cxa")
STEPS = ("dbt", "forecasts", "staffing")
AS_OF = "{{ data_interval_end.isoformat() }}"
# Both DAGs: no catch-up of missed runs, one run at a time.
COMMON = {
    "start_date": datetime(2026, 1, 1, tzinfo=UTC),
    "catchup": False,
    "max_active_runs": 1,
    "tags": ["cxa", "batch"],
}

with DAG(
    dag_id="cxa_nightly",
    description="dbt build, then forecasts with backtests, then staffing recommendations",
    schedule="30 2 * * *",
    default_args={"retries": 1, "retry_delay": timedelta(minutes=5)},
    **COMMON,
) as dag:
    previous = None
    for step in STEPS:
        task = BashOperator(
            task_id=step,
            bash_command=f"{CXA} batch nightly --steps {step} --as-of '{AS_OF}'",
            execution_timeout=timedelta(minutes=30),
        )
        if previous is not None:
            previous >> task
        previous = task

with DAG(
    dag_id="cxa_reforecast",
    description="the rest of today's forecast per channel, revised from today's arrivals so far",
    schedule="*/15 * * * *",
    **COMMON,
) as reforecast_dag:
    BashOperator(
        task_id="reforecast",
        bash_command=f"{CXA} batch reforecast --as-of '{AS_OF}'",
        execution_timeout=timedelta(minutes=5),
    )
