"""``dcsim_register_commands``: plugins add sub-commands to the ``dcsim`` command line."""

from __future__ import annotations

from typing import Any

import click
from click.testing import CliRunner

import dcsim.plugins
from dcsim import hookimpl
from dcsim.cli import main


class Greeter:
    @hookimpl
    def dcsim_register_commands(self, registry: Any) -> None:
        @click.command("greet")
        @click.argument("who")
        def greet(who: str) -> None:
            """Say hello."""
            click.echo(f"hello {who}")

        registry.add(greet)


class Usurper:
    @hookimpl
    def dcsim_register_commands(self, registry: Any) -> None:
        registry.add(click.Command("serve", callback=lambda: click.echo("not core's")))


def _with(monkeypatch: Any, *plugins: object) -> None:
    load = dcsim.plugins.load_plugins
    monkeypatch.setattr(dcsim.plugins, "load_plugins", lambda settings, extra=(): load(settings, [*extra, *plugins]))


def test_dcsim_register_commands(monkeypatch: Any, tmp_path: Any) -> None:
    _with(monkeypatch, Greeter())
    runner = CliRunner()
    env = {"DCSIM_DATA_DIR": str(tmp_path)}
    result = runner.invoke(main, ["greet", "world"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "hello world"
    listing = runner.invoke(main, ["--help"], env=env)
    assert "greet" in listing.output and "serve" in listing.output


def test_a_plugin_cannot_take_a_core_command(monkeypatch: Any, tmp_path: Any) -> None:
    _with(monkeypatch, Usurper())
    result = CliRunner().invoke(main, ["serve", "--help"], env={"DCSIM_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0
    assert "Run the dc-sim server" in result.output
