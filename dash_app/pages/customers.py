"""Customer insights: segments, their CSAT and churn risk, and the customers most at risk."""

from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from dash_app import figures
from dash_app.access import context, forbidden_layout, is_allowed
from dash_app.controls import records, table
from dash_app.exports import send_csv

PATH = "/customers"
dash.register_page(__name__, path=PATH, title="cxa · customers", name="Customers")


def layout(**_: Any) -> html.Div:
    if not is_allowed(PATH):
        return forbidden_layout(PATH)
    warehouse = context().warehouse
    segments = warehouse.customer_segments()
    return html.Div(
        [
            html.H2("Customer insights"),
            html.Div(
                [
                    html.Button("Export CSV", id="customers-export", className="export"),
                    dcc.Download(id="customers-download"),
                ]
            ),
            dcc.Graph(id="customers-segments", figure=figures.customer_segment_figure(segments)),
            html.H3("Customers at churn risk"),
            table("customers-risk", page_size=15),
        ],
        className="page",
    )


@callback(Output("customers-risk", "data"), Input("customers-segments", "clickData"))
def at_risk(click: dict[str, Any] | None) -> Any:
    frame = context().warehouse.churn_risk_customers()
    if click and click.get("points"):
        frame = frame[frame["segment"] == click["points"][0].get("x")]
    return records(frame)


@callback(
    Output("customers-download", "data"), Input("customers-export", "n_clicks"), prevent_initial_call=True
)
def export(_: int) -> dict[str, Any]:
    return send_csv(context().warehouse.churn_risk_customers(), PATH, "churn_risk_customers")
