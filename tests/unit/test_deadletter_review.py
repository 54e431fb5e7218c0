"""`cxa deadletter`'s pure parts: --since, the filters' SQL, readable keys, values and reasons."""

import doctest
from datetime import UTC, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from cxa.cli import app
from stream_processors.ingest import deadletter_review as review
from stream_processors.ingest.deadletter_review import (
    KindCount,
    ReplayReport,
    Selection,
    key_text,
    parse_since,
    preview,
    readable,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_docstring_examples() -> None:
    result = doctest.testmod(review, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 2H ", timedelta(hours=2)),
        ("0m", timedelta()),
    ],
)
def test_since_takes_a_duration_before_now(text: str, ago: timedelta) -> None:
    assert parse_since(text, NOW) == NOW - ago


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T08:00:00+01:00", datetime(2026, 3, 1, 7, 0, tzinfo=UTC)),
        ("2026-03-01T08:00:00Z", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
        ("2026-03-01T08:00:00", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),  # no offset: UTC
        ("2026-03-01 08:00", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_since_takes_an_iso_time_in_utc_unless_it_says_otherwise(text: str, expected: datetime) -> None:
    moment = parse_since(text, NOW)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "5x", "-2h", "2h ago", "h", "2026-13-01", "30 m"])
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="neither an ISO-8601 time"):
        parse_since(text, NOW)


def test_since_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_since("2h", datetime(2026, 3, 2, 12, 0))  # noqa: DTZ001 (the point of the test)


def test_by_default_the_selection_is_what_awaits_a_replay() -> None:
    assert Selection().where() == ("replayed_at IS NULL", [])
    assert Selection(include_replayed=True).where() == ("TRUE", [])


def test_every_criterion_narrows_the_selection_with_parameters_only() -> None:
    since = datetime(2026, 3, 1, 8, tzinfo=timezone(timedelta(hours=1)))
    reason = "'; DROP TABLE live.deadletters; --"
    sql, params = Selection(since, reason, "tickets.events", include_replayed=True).where()
    assert sql == (
        "dead_lettered_at >= %s AND (kind = %s OR strpos(lower(reason), lower(%s)) > 0) AND origin_topic = %s"
    )
    assert params == [since, reason, reason, "tickets.events"]
    assert reason not in sql


def test_an_empty_reason_selects_nothing_less() -> None:
    assert Selection(reason="").where() == Selection().where()


def test_a_naive_since_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Selection(since=datetime(2026, 3, 1)).where()  # noqa: DTZ001 (the point of the test)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x00b", "a\\x00b"),
        ("line\nnext\ttab\r", "line\\nnext\\ttab\\r"),
        ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),  # no terminal escape gets through
        ("abc\u202edef", "abc\\u202edef"),  # a bidi override cannot reorder what follows
        ("no\u00a0break\u200bzero", "no\\xa0break\\u200bzero"),
        ("\x7f\x85", "\\x7f\\x85"),
        ("été 😀 [bold]x[/bold] \\", "été 😀 [bold]x[/bold] \\"),  # printable text stays as it is
    ],
)
def test_readable_escapes_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert readable(text) == shown


def test_preview_decodes_with_replacement_and_escapes() -> None:
    value = b'{"body": "\x00\xff\xfe bad"}'
    assert preview(value, len(value)) == '{"body": "\\x00�� bad"}'


def test_preview_is_short_and_says_when_more_follows() -> None:
    value = ("x" * 500).encode()
    shown = preview(value[:100], len(value))
    assert len(shown) == review.PREVIEW_CHARS
    assert shown.endswith("…")
    assert preview(b"short", 5000).endswith("short…")  # the head of a longer value
    assert preview(b"short", 5) == "short"


def test_preview_of_a_head_drops_a_character_cut_in_two_but_not_a_broken_end() -> None:
    euro = "€".encode()  # three bytes
    head = b"price " + euro[:2]  # the head ends inside the euro sign
    assert preview(head, 100, width=60) == "price …"
    assert preview(head, len(head), width=60) == "price �"  # the whole value: its end is broken


def test_preview_of_escapes_counts_the_escapes_in_the_width() -> None:
    shown = preview(b"\x00" * 100, 100)
    assert len(shown) == review.PREVIEW_CHARS
    assert shown.startswith("\\x00\\x00")


def test_missing_key_and_value_are_said_so() -> None:
    assert key_text(None) == "(no key)"
    assert preview(None, 0) == "(no value)"


def test_keys_are_readable_and_short() -> None:
    assert key_text(b"T1\x00\xff") == "T1\\x00�"
    long = key_text(b"K" * 100)
    assert len(long) == review.KEY_CHARS
    assert long.endswith("…")


def test_the_summary_counts_per_kind() -> None:
    counts = [KindCount("too_large", 12, 2), KindCount("schema", 1, 0)]
    assert review.summary_line(counts, 13, include_replayed=True) == (
        "13 dead letters (2 replayed): too_large 12, schema 1; showing 13"
    )
    assert review.summary_line(counts[1:], 1, include_replayed=False) == (
        "1 dead letter not replayed: schema 1; showing 1"
    )
    assert review.summary_line(counts, 5, include_replayed=True).endswith("showing the newest 5")
    assert review.summary_line([], 0, include_replayed=False) == "no dead letters waiting for a replay"


def test_the_replay_summary_says_what_was_skipped_and_why() -> None:
    report = ReplayReport(already_replayed=3)
    assert report.summary() == "replayed 0, skipped 3 (3 already replayed, 0 truncated)"
    assert report.summary(dry_run=True).startswith("would replay 0, skipped 3")


runner = CliRunner()


@pytest.mark.parametrize("command", ["list", "replay"])
def test_a_bad_since_is_a_usage_error_before_any_connection(command: str) -> None:
    result = runner.invoke(app, ["deadletter", command, "--since", "last tuesday"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "neither an ISO-8601 time" in result.output
