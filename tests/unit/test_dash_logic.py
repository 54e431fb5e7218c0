"""Dashboard logic without a server: figures, permissions, login limits, password hashing, filters."""

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from dash_app import figures
from dash_app.filters import parse_filter
from dash_app.login_limits import LoginPolicy, locked_until
from dash_app.passwords import hash_password, verify_password
from dash_app.permissions import Role, can_open, can_run_callback, home_path
from dash_app.warehouse import FLOOR_COLUMNS

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def summary(updated_at: datetime) -> pd.DataFrame:
    values = [updated_at, updated_at, 12, 80, NOW - timedelta(minutes=75), 2, 140, 3, 20, 4, 9, 30, 40]
    return pd.DataFrame([values], columns=FLOOR_COLUMNS)


def test_fresh_floor_shows_numbers():
    quality = pd.DataFrame([{"rolling_accuracy": 0.91}])
    numbers = figures.floor_numbers(
        summary(NOW - timedelta(seconds=2)), quality, 133.4, NOW, timedelta(seconds=10)
    )
    assert not numbers.is_stale
    assert (numbers.waiting, numbers.oldest_wait, numbers.forecast_hour) == ("12", "1h 15m", "133")
    assert (numbers.csat_today, numbers.categorizer_accuracy, numbers.agents_online) == (
        "75%",
        "91%",
        "20 / 24",
    )


def test_stale_or_missing_floor_shows_dashes_never_zeros():
    stale = figures.floor_numbers(
        summary(NOW - timedelta(minutes=3)), pd.DataFrame(), None, NOW, timedelta(seconds=10)
    )
    assert stale.is_stale
    assert stale.status.startswith("STALE")
    assert stale.waiting == "—"
    ahead = figures.floor_numbers(
        summary(NOW + timedelta(hours=2)), pd.DataFrame(), None, NOW, timedelta(seconds=10)
    )
    assert ahead.is_stale
    assert ahead.status.startswith("STALE: live data dated 2h 00m ahead of this clock")
    missing = figures.floor_numbers(
        pd.DataFrame(columns=FLOOR_COLUMNS), pd.DataFrame(), None, NOW, timedelta(seconds=10)
    )
    assert missing.is_stale
    assert missing.waiting == "—"


def test_dead_letter_line_counts_the_last_hour_and_today_per_kind():
    counts = pd.DataFrame([("too_large", 2, 5), ("schema", 0, 1)], columns=["kind", "last_hour", "today"])
    line = figures.deadletter_line(counts)
    assert line.text == "Dead letters (last hour / today): 2 / 6 · too_large 2 / 5, schema 0 / 1"
    assert line.colour == figures.WARN  # some came in within the hour
    quiet = figures.deadletter_line(counts.assign(last_hour=0))
    assert quiet.text.startswith("Dead letters (last hour / today): 0 / 6")
    assert quiet.colour == figures.MUTED


def test_no_dead_letters_read_as_zero_not_a_gap():
    line = figures.deadletter_line(pd.DataFrame(columns=["kind", "last_hour", "today"]))
    assert line.text == "Dead letters (last hour / today): 0 / 0"


def test_queue_depth_stacks_priorities_per_category():
    queues = pd.DataFrame(
        [("refund", "urgent", 3, NOW), ("refund", "low", 2, NOW), ("top_up", "normal", 7, NOW)],
        columns=["category", "priority", "waiting", "oldest_created_at"],
    )
    figure = figures.queue_depth_figure(queues)
    by_name = {trace.name: dict(zip(trace.y, trace.x, strict=True)) for trace in figure.data}
    assert by_name["urgent"] == {"refund": 3, "top_up": 0}
    assert by_name["normal"]["top_up"] == 7
    assert figure.layout.barmode == "stack"


def test_sla_figure_carries_the_drill_key_and_percentages():
    sla = pd.DataFrame(
        [("chat", 10, 0.8, 0.5, 0.9, 4)],
        columns=["key", "tickets", "first_reply_sl", "resolution_sl", "csat", "csat_responses"],
    )
    figure = figures.sla_figure(sla, "channel")
    assert [trace.y[0] for trace in figure.data] == [80.0, 50.0, 90.0]
    assert figure.data[0].customdata[0] == "chat"


def test_empty_results_give_a_no_data_figure():
    for figure in (
        figures.volume_figure(pd.DataFrame()),
        figures.staffing_figure(pd.DataFrame()),
        figures.forecast_figure(pd.DataFrame(), pd.DataFrame(), "chat"),
    ):
        assert figure.layout.annotations[0].text == "no data yet"


