"""``dcsim drift score`` and ``dcsim drill run``: the answer key from the command line.

Both talk to a running server over its API (``--url``, default this configuration's
``http://host:port``; ``--token``, default the data directory's admin token), so they
score the estate the server holds, however it is deployed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from dcsim.errors import DcsimError
from dcsim.settings import load_settings

F = TypeVar("F", bound=Callable[..., Any])


def _server_options(command: F) -> F:
    command = click.option(
        "--token", envvar="DCSIM_TOKEN", help="API token (default: the data directory's admin token)."
    )(command)
    command = click.option(
        "--url", envvar="DCSIM_URL", help="Server URL (default: http://<host>:<port> of the settings)."
    )(command)
    return command


def _client(ctx: click.Context, url: str | None, token: str | None) -> Any:
    import httpx

    obj = ctx.find_root().obj or {}
    try:
        settings = load_settings(config_file=obj.get("config"), data_dir=obj.get("data_dir"))
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    if token is None:
        path = settings.admin_token_path
        token = path.read_text().strip() if path.exists() else os.environ.get("DCSIM_ADMIN_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url or f"http://{settings.host}:{settings.port}", headers=headers, timeout=30)


@click.group()
def drift() -> None:
    """Drift detection: the score against what dc-sim injected."""


@drift.command("score")
@_server_options
@click.option("--json", "as_json", is_flag=True, help="Print the score as JSON.")
@click.pass_context
def drift_score(ctx: click.Context, url: str | None, token: str | None, as_json: bool) -> None:
    """Precision, recall and times to detect and remediate (GET /drift/score)."""
    import httpx

    from dcsim.drift.drill import scorecard

    try:
        with _client(ctx, url, token) as http:
            answer = http.get("/drift/score")
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the server: {exc}") from exc
    if answer.status_code != 200:
        raise click.ClickException(f"GET /drift/score: {answer.status_code} {answer.text}")
    click.echo(json.dumps(answer.json(), indent=2) if as_json else scorecard(answer.json()))


@click.group()
def drill() -> None:
    """Scripted drills against a running server."""


@drill.command("run")
@_server_options
@click.option("--size", type=click.IntRange(1), default=24, show_default=True, help="Faults and changes to inject.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for detection.")
@click.option("--settle", type=float, default=0.0, show_default=True,
              help="Seconds to wait afterwards while remediations run (for the time to remediate).")  # fmt: skip
@click.option("--auto-remediate", "policies", multiple=True, metavar="POLICY",
              help="Switch auto-remediation on for this policy first (repeatable).")  # fmt: skip
@click.pass_context
def drill_run(
    ctx: click.Context,
    url: str | None,
    token: str | None,
    size: int,
    timeout: float,
    settle: float,
    policies: tuple[str, ...],
) -> None:
    """Inject a mixed series of faults and out-of-band changes, then print the scorecard."""
    import httpx

    from dcsim.drift import drill as drills

    try:
        with _client(ctx, url, token) as http:
            score = drills.run(http, size=size, timeout=timeout, say=click.echo, settle=settle, auto_remediate=policies)
    except (httpx.HTTPError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    if score["recall"] < 1.0 or score["precision"] < 1.0:
        raise SystemExit(1)
