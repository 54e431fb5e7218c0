"""Migrations on a real PostgreSQL: schemas, roles, keys; down and up again."""

import uuid
from datetime import UTC, date, datetime

import psycopg
import pytest
from psycopg.types.json import Jsonb

from batch import store
from cxa import db
from cxa.marts import ForecastGrain

pytestmark = pytest.mark.integration


def test_migrations_create_schemas_roles_and_keyed_raw_events(database_url: str) -> None:
    with db.connect(database_url) as conn:
        schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}
        assert {"raw", "live", "app", "staging", "intermediate", "marts"} <= schemas
        roles = {row[0] for row in conn.execute("SELECT rolname FROM pg_roles")}
        assert {"cxa_writer", "cxa_transformer", "cxa_analyst", "cxa_dashboard"} <= roles
        key = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = 'raw.ticket_events'::regclass AND i.indisprimary"
        ).fetchall()
        assert key == [("event_id",)]
        event_id = uuid.uuid4()
        row = (event_id, "ticket.created", 1, "T1", datetime.now(UTC), Jsonb({}))
        insert = (
            "INSERT INTO raw.ticket_events (event_id, event_type, schema_version, ticket_id,"
            " occurred_at, payload) VALUES (%s, %s, %s, %s, %s, %s)"
        )
        conn.execute(insert, row)
        with pytest.raises(Exception, match="duplicate key"):
            conn.execute(insert, row)


def test_analyst_may_read_marts_but_not_raw(database_url: str) -> None:
    with db.connect(database_url, autocommit=True) as conn:
        privileges = conn.execute(
            "SELECT has_schema_privilege('cxa_analyst', 'marts', 'USAGE'),"
            " has_schema_privilege('cxa_analyst', 'raw', 'USAGE'),"
            " has_table_privilege('cxa_writer', 'raw.ticket_events', 'INSERT'),"
            " has_table_privilege('cxa_dashboard', 'raw.ticket_events', 'SELECT')"
        ).fetchone()
    assert privileges == (True, False, True, False)


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    db.migrate(database_url)  # a second upgrade is a no-op
    from alembic import command

    command.downgrade(db.alembic_config(database_url), "base")
    assert db.current_revision(database_url) is None
    db.migrate(database_url)
    assert db.current_revision(database_url) == db.head_revision()


def test_the_nightly_jobs_tables_take_only_the_grains_the_job_and_the_dashboard_share(
    database_url: str,
) -> None:
    forecast = (date(2026, 3, 2), datetime.now(UTC), "v1", "ensemble", "channel", "email")
    forecast_end = (datetime(2026, 3, 2, tzinfo=UTC), 1.0, 0.5, 1.5, 0.8)
    with db.connect(database_url) as conn:
        for grain in ForecastGrain:
            store.replace_rows(
                conn,
                "ticket_volume_forecast",
                store.FORECAST_COLUMNS,
                [(*forecast, grain, *forecast_end)],
                date(2026, 3, 2),
                scope={"grain": grain},
            )
        hourly = [(*forecast, "hourly", *forecast_end)]
        with pytest.raises(psycopg.errors.CheckViolation):
            store.replace_rows(
                conn, "ticket_volume_forecast", store.FORECAST_COLUMNS, hourly, date(2026, 3, 2)
            )
        conn.rollback()
        privileges = conn.execute(
            "SELECT has_table_privilege('cxa_transformer', 'marts.shift_plan', 'INSERT'),"
            " has_table_privilege('cxa_dashboard', 'marts.ticket_volume_forecast', 'SELECT'),"
            " has_table_privilege('cxa_analyst', 'marts.staffing_gap', 'SELECT')"
        ).fetchone()
    assert privileges == (True, True, True)


def test_the_nightly_job_names_the_fix_for_a_database_not_migrated(database_url: str) -> None:
    from alembic import command

    command.downgrade(db.alembic_config(database_url), "0011")
    with pytest.raises(
        RuntimeError, match=rf"at migration 0011, this version needs {db.head_revision()}: run `cxa migrate`"
    ):
        db.require_migrated(database_url)
    db.migrate(database_url)
    db.require_migrated(database_url)


def test_predictions_stored_before_0009_take_their_tickets_time(database_url: str) -> None:
    from alembic import command

    command.downgrade(db.alembic_config(database_url), "0008")
    created = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with db.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO raw.ticket_events (event_id, event_type, schema_version, ticket_id, occurred_at,"
            " payload) VALUES (gen_random_uuid(), 'ticket.created', 1, 'T-1', %s, '{}')",
            (created,),
        )
        for ticket in ("T-1", "T-unseen"):
            conn.execute(
                "INSERT INTO raw.ticket_categorizations (event_id, ticket_id, category, confidence, top,"
                " model_version, latency_ms, predicted_at) VALUES (gen_random_uuid(), %s, 'billing', 0.9,"
                " '[]', 'm1', 1, now())",
                (ticket,),
            )
        conn.commit()
    db.migrate(database_url)
    with db.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT ticket_id, ticket_created_at FROM raw.ticket_categorizations ORDER BY ticket_id"
        ).fetchall()
    assert rows == [("T-1", created), ("T-unseen", None)]
