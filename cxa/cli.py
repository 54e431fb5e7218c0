"""The `cxa` command: one surface for the stack, the database, the worker, producers and demo."""

import json
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import typer

from batch.cli import app as batch_app
from connectors.cli import connector_app, ingest_app, reference_app
from cxa import db, events
from cxa.children import STOP_SIGNALS, Child, ChildProcesses
from cxa.kafka import ensure_topics, group_lag
from cxa.settings import DatabaseSettings, KafkaSettings, StackSettings
from cxa.stack import KafkaBroker, PostgresCluster, StackError
from cxa.topics import SOURCE_TOPICS
from dash_app.cli import app as dashboard_app
from dash_app.cli import dashboard_url
from producers.cli import app as produce_app
from producers.cli import replay_file, simulate_app
from stream_processors.categorizer.cli import app as categorizer_app
from stream_processors.cli import worker, worker_group
from stream_processors.ingest.deadletter_cli import app as deadletter_app

app = typer.Typer(
    help="cxa: real-time customer-experience analytics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
stack_app = typer.Typer(
    help="The local development stack: Kafka and PostgreSQL, no Docker.", no_args_is_help=True
)
events_app = typer.Typer(help="Event contracts.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(events_app, name="events")
app.add_typer(produce_app, name="produce")
app.add_typer(simulate_app, name="simulate")
app.command("replay")(replay_file)
app.add_typer(categorizer_app, name="categorizer")
app.command("worker")(worker)
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(batch_app, name="batch")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(ingest_app, name="ingest")
app.add_typer(connector_app, name="connector")
app.add_typer(reference_app, name="reference")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug detail.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def local_stack(settings: StackSettings) -> tuple[KafkaBroker, PostgresCluster]:
    broker = KafkaBroker(
        home=settings.stack_dir / "kafka",
        cache_dir=settings.cache_dir,
        version=settings.kafka_version,
        port=settings.kafka_port,
        controller_port=settings.kafka_controller_port,
        heap=settings.kafka_heap,
    )
    postgres = PostgresCluster(
        home=settings.stack_dir,
        bin_dir=settings.postgres_bin_dir,
        port=settings.postgres_port,
        user=settings.postgres_user,
        database=settings.postgres_db,
    )
    return broker, postgres


@stack_app.command("up")
def stack_up() -> None:
    """Start Kafka and PostgreSQL (a no-op for whatever already runs) and wait until healthy."""
    broker, postgres = local_stack(StackSettings())
    try:
        started = broker.start()
        typer.echo(f"kafka     {'started' if started else 'already running'} on {broker.bootstrap_servers}")
        started = postgres.start()
        typer.echo(f"postgres  {'started' if started else 'already running'} at {postgres.url}")
    except StackError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"\nKAFKA_BOOTSTRAP_SERVERS={broker.bootstrap_servers}\nDATABASE_URL={postgres.url}")


@stack_app.command("down")
def stack_down() -> None:
    """Stop the Kafka and PostgreSQL that `cxa stack up` started (and nothing else)."""
    broker, postgres = local_stack(StackSettings())
    try:
        typer.echo(f"kafka     {'stopped' if broker.stop() else 'was not running'}")
        typer.echo(f"postgres  {'stopped' if postgres.stop() else 'was not running'}")
    except StackError as exc:
        raise fail(str(exc)) from exc


@stack_app.command("status")
def stack_status() -> None:
    """Say whether the local Kafka and PostgreSQL run and answer; exit 1 if either does not."""
    broker, postgres = local_stack(StackSettings())
    kafka_ok = broker.pid() is not None and broker.is_healthy()
    postgres_ok = postgres.is_running() and postgres.is_healthy()
    typer.echo(f"kafka     {'healthy' if kafka_ok else 'down'} ({broker.bootstrap_servers})")
    typer.echo(f"postgres  {'healthy' if postgres_ok else 'down'} ({postgres.url})")
    if not (kafka_ok and postgres_ok):
        raise typer.Exit(code=1)


@app.command("migrate")
def migrate() -> None:
    """Apply the database migrations (schemas raw, live, app and roles) and create the topics."""
    database = DatabaseSettings()
    kafka = KafkaSettings()
    try:
        db.migrate(database.url)
    except Exception as exc:
        raise fail(
            f"migrating {database.url} failed: {exc}\n"
            "Is PostgreSQL up (`cxa stack up`) and DATABASE_URL right?"
        ) from exc
    typer.echo(f"database  at revision {db.current_revision(database.url)}")
    try:
        created = ensure_topics(kafka)
    except Exception as exc:
        raise fail(
            f"creating topics on {kafka.bootstrap_servers} failed: {exc}\n"
            "Is Kafka up (`cxa stack up`) and KAFKA_BOOTSTRAP_SERVERS right?"
        ) from exc
    typer.echo(f"topics    {'created ' + ', '.join(created) if created else 'all present'}")


@events_app.command("schema")
def events_schema(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
) -> None:
    """Export the JSON Schema of every event (for the teams who publish them)."""
    text = json.dumps(events.json_schema(), indent=2, sort_keys=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(f"wrote {out}")


def _wait_for_worker(group: str, label: str, worker: Child, log: Path) -> None:
    """Wait until the worker has consumed every source event published so far, saying so; fail
    naming its log if it ends meanwhile."""
    kafka = KafkaSettings()
    started = time.monotonic()
    while (lag := group_lag(kafka, group, *SOURCE_TOPICS)) > 0:
        if worker.process.poll() is not None:
            raise fail(f"the worker stopped (exit code {worker.process.returncode}): see {log}")
        typer.echo(f"\r{label}: {lag:,} events to go ({time.monotonic() - started:.0f} s)", nl=False)
        time.sleep(2)
    typer.echo(f"\r{label}: done in {time.monotonic() - started:.0f} s" + " " * 20)


def _demo_credentials(cxa: list[str], children: ChildProcesses) -> tuple[str, dict[str, str]]:
    """One password for the demo's manager, analyst and admin users, made on first start and kept
    (with the dashboard's session key) in the stack folder, readable by you alone."""
    path = StackSettings().stack_dir / "demo-credentials.json"
    if path.exists():
        saved = json.loads(path.read_text())
    else:
        saved = {"password": secrets.token_urlsafe(9), "secret_key": secrets.token_hex(32)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(saved))
        for role in ("manager", "analyst", "admin"):
            children.run(
                [*cxa, "dashboard", "create-user", role, "--role", role],
                env={**os.environ, "CXA_DASHBOARD_PASSWORD": saved["password"]},
            )
    return saved["password"], {**os.environ, "CXA_DASHBOARD_SECRET_KEY": saved["secret_key"]}


@app.command("demo")
def demo(
    history_days: int = typer.Option(60, min=1, help="Days of history to backfill on first start."),
    speed: float = typer.Option(20, min=0.1, help="Live simulation speed (simulated s per s)."),
    stack: bool = typer.Option(
        True,
        "--stack/--no-stack",
        help="Start the local stack first; --no-stack uses the Kafka and PostgreSQL that "
        "KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL name, as they are.",
    ),
) -> None:
    """Run the whole platform locally until Ctrl-C: stack, migrations, worker, a history backfill
    and one nightly batch run (first start only), the dashboard, then the live simulator. Ctrl-C,
    SIGTERM or SIGHUP stop every process the demo started (the stack keeps running)."""
    # `kill` and service managers stop with SIGTERM, a closed terminal with SIGHUP: unwind as for
    # Ctrl-C (exit status 128 + the signal's number), leaving no process behind.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    # A background job of a script starts with Ctrl-C ignored (and Python then leaves it so):
    # `kill -INT` must stop the demo all the same.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cxa = [sys.executable, "-m", "cxa"]
    children = ChildProcesses()
    try:
        if stack:
            stack_up()
        migrate()
        # Faster than real time, the live simulation dates its events ahead of the wall clock: by
        # (speed - 1) s a second. Let the worker accept a year of that unless told otherwise.
        worker_env = {
            "CXA_WORKER_MAX_CLOCK_SKEW_SECONDS": str(
                min(max(300, round((speed - 1) * 365 * 86400)), round(events.LONGEST_AHEAD.total_seconds()))
            ),
            **os.environ,
        }
        # The worker (and the dashboard) get SIGTERM, as from a service manager; the others the
        # Ctrl-C they expect.
        # The worker's log (Faust's and Kafka clients' warnings among it) goes to a file: the
        # console keeps to the demo's own progress.
        worker_log = StackSettings().stack_dir / "logs" / "worker.log"
        worker = children.start(
            [*cxa, "worker", "--log-level", "warning", "--log-file", str(worker_log)],
            env=worker_env,
            stop_signal=signal.SIGTERM,
            grace_seconds=20,
        )
        typer.echo(f"worker    started, logging to {worker_log}")
        with db.connect(DatabaseSettings().url) as conn:
            has_history = conn.execute("SELECT EXISTS (SELECT 1 FROM raw.ticket_events)").fetchone()
        if has_history and has_history[0]:
            typer.echo("history already present: skipping the backfill and the first nightly run")
        else:
            children.run([*cxa, "simulate", "backfill", "--days", str(history_days), "--until-now"])
            _wait_for_worker(worker_group(), "worker catching up on the history", worker, worker_log)
            if children.run([*cxa, "batch", "nightly"], check=False) != 0:
                typer.secho(
                    "the nightly batch failed (see above); the live demo goes on without marts",
                    fg=typer.colors.YELLOW,
                    err=True,
                )
        password, dashboard_env = _demo_credentials(cxa, children)
        children.start([*cxa, "dashboard", "serve"], env=dashboard_env, stop_signal=signal.SIGTERM)
        typer.secho(
            f"\ndashboard: {dashboard_url()}  users: manager, analyst, admin  password: {password}\n"
            f"live simulation at {speed:g}x; Ctrl-C stops (`make stop` ends the stack)\n",
            bold=True,
        )
        children.run([*cxa, "simulate", "live", "--speed", str(speed)])
    except KeyboardInterrupt:
        pass  # Ctrl-C is how the demo ends
    finally:
        # A second Ctrl-C must not cut the stop short (it ends in bounded time anyway).
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        children.stop()
