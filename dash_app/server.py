"""The dashboard's app factory: Flask login and the guard on every route, then the Dash pages."""

import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dash
import flask
from dash import dcc, html
from psycopg_pool import ConnectionPool
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from cxa.db import libpq_url
from dash_app.access import EXTENSION, AppContext, SignedIn, client_ip, context, session_user
from dash_app.accounts import Accounts, LoginOutcome, policy_from
from dash_app.permissions import can_open, can_run_callback, home_path, page_for_path, visible_pages
from dash_app.settings import DashboardSettings
from dash_app.warehouse import MissingTable, Warehouse

log = logging.getLogger(__name__)

PUBLIC_PATHS = ("/login", "/_favicon.ico", "/favicon.ico")
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
SAFE_TARGET = re.compile(r"/[\w\-/]*")

LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>cxa · sign in</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body"><form method="post" action="/login" class="login-form" id="login-form">
<h1>cxa</h1>
{% if error %}<p class="login-error" id="login-error">{{ error }}</p>{% endif %}
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label>Username <input id="username" name="username" autocomplete="username" required autofocus></label>
<label>Password <input id="password" name="password" type="password"
  autocomplete="current-password" required></label>
<button id="login-submit" type="submit">Sign in</button>
</form></body></html>"""

FORBIDDEN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>403</title>
<link rel="stylesheet" href="/assets/style.css"></head><body class="login-body">
<div class="login-form" id="forbidden"><h1>403 — forbidden</h1><p>Your role ({{ role }}) may not open
{{ path }}.</p><p><a href="{{ home }}">Back</a> · <a href="/logout">Sign out</a></p></div></body></html>"""


def create_app(settings: DashboardSettings, database_url: str) -> dash.Dash:
    """Build the app: opens a small connection pool (closed when the process ends)."""
    server = flask.Flask(__name__)
    if settings.secret_key is None:
        log.warning(
            "CXA_DASHBOARD_SECRET_KEY is not set: using a random key; sessions will not survive a restart"
        )
        server.secret_key = secrets.token_hex(32)
    else:
        server.secret_key = settings.secret_key.get_secret_value()
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
    )
    if settings.proxy_hops:
        hops = settings.proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)  # type: ignore[method-assign]
    pool = ConnectionPool(
        libpq_url(database_url), min_size=1, max_size=8, open=True, kwargs={"autocommit": True}
    )
    policy = policy_from(
        settings.login_max_failures, settings.login_window_minutes, settings.login_lockout_minutes
    )
    server.extensions[EXTENSION] = AppContext(settings, Warehouse(pool), Accounts(pool, policy))
    server.before_request(guard)
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout)

    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder=str(Path(__file__).with_name("pages")),
        assets_folder=str(Path(__file__).with_name("assets")),
        suppress_callback_exceptions=True,
        title="cxa",
        update_title=None,  # type: ignore[arg-type]
        on_error=show_missing_table,
    )
    app.layout = shell
    return app


def shell() -> html.Div:
    """The frame around every page: navigation for the user's role, then the page."""
    user = flask.g.get("cxa_user")
    links: list[Any] = []
    if isinstance(user, SignedIn):
        links = [
            dcc.Link(page.title, href=page.path, className="nav-link", id=f"nav-{page.prefix}")
            for page in visible_pages(user.role)
        ]
        links.append(html.Span(f"{user.username} ({user.role.value})", className="nav-user"))
        links.append(html.A("Sign out", href="/logout", className="nav-link", id="nav-logout"))
    banner = html.Div(id="data-error", className="data-error", style={"display": "none"})
    return html.Div([html.Nav(links, className="nav"), banner, dash.page_container], className="shell")


