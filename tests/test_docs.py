"""Every CLI command and every setting is documented; every command has working --help."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from narcowatch.cli import cli
from narcowatch.settings import SETTINGS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def all_commands(group: click.Group = cli, prefix: str = "narcowatch") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path))
    return found


def docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


@pytest.mark.parametrize("path,command", all_commands(), ids=[p for p, _ in all_commands()])
def test_command_is_documented_and_has_help(path, command):
    assert path in docs_text(), f"`{path}` is not described in any docs/*.md"
    assert (command.help or "").strip(), f"`{path}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"option {param.opts} of `{path}` has no help text"
    result = CliRunner().invoke(cli, path.split()[1:] + ["--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_setting_is_documented(name):
    settings_doc = (DOCS / "settings.md").read_text(encoding="utf-8")
    assert name in settings_doc, f"setting {name} is missing from docs/settings.md"
    assert SETTINGS[name].help


def test_documented_settings_exist():
    """The reverse: docs/settings.md names no setting the code no longer reads."""
    import re

    named = set(re.findall(r"`(NARCOWATCH_[A-Z_]+)`", (DOCS / "settings.md").read_text(encoding="utf-8")))
    assert named <= set(SETTINGS), named - set(SETTINGS)
