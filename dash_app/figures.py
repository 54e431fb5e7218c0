"""Figures and wall-board numbers, built by pure functions from query results (DataFrames)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go

BACKGROUND = "#0b0f14"
PANEL = "#121821"
TEXT = "#f2f5f8"
MUTED = "#9aa7b4"
GOOD = "#2ecc71"
WARN = "#f5b041"
BAD = "#ff5c5c"
ACCENT = "#4fc3f7"
PRIORITY_COLOURS = {"urgent": BAD, "high": WARN, "normal": ACCENT, "low": MUTED}
STATUS_COLOURS = {"online": GOOD, "away": WARN, "offline": MUTED}


def styled(figure: go.Figure, title: str = "", height: int | None = None, dark: bool = True) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 20 if dark else 16}},
        template="plotly_dark" if dark else "plotly_white",
        paper_bgcolor=PANEL if dark else "white",
        plot_bgcolor=PANEL if dark else "white",
        font={"color": TEXT if dark else "#222", "size": 16 if dark else 12},
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        uirevision="keep",
    )
    if height:
        figure.update_layout(height=height)
    return figure


def empty(title: str, message: str = "no data yet", dark: bool = False) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, font={"size": 18, "color": MUTED})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return styled(figure, title, dark=dark)


# --- wall board -------------------------------------------------------------------------------
@dataclass(frozen=True)
class FloorNumbers:
    """The wall board's headline numbers as display strings, and whether the data is stale."""

    waiting: str
    oldest_wait: str
    arrivals_hour: str
    forecast_hour: str
    at_risk: str
    agents_online: str
    csat_today: str
    categorizer_accuracy: str
    is_stale: bool
    status: str


def blank_numbers(status: str) -> FloorNumbers:
    """Every number a dash: what the wall board shows when the live data is missing or stale."""
    dash = "—"
    return FloorNumbers(dash, dash, dash, dash, dash, dash, dash, dash, is_stale=True, status=status)


