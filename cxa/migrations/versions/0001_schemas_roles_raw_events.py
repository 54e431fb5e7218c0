"""Schemas raw, live, app; the platform's roles; raw ticket and agent events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Group roles (NOLOGIN): deployments create login users and grant them one of these.
ROLES = ("cxa_writer", "cxa_transformer", "cxa_analyst", "cxa_dashboard")


def upgrade() -> None:
    for role in ROLES:
        # Roles are cluster-wide: another database of the same cluster may have made them already.
        op.execute(
            f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )

    op.execute("CREATE SCHEMA raw")
    op.execute("CREATE SCHEMA live")
    op.execute("CREATE SCHEMA app")
    # dbt owns these: they exist empty so that grants and default privileges can be set once.
    for schema in ("staging", "intermediate", "marts"):
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION cxa_transformer")

    op.execute(
        """
        CREATE TABLE raw.ticket_events (
            event_id        uuid PRIMARY KEY,
            event_type      text        NOT NULL,
            schema_version  smallint    NOT NULL,
            ticket_id       text        NOT NULL,
            occurred_at     timestamptz NOT NULL,
            payload         jsonb       NOT NULL,
            kafka_partition integer,
            kafka_offset    bigint,
            ingested_at     timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ticket_events_ticket_idx ON raw.ticket_events (ticket_id, occurred_at)")
    op.execute("CREATE INDEX ticket_events_type_idx ON raw.ticket_events (event_type, occurred_at)")
    op.execute(
        """
        CREATE TABLE raw.agent_events (
            event_id        uuid PRIMARY KEY,
            event_type      text        NOT NULL,
            schema_version  smallint    NOT NULL,
            agent_id        text        NOT NULL,
            occurred_at     timestamptz NOT NULL,
            payload         jsonb       NOT NULL,
            kafka_partition integer,
            kafka_offset    bigint,
            ingested_at     timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX agent_events_agent_idx ON raw.agent_events (agent_id, occurred_at)")

    # writer: the stream sink and loaders
    op.execute("GRANT USAGE ON SCHEMA raw, live TO cxa_writer")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA raw, live TO cxa_writer")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA raw, live "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cxa_writer"
    )
    # transformer: dbt and batch read raw and build staging/intermediate/marts
    op.execute("GRANT USAGE ON SCHEMA raw TO cxa_transformer")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA raw TO cxa_transformer")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA raw GRANT SELECT ON TABLES TO cxa_transformer")
    # analyst: read-only on marts; dashboard: live + marts + its own app schema
    op.execute("GRANT USAGE ON SCHEMA marts TO cxa_analyst, cxa_dashboard")
    op.execute(
        "ALTER DEFAULT PRIVILEGES FOR ROLE cxa_transformer IN SCHEMA marts "
        "GRANT SELECT ON TABLES TO cxa_analyst, cxa_dashboard"
    )
    op.execute("GRANT USAGE ON SCHEMA live, app TO cxa_dashboard")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA live GRANT SELECT ON TABLES TO cxa_dashboard")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA app "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cxa_dashboard"
    )


def downgrade() -> None:
    # Roles stay: they are cluster-wide and other databases may use them.
    op.execute("DROP SCHEMA raw CASCADE")
    op.execute("DROP SCHEMA live CASCADE")
    op.execute("DROP SCHEMA app CASCADE")
