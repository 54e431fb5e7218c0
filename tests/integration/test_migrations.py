"""Migrations on a real PostgreSQL: schemas, roles, keys; down and up again."""

import uuid
from datetime import UTC, datetime

import pytest
from psycopg.types.json import Jsonb

from cxa import db

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