def show_missing_table(exc: Exception) -> Any:
    """Callback errors: a missing table is shown to the user with its fix (the page, or a banner
    above it); anything else is raised as before."""
    if not isinstance(exc, MissingTable):
        raise exc
    log.error("dashboard: %s", exc)
    message = f"Data unavailable: {exc}. Reload the page once done."
    outputs = dash.callback_context.outputs_list
    specs = outputs if isinstance(outputs, list) else [outputs]
    if any(isinstance(spec, dict) and spec.get("id") == "_pages_content" for spec in specs):
        # The page's own layout failed: the page is the error.
        error_page = html.Div(
            [html.H1("Data unavailable"), html.P(str(exc))], id="data-error-page", className="data-error-page"
        )
        return [error_page if spec.get("id") == "_pages_content" else dash.no_update for spec in specs]
    dash.set_props("data-error", {"children": message, "style": {"display": "block"}})
    return None


def guard() -> Response | tuple[Any, int] | None:
    """Runs before every request: only the login page and static assets are public."""
    path = flask.request.path
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    user = session_user()
    if user is None:
        if path.startswith("/_"):
            return flask.jsonify(error="not signed in"), 401
        return flask.redirect(flask.url_for("login", next=path))
    flask.g.cxa_user = user
    if path.endswith("/_dash-update-component"):
        return _guard_callback(user)
    if path.startswith("/_"):
        return None
    if path == "/" and not can_open(user.role, path):
        return flask.redirect(home_path(user.role))
    if page_for_path(path) is not None and not can_open(user.role, path):
        context().accounts.audit(user.username, "forbidden", client_ip(), path)
        html_text = flask.render_template_string(
            FORBIDDEN_PAGE, role=user.role.value, path=path, home=home_path(user.role)
        )
        return flask.make_response(html_text, 403)
    return None


def _guard_callback(user: SignedIn) -> tuple[Any, int] | None:
    body = flask.request.get_json(silent=True) or {}
    output = str(body.get("output", ""))
    if "_pages_content" in output:
        for item in body.get("inputs", []):
            if isinstance(item, dict) and item.get("property") == "pathname":
                path = str(item.get("value") or "/")
                action = "page" if can_open(user.role, path) else "forbidden"
                context().accounts.audit(user.username, action, client_ip(), path)
        return None
    if not can_run_callback(user.role, output):
        context().accounts.audit(user.username, "forbidden", client_ip(), f"callback {output[:200]}")
        return flask.jsonify(error="forbidden"), 403
    return None


def login() -> Response | str:
    ctx = context()
    error = ""
    if flask.request.method == "POST":
        form = flask.request.form
        signed_in = session_user()
        if signed_in is not None and signed_in.username == form.get("username", "").strip().lower():
            # This user's form sent twice (a double click, the back button): go on. Someone else
            # signing in on the same browser goes through the checks below.
            return flask.redirect(_safe_target(form.get("next", "")))
        expected = flask.session.get("csrf")
        if not expected or not secrets.compare_digest(str(expected), form.get("csrf", "")):
            error = "The form expired; please try again."
        else:
            username = form.get("username", "").strip().lower()
            result = ctx.accounts.authenticate(username, form.get("password", ""), client_ip())
            if result.outcome is LoginOutcome.SUCCESS and result.user is not None:
                flask.session.clear()
                flask.session.permanent = True
                flask.session.update(
                    username=result.user.username,
                    role=result.user.role.value,
                    login_at=datetime.now(UTC).isoformat(),
                )
                return flask.redirect(_safe_target(form.get("next", "")))
            if result.outcome is LoginOutcome.LOCKED:
                error = "Too many failed sign-ins: try again later."
            else:
                error = "Wrong username or password."
    flask.session["csrf"] = secrets.token_urlsafe(24)
    return flask.render_template_string(
        LOGIN_PAGE, error=error, csrf=flask.session["csrf"], next=flask.request.values.get("next", "/")
    )


def _safe_target(target: str) -> str:
    """Where a sign-in goes next: a plain path on this site, never another host (browsers read
    `/\\host` and `/<tab>/host` as `//host`, so only letters, digits, `_`, `-` and `/` pass)."""
    return target if SAFE_TARGET.fullmatch(target) and not target.startswith("//") else "/"


def logout() -> Response:
    user = session_user()
    if user is not None:
        context().accounts.audit(user.username, "logout", client_ip())
    flask.session.clear()
    return flask.redirect(flask.url_for("login"))
