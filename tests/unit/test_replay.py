import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cxa import events
from cxa.cli import app
from producers import cli as producers_cli
from producers.replay import parse_mapping, replay, to_event

NYC = "unique_key,opendate,complaint_type,descriptor\nNYCC1,2015-01-02,Finance,Tax\nNYCC2,bad-date,Aging,\n"
MAPPING = ["ticket_id=unique_key", "occurred_at=opendate", "subject=complaint_type", "body=descriptor"]
ROW_MAPPING = parse_mapping(["ticket_id=id", "occurred_at=at", "subject=subject", "body=body"])
NOW = datetime(2026, 1, 5, tzinfo=UTC)


class Replayed:
    """What one replay emitted and reported."""

    def __init__(self) -> None:
        self.events: list[events.TicketEventBase | events.AgentEventBase] = []
        self.skipped: list[tuple[int, str]] = []

    def emit(self, event: events.TicketEventBase | events.AgentEventBase) -> None:
        self.events.append(event)

    def skip(self, line: int, reason: str) -> None:
        self.skipped.append((line, reason))

    @property
    def lines(self) -> list[int]:
        return [line for line, _ in self.skipped]

    @property
    def ticket_ids(self) -> list[str]:
        return [event.key for event in self.events]

    def reason(self, line: int) -> str:
        (reason,) = [reason for number, reason in self.skipped if number == line]
        return reason


def _replay(path: Path, mapping: dict[str, str], **options: Any) -> Replayed:
    result = Replayed()
    options.setdefault("now", NOW)
    count = replay(path, mapping, options.pop("speed", 0), result.emit, result.skip, **options)
    assert count == len(result.events)
    return result


def _row(ticket_id: str, at: str = "2025-12-01T09:00:00Z", **fields: str) -> bytes:
    return json.dumps({"id": ticket_id, "at": at, "subject": "", "body": "", **fields}).encode() + b"\n"


def test_a_csv_replays_through_a_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(NYC)
    result = _replay(path, parse_mapping(MAPPING))
    (event,) = result.events
    assert isinstance(event, events.TicketCreated)
    assert (event.ticket_id, event.subject, event.body) == ("NYCC1", "Finance", "Tax")
    assert event.occurred_at.isoformat() == "2015-01-02T00:00:00+00:00"
    assert result.lines == [3]  # the header is line 1
    assert "bad-date" in result.reason(3)


def test_replaying_twice_gives_the_same_event_ids() -> None:
    row = {"unique_key": "NYCC1", "opendate": "2015-01-02", "complaint_type": "F", "descriptor": ""}
    mapping = parse_mapping(MAPPING)
    assert to_event(row, mapping).event_id == to_event(row, mapping).event_id


def test_whole_events_in_jsonl_pass_through(tmp_path: Path) -> None:
    event = events.CsatSubmitted(ticket_id="T1", occurred_at="2026-01-01T10:00:00Z", rating=5)
    path = tmp_path / "events.jsonl"
    path.write_text(events.serialize(event).decode() + "\n")
    assert _replay(path, {}).events == [event]


def test_mapping_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="FIELD=COLUMN"):
        parse_mapping(["ticket"])
    with pytest.raises(events.InvalidEvent, match="no column 'nope'"):
        to_event({"a": 1}, {"ticket_id": "nope"})
    with pytest.raises(events.InvalidEvent, match="ticket_id is empty"):
        to_event({"id": "", "at": "2026-01-01"}, {"ticket_id": "id", "occurred_at": "at"})


