"""The live wall board: large numbers and a few figures, refreshed in place every interval."""

from datetime import timedelta
from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed

PATH = "/"
dash.register_page(__name__, path=PATH, title="cxa · wall board", name="Wall board")

TILES = (
    ("waiting", "waiting"),
    ("oldest", "oldest wait"),
    ("arrivals", "arrivals last hour"),
    ("forecast", "forecast this hour"),
    ("risk", "SLA at risk"),
    ("agents", "agents online"),
    ("csat", "CSAT today"),
    ("accuracy", "categorizer accuracy"),
)
DEADLETTER_STYLE = {"fontSize": "20px", "margin": "8px 4px 0"}


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    refresh = context().settings.refresh_ms
    return html.Div(
        [
            dcc.Interval(id="wall-interval", interval=refresh, n_intervals=0),
            html.Div("connecting…", id="wall-banner", className="wall-banner stale"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div("—", id=f"wall-tile-{key}", className="value"),
                            html.Div(label, className="label"),
                        ],
                        className="wall-tile",
                    )
                    for key, label in TILES
                ],
                className="wall-tiles",
            ),
            html.Div("", id="wall-deadletters", style=DEADLETTER_STYLE),
            html.Div(
                [
                    dcc.Graph(
                        id="wall-queues",
                        figure=figures.empty("Queue depth", dark=True),
                        config={"displayModeBar": False},
                        style={"height": "42vh"},
                    ),
                    dcc.Graph(
                        id="wall-agents",
                        figure=figures.empty("Agents", dark=True),
                        config={"displayModeBar": False},
                        style={"height": "42vh"},
                    ),
                    html.Div([html.H3("SLA at risk"), html.Div(id="wall-risk")], className="wall-list"),
                    html.Div([html.H3("Routing feed"), html.Div(id="wall-routing")], className="wall-list"),
                ],
                className="wall-grid",
            ),
        ],
        className="wall",
    )


def rows_table(
    rows: list[dict[str, str]], empty_text: str, class_key: str | None = None
) -> html.Table | html.P:
    if not rows:
        return html.P(empty_text)
    header = html.Tr([html.Th(key) for key in rows[0]])
    body = [
        html.Tr([html.Td(value) for value in row.values()], className=row.get(class_key or "", ""))
        for row in rows
    ]
    return html.Table([header, *body])


@callback(
    [Output("wall-banner", "children"), Output("wall-banner", "className")]
    + [Output(f"wall-tile-{key}", "children") for key, _ in TILES]
    + [
        Output("wall-queues", "figure"),
        Output("wall-agents", "figure"),
        Output("wall-risk", "children"),
        Output("wall-routing", "children"),
        Output("wall-deadletters", "children"),
        Output("wall-deadletters", "style"),
    ],
    Input("wall-interval", "n_intervals"),
)
def refresh_floor(_: int) -> tuple[Any, ...]:
    return floor_outputs()


def floor_outputs() -> tuple[Any, ...]:
    """Read the live tables once and build every output (timed by the benchmark)."""
    ctx = context()
    snapshot = ctx.warehouse.floor()
    numbers = figures.floor_numbers(
        snapshot.summary,
        snapshot.categorizer,
        snapshot.hour_forecast,
        snapshot.read_at,
        timedelta(seconds=ctx.settings.stale_seconds),
    )
    values = (
        numbers.waiting,
        numbers.oldest_wait,
        numbers.arrivals_hour,
        numbers.forecast_hour,
        numbers.at_risk,
        numbers.agents_online,
        numbers.csat_today,
        numbers.categorizer_accuracy,
    )
    if numbers.is_stale:
        queues = figures.empty("Queue depth", "stale: not shown", dark=True)
        agents = figures.empty("Agents", "stale: not shown", dark=True)
        risk: Any = html.P("stale: not shown")
        routing: Any = html.P("stale: not shown")
    else:
        queues = figures.queue_depth_figure(snapshot.queues)
        agents = figures.agent_status_figure(snapshot.agents)
        risk = rows_table(figures.at_risk_rows(snapshot.at_risk), "no ticket at risk", "priority")
        routing = rows_table(figures.routing_rows(snapshot.routing), "no routing decisions yet")
    banner_class = "wall-banner stale" if numbers.is_stale else "wall-banner live"
    # Not blanked when the floor is stale: counted from the table as of this read, not a snapshot.
    deadletters = figures.deadletter_line(snapshot.deadletters)
    style = {**DEADLETTER_STYLE, "color": deadletters.colour}
    return (numbers.status, banner_class, *values, queues, agents, risk, routing, deadletters.text, style)