def minutes_text(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def floor_numbers(
    summary: pd.DataFrame,
    categorizer: pd.DataFrame,
    hour_forecast: float | None,
    now: datetime,
    stale_after: timedelta,
) -> FloorNumbers:
    """Headline numbers; without a fresh summary row every number is a dash, never a zero."""
    if summary.empty:
        return blank_numbers("No live data: the stream has not started")
    row = summary.iloc[0]
    age = now - row["updated_at"]
    # Stamped with the writer's wall clock: far in the future means a clock is wrong, not fresh data.
    is_stale = abs(age) > stale_after
    stamp = f"{row['updated_at']:%H:%M:%S} UTC"
    if age < -stale_after:
        status = f"STALE: live data dated {minutes_text(-age)} ahead of this clock ({stamp})"
    elif is_stale:
        status = f"STALE: live data last updated {minutes_text(age)} ago ({stamp})"
    else:
        status = f"Live · updated {stamp}"
    dash = "—"
    oldest = row["oldest_waiting_at"]
    csat_total = int(row["csat_total_today"])
    accuracy = categorizer["rolling_accuracy"].iloc[0] if len(categorizer) else None
    numbers = FloorNumbers(
        waiting=f"{int(row['waiting']):,}",
        oldest_wait=minutes_text(now - oldest) if oldest is not None and not pd.isna(oldest) else "none",
        arrivals_hour=f"{int(row['arrivals_last_hour']):,}",
        forecast_hour=f"{hour_forecast:,.0f}" if hour_forecast is not None else dash,
        at_risk=f"{int(row['at_risk']):,}",
        agents_online=f"{int(row['agents_online'])} / {int(row['agents_online'] + row['agents_away'])}",
        csat_today=f"{100 * int(row['csat_positive_today']) / csat_total:.0f}%" if csat_total else dash,
        categorizer_accuracy=f"{100 * accuracy:.0f}%"
        if accuracy is not None and not pd.isna(accuracy)
        else dash,
        is_stale=is_stale,
        status=status,
    )
    if is_stale:  # never show old numbers as if they were current
        return blank_numbers(status)
    return numbers


@dataclass(frozen=True)
class DeadLetterLine:
    """The wall board's dead-letter line: its text, and its colour (a warning while they come in)."""

    text: str
    colour: str


def deadletter_line(counts: pd.DataFrame) -> DeadLetterLine:
    """Dead letters in the last hour and today, in total and per kind (``kind, last_hour, today``).

    Counted as of the read from the table the worker appends to, so never stale like a snapshot.
    """
    last_hour = int(counts["last_hour"].sum()) if len(counts) else 0
    today = int(counts["today"].sum()) if len(counts) else 0
    text = f"Dead letters (last hour / today): {last_hour:,} / {today:,}"
    kinds = [
        f"{r.kind} {int(r.last_hour):,} / {int(r.today):,}"
        for r in counts.itertuples()
        if r.last_hour or r.today
    ]
    if kinds:
        text += " · " + ", ".join(kinds)
    return DeadLetterLine(text, WARN if last_hour else MUTED)


def queue_depth_figure(queues: pd.DataFrame) -> go.Figure:
    """Waiting tickets per category, stacked by priority."""
    if queues.empty:
        return empty("Queue depth", "no tickets waiting", dark=True)
    totals = queues.groupby("category")["waiting"].sum().sort_values()
    figure = go.Figure()
    for priority in ("urgent", "high", "normal", "low"):
        part = queues[queues["priority"] == priority].set_index("category")["waiting"]
        part = part.reindex(totals.index, fill_value=0)
        figure.add_bar(
            y=list(part.index),
            x=list(part.values),
            orientation="h",
            name=priority,
            marker_color=PRIORITY_COLOURS[priority],
        )
    figure.update_layout(barmode="stack")
    return styled(figure, "Queue depth by category and priority", dark=True)


def agent_status_figure(agents: pd.DataFrame) -> go.Figure:
    """Agents per status, with load against capacity for those online."""
    if agents.empty:
        return empty("Agents", "no agents reported", dark=True)
    frame = agents.set_index("status").reindex(["online", "away", "offline"], fill_value=0)
    figure = go.Figure(
        go.Bar(
            x=list(frame.index),
            y=list(frame["agents"]),
            text=list(frame["agents"]),
            textposition="auto",
            marker_color=[STATUS_COLOURS[s] for s in frame.index],
        )
    )
    load, capacity = frame.loc["online", "load"], frame.loc["online", "capacity"]
    title = "Agents by status"
    if capacity:
        title += f" · load {int(load)}/{int(capacity)} ({100 * load / capacity:.0f}%)"
    return styled(figure, title, dark=True)


def at_risk_rows(at_risk: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {
            "ticket": r.ticket_id,
            "priority": r.priority,
            "category": r.category or "—",
            "channel": r.channel,
            "left": f"{r.minutes_left:.0f} min" if r.minutes_left >= 0 else "BREACHED",
        }
        for r in at_risk.itertuples()
    ]


def routing_rows(routing: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {
            "at": f"{r.decided_at:%H:%M:%S}",
            "ticket": r.ticket_id,
            "agent": r.agent_id,
            "policy": r.policy,
            "score": f"{r.score:.2f}",
        }
        for r in routing.itertuples()
    ]


# --- analytics --------------------------------------------------------------------------------
def volume_figure(volume: pd.DataFrame) -> go.Figure:
    if volume.empty:
        return empty("Tickets per day")
    figure = go.Figure()
    for channel, part in volume.groupby("channel"):
        figure.add_bar(x=list(part["day"]), y=list(part["tickets"]), name=str(channel))
    figure.update_layout(barmode="stack")
    return styled(figure, "Tickets created per day by channel", dark=False)


def sla_figure(sla: pd.DataFrame, dimension: str) -> go.Figure:
    """Service level (first reply, resolution) and CSAT per value of ``dimension``; click a bar to drill."""
    if sla.empty:
        return empty(f"SLA by {dimension}")
    frame = sla.sort_values("tickets", ascending=False)
    keys = [str(k) for k in frame["key"]]
    figure = go.Figure()
    for column, name, colour in (
        ("first_reply_sl", "first reply within SLA", ACCENT),
        ("resolution_sl", "resolved within SLA", GOOD),
        ("csat", "CSAT", WARN),
    ):
        values = [None if pd.isna(v) else round(100 * float(v), 1) for v in frame[column]]
        figure.add_bar(x=keys, y=values, name=name, marker_color=colour, customdata=keys)
    figure.update_layout(barmode="group", yaxis={"title": "%", "range": [0, 100]})
    return styled(figure, f"SLA compliance and CSAT by {dimension}", dark=False)


def agent_performance_figure(agents: pd.DataFrame, top: int = 30) -> go.Figure:
    if agents.empty:
        return empty("Agent performance")
    frame = agents.head(top)
    figure = go.Figure()
    figure.add_bar(
        x=list(frame["agent_id"]),
        y=list(frame["tickets_handled"]),
        name="tickets handled",
        marker_color=ACCENT,
        customdata=list(frame["agent_id"]),
    )
    csat = [None if pd.isna(v) else round(100 * float(v), 1) for v in frame["csat"]]
    figure.add_scatter(
        x=list(frame["agent_id"]),
        y=csat,
        name="CSAT %",
        yaxis="y2",
        mode="markers",
        marker={"size": 10, "color": WARN},
    )
    figure.update_layout(
        yaxis={"title": "tickets"},
        yaxis2={"title": "CSAT %", "overlaying": "y", "side": "right", "range": [0, 100]},
    )
    return styled(figure, f"Agents by tickets handled (top {min(top, len(frame))})", dark=False)


def customer_segment_figure(segments: pd.DataFrame) -> go.Figure:
    if segments.empty:
        return empty("Customers by segment")
    frame = segments.groupby("segment", as_index=False).agg(
        customers=("customers", "sum"),
        tickets=("tickets_last_30d", "sum"),
        churn=("churn_risk_share", "mean"),
    )
    figure = go.Figure()
    figure.add_bar(
        x=list(frame["segment"]), y=list(frame["customers"]), name="customers", marker_color=ACCENT
    )
    figure.add_scatter(
        x=list(frame["segment"]),
        y=[round(100 * v, 1) for v in pd.to_numeric(frame["churn"]).fillna(0)],
        name="churn risk %",
        yaxis="y2",
        mode="markers+lines",
        marker={"size": 12, "color": BAD},
    )
    figure.update_layout(yaxis2={"title": "churn risk %", "overlaying": "y", "side": "right"})
    return styled(figure, "Customers and churn risk by segment", dark=False)


def forecast_figure(actual: pd.DataFrame, forecast: pd.DataFrame, queue: str) -> go.Figure:
    """Actual volume, the forecast and its interval band (named by the width the nightly job used,
    ``CXA_FORECAST_INTERVAL``)."""
    if actual.empty and forecast.empty:
        return empty(f"Forecast: {queue}")
    figure = go.Figure()
    if not forecast.empty:
        x = list(forecast["period_at"])
        band = f"{float(forecast['interval_width'].iloc[0]):.0%} interval"  # a NOT NULL column
        figure.add_scatter(
            x=x + x[::-1],
            y=list(forecast["yhat_upper"]) + list(forecast["yhat_lower"])[::-1],
            fill="toself",
            fillcolor="rgba(79,195,247,0.2)",
            line={"width": 0},
            name=band,
            hoverinfo="skip",
        )
        figure.add_scatter(
            x=x, y=list(forecast["yhat"]), name="forecast", line={"color": ACCENT, "dash": "dash"}
        )
    if not actual.empty:
        figure.add_scatter(
            x=list(actual["period_at"]), y=list(actual["actual"]), name="actual", line={"color": "#333"}
        )
    return styled(figure, f"Actual vs forecast: {queue}", dark=False)


def backtest_figure(backtest: pd.DataFrame) -> go.Figure:
    """Each method's backtest MASE across the queues, a box per method and grain: readable for any
    number of queues (the table under it has the selected queue's rows)."""
    if backtest.empty:
        return empty("Backtest accuracy")
    figure = go.Figure()
    for grain, part in backtest.groupby("grain"):
        figure.add_box(x=list(part["method"]), y=list(part["mase"]), name=str(grain), boxpoints="outliers")
    figure.add_hline(y=1.0, line_dash="dot", annotation_text="1 = seasonal naive's in-sample error")
    figure.update_layout(boxmode="group", yaxis={"title": "MASE (lower is better)"})
    queues = backtest[["queue_type", "queue"]].drop_duplicates().shape[0]
    return styled(figure, f"Backtest accuracy (MASE) per method across {queues} queues", dark=False)


def staffing_figure(gap: pd.DataFrame) -> go.Figure:
    if gap.empty:
        return empty("Staffing")
    figure = go.Figure()
    figure.add_scatter(
        x=list(gap["period_at"]),
        y=list(gap["agents_required"]),
        name="needed",
        line={"color": BAD, "shape": "hv"},
    )
    if "revised_at" in gap and gap["revised_at"].notna().any():
        figure.add_scatter(
            x=list(gap["period_at"]),
            y=list(gap["agents_required_nightly"]),
            name="needed, nightly forecast",
            line={"color": BAD, "shape": "hv", "dash": "dot", "width": 1},
        )
    figure.add_scatter(
        x=list(gap["period_at"]),
        y=list(gap["agents_scheduled"]),
        name="scheduled",
        line={"color": ACCENT, "shape": "hv"},
    )
    figure.add_scatter(
        x=list(gap["period_at"]),
        y=list(gap["agents_planned"]),
        name="optimised plan",
        line={"color": GOOD, "shape": "hv", "dash": "dot"},
    )
    return styled(figure, "Agents needed vs scheduled per hour", dark=False)


LIVE_MIN_LABELLED = 50
"""A worker's live rolling accuracy counts once it has this many labels: over its first few (a
fresh model: 0 of 4 right) it swings from 0 to 1."""


def categorizer_accuracy_figure(daily: pd.DataFrame, quality: pd.DataFrame) -> go.Figure:
    """Daily precision per source (marts) and the live rolling accuracy (live)."""
    if daily.empty and quality.empty:
        return empty("Categorizer accuracy")
    figure = go.Figure()
    for source, part in daily.groupby("source") if not daily.empty else []:
        share = (part["correct"] / part["labelled"].where(part["labelled"] > 0)).round(3)
        figure.add_scatter(
            x=list(part["day"]), y=list(share), name=f"daily precision ({source})", mode="lines"
        )
    # Per worker process (each keeps its own window), the last measurement of each day: on this
    # axis of days, a replay of weeks of history measured within minutes drew a vertical line.
    workers = []
    if not quality.empty:
        shown = quality[quality["labelled"] >= LIVE_MIN_LABELLED]
        shown = shown.assign(day=pd.to_datetime(shown["measured_at"], utc=True).dt.floor("D"))
        shown = shown.sort_values("measured_at").drop_duplicates(["worker", "day"], keep="last")
        workers = list(shown.groupby("worker"))
    for worker, part in workers:
        figure.add_scatter(
            x=list(part["day"]),
            y=list(part["rolling_accuracy"]),
            name="live rolling accuracy, day's last" + (f" ({worker})" if len(workers) > 1 else ""),
            mode="lines+markers",
        )
    figure.update_layout(yaxis={"range": [0, 1], "title": "share correct"})
    return styled(figure, "Categorizer accuracy over time", dark=False)


def categorizer_precision_recall_figure(categories: pd.DataFrame) -> go.Figure:
    """Precision and recall per category from the live monitor: where categories get confused."""
    if categories.empty:
        return empty("Precision and recall per category")
    frame = categories.sort_values("recall")
    figure = go.Figure()
    figure.add_bar(y=list(frame["category"]), x=list(frame["precision"]), name="precision", orientation="h")
    figure.add_bar(y=list(frame["category"]), x=list(frame["recall"]), name="recall", orientation="h")
    figure.update_layout(barmode="group", height=max(400, 18 * len(frame)), xaxis={"range": [0, 1]})
    return styled(figure, "Precision and recall per category (live)", dark=False)


OTHER = "other"
ABSTAINED = "abstained"
SOURCE_LABELS = {"model": "model predictions", "first_guess": "agents' first guesses"}


@dataclass(frozen=True)
class ConfusionMatrix:
    """Tickets by true category (rows) and predicted category (columns), rare categories folded."""

    counts: pd.DataFrame
    shares: pd.DataFrame  # each row over its total: the diagonal is the category's recall
    true_categories: int  # distinct true categories before folding


def confusion_matrix(confusion: pd.DataFrame, top: int = 20) -> ConfusionMatrix:
    """Rows: the ``top`` most frequent true categories, then "other" for the rest. Columns: the same
    categories in the same order (so right answers sit on the diagonal), "other" for every other
    prediction, and "abstained" last, never folded.
    """
    if top < 1:
        raise ValueError("top must be at least 1")
    frame = confusion.assign(tickets=pd.to_numeric(confusion["tickets"]))
    frame = frame[frame["tickets"] > 0]
    totals = frame.groupby("true_category")["tickets"].sum()
    ranked = sorted(totals.index, key=lambda category: (-totals[category], category))
    kept = ranked[:top]
    true = frame["true_category"].where(frame["true_category"].isin(kept), OTHER)
    predicted = frame["predicted_category"].where(frame["predicted_category"].isin([*kept, ABSTAINED]), OTHER)
    counts = (
        frame.assign(true_category=true, predicted_category=predicted)
        .groupby(["true_category", "predicted_category"])["tickets"]
        .sum()
        .unstack(fill_value=0)
    )
    rows = kept + ([OTHER] if len(ranked) > top else [])
    columns = kept + [column for column in (OTHER, ABSTAINED) if column in counts.columns]
    counts = counts.reindex(index=rows, columns=columns, fill_value=0).astype("int64")
    return ConfusionMatrix(counts, counts.div(counts.sum(axis=1), axis=0), len(ranked))


def confusion_cells(matrix: ConfusionMatrix) -> pd.DataFrame:
    """The matrix as shown, one row per non-empty cell in display order (the page's CSV export)."""
    cells = matrix.counts.stack().rename("tickets").reset_index()
    cells["share"] = matrix.shares.stack().round(4).to_numpy()
    return cells[cells["tickets"] > 0].reset_index(drop=True)


def confusion_figure(confusion: pd.DataFrame, top: int = 20, source: str = "model") -> go.Figure:
    """Heatmap of true (rows) against predicted (columns) category, each row normalised to 100%."""
    label = SOURCE_LABELS.get(source, source)
    if confusion.empty or not (pd.to_numeric(confusion["tickets"]) > 0).any():
        return empty("Confusion matrix", f"no labelled tickets for {label} in these dates")
    matrix = confusion_matrix(confusion, top)
    counts = matrix.counts
    totals = counts.sum(axis=1).tolist()
    figure = go.Figure(
        go.Heatmap(
            z=matrix.shares.round(4).to_numpy().tolist(),
            x=list(counts.columns),
            y=list(counts.index),
            customdata=[
                [[int(count), int(total)] for count in row]
                for row, total in zip(counts.to_numpy().tolist(), totals, strict=True)
            ],
            zmin=0,
            zmax=1,
            colorscale="Blues",
            xgap=1,
            ygap=1,
            colorbar={"title": {"text": "share of row"}, "tickformat": ".0%"},
            hovertemplate="true: %{y}<br>predicted: %{x}<br>"
            "%{customdata[0]:,} of %{customdata[1]:,} tickets (%{z:.1%})<extra></extra>",
        )
    )
    shown = min(top, matrix.true_categories)
    folded = f" (top {shown} of {matrix.true_categories}, rest in '{OTHER}')" if OTHER in counts.index else ""
    styled(
        figure, f"Confusion matrix, {label}: rows are true categories{folded}, each sums to 100%", dark=False
    )
    figure.update_layout(
        height=max(420, 24 * len(counts.index) + 260),
        xaxis={"title": "predicted category", "tickangle": -45, "automargin": True},
        yaxis={"title": "true category", "autorange": "reversed", "automargin": True},
    )
    return figure
