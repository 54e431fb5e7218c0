"""The dashboard's account store on a real PostgreSQL: users, lockout, audit log."""

from datetime import UTC, datetime, timedelta

import pytest
from psycopg_pool import ConnectionPool

from cxa import db
from dash_app.accounts import Accounts, LoginOutcome, policy_from
from dash_app.permissions import Role

pytestmark = pytest.mark.integration


def test_login_lockout_and_audit(database_url):
    with ConnectionPool(
        db.libpq_url(database_url), min_size=1, max_size=2, kwargs={"autocommit": True}
    ) as pool:
        accounts = Accounts(pool, policy_from(3, 15, 15))
        accounts.create_user("ana", "a long enough secret", Role.ANALYST)
        now = datetime.now(UTC)
        ok = accounts.authenticate("ana", "a long enough secret", "10.0.0.1", now)
        assert ok.outcome is LoginOutcome.SUCCESS
        assert ok.user is not None
        assert ok.user.role is Role.ANALYST
        for i in range(3):
            refused = accounts.authenticate(
                "ana", "wrong password", "10.0.0.2", now + timedelta(seconds=1 + i)
            )
            assert refused.outcome is LoginOutcome.REFUSED
        locked = accounts.authenticate("ana", "a long enough secret", "10.0.0.3", now + timedelta(seconds=5))
        assert locked.outcome is LoginOutcome.LOCKED  # even the right password waits out the lock
        later = accounts.authenticate("ana", "a long enough secret", "10.0.0.3", now + timedelta(minutes=16))
        assert later.outcome is LoginOutcome.SUCCESS
        accounts.set_disabled("ana", True)
        disabled = accounts.authenticate(
            "ana", "a long enough secret", "10.0.0.3", now + timedelta(minutes=17)
        )
        assert disabled.outcome is LoginOutcome.REFUSED
        unknown = accounts.authenticate("nobody", "a long enough secret", "10.0.0.4", now)
        assert unknown.outcome is LoginOutcome.REFUSED
        actions = list(accounts.audit_log()["action"])
        assert actions.count("login_success") == 2
        assert "login_locked" in actions
        assert actions.count("login_failure") == 5
