"""The dashboard in headless Chromium: login, every page, live updates, filters, export, roles."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dash.testing import wait
from psycopg_pool import ConnectionPool
from selenium.webdriver.common.action_chains import ActionChains

from cxa import db
from cxa.deadletters import Refusal
from dash_app.accounts import Accounts, policy_from
from dash_app.permissions import Role
from dash_app.server import create_app
from dash_app.settings import DashboardSettings
from tests.browser.conftest import PASSWORD, login, screenshot
from tests.fixtures.marts import write_deadletters, write_floor

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Page path -> an element that appears once the page has data.
PAGES = {
    "/": "#wall-queues .main-svg",
    "/volume": "#volume-sla .bars",
    "/agents": "#agents-chart .bars",
    "/customers": "#customers-segments .bars",
    "/forecast": "#forecast-chart .scatterlayer",
    "/staffing": "#staffing-chart .scatterlayer",
    "/categorizer": "#categorizer-confusion .hm image",
    "/admin": "#admin-audit .dash-spreadsheet",
}


def audit_actions(database_url: str) -> list[tuple[str, str]]:
    with db.connect(database_url) as conn:
        rows = conn.execute("SELECT username, action FROM app.audit_log ORDER BY audit_id").fetchall()
    return [(row[0], row[1]) for row in rows]


def test_wrong_password_is_refused_and_admin_sees_every_page(dash_duo, dashboard):
    dash_duo.start_server(dashboard.app, navigate=False)
    login(dash_duo, "admin", "wrong password!", refused=True)
    assert "Wrong username or password" in dash_duo.wait_for_element("#login-error").text
    dash_duo.driver.get(dash_duo.server.url + "/volume")
    assert "/login" in dash_duo.driver.current_url  # nothing is visible without signing in

    login(dash_duo, "admin")
    dash_duo.wait_for_element("#nav-admin", timeout=30)
    for path, selector in PAGES.items():
        dash_duo.reset_log_timestamp()
        dash_duo.wait_for_page(dash_duo.server.url + path, timeout=30)
        dash_duo.wait_for_element(selector, timeout=30)
        screenshot(dash_duo, "wallboard" if path == "/" else path.strip("/"))
        assert dash_duo.get_logs() == [], path
    assert ("admin", "login_failure") in audit_actions(dashboard.database_url)
    assert ("admin", "login_success") in audit_actions(dashboard.database_url)


def _deadletter_line(letters: list[tuple[Refusal, datetime]]) -> str:
    """What the wall board should say of ``letters`` now: the last hour, and the UTC day so far."""
    now = datetime.now(UTC)
    hour_ago, midnight = now - timedelta(hours=1), now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts: dict[str, list[int]] = {}
    for kind, at in letters:
        kind_counts = counts.setdefault(kind.value, [0, 0])
        kind_counts[0] += at >= hour_ago
        kind_counts[1] += at >= midnight
    shown = sorted(((k, h, d) for k, (h, d) in counts.items() if h or d), key=lambda c: (-c[2], -c[1], c[0]))
    line = f"Dead letters (last hour / today): {sum(c[1] for c in shown)} / {sum(c[2] for c in shown)}"
    return line + (" · " + ", ".join(f"{k} {h} / {d}" for k, h, d in shown) if shown else "")


def test_wall_board_follows_the_live_tables_and_flags_stale_data(dash_duo, dashboard):
    dash_duo.start_server(dashboard.app, navigate=False)
    login(dash_duo, "manager")
    dash_duo.wait_for_text_to_equal("#wall-tile-waiting", "40", timeout=30)
    with db.connect(dashboard.database_url, autocommit=True) as conn:
        write_floor(conn, datetime.now(UTC), waiting=57)
    dash_duo.wait_for_text_to_equal("#wall-tile-waiting", "57", timeout=30)
    assert "Live" in dash_duo.find_element("#wall-banner").text
    dash_duo.wait_for_text_to_equal(
        "#wall-deadletters", "Dead letters (last hour / today): 0 / 0", timeout=30
    )

    now = datetime.now(UTC)
    letters = [
        (Refusal.TOO_LARGE, now - timedelta(seconds=5)),
        (Refusal.TOO_LARGE, now - timedelta(seconds=10)),
        (Refusal.SCHEMA, now - timedelta(seconds=15)),
        (Refusal.SCHEMA, now - timedelta(days=2)),  # neither this hour nor today
    ]
    with db.connect(dashboard.database_url, autocommit=True) as conn:
        write_deadletters(conn, letters)
    # "Today" is the UTC day as of each read: just after midnight the letters of 23:59 are yesterday's.
    wait.until(
        lambda: dash_duo.find_element("#wall-deadletters").text == _deadletter_line(letters),
        timeout=30,
    )

    with db.connect(dashboard.database_url, autocommit=True) as conn:
        conn.execute("UPDATE live.floor_summary SET updated_at = now() - interval '5 minutes'")
    dash_duo.wait_for_contains_text("#wall-banner", "STALE", timeout=30)
    assert dash_duo.find_element("#wall-tile-waiting").text == "—"  # never old numbers as if current
    assert dash_duo.find_element("#wall-deadletters").text.startswith(  # counted as of now, never stale
        "Dead letters (last hour / today): 3 / "
    )
    screenshot(dash_duo, "wallboard_stale")
    assert dash_duo.get_logs() == []


def test_filter_changes_the_chart_drill_down_and_export(dash_duo, dashboard):
    dash_duo.start_server(dashboard.app, navigate=False)
    login(dash_duo, "analyst")
    dash_duo.wait_for_page(dash_duo.server.url + "/volume", timeout=30)
    dash_duo.wait_for_element("#volume-trend .bars", timeout=30)
    traces = "#volume-trend .barlayer .trace"
    assert len(dash_duo.find_elements(traces)) == 5  # every channel

    dash_duo.select_dcc_dropdown("#volume-channel", value="chat")
    wait.until(lambda: len(dash_duo.find_elements(traces)) == 1, timeout=30)

    bar = dash_duo.find_elements("#volume-sla .bars .point path")[0]
    ActionChains(dash_duo.driver).move_to_element(bar).pause(0.3).click().perform()
    dash_duo.wait_for_contains_text("#volume-drill-title", "channel = chat", timeout=30)

    dash_duo.find_element("#volume-export").click()
    dash_duo.wait_for_element("#volume-trend", timeout=30)
    wait.until(lambda: list(Path(dash_duo.download_path).glob("*.csv")), timeout=30)
    files = list(Path(dash_duo.download_path).glob("*.csv"))
    assert files
    assert files[0].read_text().startswith("channel,tickets")
    assert ("analyst", "export") in audit_actions(dashboard.database_url)
    assert dash_duo.get_logs() == []


def test_categorizer_confusion_follows_the_source_and_exports_what_it_shows(dash_duo, dashboard):
    dash_duo.start_server(dashboard.app, navigate=False)
    login(dash_duo, "analyst")
    dash_duo.wait_for_element("#nav-categorizer", timeout=30)
    dash_duo.wait_for_page(dash_duo.server.url + "/categorizer", timeout=30)
    dash_duo.wait_for_element("#categorizer-confusion .hm image", timeout=30)
    dash_duo.wait_for_contains_text("#categorizer-confusion .gtitle", "model predictions", timeout=30)

    dash_duo.driver.execute_script("document.getElementById('categorizer-source').scrollIntoView()")
    screenshot(dash_duo, "categorizer_confusion")

    dash_duo.find_element("#categorizer-source input[value='first_guess']").click()
    dash_duo.wait_for_contains_text("#categorizer-confusion .gtitle", "first guesses", timeout=30)
    dash_duo.find_element("#categorizer-matrix-export").click()
    wait.until(lambda: list(Path(dash_duo.download_path).glob("*.csv")), timeout=30)
    files = list(Path(dash_duo.download_path).glob("*.csv"))
    assert files[0].name.startswith("categorizer_confusion_first_guess_top20_")
    header, *cells = files[0].read_text().splitlines()
    assert header == "true_category,predicted_category,tickets,share"
    assert cells
    assert not [cell for cell in cells if ",abstained," in cell]  # only the model abstains
    assert ("analyst", "export") in audit_actions(dashboard.database_url)
    assert dash_duo.get_logs() == []


def test_analyst_cannot_open_the_admin_page(dash_duo, dashboard):
    dash_duo.start_server(dashboard.app, navigate=False)
    login(dash_duo, "analyst")
    dash_duo.wait_for_element("#nav-volume", timeout=30)
    assert dash_duo.find_elements("#nav-admin") == []
    dash_duo.driver.get(dash_duo.server.url + "/admin")
    assert "403" in dash_duo.wait_for_element("#forbidden").text
    screenshot(dash_duo, "admin_forbidden_for_analyst")
    refused = dash_duo.driver.execute_async_script(
        "const done = arguments[0];"
        "fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({output: '..admin-users.data...admin-audit.data..', outputs: [], inputs: [],"
        " changedPropIds: []})}).then(r => done(r.status));"
    )
    assert refused == 403
    assert ("analyst", "forbidden") in audit_actions(dashboard.database_url)


def test_pages_without_their_marts_say_which_is_missing_and_the_fix(dash_duo, database_url):
    # A migrated database the nightly job has not built the marts of yet.
    with ConnectionPool(
        db.libpq_url(database_url), min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        Accounts(pool, policy_from(5, 15, 15)).create_user("analyst", PASSWORD, Role.ANALYST)
    settings = DashboardSettings(CXA_DASHBOARD_SECRET_KEY="test-secret-key")
    dash_duo.start_server(create_app(settings, database_url), navigate=False)
    login(dash_duo, "analyst")
    dash_duo.driver.get(dash_duo.server.url + "/volume")
    wait.until(
        lambda: (
            "does not exist: run the nightly job" in dash_duo.driver.find_element("css selector", "body").text
        ),
        timeout=30,
    )
    screenshot(dash_duo, "missing-marts")
