"""Staffing: agents needed per hour against those scheduled and the optimised plan."""

from typing import Any

import dash
from dash import Input, Output, callback, dash_table, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import records, table
from dash_app.exports import send_csv

PATH = "/staffing"
dash.register_page(__name__, path=PATH, title="cxa · staffing", name="Staffing")


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    gap = context().warehouse.staffing_gap()
    short = gap[gap["gap"] > 0] if len(gap) else gap
    today = context().warehouse.intraday()
    return html.Div(
        [
            html.H2("Staffing: needed vs scheduled"),
            html.Div(
                [
                    html.Button("Export CSV", id="staffing-export", className="export"),
                    dcc.Download(id="staffing-download"),
                ]
            ),
            html.P(
                "needed: the nightly forecast's agents, revised for the hours left today from today's "
                "arrivals (dotted: the nightly's)"
                if len(gap) and gap["revised_at"].notna().any()
                else "needed: the nightly forecast's agents"
            ),
            dcc.Graph(id="staffing-chart", figure=figures.staffing_figure(gap)),
            html.H3(f"Hours short of agents: {len(short)}"),
            table("staffing-table"),
            html.H3("Rest of today, revised from today's arrivals (cxa batch reforecast)"),
            html.P(
                "ratio: arrivals so far against the nightly forecast for the same time; the rest of "
                "the day is the nightly forecast times it."
                if len(today)
                else "no revision today yet: run `cxa batch reforecast` every 15 minutes"
            ),
            dash_table.DataTable(  # type: ignore[attr-defined]
                id="staffing-intraday",
                data=records(today.round({"ratio": 2})),
                columns=[{"name": column.replace("_", " "), "id": column} for column in today.columns],
                style_cell={"fontFamily": "inherit", "fontSize": 13, "padding": "4px"},
            ),
        ],
        className="page",
    )


@callback(Output("staffing-table", "data"), Input("staffing-chart", "clickData"))
def drill(click: dict[str, Any] | None) -> Any:
    gap = context().warehouse.staffing_gap()
    if click and click.get("points"):
        gap = gap[
            gap["period_at"].astype(str).str[:13] == str(click["points"][0]["x"]).replace("T", " ")[:13]
        ]
    else:
        gap = gap[gap["gap"] > 0]
    if not gap["revised_at"].notna().any():  # no revision today: the nightly's columns alone
        gap = gap.drop(columns=["agents_required_nightly", "revised_at"])
    return records(gap)


@callback(
    Output("staffing-download", "data"), Input("staffing-export", "n_clicks"), prevent_initial_call=True
)
def export(_: int) -> dict[str, Any]:
    return send_csv(context().warehouse.staffing_gap(), PATH, "staffing_gap")
