"""The ``dcsim nodes`` command group: the docker node backend's images.

Attached to the main command in :mod:`dcsim.cli`; it reads the ``--config`` and
``--data-dir`` options given to ``dcsim`` itself.
"""

from __future__ import annotations

from pathlib import Path

import click

from dcsim.errors import DcsimError
from dcsim.settings import load_settings


@click.group()
def nodes() -> None:
    """Simulated nodes (the docker backend's images)."""


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

    options = ctx.find_root().obj or {}
    config: Path | None = options.get("config")
    data_dir: Path | None = options.get("data_dir")
    try:
        settings = load_settings(config_file=config, data_dir=data_dir)
        names = build_images(settings, lambda line: click.echo(line, err=True), force=force)
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    for name in names:
        click.echo(name)
