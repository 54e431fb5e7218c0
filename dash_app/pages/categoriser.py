"""Categoriser monitoring: accuracy over time, where categories are confused, drift alarms."""

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import filter_bar, records, table
from dash_app.exports import send_csv
from dash_app.filters import parse_filter

PATH = "/categoriser"
dash.register_page(__name__, path=PATH, title="cxa · categoriser", name="Categoriser")


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    warehouse = context().warehouse
    options = warehouse.filter_options()
    return html.Div(
        [
            html.H2("Categoriser monitoring"),
            filter_bar("categoriser", options, team=False, queues=False),
            dcc.Graph(id="categoriser-accuracy"),
            dcc.Graph(
                id="categoriser-confusion",
                figure=figures.categoriser_confusion_figure(warehouse.categoriser_categories()),
            ),
            html.H3("Drift alarms"),
            table("categoriser-alarms"),
        ],
        className="page",
    )


@callback(
    Output("categoriser-accuracy", "figure"),
    Output("categoriser-alarms", "data"),
    Input("categoriser-dates", "start_date"),
    Input("categoriser-dates", "end_date"),
)
def update(start: str | None, end: str | None) -> tuple[Any, Any]:
    warehouse = context().warehouse
    f = parse_filter(start, end, None, None, None, default_end=warehouse.filter_options()["last_day"])
    quality = warehouse.categoriser_quality(datetime.now(UTC) - timedelta(days=7))
    return figures.categoriser_accuracy_figure(warehouse.categoriser_daily(f), quality), records(
        warehouse.drift_alarms()
    )


@callback(
    Output("categoriser-download", "data"),
    Input("categoriser-export", "n_clicks"),
    State("categoriser-dates", "start_date"),
    State("categoriser-dates", "end_date"),
    prevent_initial_call=True,
)
def export(_: int, start: str | None, end: str | None) -> dict[str, Any]:
    warehouse = context().warehouse
    f = parse_filter(start, end, None, None, None, default_end=warehouse.filter_options()["last_day"])
    return send_csv(warehouse.categoriser_daily(f), PATH, "categoriser_daily")
