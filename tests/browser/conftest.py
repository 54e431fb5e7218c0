"""Browser tests: the dashboard on a seeded throwaway database, driven by dash_duo in headless Chromium.

Chromium runs headless with the options below whether or not `--headless` is given, so a plain
`pytest` runs these tests. They are skipped when Debian's chromium/chromium-driver are missing.
"""

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg_pool import ConnectionPool
from selenium.webdriver.chrome.options import Options

from cxa import db
from dash_app.accounts import Accounts, policy_from
from dash_app.permissions import Role
from dash_app.server import create_app
from dash_app.settings import DashboardSettings
from tests.fixtures.marts import seed_marts, write_floor

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "bench" / "results" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"


def pytest_setup_options() -> Options:
    options = Options()
    if Path(CHROMIUM).exists():
        options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1600,1000",
    ):  # fmt: skip
        options.add_argument(argument)
    return options


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    missing = shutil.which("chromedriver") is None or not Path(CHROMIUM).exists()
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.integration)
            if missing:
                item.add_marker(pytest.mark.skip(reason="needs chromium and chromium-driver (make install)"))


@dataclass(frozen=True)
class Dashboard:
    app: object
    database_url: str


@pytest.fixture
def dashboard(database_url: str) -> Dashboard:
    with db.connect(database_url, autocommit=True) as conn:
        seed_marts(conn, days=60, tickets_per_day=150, end=datetime.now(UTC).date())
        write_floor(conn, datetime.now(UTC), waiting=40)
    settings = DashboardSettings(CXA_DASHBOARD_SECRET_KEY="test-secret-key", CXA_DASHBOARD_REFRESH_MS=1000)
    with ConnectionPool(
        db.libpq_url(database_url), min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        accounts = Accounts(pool, policy_from(5, 15, 15))
        for role in Role:
            accounts.create_user(role.value, PASSWORD, role)
    return Dashboard(create_app(settings, database_url), database_url)


def login(dash_duo, username: str, password: str = PASSWORD, *, refused: bool = False) -> None:
    dash_duo.driver.get(dash_duo.server.url + "/login")
    dash_duo.wait_for_element("#username", timeout=30).send_keys(username)
    dash_duo.find_element("#password").send_keys(password)
    dash_duo.find_element("#login-submit").click()
    # Wait for the answer: a navigation issued while the post is in flight races it.
    dash_duo.wait_for_element("#login-error" if refused else "#nav-logout", timeout=30)


def screenshot(dash_duo, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    dash_duo.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
