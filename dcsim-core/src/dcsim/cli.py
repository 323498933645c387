"""The ``dcsim`` command line: serve, plugins, config, db, token, seed, drift, drill, patch, version."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import click

import dcsim
from dcsim.drift.cli import drift, drill
from dcsim.errors import DcsimError
from dcsim.hookcalls import HookCalls
from dcsim.model import Role
from dcsim.patch.cli import patch
from dcsim.plugins import PluginHost
from dcsim.settings import SECRET_SETTINGS_ATTRIBUTE, Settings, load_settings
from dcsim.sim.nodes.cli import nodes


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    try:
        return load_settings(config_file=ctx.obj.get("config"), data_dir=ctx.obj.get("data_dir"), **overrides)
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc


class _WithPluginCommands(click.Group):
    """The ``dcsim`` group: core's commands, then those plugins add (``dcsim_register_commands``)."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        cached: dict[str, click.Command] | None = ctx.meta.get("dcsim.plugin_commands")
        if cached is None:
            from dcsim.logs import configure_logging
            from dcsim.plugins import load_plugins
            from dcsim.registry import CommandRegistry

            configure_logging("WARNING", "console")  # before main() runs, for --help too
            config = ctx.params.get("config") or (ctx.obj or {}).get("config")
            try:
                settings = load_settings(config_file=config)
            except DcsimError:
                return {}  # the command that runs reports the bad settings
            registry = CommandRegistry(reserved=super().list_commands(ctx))
            load_plugins(settings).register_each("dcsim_register_commands", registry=registry)
            cached = ctx.meta["dcsim.plugin_commands"] = registry.commands()
        return cached

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self._plugin_commands(ctx)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands(ctx).get(cmd_name)


@click.group(cls=_WithPluginCommands)
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Data directory.")
@click.pass_context
def main(ctx: click.Context, config: Path | None, data_dir: Path | None) -> None:
    """dc-sim: a datacenter you can pip install."""
    from dcsim.logs import configure_logging

    # Commands print their results on stdout; logs go to stderr, and only problems
    # unless the command is the server, which configures logging from its settings.
    configure_logging("WARNING", "console")
    ctx.obj = {"config": config, "data_dir": data_dir}


main.add_command(nodes)
main.add_command(drift)
main.add_command(drill)
main.add_command(patch)


@main.command()
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000).")
@click.option("--strict", is_flag=True, default=None, help="Fail when any plugin fails to load.")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Processes serving one host and port (more than 1 needs PostgreSQL and Redis).",
)
@click.option(
    "--server",
    type=click.Choice(["uvicorn", "granian"]),
    help="ASGI server (default: uvicorn; granian needs dcsim-core[granian]).",
)
@click.pass_context
def serve(
    ctx: click.Context, host: str | None, port: int | None, strict: bool | None, workers: int, server: str | None
) -> None:
    """Run the dc-sim server with the installed plugins (HTTPS when tls_certfile and tls_keyfile are set)."""
    import os

    from dcsim import serving
    from dcsim.logs import configure_logging
    from dcsim.web.app import create_app

    overrides = {"host": host, "port": port, "strict_plugins": strict}
    settings = _settings(ctx, **overrides)
    configure_logging(settings.log_level, settings.log_format, service=settings.service_name, env=settings.environment)
    if bool(settings.tls_certfile) != bool(settings.tls_keyfile):
        raise click.ClickException("HTTPS needs both tls_certfile and tls_keyfile")
    try:
        server = serving.pick_server(server)
        serving.check_workers(settings, workers)
        serving.hold_sqlite_store(settings)
        if workers == 1 and server == "uvicorn":
            sim = dcsim.open(settings=settings)
            app: Any = create_app(sim)
            for info in sim.plugins.failures():
                click.echo(f"warning: plugin {info.name} failed: {info.error}", err=True)
        else:
            # Each worker builds its own app from the same options and runs its start-up.
            os.environ[serving.WORKER_OPTIONS_VARIABLE] = serving.worker_options(
                ctx.obj.get("config"), ctx.obj.get("data_dir"), overrides
            )
            app = serving.WORKER_APP
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    scheme = "https" if settings.tls_certfile else "http"
    processes = f" ({workers} worker processes)" if workers > 1 else ""
    click.echo(f"dc-sim {dcsim.__version__} serving on {scheme}://{settings.host}:{settings.port}{processes}", err=True)
    click.echo(f"admin token: {settings.admin_token_path} (written on first start; cat it)", err=True)
    serving.run(server, app, settings, workers)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the same document as GET /plugins).")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins, drivers, versions and load errors."""
    from dcsim.web.core_routes import plugins_report

    settings = _settings(ctx)
    try:
        host = _checked_plugins(settings)
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    report = plugins_report(host, settings)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo("plugins:")
    for info in report["plugins"]:
        version = f"{info['distribution']} {info['version']}" if info["distribution"] else "(in-process)"
        click.echo(f"  {info['name']:<14} {info['status']:<9} {version}")
        if info["error"]:
            click.echo(f"  {'':<14} error: {info['error']}")
    click.echo("drivers:")
    for driver in report["drivers"]:
        mark = "*" if driver["selected"] else " "
        click.echo(f"  {mark} {driver['namespace']:<12} {driver['name']:<12} {driver['distribution'] or ''}")