def test_forecast_figure_draws_interval_forecast_and_actual():
    at = [NOW + timedelta(hours=h) for h in range(3)]
    forecast = pd.DataFrame(
        {
            "period_at": at,
            "yhat": [1.0, 2, 3],
            "yhat_lower": [0.5, 1, 2],
            "yhat_upper": [2.0, 3, 4],
            "interval_width": 0.9,  # CXA_FORECAST_INTERVAL=0.9
        }
    )
    actual = pd.DataFrame({"period_at": at[:2], "actual": [1, 2]})
    names = [trace.name for trace in figures.forecast_figure(actual, forecast, "chat").data]
    assert names == ["90% interval", "forecast", "actual"]


def test_backtest_figure_has_a_box_per_grain_over_every_queue():
    backtest = pd.DataFrame(
        {
            "queue_type": ["channel", "channel", "category", "channel"],
            "queue": ["chat", "chat", "billing", "chat"],
            "grain": ["day", "day", "day", "hour"],
            "method": ["prophet", "seasonal_naive", "prophet", "prophet"],
            "mase": [0.7, 0.9, 1.2, 0.8],
        }
    )
    figure = figures.backtest_figure(backtest)
    assert [(trace.name, list(trace.x), list(trace.y)) for trace in figure.data] == [
        ("day", ["prophet", "seasonal_naive", "prophet"], [0.7, 0.9, 1.2]),
        ("hour", ["prophet"], [0.8]),
    ]
    assert "across 2 queues" in figure.layout.title.text


def test_live_accuracy_is_each_days_last_per_worker_once_it_has_labels_enough():
    # As live.categorizer_quality had it on the demo: a fresh worker's first reports (0 of 4
    # right) while it replayed weeks of history within minutes, then a restarted one; drawn as
    # one line in wall time, they made a vertical line from 0 to 1 on the page's axis of days.
    day = pd.Timestamp("2026-12-07", tz="UTC")
    quality = pd.DataFrame(
        {
            "measured_at": [day + pd.Timedelta(hours=h) for h in (20, 20.1, 20.2, 21, 21.1, 30)],
            "worker": ["vm:5228", "vm:5228", "vm:5228", "vm:9899", "vm:9899", "vm:9899"],
            "labelled": [4, 60, 900, 30, 80, 500],
            "rolling_accuracy": [0.0, 0.8, 0.95, 1.0, 0.9, 0.85],
        }
    )
    figure = figures.categorizer_accuracy_figure(pd.DataFrame(), quality)
    next_day = day + pd.Timedelta(days=1)
    assert [(trace.name, list(trace.x), list(trace.y)) for trace in figure.data] == [
        ("live rolling accuracy, day's last (vm:5228)", [day], [0.95]),
        ("live rolling accuracy, day's last (vm:9899)", [day, next_day], [0.9, 0.85]),
    ]


def test_permission_map():
    assert can_open(Role.MANAGER, "/")
    assert not can_open(Role.ANALYST, "/")
    assert can_open(Role.ANALYST, "/forecast")
    assert not can_open(Role.MANAGER, "/forecast")
    assert not can_open(Role.ANALYST, "/admin")
    assert not can_open(Role.MANAGER, "/admin/")
    assert all(can_open(Role.ADMIN, path) for path in ("/", "/admin", "/categorizer"))
    assert home_path(Role.ANALYST) == "/volume"
    assert home_path(Role.MANAGER) == "/"


def test_callbacks_are_refused_when_they_write_to_a_forbidden_page():
    assert not can_run_callback(Role.ANALYST, "..admin-users.data...admin-audit.data..")
    assert not can_run_callback(Role.MANAGER, "forecast-chart.figure")
    assert can_run_callback(Role.ANALYST, "..volume-trend.figure...volume-sla.figure..")
    assert can_run_callback(Role.ADMIN, "admin-users.data")


def test_five_failures_in_the_window_lock_for_the_lockout():
    policy = LoginPolicy(5, timedelta(minutes=15), timedelta(minutes=15))
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert locked_until(failures, NOW, policy) is None
    failures.append(NOW - timedelta(minutes=5))
    assert locked_until(failures, NOW, policy) == NOW - timedelta(minutes=1) + timedelta(minutes=15)
    assert locked_until(failures, NOW + timedelta(minutes=15), policy) is None  # lock over


def test_failures_spread_wider_than_the_window_do_not_lock():
    policy = LoginPolicy(5, timedelta(minutes=15), timedelta(minutes=15))
    spread = [NOW - timedelta(minutes=5 * m) for m in range(5)]  # 20 minutes apart end to end
    assert locked_until(spread, NOW, policy) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        locked_until(spread, NOW.replace(tzinfo=None), policy)


def test_argon2_hash_and_verify():
    hashed = hash_password("a long enough secret")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long enough secret")
    assert not verify_password(hashed, "a long enough secreT")
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")
    with pytest.raises(ValueError, match="at least"):
        hash_password("short")


