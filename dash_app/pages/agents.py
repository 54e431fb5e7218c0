"""Agent performance: handled, resolved, first-reply service level, CSAT and occupancy per agent."""

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import filter_bar, records, table
from dash_app.exports import send_csv
from dash_app.filters import parse_filter

PATH = "/agents"
dash.register_page(__name__, path=PATH, title="cxa · agents", name="Agents")


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    options = context().warehouse.filter_options()
    return html.Div(
        [
            html.H2("Agent performance"),
            filter_bar("agents", options, queues=False),
            dcc.Graph(id="agents-chart"),
            table("agents-table", page_size=20),
        ],
        className="page",
    )


def agent_frame(start: str | None, end: str | None, team: str | None) -> Any:
    warehouse = context().warehouse
    f = parse_filter(start, end, None, None, team, default_end=warehouse.filter_options()["last_day"])
    return warehouse.agent_performance(f).round(3)


@callback(
    Output("agents-chart", "figure"),
    Output("agents-table", "data"),
    Input("agents-dates", "start_date"),
    Input("agents-dates", "end_date"),
    Input("agents-team", "value"),
)
def update(start: str | None, end: str | None, team: str | None) -> tuple[Any, Any]:
    frame = agent_frame(start, end, team)
    return figures.agent_performance_figure(frame), records(frame)


@callback(
    Output("agents-download", "data"),
    Input("agents-export", "n_clicks"),
    State("agents-dates", "start_date"),
    State("agents-dates", "end_date"),
    State("agents-team", "value"),
    prevent_initial_call=True,
)
def export(_: int, start: str | None, end: str | None, team: str | None) -> dict[str, Any]:
    return send_csv(agent_frame(start, end, team), PATH, "agent_performance")