def _checked_plugins(settings: Settings) -> PluginHost:
    """Load the plugins and run their declaration hooks into throw-away registries.

    No instance is built (no store, bus or service): a plugin that fails to import,
    breaks the hook contract or raises in any registration hook but
    ``dcsim_register_services`` is listed as failed.
    """
    from dcsim.cmdb.mapping import InventoryGroupRegistry, MappingRegistry
    from dcsim.drift.registry import DriftSourceRegistry
    from dcsim.itsm.rules import RuleRegistry
    from dcsim.patch.advisories import AdvisoryFeedRegistry
    from dcsim.plugins import load_plugins
    from dcsim.registry import (
        CmdbTypeRegistry,
        CommandRegistry,
        EventTypeRegistry,
        LoadProfileRegistry,
        RouteRegistry,
        SubscriberRegistry,
    )
    from dcsim.sim.faults import FaultRegistry
    from dcsim.sim.kinds import KindRegistry
    from dcsim.sim.labels import NodeLabelRegistry

    host = load_plugins(settings)
    declarations: list[tuple[str, Callable[[], object]]] = [
        ("dcsim_register_event_types", EventTypeRegistry),
        ("dcsim_register_commands", CommandRegistry),
        ("dcsim_register_subscribers", SubscriberRegistry),
        ("dcsim_register_routes", RouteRegistry),
        ("dcsim_sim_register_kinds", KindRegistry),
        ("dcsim_sim_register_fault_kinds", FaultRegistry),
        ("dcsim_sim_register_node_labels", NodeLabelRegistry),
        ("dcsim_sim_register_load_profiles", LoadProfileRegistry),
        ("dcsim_cmdb_register_types", CmdbTypeRegistry),
        ("dcsim_cmdb_register_mappings", MappingRegistry),
        ("dcsim_cmdb_register_inventory_groups", InventoryGroupRegistry),
        ("dcsim_itsm_register_rules", RuleRegistry),
        ("dcsim_drift_register_sources", DriftSourceRegistry),
        ("dcsim_patch_register_advisory_feeds", AdvisoryFeedRegistry),
    ]
    for hook, registry in declarations:
        host.register_each(hook, registry=registry())
    return host


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    """Print the effective configuration, secrets masked (plugins' declared secret keys too)."""
    from dcsim.plugins import load_plugins

    settings = _settings(ctx)
    # Importing the plugins runs none of their hooks; one that fails to load declares nothing.
    host = load_plugins(attrs.evolve(settings, strict_plugins=False))
    declared = {name: tuple(getattr(host.pm.get_plugin(name), SECRET_SETTINGS_ATTRIBUTE, ())) for name in host.loaded()}
    values = settings.masked(declared)
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    for key, value in values.items():
        click.echo(f"{key} = {json.dumps(value)}")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply pending migrations to the store."""
    from dcsim.drivers import load_driver

    store = load_driver("dcsim.store", _settings(ctx))
    try:
        applied = store.upgrade(progress=lambda line: click.echo(f"  applying {line}", err=True))
        click.echo(f"store at revision {store.current_revision()} ({len(applied)} migration(s) applied)")
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        store.close()


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", default=None, help="A name to recognise the token by.")
@click.pass_context
def token_create(ctx: click.Context, role: str, name: str | None) -> None:
    """Create a token and print its secret (shown only once)."""
    store = _migrated_store(ctx)
    try:
        created, secret = store.create_token(name or f"{role}-token", Role(role))
    finally:
        store.close()
    click.echo(f"created {created.role.value} token {created.name} ({created.id}); its secret:", err=True)
    click.echo(secret)


@token.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """List tokens (never their secrets)."""
    store = _migrated_store(ctx)
    try:
        for item in store.list_tokens():
            state = "revoked" if item.revoked else "active"
            click.echo(f"{item.id}  {item.role.value:<8} {state:<8} {item.name}")
    finally:
        store.close()


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token by id."""
    store = _migrated_store(ctx)
    try:
        store.revoke_token(token_id)
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        store.close()
    click.echo(f"revoked {token_id}")


