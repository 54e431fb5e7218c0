"""CSV export of what a page shows; every export is written to the audit log."""

from typing import Any

import pandas as pd
from dash import dcc

from dash_app.access import audit


def send_csv(frame: pd.DataFrame, page: str, name: str, detail: str = "") -> dict[str, Any]:
    audit("export", f"{page}: {name}.csv ({len(frame)} rows){' ' + detail if detail else ''}")
    result: dict[str, Any] = dcc.send_data_frame(frame.to_csv, f"{name}.csv", index=False)
    return result
