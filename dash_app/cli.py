"""`cxa dashboard`: serve the dashboard, create its users."""

import os

import typer

from cxa.settings import DatabaseSettings
from dash_app.permissions import Role
from dash_app.settings import DashboardSettings

app = typer.Typer(help="The wall board and analytics pages (Dash).", no_args_is_help=True)

PASSWORD_ENV = "CXA_DASHBOARD_PASSWORD"


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="Address to bind (default CXA_DASHBOARD_HOST)."),
    port: int | None = typer.Option(None, help="Port (default CXA_DASHBOARD_PORT)."),
) -> None:
    """Serve the dashboard with waitress (a production WSGI server)."""
    from waitress import serve as serve_wsgi  # type: ignore[import-untyped]

    from dash_app.server import create_app

    settings = DashboardSettings()
    dash_app = create_app(settings, DatabaseSettings().url)
    bind_host, bind_port = host or settings.host, port or settings.port
    typer.echo(f"dashboard on http://{bind_host}:{bind_port}/")
    serve_wsgi(dash_app.server, host=bind_host, port=bind_port, threads=8)


@app.command("create-user")
def create_user(
    username: str = typer.Argument(..., help="Lower-case login name."),
    role: Role = typer.Option(..., "--role", help="manager, analyst or admin."),
) -> None:
    """Create a user, or reset its password and role.

    The password comes from CXA_DASHBOARD_PASSWORD or a prompt, never from the command line.
    """
    from psycopg_pool import ConnectionPool

    from cxa.db import libpq_url
    from dash_app.accounts import Accounts, policy_from

    password = os.environ.get(PASSWORD_ENV) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    settings = DashboardSettings()
    policy = policy_from(
        settings.login_max_failures, settings.login_window_minutes, settings.login_lockout_minutes
    )
    with ConnectionPool(
        libpq_url(DatabaseSettings().url), min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        try:
            Accounts(pool, policy).create_user(username.strip().lower(), password, role)
        except ValueError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from exc
    typer.echo(f"user {username.strip().lower()} ({role.value}) saved")


def dashboard_url() -> str:
    """Where `cxa dashboard serve` listens with the current settings."""
    settings = DashboardSettings()
    return f"http://{settings.host}:{settings.port}"
