"""The editable mapping file (CXA_INGEST_MAPPING_FILE) laid over the shipped defaults, and the
errors that name the file and the fix when it is wrong."""

import re
from pathlib import Path

import pytest

from connectors.vendors.mapping import load_mappings
from cxa.events import Channel, TicketStatus


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ingest-mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_edited_file_adds_to_the_default_tables_and_replaces_single_values(tmp_path) -> None:
    path = _file(
        tmp_path,
        """
        [zendesk.statuses]
        awaiting_parts = "on_hold"   # a custom status
        pending = "on_hold"          # a default changed

        [jira]
        category_field = "customfield_10010"
        category_tag_prefix = "cat-"

        [freshdesk]
        time_zone = "Europe/Lisbon"
        default_channel = "web"
        """,
    )
    defaults, edited = load_mappings(), load_mappings(path)
    zendesk = edited["zendesk"]
    assert zendesk.status("zendesk", "Awaiting_Parts") == TicketStatus.ON_HOLD
    assert zendesk.status("zendesk", "PENDING") == TicketStatus.ON_HOLD
    # The rest of the table, and the vendor's other tables, keep the defaults.
    assert zendesk.status("zendesk", "solved") == TicketStatus.SOLVED
    assert zendesk.priorities == defaults["zendesk"].priorities
    assert zendesk.ratings == defaults["zendesk"].ratings
    assert (edited["jira"].category_field, edited["jira"].category_tag_prefix) == (
        "customfield_10010",
        "cat-",
    )
    assert edited["jira"].statuses == defaults["jira"].statuses
    assert (edited["freshdesk"].time_zone, edited["freshdesk"].default_channel) == (
        "Europe/Lisbon",
        Channel.WEB,
    )
    assert edited["chatwoot"] == defaults["chatwoot"]  # a vendor the file leaves out
    assert set(edited) == {"zendesk", "freshdesk", "jira", "chatwoot"}


def test_the_shipped_deploy_file_loads() -> None:
    path = Path(__file__).parents[2] / "deploy" / "ingest-mapping.toml"
    assert set(load_mappings(path)) == {"zendesk", "freshdesk", "jira", "chatwoot"}


def test_an_unknown_vendor_is_refused_naming_the_file_and_the_known_ones(tmp_path) -> None:
    path = _file(tmp_path, '[zendsek.statuses]\nawaiting_parts = "on_hold"\n')
    with pytest.raises(ValueError, match="unknown vendor") as refused:
        load_mappings(path)
    message = str(refused.value)
    assert str(path) in message
    assert "[zendsek]" in message
    assert "chatwoot, freshdesk, jira, zendesk" in message


def test_an_unknown_key_is_refused_naming_the_file_the_key_and_the_keys_there_are(tmp_path) -> None:
    path = _file(tmp_path, '[jira]\ncategory_prefix = "cat-"\n')  # category_tag_prefix misspelt
    with pytest.raises(ValueError, match="unknown key") as refused:
        load_mappings(path)
    message = str(refused.value)
    assert str(path) in message
    assert "[jira] category_prefix" in message
    assert "category_tag_prefix" in message  # the keys there are, the fix among them


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[zendesk.statuses]\nawaiting_parts = "waiting"\n', "zendesk.statuses.awaiting_parts"),
        ('[zendesk]\nstatuses = "on_hold"\n', "[zendesk] statuses"),
        ('zendesk = "on_hold"\n', "[zendesk]"),
        ("[freshdesk.ratings]\nsuperb = 7\n", "freshdesk.ratings.superb"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_naming_the_file_and_where(tmp_path, text, says) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(ValueError, match=re.escape(str(path))) as refused:
        load_mappings(path)
    assert says in str(refused.value)


def test_a_file_that_is_not_toml_or_not_there_is_refused_naming_it(tmp_path) -> None:
    path = _file(tmp_path, '[zendesk.statuses\nawaiting_parts = "on_hold"\n')
    with pytest.raises(ValueError, match=r"cannot read the mapping file .*ingest-mapping\.toml: .*line 1"):
        load_mappings(path)
    with pytest.raises(ValueError, match=r"cannot read the mapping file .*missing\.toml"):
        load_mappings(tmp_path / "missing.toml")
