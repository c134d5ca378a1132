"""The documentation keeps up with the code: every command has help and appears in the README."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


def test_there_are_commands_to_document() -> None:
    assert {"ask", "chat", "check", "export", "run"} <= set(COMMANDS)


def test_the_group_has_help() -> None:
    assert cli.help and cli.help.strip()


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_text(name: str) -> None:
    command = cli.commands[name]
    assert command.help and command.help.strip(), f"'{name}' has no docstring/help"
    assert command.get_short_help_str().strip()


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_of_a_command_has_help(name: str) -> None:
    command = cli.commands[name]
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help and param.help.strip(), f"{name} {param.opts} has no help"


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_mentioned_in_the_readme(name: str) -> None:
    assert re.search(rf"python -m bot {re.escape(name)}(?![\w-])", README), (
        f"README.md does not show 'python -m bot {name}'"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_help_runs(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"], prog_name="python -m bot")
    assert result.exit_code == 0
    assert result.output.startswith(f"Usage: python -m bot {name} ")
    first_line = (cli.commands[name].help or "").split("\n")[0]
    assert " ".join(first_line.split()) in " ".join(result.output.split())


def test_every_setting_is_documented_in_the_readme() -> None:
    source = (PROJECT_ROOT / "bot" / "config.py").read_text(encoding="utf-8")
    settings = set(re.findall(r'get\("([A-Z_]+)"\)', source))
    assert {"TELEGRAM_BOT_TOKEN", "BOT_KNOWLEDGE_DIR", "BOT_RETENTION_DAYS"} <= settings
    undocumented = sorted(s for s in settings if f"`{s}`" not in README)
    assert undocumented == []