def test_bad_jsonl_lines_are_reported_by_line_and_the_rest_replays(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(
        b"".join(
            [
                _row("T1"),  # 1
                b'{"id": "T2", "at": \n',  # 2: not JSON
                b"\n",  # 3: blank, skipped silently
                b"[1, 2]\n",  # 4
                b'"x"\n',  # 5
                b"null\n",  # 6
                _row("T7", body="b" * 100_001),  # 7
                _row("T8", subject="nul \x00 here"),  # 8: JSON "\u0000"
                _row("T9", at="next tuesday"),  # 9
                _row("T10", at="9999-01-01T00:00:00Z"),  # 10
                _row("T11", at="0001-01-01T00:00:00"),  # 11
                b'{"id": "T12", "at": "2025-12-01", "subject": "caf\xe9"}\n',  # 12: Latin-1 byte
                _row("T13", subject="s" * 1_500),  # 13: cut, not refused
                b"   \n",  # 14: blank
                _row("T15", at="0001-01-01T00:00:00+01:00"),  # 15: before year 1 in UTC
                _row("T16", body="b" * 100_000),  # 16: at the limit
            ]
        )
    )
    result = _replay(path, ROW_MAPPING)
    assert result.lines == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    assert result.ticket_ids == ["T1", "T13", "T16"]
    assert "not JSON" in result.reason(2)
    assert result.reason(4) == "a JSON object was expected, not an array"
    assert result.reason(5) == "a JSON object was expected, not a string"
    assert result.reason(6) == "a JSON object was expected, not null"
    assert "body" in result.reason(7)
    assert "100000" in result.reason(7)
    assert "subject" in result.reason(8)
    assert "U+0000" in result.reason(8)
    assert "'next tuesday' is not an ISO 8601" in result.reason(9)
    assert "ahead of the clock" in result.reason(10)
    assert "before 2000-01-01" in result.reason(11)
    assert "not valid UTF-8" in result.reason(12)
    assert "out of range" in result.reason(15)
    subject = result.events[1]
    assert isinstance(subject, events.TicketCreated)
    assert subject.subject == "s" * 1_000


def test_whole_events_in_jsonl_are_checked_too(tmp_path: Path) -> None:
    good = events.CsatSubmitted(ticket_id="T1", occurred_at="2026-01-01T10:00:00Z", rating=5)
    future = good.model_copy(update={"occurred_at": datetime(9999, 1, 1, tzinfo=UTC)})
    nul = json.loads(events.serialize(good)) | {"comment": "a\x00b"}
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b"\n".join(
            [events.serialize(future), json.dumps(nul).encode(), b'{"event_type": ', events.serialize(good)]
        )
    )
    result = _replay(path, {})
    assert result.lines == [1, 2, 3]
    assert "ahead of the clock" in result.reason(1)
    assert "U+0000" in result.reason(2)
    assert result.events == [good]


