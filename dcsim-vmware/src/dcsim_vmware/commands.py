"""``dcsim vmware ...``: the plugin's command line (``dcsim vmware install-vcsim``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import click

from dcsim_vmware.sidecar import BINARY

#: The simulator's Go sources, shipped in the wheel.
SOURCES = Path(__file__).parent / "simulator"


def default_destination() -> Path:
    """Where ``go install`` would put binaries: ``$GOBIN``, else ``$GOPATH/bin``, else ``~/go/bin``."""
    if os.environ.get("GOBIN"):
        return Path(os.environ["GOBIN"])
    gopath = os.environ.get("GOPATH", "").split(os.pathsep)[0]
    return Path(gopath) / "bin" if gopath else Path.home() / "go" / "bin"


def build_simulator(destination: Path) -> Path:
    """Build dc-sim's vCenter simulator into ``destination``; its path.

    Needs Go (>= 1.24) and the Go module proxy (govmomi is pinned in ``go.mod``).
    """
    go = shutil.which("go")
    if go is None:
        raise click.ClickException(
            f"Go is not installed: {BINARY} is built from Go sources (Go >= 1.24, https://go.dev/dl/); "
            "or set plugins.vmware.vcenter to the SDK URL of a running vCenter"
        )
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / BINARY
    result = subprocess.run([go, "build", "-o", str(target), "."], cwd=SOURCES, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"go build failed:\n{result.stderr.strip()}")
    return target


@click.group()
def vmware() -> None:
    """vSphere: dc-sim's vCenter simulator."""


@vmware.command("install-vcsim")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to put dcsim-vcsim in (default: $GOBIN, $GOPATH/bin or ~/go/bin).",
)
def install_vcsim(dest: Path | None) -> None:
    """Build the vCenter simulator (govmomi's simulator package, pinned) with Go."""
    target = build_simulator(dest or default_destination())
    click.echo(str(target))
    if shutil.which(BINARY) != str(target):
        click.echo(f"{target.parent} is not on PATH: add it, or set plugins.vmware.binary = {str(target)!r}", err=True)


__all__ = ["SOURCES", "build_simulator", "default_destination", "vmware"]
