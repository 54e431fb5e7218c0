"""The Airflow DAG, loaded and run by a real Airflow installed in its own environment.

Airflow is large and pins its own dependencies, so it lives outside the project's environment:
``python3 -m uv venv --python 3.11 .cache/airflow-venv`` then
``python3 -m uv pip install --python .cache/airflow-venv/bin/python "apache-airflow==2.11.2"``
(or point CXA_AIRFLOW_PYTHON at another Airflow's Python). Without it these tests are skipped.
"""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from cxa import db
from tests.fixtures.history import generate_history
from tests.fixtures.raw_loader import load_history

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "deploy" / "airflow"
AIRFLOW_PYTHON = Path(
    os.environ.get("CXA_AIRFLOW_PYTHON", ROOT / ".cache" / "airflow-venv" / "bin" / "python")
)

needs_airflow = pytest.mark.skipif(
    not AIRFLOW_PYTHON.exists(),
    reason=f"no Airflow environment at {AIRFLOW_PYTHON} (see this module's docstring)",
)

INSPECT = """
import json, sys
from airflow.models import DagBag
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
dag = bag.dags["cxa_nightly"]
print(json.dumps({
    "errors": {path: str(error) for path, error in bag.import_errors.items()},
    "tasks": [task.task_id for task in dag.topological_sort()],
    "downstream": {task.task_id: sorted(task.downstream_task_ids) for task in dag.tasks},
    "commands": {task.task_id: task.bash_command for task in dag.tasks},
    "schedule": str(dag.schedule_interval),
    "reforecast": {
        "schedule": str(bag.dags["cxa_reforecast"].schedule_interval),
        "commands": [task.bash_command for task in bag.dags["cxa_reforecast"].tasks],
    },
}))
"""


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "false",
        **extra,
    }


@needs_airflow
def test_airflow_loads_the_dag_with_the_nightly_steps_in_order(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", INSPECT, str(DAGS)],
        env=airflow_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    dag = json.loads(result.stdout.strip().splitlines()[-1])
    assert dag["errors"] == {}
    assert dag["tasks"] == ["dbt", "forecasts", "staffing"]
    assert dag["downstream"] == {"dbt": ["forecasts"], "forecasts": ["staffing"], "staffing": []}
    for step, command in dag["commands"].items():
        assert f"batch nightly --steps {step} --as-of" in command
    assert dag["schedule"] == "30 2 * * *"
    assert dag["reforecast"] == {
        "schedule": "*/15 * * * *",
        "commands": ["cxa batch reforecast --as-of '{{ data_interval_end.isoformat() }}'"],
    }


@needs_airflow
def test_airflow_runs_the_dag_against_the_database(database_url: str, tmp_path: Path) -> None:
    load_history(database_url, generate_history(date(2026, 1, 1), 21, 20, seed=9))
    env = airflow_env(
        tmp_path / "airflow",
        CXA_COMMAND=str(Path(sys.executable).with_name("cxa")),
        DATABASE_URL=database_url,
        CXA_DBT_TARGET_DIR=str(tmp_path / "dbt"),
        CXA_FORECAST_SAMPLES="50",
    )
    airflow = str(AIRFLOW_PYTHON.with_name("airflow"))
    migrated = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    run = subprocess.run(
        [airflow, "dags", "test", "cxa_nightly", "2026-01-21"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    for step in ("dbt", "forecasts", "staffing"):
        assert f"task_id={step}" in output
    assert "state=success" in output
    with db.connect(database_url) as conn:
        staffed = conn.execute("SELECT count(*) FROM marts.shift_plan").fetchone()
        forecast_rows = conn.execute("SELECT count(*) FROM marts.ticket_volume_forecast").fetchone()
    assert staffed == (168,)
    assert forecast_rows is not None
    assert forecast_rows[0] > 0
