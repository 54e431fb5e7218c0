"""Forecast explorer: actual volume against the forecast and its interval; backtest accuracy."""

from datetime import timedelta
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from cxa.marts import ForecastGrain
from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import records, table
from dash_app.exports import send_csv

PATH = "/forecast"
dash.register_page(__name__, path=PATH, title="cxa · forecast", name="Forecast")
HISTORY = {ForecastGrain.HOUR: timedelta(days=14), ForecastGrain.DAY: timedelta(days=120)}


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    warehouse = context().warehouse
    queues = warehouse.forecast_queues()
    options = [
        {"label": f"{r.queue} ({r.queue_type})", "value": f"{r.queue_type}:{r.queue}"}
        for r in queues.itertuples()
    ]
    backtest = warehouse.backtest()
    return html.Div(
        [
            html.H2("Forecast explorer"),
            html.Div(
                [
                    html.Label(
                        [
                            "Queue",
                            dcc.Dropdown(
                                id="forecast-queue",
                                options=options,
                                value=options[0]["value"] if options else None,
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Grain",
                            dcc.RadioItems(
                                id="forecast-grain",
                                options=[
                                    {"label": "hourly", "value": ForecastGrain.HOUR.value},
                                    {"label": "daily", "value": ForecastGrain.DAY.value},
                                ],
                                value=ForecastGrain.DAY.value,
                                inline=True,
                            ),
                        ]
                    ),
                    html.Div(
                        [
                            html.Button("Export CSV", id="forecast-export", className="export"),
                            dcc.Download(id="forecast-download"),
                        ]
                    ),
                ],
                className="filters",
            ),
            dcc.Graph(id="forecast-chart"),
            dcc.Graph(id="forecast-backtest", figure=figures.backtest_figure(backtest)),
            html.P(
                "Each method's rolling-origin backtest. coverage: the share of its actuals inside "
                "the method's own interval; interval_factor: what the interval's half-widths are "
                "multiplied by to cover the interval's share of them (a lower bound at zero stays "
                "there; the chosen method's forecast above is shipped so, and empty means shipped "
                "as the method gives it); calibrated_coverage: what that scaled interval covers out "
                "of sample (each origin scaled by the other origins' factor)."
            ),
            table("forecast-backtest-table"),
        ],
        className="page",
    )


def series(queue: str | None, grain: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """``grain`` is the radio's value (a :class:`ForecastGrain`)."""
    if not queue:
        return pd.DataFrame(columns=["period_at", "actual"]), pd.DataFrame(), "no forecast yet"
    queue_type, name = queue.split(":", 1)
    warehouse = context().warehouse
    chosen = ForecastGrain(grain)
    forecast = warehouse.forecast(queue_type, name, chosen)
    start = forecast["period_at"].min() if len(forecast) else pd.Timestamp.now(tz="UTC")
    actual = warehouse.actual_volume(queue_type, name, chosen, start - HISTORY[chosen])
    return actual, forecast, name


@callback(
    Output("forecast-chart", "figure"),
    Output("forecast-backtest-table", "data"),
    Input("forecast-queue", "value"),
    Input("forecast-grain", "value"),
)
def update(queue: str | None, grain: str) -> tuple[Any, Any]:
    actual, forecast, name = series(queue, grain)
    backtest = context().warehouse.backtest().round(3)
    if queue:
        queue_type, queue_name = queue.split(":", 1)
        backtest = backtest[(backtest["queue_type"] == queue_type) & (backtest["queue"] == queue_name)]
    return figures.forecast_figure(actual, forecast, name), records(backtest)


@callback(
    Output("forecast-download", "data"),
    Input("forecast-export", "n_clicks"),
    State("forecast-queue", "value"),
    State("forecast-grain", "value"),
    prevent_initial_call=True,
)
def export(_: int, queue: str | None, grain: str) -> dict[str, Any]:
    actual, forecast, name = series(queue, grain)
    frame = forecast.merge(actual, on="period_at", how="outer").sort_values("period_at")
    return send_csv(frame, PATH, f"forecast_{name}_{grain}")
