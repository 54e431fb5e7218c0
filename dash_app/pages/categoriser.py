"""Categoriser monitoring: accuracy over time, where categories are confused, drift alarms."""

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import filter_bar, records, table
from dash_app.exports import send_csv
from dash_app.filters import TicketFilter, parse_filter

PATH = "/categoriser"
dash.register_page(__name__, path=PATH, title="cxa · categoriser", name="Categoriser")
TOP_CHOICES = (10, 20, 40)
DEFAULT_TOP = 20
MATRIX_INPUTS = (
    ("categoriser-dates", "start_date"),
    ("categoriser-dates", "end_date"),
    ("categoriser-source", "value"),
    ("categoriser-top", "value"),
)


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
            html.H3("Where categories are confused"),
            html.Div(
                [
                    html.Label(
                        [
                            "Predicted by",
                            dcc.RadioItems(
                                id="categoriser-source",
                                options=figures.SOURCE_LABELS,
                                value="model",
                                inline=True,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "True categories shown",
                            dcc.RadioItems(
                                id="categoriser-top",
                                options=[{"label": f"top {n}", "value": n} for n in TOP_CHOICES],
                                value=DEFAULT_TOP,
                                inline=True,
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.Button(
                                "Export matrix CSV", id="categoriser-matrix-export", className="export"
                            ),
                            dcc.Download(id="categoriser-matrix-download"),
                        ]
                    ),
                ],
                className="filters",
            ),
            dcc.Graph(id="categoriser-confusion"),
            html.H3("Drift alarms"),
            table("categoriser-alarms"),
            dcc.Graph(
                id="categoriser-categories",
                figure=figures.categoriser_precision_recall_figure(warehouse.categoriser_categories()),
            ),
        ],
        className="page",
    )


def date_filter(start: str | None, end: str | None) -> TicketFilter:
    return parse_filter(
        start, end, None, None, None, default_end=context().warehouse.filter_options()["last_day"]
    )


@callback(
    Output("categoriser-accuracy", "figure"),
    Output("categoriser-alarms", "data"),
    Input("categoriser-dates", "start_date"),
    Input("categoriser-dates", "end_date"),
)
def update(start: str | None, end: str | None) -> tuple[Any, Any]:
    warehouse = context().warehouse
    quality = warehouse.categoriser_quality(datetime.now(UTC) - timedelta(days=7))
    daily = warehouse.categoriser_daily(date_filter(start, end))
    return figures.categoriser_accuracy_figure(daily, quality), records(warehouse.drift_alarms())


@callback(
    Output("categoriser-confusion", "figure"),
    *(Input(component, prop) for component, prop in MATRIX_INPUTS),
)
def update_confusion(start: str | None, end: str | None, source: str, top: int | None) -> Any:
    confusion = context().warehouse.categoriser_confusion(date_filter(start, end), source)
    return figures.confusion_figure(confusion, top or DEFAULT_TOP, source)


@callback(
    Output("categoriser-download", "data"),
    Input("categoriser-export", "n_clicks"),
    State("categoriser-dates", "start_date"),
    State("categoriser-dates", "end_date"),
    prevent_initial_call=True,
)
def export(_: int, start: str | None, end: str | None) -> dict[str, Any]:
    f = date_filter(start, end)
    return send_csv(context().warehouse.categoriser_daily(f), PATH, f"categoriser_daily_{f.start}_{f.end}")


@callback(
    Output("categoriser-matrix-download", "data"),
    Input("categoriser-matrix-export", "n_clicks"),
    *(State(component, prop) for component, prop in MATRIX_INPUTS),
    prevent_initial_call=True,
)
def export_matrix(_: int, start: str | None, end: str | None, source: str, top: int | None) -> dict[str, Any]:
    f = date_filter(start, end)
    top = top or DEFAULT_TOP
    matrix = figures.confusion_matrix(context().warehouse.categoriser_confusion(f, source), top)
    name = f"categoriser_confusion_{source}_top{top}_{f.start}_{f.end}"
    return send_csv(figures.confusion_cells(matrix), PATH, name)
