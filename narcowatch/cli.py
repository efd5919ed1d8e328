"""The `narcowatch` command: a thin shell over the packages.

Each module in narcowatch/commands/ exposes `commands`: a list of click commands or groups that are added
to the top-level group. A module appears here only once what it offers works.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from narcowatch import __version__, logs
from narcowatch import commands as commands_pkg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="narcowatch")
def cli() -> None:
    """narcowatch: watch online drug markets, keep court-grade evidence, link vendors across sites."""
    logs.configure()


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands_pkg.__name__}.{info.name}")
        for command in getattr(module, "commands", []):
            cli.add_command(command)


_register()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