def test_filter_parsing_and_sql():
    f = parse_filter("2026-03-01", "2026-02-01T00:00:00", ["refund"], None, "", default_end=date(2026, 3, 2))
    assert (f.start, f.end, f.team) == (date(2026, 2, 1), date(2026, 3, 1), None)
    where, params = f.where()
    assert "category" in where
    assert "channel" not in where
    assert params == [date(2026, 2, 1), date(2026, 3, 2), "uncategorized", ["refund"]]
    default = parse_filter(None, None, None, None, None, default_end=date(2026, 3, 2))
    assert default.start == date(2026, 2, 3)


def confusion_frame(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["true_category", "predicted_category", "tickets"])


def test_confusion_matrix_keeps_the_most_frequent_true_categories_and_folds_the_rest():
    # 25 true categories c00..c24, c00 the most frequent; each is right 3 times out of its tickets,
    # and the rare ones are also predicted (wrongly) for c00.
    rows = [(f"c{i:02d}", f"c{i:02d}", 3) for i in range(25)]
    rows += [(f"c{i:02d}", "c00", 30 - i) for i in range(25)]
    rows += [("c00", "c24", 4), ("c00", "c23", 1)]
    matrix = figures.confusion_matrix(confusion_frame(rows), top=20)
    kept = [f"c{i:02d}" for i in range(20)]
    assert list(matrix.counts.index) == [*kept, "other"]  # most frequent first
    assert list(matrix.counts.columns) == [*kept, "other"]  # same order: right answers on the diagonal
    assert matrix.true_categories == 25
    assert matrix.counts.loc["other", "other"] == 5 * 3  # the five rarest, right about themselves
    assert matrix.counts.loc["other", "c00"] == sum(30 - i for i in range(20, 25))
    assert matrix.counts.loc["c00", "other"] == 5  # predictions of folded categories fold too
    assert int(matrix.counts.to_numpy().sum()) == sum(tickets for _, _, tickets in rows)
    assert len(figures.confusion_matrix(confusion_frame(rows), top=5).counts) == 6


def test_confusion_rows_are_recall_shares_with_counts_in_the_hover():
    confusion = confusion_frame(
        [("refund", "refund", 6), ("refund", "top_up", 2), ("top_up", "top_up", 1), ("top_up", "refund", 3)]
    )
    matrix = figures.confusion_matrix(confusion)
    assert matrix.shares.loc["refund"].tolist() == [0.75, 0.25]
    assert matrix.shares.loc["top_up"].tolist() == [0.75, 0.25]  # "refund" first: 8 tickets vs 4
    assert matrix.shares.sum(axis=1).tolist() == [1.0, 1.0]
    assert "other" not in matrix.counts.index  # nothing to fold

    heatmap = figures.confusion_figure(confusion, top=20).data[0]
    assert heatmap.type == "heatmap"
    assert list(heatmap.y) == ["refund", "top_up"]
    assert list(heatmap.x) == ["refund", "top_up"]
    assert [list(row) for row in heatmap.z] == [[0.75, 0.25], [0.75, 0.25]]
    assert [list(cell) for cell in heatmap.customdata[1]] == [[3, 4], [1, 4]]  # count, row total
    assert (heatmap.zmin, heatmap.zmax) == (0, 1)


def test_abstentions_are_their_own_last_column_and_never_folded():
    confusion = confusion_frame(
        [
            ("refund", "abstained", 2),
            ("refund", "refund", 6),
            ("refund", "unknown", 2),  # a correction that did not name the guess
            ("top_up", "top_up", 1),
            ("card", "abstained", 1),
        ]
    )
    matrix = figures.confusion_matrix(confusion, top=1)
    assert list(matrix.counts.index) == ["refund", "other"]
    assert list(matrix.counts.columns) == ["refund", "other", "abstained"]
    assert matrix.counts.loc["refund"].tolist() == [6, 2, 2]
    assert matrix.counts.loc["other"].tolist() == [0, 1, 1]
    assert matrix.shares.loc["other", "abstained"] == 0.5
    cells = figures.confusion_cells(matrix)
    assert list(cells.columns) == ["true_category", "predicted_category", "tickets", "share"]
    assert cells.values.tolist() == [
        ["refund", "refund", 6, 0.6],
        ["refund", "other", 2, 0.2],
        ["refund", "abstained", 2, 0.2],
        ["other", "other", 1, 0.5],
        ["other", "abstained", 1, 0.5],
    ]


def test_confusion_without_labelled_tickets_says_so_and_rejects_a_zero_top():
    empty = confusion_frame([])
    assert "no labelled tickets" in figures.confusion_figure(empty).layout.annotations[0].text
    assert figures.confusion_cells(figures.confusion_matrix(empty)).empty
    with pytest.raises(ValueError, match="at least 1"):
        figures.confusion_matrix(confusion_frame([("a", "a", 1)]), top=0)
