"""The dashboard's server on a real PostgreSQL, through Flask's test client: the guard on every way
in that a browser test does not take (no session, a forged form, another role's page or callback,
an expired session, a disabled user, an open redirect), and a missing table shown as an error."""

from datetime import UTC, datetime, timedelta

import flask
import pytest
from flask.testing import FlaskClient
from psycopg_pool import ConnectionPool

from cxa import db
from dash_app.accounts import Accounts, policy_from
from dash_app.permissions import PAGES, Role, home_path
from dash_app.server import create_app
from dash_app.settings import DashboardSettings
from dash_app.warehouse import MissingTable, Warehouse

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
FORECAST_CALLBACK = {"output": "forecast-chart.figure", "outputs": {}, "inputs": [], "changedPropIds": []}


@pytest.fixture
def server(database_url: str) -> flask.Flask:
    with ConnectionPool(
        db.libpq_url(database_url), min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        accounts = Accounts(pool, policy_from(5, 15, 15))
        for role in Role:
            accounts.create_user(role.value, PASSWORD, role)
    settings = DashboardSettings(CXA_DASHBOARD_SECRET_KEY="test-secret-key", CXA_DASHBOARD_SESSION_MINUTES=60)
    return create_app(settings, database_url).server


def _sign_in(client: FlaskClient, username: str, next_path: str = "/") -> str:
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf": csrf, "next": next_path}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def _audit(server: flask.Flask) -> list[tuple[str, str, str]]:
    accounts: Accounts = server.extensions["cxa_dashboard"].accounts
    log = accounts.audit_log()
    return list(zip(log["username"], log["action"], log["detail"], strict=True))


def test_nobody_signed_in_gets_the_login_page_or_a_401(server: flask.Flask) -> None:
    client = server.test_client()
    page = client.get("/forecast")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=/forecast"
    callback = client.post("/_dash-update-component", json=FORECAST_CALLBACK)
    assert callback.status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/login").status_code == 200  # the login page itself is public


def test_a_sign_in_without_the_forms_token_is_refused(server: flask.Flask) -> None:
    client = server.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 200
    assert "The form expired" in response.get_data(as_text=True)
    assert client.get("/admin").status_code == 302  # still not signed in


def test_each_role_opens_its_pages_only_and_refusals_are_audited(server: flask.Flask) -> None:
    analyst = server.test_client()
    assert _sign_in(analyst, "analyst", "/forecast") == "/forecast"
    assert analyst.get("/forecast").status_code == 200
    home = analyst.get("/")  # the wall board is the floor's: the analyst goes to their first page
    assert (home.status_code, home.headers["Location"]) == (302, "/volume")
    refused = analyst.get("/admin")
    assert refused.status_code == 403
    assert "403" in refused.get_data(as_text=True)

    manager = server.test_client()
    _sign_in(manager, "manager")
    assert manager.get("/").status_code == 200
    assert manager.get("/forecast").status_code == 403
    callback = manager.post("/_dash-update-component", json=FORECAST_CALLBACK)
    assert callback.status_code == 403
    assert callback.get_json() == {"error": "forbidden"}

    refusals = [(user, detail) for user, action, detail in _audit(server) if action == "forbidden"]
    assert ("analyst", "/admin") in refusals
    assert ("manager", "/forecast") in refusals
    assert ("manager", "callback forecast-chart.figure") in refusals


def test_an_expired_session_or_a_disabled_user_is_signed_out(server: flask.Flask) -> None:
    client = server.test_client()
    _sign_in(client, "admin")
    assert client.get("/admin").status_code == 200
    with client.session_transaction() as session:
        session["login_at"] = (datetime.now(UTC) - timedelta(minutes=61)).isoformat()
    assert client.get("/admin").headers["Location"] == "/login?next=/admin"

    _sign_in(client, "admin")
    accounts: Accounts = server.extensions["cxa_dashboard"].accounts
    accounts.set_disabled("admin", True)
    assert client.get("/admin").status_code == 302


def test_a_sign_in_never_redirects_off_the_site(server: flask.Flask) -> None:
    hostile = ("//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil.example/",
               "/\t/evil.example/", "/%2F/evil.example/", " //evil.example/")  # fmt: skip
    for target in hostile:
        assert _sign_in(server.test_client(), "admin", target) == "/", target
    assert _sign_in(server.test_client(), "admin", "/forecast") == "/forecast"


def test_a_sign_in_form_sent_twice_goes_on_instead_of_expiring(server: flask.Flask) -> None:
    # A double click, or the back button: the second post carries the first one's session, whose
    # form token the sign-in replaced.
    client = server.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        csrf = session["csrf"]
    form = {"username": "analyst", "password": PASSWORD, "csrf": csrf, "next": "/forecast"}
    assert client.post("/login", data=form).headers["Location"] == "/forecast"
    again = client.post("/login", data=form)
    assert (again.status_code, again.headers["Location"]) == (302, "/forecast")
    assert client.get("/forecast").status_code == 200
    # Someone else on the same browser is not let through as the analyst: the form is checked.
    other = client.post("/login", data={**form, "username": "admin"})
    assert "The form expired" in other.get_data(as_text=True)
    assert _sign_in(client, "admin", "/admin") == "/admin"
    assert client.get("/admin").status_code == 200


def test_a_missing_mart_is_an_error_naming_the_fix_and_an_empty_one_reads_empty(database_url: str) -> None:
    with ConnectionPool(
        db.libpq_url(database_url), min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        warehouse = Warehouse(pool)
        with pytest.raises(
            MissingTable, match=r'"marts.ticket_volume_hourly" does not exist: run the nightly job'
        ):
            warehouse.frame("SELECT hour_at FROM marts.ticket_volume_hourly", (), ["hour_at"])
        # The nightly job's own tables come from a migration: empty, not missing, before its first run.
        assert warehouse.backtest().empty
        assert warehouse.floor().hour_forecast is None


def test_every_page_opens_for_its_roles_only_and_so_do_its_callbacks(server: flask.Flask) -> None:
    for role in Role:
        client = server.test_client()
        _sign_in(client, role.value)
        for page in PAGES:
            response = client.get(page.path)
            if role in page.roles:
                assert response.status_code == 200, (role, page.path)
            elif page.path == "/":
                assert (response.status_code, response.headers["Location"]) == (302, home_path(role))
            else:
                assert response.status_code == 403, (role, page.path)
            callback = client.post(
                "/_dash-update-component",
                json={**FORECAST_CALLBACK, "output": f"{page.prefix}-anything.children"},
            )
            # Refused before Dash sees it, or let through (where Dash answers for a made-up output).
            assert (callback.status_code == 403) == (role not in page.roles), (role, page.path)
