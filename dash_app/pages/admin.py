"""Administration: the users and the audit log (admins only)."""

from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import records, table

PATH = "/admin"
dash.register_page(__name__, path=PATH, title="cxa · admin", name="Admin")


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    return html.Div(
        [
            html.H2("Users"),
            table("admin-users"),
            html.H2("Audit log"),
            table("admin-audit", page_size=25),
            dcc.Interval(id="admin-interval", interval=10_000),
        ],
        className="page",
    )


@callback(
    Output("admin-users", "data"), Output("admin-audit", "data"), Input("admin-interval", "n_intervals")
)
def refresh(_: int | None) -> tuple[Any, Any]:
    accounts = context().accounts
    return records(accounts.users()), records(accounts.audit_log())
