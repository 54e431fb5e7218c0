"""The dashboard's users, login attempts (for rate limiting) and audit log in schema app.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE app.users (
            username       text PRIMARY KEY CHECK (username ~ '^[a-z0-9_.-]{2,64}$'),
            password_hash  text        NOT NULL,
            role           text        NOT NULL CHECK (role IN ('manager', 'analyst', 'admin')),
            created_at     timestamptz NOT NULL DEFAULT now(),
            is_disabled    boolean     NOT NULL DEFAULT false
        )
        """
    )
    op.execute(
        """
        CREATE TABLE app.login_attempts (
            attempt_id     bigserial PRIMARY KEY,
            username       text        NOT NULL,
            ip             text        NOT NULL,
            attempted_at   timestamptz NOT NULL DEFAULT now(),
            is_success     boolean     NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX login_attempts_username_idx ON app.login_attempts (username, attempted_at)")
    op.execute("CREATE INDEX login_attempts_ip_idx ON app.login_attempts (ip, attempted_at)")
    op.execute(
        """
        CREATE TABLE app.audit_log (
            audit_id       bigserial PRIMARY KEY,
            occurred_at    timestamptz NOT NULL DEFAULT now(),
            username       text        NOT NULL,
            action         text        NOT NULL
                CHECK (action IN ('login_success', 'login_failure', 'login_locked', 'logout',
                                  'export', 'page', 'forbidden')),
            detail         text        NOT NULL DEFAULT '',
            ip             text        NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX audit_log_time_idx ON app.audit_log (occurred_at DESC)")
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO cxa_dashboard")
    op.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO cxa_dashboard")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA live TO cxa_dashboard")


def downgrade() -> None:
    op.execute("DROP TABLE app.audit_log")
    op.execute("DROP TABLE app.login_attempts")
    op.execute("DROP TABLE app.users")
