"""Roles and the pages each may open: one map, enforced on page loads and on every callback."""

import re
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MANAGER = "manager"
    ANALYST = "analyst"
    ADMIN = "admin"


@dataclass(frozen=True)
class PageAccess:
    prefix: str  # component ids of the page start with "<prefix>-"
    path: str
    title: str
    roles: frozenset[Role]


_ALL = frozenset(Role)
_OPERATIONS = frozenset({Role.MANAGER, Role.ADMIN})
_ANALYTICS = frozenset({Role.ANALYST, Role.ADMIN})
_SHARED = frozenset({Role.MANAGER, Role.ANALYST, Role.ADMIN})

PAGES: tuple[PageAccess, ...] = (
    PageAccess("wall", "/", "Wall board", _OPERATIONS),
    PageAccess("volume", "/volume", "Volume & SLA", _SHARED),
    PageAccess("agents", "/agents", "Agents", _SHARED),
    PageAccess("customers", "/customers", "Customers", _ANALYTICS),
    PageAccess("forecast", "/forecast", "Forecast", _ANALYTICS),
    PageAccess("staffing", "/staffing", "Staffing", _SHARED),
    PageAccess("categorizer", "/categorizer", "Categorizer", _ANALYTICS),
    PageAccess("admin", "/admin", "Admin", frozenset({Role.ADMIN})),
)
_BY_PATH = {page.path: page for page in PAGES}
_BY_PREFIX = {page.prefix: page for page in PAGES}
_ID = re.compile(r"(?:^|\.\.)([a-z]+)-[a-z0-9-]+\.")


def page_for_path(path: str) -> PageAccess | None:
    return _BY_PATH.get(path.rstrip("/") or "/")


def can_open(role: Role, path: str) -> bool:
    """Whether ``role`` may open the page at ``path`` (unknown paths are allowed: they render 404)."""
    page = page_for_path(path)
    return page is None or role in page.roles


def visible_pages(role: Role) -> list[PageAccess]:
    return [page for page in PAGES if role in page.roles]


def home_path(role: Role) -> str:
    return visible_pages(role)[0].path


def callback_prefixes(output: str) -> set[str]:
    """Page prefixes of the component ids in a Dash callback's ``output`` spec ("a-b.figure..c-d.data")."""
    spec = output if output.startswith("..") else ".." + output
    return {match.group(1) for match in _ID.finditer(spec)}


def can_run_callback(role: Role, output: str) -> bool:
    """A callback may run only when every page it writes to is open to ``role``."""
    for prefix in callback_prefixes(output):
        page = _BY_PREFIX.get(prefix)
        if page is not None and role not in page.roles:
            return False
    return True
