"""The live floor for the wall board, and routing decisions in raw.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE raw.routing_decisions (
            event_id     uuid PRIMARY KEY,
            ticket_id    text        NOT NULL,
            agent_id     text        NOT NULL,
            policy       text        NOT NULL,
            score        double precision NOT NULL,
            score_parts  jsonb       NOT NULL,
            solver_ms    double precision NOT NULL,
            reason       text        NOT NULL,
            decided_at   timestamptz NOT NULL,
            ingested_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX routing_decisions_ticket_idx ON raw.routing_decisions (ticket_id)")
    op.execute("CREATE INDEX routing_decisions_time_idx ON raw.routing_decisions (decided_at)")
    # One row: the floor's headline numbers, rewritten every second while events flow.
    op.execute(
        """
        CREATE TABLE live.floor_summary (
            floor_id              smallint PRIMARY KEY DEFAULT 1 CHECK (floor_id = 1),
            updated_at            timestamptz NOT NULL,
            last_event_at         timestamptz,
            waiting               integer     NOT NULL,
            backlog               integer     NOT NULL,
            oldest_waiting_at     timestamptz,
            arrivals_last_minute  integer     NOT NULL,
            arrivals_last_hour    integer     NOT NULL,
            at_risk               integer     NOT NULL,
            agents_online         integer     NOT NULL,
            agents_away           integer     NOT NULL,
            agents_offline        integer     NOT NULL,
            csat_positive_today   integer     NOT NULL,
            csat_total_today      integer     NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE live.queue_depth (
            category           text        NOT NULL,
            priority           text        NOT NULL,
            waiting            integer     NOT NULL,
            oldest_created_at  timestamptz NOT NULL,
            updated_at         timestamptz NOT NULL,
            PRIMARY KEY (category, priority)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE live.sla_at_risk (
            ticket_id     text PRIMARY KEY,
            priority      text        NOT NULL,
            category      text,
            channel       text        NOT NULL,
            agent_id      text,
            created_at    timestamptz NOT NULL,
            due_at        timestamptz NOT NULL,
            minutes_left  double precision NOT NULL,
            updated_at    timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE live.agent_load (
            agent_id       text PRIMARY KEY,
            status         text        NOT NULL,
            load           integer     NOT NULL,
            capacity       integer     NOT NULL,
            handled_today  integer     NOT NULL,
            updated_at     timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE live.routing_feed (
            event_id    uuid PRIMARY KEY,
            decided_at  timestamptz NOT NULL,
            ticket_id   text        NOT NULL,
            agent_id    text        NOT NULL,
            policy      text        NOT NULL,
            score       double precision NOT NULL,
            reason      text        NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX routing_feed_time_idx ON live.routing_feed (decided_at DESC)")


def downgrade() -> None:
    for table in (
        "live.routing_feed",
        "live.agent_load",
        "live.sla_at_risk",
        "live.queue_depth",
        "live.floor_summary",
        "raw.routing_decisions",
    ):
        op.execute(f"DROP TABLE {table}")
