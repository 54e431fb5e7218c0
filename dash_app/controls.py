"""Controls several analytics pages share: the filter bar and the export button (ids by page)."""

from datetime import timedelta
from typing import Any

from dash import dash_table, dcc, html


def filter_bar(prefix: str, options: dict[str, Any], team: bool = True, queues: bool = True) -> html.Div:
    last = options["last_day"]
    items: list[Any] = [
        html.Label(
            [
                "Dates",
                dcc.DatePickerRange(
                    id=f"{prefix}-dates",
                    start_date=str(last - timedelta(days=27)),
                    end_date=str(last),
                    display_format="YYYY-MM-DD",
                ),
            ]
        ),
    ]
    if queues:
        items += [
            html.Label(
                [
                    "Queue",
                    dcc.Dropdown(
                        id=f"{prefix}-category",
                        options=options["categories"],
                        multi=True,
                        placeholder="all queues",
                    ),
                ]
            ),
            html.Label(
                [
                    "Channel",
                    dcc.Dropdown(
                        id=f"{prefix}-channel",
                        options=options["channels"],
                        multi=True,
                        placeholder="all channels",
                    ),
                ]
            ),
        ]
    if team:
        items.append(
            html.Label(
                ["Team", dcc.Dropdown(id=f"{prefix}-team", options=options["teams"], placeholder="all teams")]
            )
        )
    items.append(
        html.Div(
            [
                html.Button("Export CSV", id=f"{prefix}-export", className="export"),
                dcc.Download(id=f"{prefix}-download"),
            ]
        )
    )
    return html.Div(items, className="filters")


def table(id_: str, page_size: int = 15) -> Any:
    return dash_table.DataTable(  # type: ignore[attr-defined]
        id=id_,
        page_size=page_size,
        sort_action="native",
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "inherit", "fontSize": 13, "padding": "4px"},
        style_header={"fontWeight": "bold"},
    )


def records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows for a DataTable (timestamps as text)."""
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype).startswith("datetime"):
            out[column] = out[column].astype(str)
    result: list[dict[str, Any]] = out.to_dict("records")
    return result
