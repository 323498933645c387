"""The ``dcsim nodes`` command group: the docker backend's images and containers.

Attached to the main command in :mod:`dcsim.cli`; it reads the ``--config`` and
``--data-dir`` options given to ``dcsim`` itself. Containers are chosen by owner: this
instance's by default (see :mod:`dcsim.sim.nodes.docker.instances`), another's with
``--instance``, those of dc-sim versions before instances with ``--older``, every dc-sim
container on the engine with ``--all``. They work whatever
``node_backend`` is set to, so containers left from trying the docker backend can go.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from dcsim.errors import DcsimError
from dcsim.settings import Settings, load_settings

if TYPE_CHECKING:
    from dcsim.sim.nodes.docker.instances import NodeContainer

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def nodes() -> None:
    """Simulated nodes: the docker backend's images and containers."""


def _settings(ctx: click.Context) -> Settings:
    options = ctx.find_root().obj or {}
    config: Path | None = options.get("config")
    data_dir: Path | None = options.get("data_dir")
    return load_settings(config_file=config, data_dir=data_dir)


@nodes.command("build-image")
@click.option("--force", is_flag=True, help="Rebuild everything, the Debian root file system included.")
@click.pass_context
def build_image(ctx: click.Context, force: bool) -> None:
    """Build the node images (<prefix>:rhel9, <prefix>:ubuntu22) from Debian packages.

    No image registry is needed: the root file system comes from debootstrap and is
    cached in the data directory, so a rebuild takes seconds. Progress goes to stderr;
    the image names to stdout.
    """
    from dcsim.sim.nodes.image import build_images

    try:
        names = build_images(_settings(ctx), lambda line: click.echo(line, err=True), force=force)
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    for name in names:
        click.echo(name)


def _owner_options(command: F) -> F:
    """``--instance`` / ``--older`` / ``--all`` and the node names that choose containers."""
    command = click.argument("node_names", metavar="[NODE]...", nargs=-1)(command)
    command = click.option(
        "--older", is_flag=True, help="Containers of dc-sim versions before instances (named after the node)."
    )(command)
    command = click.option(
        "--all", "every", is_flag=True, help="Every dc-sim container on the engine, of any instance or version."
    )(command)
    return click.option("--instance", metavar="NAME", help="Another instance's containers (default: this instance's).")(
        command
    )


def _chosen(
    ctx: click.Context, instance: str | None, every: bool, older: bool, node_names: tuple[str, ...]
) -> tuple[Any, list[NodeContainer], str]:
    """The engine's client, the chosen containers and words for whose they are."""
    from dcsim.sim.nodes.docker.engine import connect
    from dcsim.sim.nodes.docker.instances import find_containers, instance_name

    if sum([every, older, instance is not None]) > 1:
        raise click.UsageError("--instance, --older and --all exclude each other")
    try:
        settings = _settings(ctx)
        if instance is not None:
            settings = attrs.evolve(settings, instance=instance)
        owner = None if every or older else instance_name(settings)
        client = connect(settings)
        containers = find_containers(client, owner, older=older)
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    if node_names:
        unknown = sorted(set(node_names) - {container.node for container in containers})
        if unknown:
            client.close()
            raise click.ClickException(f"no such node: {', '.join(unknown)}")
        containers = [container for container in containers if container.node in node_names]
    whose = f"instance {owner}" if owner else "dc-sim versions before instances" if older else "every dc-sim instance"
    return client, containers, whose


@nodes.command("list")
@_owner_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the containers.")
@click.pass_context
def list_containers(
    ctx: click.Context, instance: str | None, every: bool, older: bool, node_names: tuple[str, ...], as_json: bool
) -> None:
    """List the containers of this instance (or --instance NAME, --older, --all)."""
    client, containers, whose = _chosen(ctx, instance, every, older, node_names)
    client.close()
    if as_json:
        click.echo(json.dumps([attrs.asdict(container) for container in containers], indent=2))
        return
    if not containers:
        click.echo(f"no containers of {whose}", err=True)
        return
    rows = [("NODE", "STATUS", "SSH", "INSTANCE", "CONTAINER", "DATA DIR")]
    rows += [
        (c.node, c.status, str(c.ssh_port or "-"), c.instance or "-", c.name, c.data_dir or "-") for c in containers
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])


@nodes.command("stop")
@_owner_options
@click.pass_context
def stop(ctx: click.Context, instance: str | None, every: bool, older: bool, node_names: tuple[str, ...]) -> None:
    """Stop the containers of this instance (or --instance NAME, --older, --all); the server starts them again.

    Nodes keep running when the server stops, as VMs do when their manager restarts; this
    frees their memory and SSH ports. Progress goes to stderr.
    """
    from dcsim.sim.nodes.docker.instances import stop_containers

    client, containers, whose = _chosen(ctx, instance, every, older, node_names)
    try:
        stopped = stop_containers(client, containers, lambda line: click.echo(line, err=True))
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        client.close()
    click.echo(f"stopped {stopped} of {len(containers)} containers of {whose}", err=True)


@nodes.command("remove")
@_owner_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(
    ctx: click.Context, instance: str | None, every: bool, older: bool, node_names: tuple[str, ...], yes: bool
) -> None:
    """Remove the containers of this instance (or --instance NAME, --older, --all) and their snapshot images.

    What is inside the nodes is lost; a server of the instance makes fresh ones on its
    next start. Asks first unless --yes. Progress goes to stderr.
    """
    from dcsim.sim.nodes.docker.instances import remove_containers

    client, containers, whose = _chosen(ctx, instance, every, older, node_names)
    try:
        if not containers:
            click.echo(f"no containers of {whose}", err=True)
            return
        if not yes:
            names = ", ".join(container.name for container in containers)
            click.confirm(f"Remove {len(containers)} containers of {whose} ({names})?", abort=True, err=True)
        removed = remove_containers(client, containers, lambda line: click.echo(line, err=True))
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        client.close()
    click.echo(f"removed {removed} containers of {whose}", err=True)