def _migrated_store(ctx: click.Context) -> Any:
    from dcsim.drivers import load_driver
    from dcsim.files import private_dir

    settings = _settings(ctx)
    private_dir(settings.data_dir)
    store = load_driver("dcsim.store", settings)
    try:
        store.upgrade()
    except DcsimError as exc:
        store.close()
        raise click.ClickException(exc.detail) from exc
    return store


@main.command()
@click.option("--seed", "seed_number", type=int, default=0, show_default=True, help="Seed of every derived value.")
@click.option("--datacenters", type=click.IntRange(1), default=1, show_default=True)
@click.option("--clusters", type=click.IntRange(1), default=2, show_default=True, help="Clusters per datacenter.")
@click.option("--hosts", type=click.IntRange(1), default=8, show_default=True, help="Hosts per cluster.")
@click.option("--vms", type=click.IntRange(0), default=100, show_default=True, help="VMs in all.")
@click.option("--chassis", type=click.IntRange(0), default=0, show_default=True,
              help="Chassis of 8 physical servers per datacenter (vendor plugins may take them into their views).")  # fmt: skip
@click.option("--replace", is_flag=True, help="Replace the estate the store holds.")
@click.pass_context
def seed(
    ctx: click.Context,
    seed_number: int,
    datacenters: int,
    clusters: int,
    hosts: int,
    vms: int,
    chassis: int,
    replace: bool,
) -> None:
    """Generate a large estate into the store, deterministically from a seed."""
    import time

    import attrs

    from dcsim.sim.engine import FAULTS_NAMESPACE, META_NAMESPACE
    from dcsim.sim.kinds import collect_kinds
    from dcsim.sim.seed import generate
    from dcsim.sim.sync import SEQUENCE_KEY, replacing_world
    from dcsim.sim.topology import Topology
    from dcsim.sim.world import NAMESPACE, World

    started = time.perf_counter()
    settings = attrs.evolve(_settings(ctx), sim_seed=seed_number, sim_topology="generated")
    store = _migrated_store(ctx)
    try:
        if store.count(NAMESPACE) and not replace:
            raise click.ClickException("the store already holds an estate; pass --replace to overwrite it")
        plugins = _checked_plugins(settings)
        world = World(collect_kinds(plugins))
        topology = Topology(world, seed=seed_number)
        generate(
            topology, datacenters=datacenters, clusters=clusters, hosts=hosts, vms=vms, chassis=chassis,
            progress=lambda done, total: click.echo(f"  generated {done}/{total} VMs", err=True),
        )  # fmt: skip
        # Plugins may add to generated estates too; core's default seed stays out.
        HookCalls(plugins).sim_seed_topology(topology=topology, settings=settings)
        click.echo(f"  saving {len(world)} objects", err=True)
        # Running servers on a shared store see the new world (SPEC-018): the sequence stays and moves on.
        with replacing_world(store) as session:
            for namespace in (NAMESPACE, FAULTS_NAMESPACE, META_NAMESPACE):
                for document in session.list(namespace):
                    if (namespace, document.key) != (META_NAMESPACE, SEQUENCE_KEY):
                        session.delete(namespace, document.key)
            world.save_all(session)
    finally:
        store.close()
    counts = ", ".join(f"{len(objects)} {kind}" for kind, objects in world.kinds() if objects)
    click.echo(f"seeded {counts} (seed {seed_number}) in {time.perf_counter() - started:.1f} s")


@main.command()
def version() -> None:
    """Print dc-sim's version and the installed plugins' versions (nothing is imported or started)."""
    import importlib.metadata

    from dcsim.plugins import ENTRY_POINT_GROUP

    click.echo(f"dcsim-core {dcsim.__version__}")
    seen: set[str] = set()
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.dist is None or ep.dist.name in seen or ep.dist.name == "dcsim-core":
            continue
        seen.add(ep.dist.name)
        click.echo(f"{ep.dist.name} {ep.dist.version}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
