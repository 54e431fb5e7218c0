"""Who is asking: the signed-in user from the Flask session, and the app's shared context."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import flask
from dash import html

from dash_app.accounts import Accounts
from dash_app.permissions import Role, can_open, page_for_path
from dash_app.settings import DashboardSettings
from dash_app.warehouse import Warehouse

EXTENSION = "cxa_dashboard"


@dataclass(frozen=True)
class AppContext:
    settings: DashboardSettings
    warehouse: Warehouse
    accounts: Accounts


@dataclass(frozen=True)
class SignedIn:
    username: str
    role: Role


def context() -> AppContext:
    value: AppContext = flask.current_app.extensions[EXTENSION]
    return value


def client_ip() -> str:
    """The client's address (ProxyFix has already applied trusted X-Forwarded-For)."""
    return flask.request.remote_addr or "unknown"


def session_user(now: datetime | None = None) -> SignedIn | None:
    """The signed-in user, or None when nobody is, the session expired or the user was disabled."""
    username, role, login_at = (flask.session.get(k) for k in ("username", "role", "login_at"))
    if not (isinstance(username, str) and isinstance(role, str) and isinstance(login_at, str)):
        return None
    ctx = context()
    now = now or datetime.now(UTC)
    if now - datetime.fromisoformat(login_at) > timedelta(minutes=ctx.settings.session_minutes):
        flask.session.clear()
        return None
    user = ctx.accounts.find_user(username)
    if user is None or user.is_disabled or user.role.value != role:
        flask.session.clear()
        return None
    return SignedIn(username, user.role)


def current_user() -> SignedIn:
    """The user of a request the guard has already let through."""
    user = flask.g.get("cxa_user")
    if not isinstance(user, SignedIn):
        raise PermissionError("not signed in")
    return user


def forbidden_layout(path: str) -> html.Div:
    page = page_for_path(path)
    name = page.title if page else path
    return html.Div(
        [html.H1("403 — forbidden"), html.P(f"Your role may not open {name}.")],
        id="forbidden",
        className="forbidden",
    )


def is_allowed(path: str) -> bool:
    user = flask.g.get("cxa_user")
    return isinstance(user, SignedIn) and can_open(user.role, path)


def audit(action: str, detail: str = "") -> None:
    user = current_user()
    context().accounts.audit(user.username, action, client_ip(), detail)
