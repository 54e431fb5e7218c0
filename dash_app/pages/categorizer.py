"""Categorizer monitoring: accuracy over time, where categories are confused, drift alarms."""

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import filter_bar, records, table
from dash_app.exports import send_csv
from dash_app.filters import TicketFilter, parse_filter

PATH = "/categorizer"
dash.register_page(__name__, path=PATH, title="cxa · categorizer", name="Categorizer")
TOP_CHOICES = (10, 20, 40)
DEFAULT_TOP = 20
MATRIX_INPUTS = (
    ("categorizer-dates", "start_date"),
    ("categorizer-dates", "end_date"),
    ("categorizer-source", "value"),
    ("categorizer-top", "value"),
)


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    warehouse = context().warehouse
    options = warehouse.filter_options()
    return html.Div(
        [
            html.H2("Categorizer monitoring"),
            filter_bar("categorizer", options, team=False, queues=False),
            dcc.Graph(id="categorizer-accuracy"),
            html.H3("Where categories are confused"),
            html.Div(
                [
                    html.Label(
                        [
                            "Predicted by",
                            dcc.RadioItems(
                                id="categorizer-source",
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
                                id="categorizer-top",
                                options=[{"label": f"top {n}", "value": n} for n in TOP_CHOICES],
                                value=DEFAULT_TOP,
                                inline=True,
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.Button(
                                "Export matrix CSV", id="categorizer-matrix-export", className="export"
                            ),
                            dcc.Download(id="categorizer-matrix-download"),
                        ]
                    ),
                ],
                className="filters",
            ),
            dcc.Graph(id="categorizer-confusion"),
            html.H3("Drift alarms"),
            table("categorizer-alarms"),
            dcc.Graph(
                id="categorizer-categories",
                figure=figures.categorizer_precision_recall_figure(warehouse.categorizer_categories()),
            ),
        ],
        className="page",
    )


def date_filter(start: str | None, end: str | None) -> TicketFilter:
    return parse_filter(
        start, end, None, None, None, default_end=context().warehouse.filter_options()["last_day"]
    )


@callback(
    Output("categorizer-accuracy", "figure"),
    Output("categorizer-alarms", "data"),
    Input("categorizer-dates", "start_date"),
    Input("categorizer-dates", "end_date"),
)
def update(start: str | None, end: str | None) -> tuple[Any, Any]:
    warehouse = context().warehouse
    quality = warehouse.categorizer_quality(datetime.now(UTC) - timedelta(days=7))
    daily = warehouse.categorizer_daily(date_filter(start, end))
    return figures.categorizer_accuracy_figure(daily, quality), records(warehouse.drift_alarms())


@callback(
    Output("categorizer-confusion", "figure"),
    *(Input(component, prop) for component, prop in MATRIX_INPUTS),
)
def update_confusion(start: str | None, end: str | None, source: str, top: int | None) -> Any:
    confusion = context().warehouse.categorizer_confusion(date_filter(start, end), source)
    return figures.confusion_figure(confusion, top or DEFAULT_TOP, source)


@callback(
    Output("categorizer-download", "data"),
    Input("categorizer-export", "n_clicks"),
    State("categorizer-dates", "start_date"),
    State("categorizer-dates", "end_date"),
    prevent_initial_call=True,
)
def export(_: int, start: str | None, end: str | None) -> dict[str, Any]:
    f = date_filter(start, end)
    return send_csv(context().warehouse.categorizer_daily(f), PATH, f"categorizer_daily_{f.start}_{f.end}")


@callback(
    Output("categorizer-matrix-download", "data"),
    Input("categorizer-matrix-export", "n_clicks"),
    *(State(component, prop) for component, prop in MATRIX_INPUTS),
    prevent_initial_call=True,
)
def export_matrix(_: int, start: str | None, end: str | None, source: str, top: int | None) -> dict[str, Any]:
    f = date_filter(start, end)
    top = top or DEFAULT_TOP
    matrix = figures.confusion_matrix(context().warehouse.categorizer_confusion(f, source), top)
    name = f"categorizer_confusion_{source}_top{top}_{f.start}_{f.end}"
    return send_csv(figures.confusion_cells(matrix), PATH, name)