def test_csv_lines_are_file_lines_where_each_record_starts(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(
        b"".join(
            [
                b"id,at,subject,body\n",  # 1
                b'C2,2025-12-01,Multi,"first\nsecond\nthird"\n',  # 2-4
                b"C5,not-a-date,Bad,\n",  # 5
                b"C6,2025-12-02,Good,\n",  # 6
                b"C7,2025-12-02,nul \x00 here,\n",  # 7
                b"C8,2025-12-02,caf\xe9,\n",  # 8
                b"C9,9999-12-31,Future,\n",  # 9
                b"\n",  # 10
                b"C11,2025-12-02,Long," + b"b" * 100_001 + b"\n",  # 11
                b'C12,never,"two\nlines",\n',  # 12-13
                b"C14,2025-12-03,Last,\n",  # 14
            ]
        )
    )
    result = _replay(path, ROW_MAPPING)
    assert result.lines == [5, 7, 8, 9, 11, 12]
    assert result.ticket_ids == ["C2", "C6", "C14"]
    multi = result.events[0]
    assert isinstance(multi, events.TicketCreated)
    assert multi.body == "first\nsecond\nthird"
    assert "U+0000" in result.reason(7)
    assert "not valid UTF-8" in result.reason(8)
    assert "body" in result.reason(11)
    assert "'never'" in result.reason(12)


def test_csv_with_crlf_a_byte_order_mark_and_short_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(
        "\ufeffid,at,subject,body\r\nX2,2025-12-01,One,\r\nX3\r\nX4,2025-12-01\r\n".encode("utf-8")
    )
    result = _replay(path, ROW_MAPPING)
    assert result.ticket_ids == ["X2", "X4"]
    assert result.lines == [3]
    assert "occurred_at is empty" in result.reason(3)


def test_an_undecodable_csv_header_is_reported_and_still_used(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(b"id,at,subject\xff\nH2,2025-12-01\n")
    result = _replay(path, parse_mapping(["ticket_id=id", "occurred_at=at"]))
    assert result.lines == [1]
    assert result.ticket_ids == ["H2"]


def test_times_ahead_of_the_clock_follow_max_ahead(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(_row("SOON", at="2026-01-05T00:04:00Z") + _row("LATER", at="2026-01-05T00:06:00Z"))
    default = _replay(path, ROW_MAPPING)
    assert (default.ticket_ids, default.lines) == (["SOON"], [2])
    wider = _replay(path, ROW_MAPPING, max_ahead=timedelta(minutes=10))
    assert (wider.ticket_ids, wider.lines) == (["SOON", "LATER"], [])


def test_a_paced_replay_refuses_a_far_future_row_instead_of_sleeping(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(
        _row("P1", at="2025-12-01T09:00:00Z")
        + _row("P2", at="2025-12-01T09:00:10Z")
        + _row("FUTURE", at="9999-01-01T00:00:00Z")
        + _row("P4", at="2025-12-01T09:00:30Z")
    )
    clock = [1_000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    result = _replay(path, ROW_MAPPING, speed=2, clock=lambda: clock[0], sleep=sleep)
    assert result.ticket_ids == ["P1", "P2", "P4"]
    assert result.lines == [3]
    assert sleeps == [5.0, 10.0]


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(topic, key) of what `cxa replay` published, through a stand-in for the Kafka publisher:
    the command's own logic is under test here, not delivery."""
    sent: list[tuple[str, str]] = []

    class FakePublisher:
        def __init__(self, *_: Any) -> None:
            pass

        def __enter__(self) -> "FakePublisher":
            return self

        def __exit__(self, *_: Any) -> None:
            pass

        def publish(self, topic: str, key: str, value: bytes) -> None:
            sent.append((topic, key))

    monkeypatch.setattr(producers_cli, "Publisher", FakePublisher)
    return sent


def _invoke(path: Path, *options: str) -> Any:
    args = ["replay", str(path), "-m", "ticket_id=id", "-m", "occurred_at=at", *options]
    return CliRunner().invoke(app, args)


def test_the_cli_names_the_first_twenty_bad_rows_and_counts_the_rest(
    tmp_path: Path, published: list[tuple[str, str]]
) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(b"{oops\n" * 25 + _row("GOOD"))
    result = _invoke(path)
    assert result.exit_code == 0, result.output
    assert published == [("tickets.events", "GOOD")]
    assert result.stderr.splitlines() == [
        f"line {n}: not JSON: Expecting property name enclosed in double quotes at column 2"
        for n in range(1, 21)
    ] + ["... and 5 more invalid rows"]
    assert "published 1 events; skipped 25 invalid rows" in result.stdout


def test_the_cli_fails_when_no_row_is_valid(tmp_path: Path, published: list[tuple[str, str]]) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(_row("FUTURE", at="2100-01-01T00:00:00Z") + b"[]\n")
    result = _invoke(path)
    assert result.exit_code == 1
    assert published == []
    first, second, error = result.stderr.splitlines()
    assert first.startswith("line 1: occurred_at 2100-01-01T00:00:00+00:00 is more than 300 s ahead")
    assert second == "line 2: a JSON object was expected, not an array"
    assert error == f"error: {path} holds no valid row"


def test_the_cli_takes_the_allowance_ahead_of_the_clock(
    tmp_path: Path, published: list[tuple[str, str]]
) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(_row("AHEAD", at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()))
    assert _invoke(path).exit_code == 1
    assert _invoke(path, "--max-ahead-seconds", "86400", "--speed", "1").exit_code == 0
    assert published == [("tickets.events", "AHEAD")]


def test_the_cli_refuses_a_bad_mapping(tmp_path: Path, published: list[tuple[str, str]]) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_bytes(_row("T1"))
    result = CliRunner().invoke(app, ["replay", str(path), "-m", "ticket"])
    assert result.exit_code == 2
    assert "FIELD=COLUMN" in result.stderr
    assert published == []
