"""``dcsim ansible worker`` (also ``dcsim-ansible worker``): a runner worker on its own, next to a server on the same store and bus.

The worker process needs the store and the bus only (a run's inventory travels with
the run; facts go back as events a server records): it opens both, relays the
outbox events it commits, and takes run requests until SIGTERM or SIGINT, on which it
stops the run in progress and fails it with the reason.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import click


async def run_worker(settings: Any, name: str | None = None) -> None:
    """Run one worker until a termination signal."""
    import dcsim
    from dcsim_ansible.settings import load_ansible_settings
    from dcsim_ansible.worker import Worker

    if not _shared_bus(settings):
        raise click.ClickException("a worker of its own needs a shared bus (bus = 'redis'); memory is in-process")
    instance = dcsim.open(settings=settings)
    runner = instance.services["ansible"]
    await asyncio.to_thread(instance.store.upgrade)
    await instance.bus.start()
    instance.relay.start()
    worker = Worker(instance, load_ansible_settings(settings.plugin("ansible")), runner.catalogue, name=name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await worker.start()
    click.echo(f"ansible worker {worker.name} reading run requests", err=True)
    try:
        await stop.wait()
    finally:
        await worker.stop()
        await instance.relay.stop()
        await instance.bus.close()
        await asyncio.to_thread(instance.store.close)


def _shared_bus(settings: Any) -> bool:
    return str(settings.bus_driver) != "memory"


@click.group(name="ansible")
def ansible() -> None:
    """The automation runner (dcsim-ansible)."""


@ansible.command()
@click.option("--name", default=None, help="Worker name (default: host:pid:random)")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="dc-sim data directory")
@click.pass_context
def worker(ctx: click.Context, name: str | None, data_dir: Path | None) -> None:
    """Take run requests from the bus and execute them until stopped."""
    from dcsim.errors import DcsimError
    from dcsim.settings import load_settings

    # Under ``dcsim`` the group's --config and --data-dir are in ctx.obj.
    given = ctx.obj if isinstance(ctx.obj, dict) else {}
    try:
        settings = load_settings(config_file=given.get("config"), data_dir=data_dir or given.get("data_dir"))
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    asyncio.run(run_worker(settings, name))


def main() -> None:
    """The ``dcsim-ansible`` command (``dcsim-ansible worker``)."""
    ansible()
