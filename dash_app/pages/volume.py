"""Ticket volume and trends; SLA compliance and CSAT by queue, priority, channel or agent; drill-down."""

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import filter_bar, records, table
from dash_app.exports import send_csv
from dash_app.filters import TicketFilter, parse_filter

PATH = "/volume"
dash.register_page(__name__, path=PATH, title="cxa · volume & SLA", name="Volume & SLA")
DIMENSION_LABELS = {
    "channel": "channel",
    "priority": "priority",
    "category": "queue",
    "assigned_agent_id": "agent",
}
FILTERS = [
    Input("volume-dates", "start_date"),
    Input("volume-dates", "end_date"),
    Input("volume-category", "value"),
    Input("volume-channel", "value"),
    Input("volume-team", "value"),
]


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    options = context().warehouse.filter_options()
    return html.Div(
        [
            html.H2("Volume and SLA"),
            filter_bar("volume", options),
            dcc.Store(id="volume-last-day", data=str(options["last_day"])),
            dcc.Graph(id="volume-trend"),
            dcc.RadioItems(id="volume-dimension", options=DIMENSION_LABELS, value="channel", inline=True),
            dcc.Graph(id="volume-sla"),
            html.H3("Tickets", id="volume-drill-title"),
            table("volume-tickets"),
        ],
        className="page",
    )


def ticket_filter(
    start: str | None,
    end: str | None,
    categories: list[str] | None,
    channels: list[str] | None,
    team: str | None,
) -> TicketFilter:
    return parse_filter(
        start, end, categories, channels, team, default_end=context().warehouse.filter_options()["last_day"]
    )


def build(f: TicketFilter, dimension: str) -> tuple[Any, Any]:
    warehouse = context().warehouse
    return (
        figures.volume_figure(warehouse.volume_daily(f)),
        figures.sla_figure(warehouse.sla_by(f, dimension), DIMENSION_LABELS[dimension]),
    )


@callback(
    Output("volume-trend", "figure"),
    Output("volume-sla", "figure"),
    *FILTERS,
    Input("volume-dimension", "value"),
)
def update_charts(
    start: str | None,
    end: str | None,
    categories: list[str] | None,
    channels: list[str] | None,
    team: str | None,
    dimension: str,
) -> tuple[Any, Any]:
    return build(ticket_filter(start, end, categories, channels, team), dimension)


def clicked_value(click: dict[str, Any] | None) -> str | None:
    if not click or not click.get("points"):
        return None
    point = click["points"][0]
    return str(point.get("customdata") or point.get("x"))


@callback(
    Output("volume-tickets", "data"),
    Output("volume-drill-title", "children"),
    *FILTERS,
    Input("volume-dimension", "value"),
    Input("volume-sla", "clickData"),
)
def drill_down(
    start: str | None,
    end: str | None,
    categories: list[str] | None,
    channels: list[str] | None,
    team: str | None,
    dimension: str,
    click: dict[str, Any] | None,
) -> tuple[Any, str]:
    f = ticket_filter(start, end, categories, channels, team)
    value = clicked_value(click) if dash.ctx.triggered_id == "volume-sla" else None
    frame = context().warehouse.tickets(f, dimension if value else None, value)
    title = (
        f"Tickets where {DIMENSION_LABELS[dimension]} = {value}" if value else "Latest tickets (click a bar)"
    )
    return records(frame), f"{title} · {len(frame)} shown"


@callback(
    Output("volume-download", "data"),
    Input("volume-export", "n_clicks"),
    State("volume-dates", "start_date"),
    State("volume-dates", "end_date"),
    State("volume-category", "value"),
    State("volume-channel", "value"),
    State("volume-team", "value"),
    State("volume-dimension", "value"),
    prevent_initial_call=True,
)
def export(
    _: int,
    start: str | None,
    end: str | None,
    categories: list[str] | None,
    channels: list[str] | None,
    team: str | None,
    dimension: str,
) -> dict[str, Any]:
    f = ticket_filter(start, end, categories, channels, team)
    frame = context().warehouse.sla_by(f, dimension).rename(columns={"key": DIMENSION_LABELS[dimension]})
    return send_csv(frame, PATH, f"sla_by_{DIMENSION_LABELS[dimension]}_{f.start}_{f.end}")
