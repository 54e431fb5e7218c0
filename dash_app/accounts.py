"""Users, login attempts and the audit log in PostgreSQL schema ``app``."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pandas as pd
from psycopg_pool import ConnectionPool

from dash_app.login_limits import LoginPolicy, locked_until
from dash_app.passwords import hash_password, verify_password
from dash_app.permissions import Role


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    REFUSED = "refused"
    LOCKED = "locked"


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    is_disabled: bool


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None
    locked_until: datetime | None = None


class Accounts:
    """The dashboard's account store; every method takes a connection from the pool."""

    def __init__(self, pool: ConnectionPool, policy: LoginPolicy) -> None:
        self._pool = pool
        self._policy = policy

    def create_user(self, username: str, password: str, role: Role) -> None:
        """Create the user, or set a new password and role when it exists (and enable it)."""
        password_hash = hash_password(password)
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO app.users (username, password_hash, role) VALUES (%s, %s, %s)"
                " ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
                " role = EXCLUDED.role, is_disabled = false",
                (username, password_hash, role.value),
            )

    def set_disabled(self, username: str, is_disabled: bool) -> None:
        with self._pool.connection() as conn:
            conn.execute("UPDATE app.users SET is_disabled = %s WHERE username = %s", (is_disabled, username))

    def find_user(self, username: str) -> User | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT username, role, is_disabled FROM app.users WHERE username = %s", (username,)
            ).fetchone()
        return None if row is None else User(row[0], Role(row[1]), row[2])

    def authenticate(self, username: str, password: str, ip: str, now: datetime | None = None) -> LoginResult:
        """Check the password unless the username or the address is locked; record the attempt."""
        now = now or datetime.now(UTC)
        until = self.locked_until(username, ip, now)
        if until is not None:
            self.audit(username, "login_locked", ip, f"locked until {until.isoformat(timespec='seconds')}")
            return LoginResult(LoginOutcome.LOCKED, locked_until=until)
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT password_hash, role, is_disabled FROM app.users WHERE username = %s", (username,)
            ).fetchone()
        matches = verify_password(row[0] if row else None, password)
        ok = matches and row is not None and not row[2]
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO app.login_attempts (username, ip, attempted_at, is_success)"
                " VALUES (%s, %s, %s, %s)",
                (username, ip, now, ok),
            )
        self.audit(username, "login_success" if ok else "login_failure", ip)
        if not ok or row is None:
            return LoginResult(LoginOutcome.REFUSED)
        return LoginResult(LoginOutcome.SUCCESS, User(username, Role(row[1]), False))

    def locked_until(self, username: str, ip: str, now: datetime) -> datetime | None:
        since = now - self._policy.window - self._policy.lockout
        ends = []
        for column, value in (("username", username), ("ip", ip)):
            with self._pool.connection() as conn:
                rows = conn.execute(
                    f"SELECT attempted_at FROM app.login_attempts WHERE {column} = %s AND attempted_at > %s"
                    " AND NOT is_success AND attempted_at > coalesce((SELECT max(attempted_at)"
                    f" FROM app.login_attempts WHERE {column} = %s AND is_success), '-infinity')",
                    (value, since, value),
                ).fetchall()
            end = locked_until([row[0] for row in rows], now, self._policy)
            if end is not None:
                ends.append(end)
        return max(ends) if ends else None

    def audit(self, username: str, action: str, ip: str, detail: str = "") -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO app.audit_log (username, action, detail, ip) VALUES (%s, %s, %s, %s)",
                (username, action, detail[:500], ip),
            )

    def users(self) -> pd.DataFrame:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT username, role, created_at, is_disabled FROM app.users ORDER BY username"
            ).fetchall()
        return pd.DataFrame(rows, columns=["username", "role", "created_at", "is_disabled"])

    def audit_log(self, limit: int = 200) -> pd.DataFrame:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT occurred_at, username, action, detail, ip FROM app.audit_log"
                " ORDER BY occurred_at DESC, audit_id DESC LIMIT %s",
                (limit,),
            ).fetchall()
        return pd.DataFrame(rows, columns=["occurred_at", "username", "action", "detail", "ip"])


def policy_from(max_failures: int, window_minutes: int, lockout_minutes: int) -> LoginPolicy:
    return LoginPolicy(max_failures, timedelta(minutes=window_minutes), timedelta(minutes=lockout_minutes))
