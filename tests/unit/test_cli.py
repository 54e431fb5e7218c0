import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from cxa.cli import app

runner = CliRunner()


def _command_paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))  # type: ignore[arg-type]


def test_the_cli_has_the_commands_the_docs_promise() -> None:
    assert {
        ("stack", "up"),
        ("stack", "down"),
        ("stack", "status"),
        ("migrate",),
        ("worker",),
        ("produce", "tickets"),
        ("events", "schema"),
        ("demo",),
    } <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "cxa")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_schema_export_writes_json_schema(tmp_path) -> None:
    out = tmp_path / "events.schema.json"
    result = runner.invoke(app, ["events", "schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert '"ticket.created"' in out.read_text()
