from pathlib import Path

import pytest

from cxa import events
from producers.replay import parse_mapping, replay, to_event

NYC = "unique_key,opendate,complaint_type,descriptor\nNYCC1,2015-01-02,Finance,Tax\nNYCC2,bad-date,Aging,\n"
MAPPING = ["ticket_id=unique_key", "occurred_at=opendate", "subject=complaint_type", "body=descriptor"]


def test_a_csv_replays_through_a_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(NYC)
    published: list[events.EventBase] = []
    skipped: list[tuple[int, str]] = []
    count = replay(
        path, parse_mapping(MAPPING), 0, published.append, lambda line, reason: skipped.append((line, reason))
    )
    assert count == 1
    (event,) = published
    assert isinstance(event, events.TicketCreated)
    assert (event.ticket_id, event.subject, event.body) == ("NYCC1", "Finance", "Tax")
    assert event.occurred_at.isoformat() == "2015-01-02T00:00:00+00:00"
    assert skipped
    assert skipped[0][0] == 2
    assert "bad-date" in skipped[0][1]


def test_replaying_twice_gives_the_same_event_ids() -> None:
    row = {"unique_key": "NYCC1", "opendate": "2015-01-02", "complaint_type": "F", "descriptor": ""}
    mapping = parse_mapping(MAPPING)
    assert to_event(row, mapping).event_id == to_event(row, mapping).event_id


def test_whole_events_in_jsonl_pass_through(tmp_path: Path) -> None:
    event = events.CsatSubmitted(ticket_id="T1", occurred_at="2026-01-01T10:00:00Z", rating=5)
    path = tmp_path / "events.jsonl"
    path.write_text(events.serialize(event).decode() + "\n")
    published: list[events.EventBase] = []
    replay(path, {}, 0, published.append, lambda *_: None)
    assert published == [event]


def test_mapping_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="FIELD=COLUMN"):
        parse_mapping(["ticket"])
    with pytest.raises(events.InvalidEvent, match="no column 'nope'"):
        to_event({"a": 1}, {"ticket_id": "nope"})
