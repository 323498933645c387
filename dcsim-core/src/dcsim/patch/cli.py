"""``dcsim patch compliance`` and ``dcsim patch run``: patching from the command line.

Both talk to a running server over its API (``--url``, default this configuration's
``http://host:port``; ``--token``, default the data directory's admin token).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from dcsim.errors import DcsimError
from dcsim.settings import load_settings

F = TypeVar("F", bound=Callable[..., Any])
FINAL = ("completed", "failed", "cancelled")


def _server_options(command: F) -> F:
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)
    command = click.option("--token", envvar="DCSIM_TOKEN", help="API token (default: the admin token).")(command)
    return click.option("--url", envvar="DCSIM_URL", help="Server URL (default: the settings' host:port).")(command)


def _call(ctx: click.Context, url: str | None, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    import httpx

    obj = ctx.find_root().obj or {}
    try:
        settings = load_settings(config_file=obj.get("config"), data_dir=obj.get("data_dir"))
    except DcsimError as exc:
        raise click.ClickException(exc.detail) from exc
    if token is None:
        path_ = settings.admin_token_path
        token = path_.read_text().strip() if path_.exists() else os.environ.get("DCSIM_ADMIN_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base = url or f"http://{settings.host}:{settings.port}"
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            answer = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the server: {exc}") from exc
    if answer.status_code >= 400:
        raise click.ClickException(f"{method} {path}: {answer.status_code} {answer.text}")
    return answer.json()


@click.group()
def patch() -> None:
    """Patch management: compliance and runs."""


@patch.command("compliance")
@_server_options
@click.option("--scan", is_flag=True, help="Scan every CI first.")
@click.pass_context
def compliance(ctx: click.Context, url: str | None, token: str | None, as_json: bool, scan: bool) -> None:
    """Compliance of the estate, by OS, and each CI's pending advisories."""
    if scan:
        _call(ctx, url, token, "POST", "/patch/compliance/scan")
    report = _call(ctx, url, token, "GET", "/patch/compliance")
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    summary = report["summary"]
    click.echo(f"compliant {summary['compliant']}/{summary['total']} ({summary['compliance_pct']}%), "
               f"{summary['pending_cves']} CVEs pending")  # fmt: skip
    for name, group in report["by_os"].items():
        click.echo(f"  {name}: {group['compliant']}/{group['total']} compliant")
    for ci in report["cis"]:
        pending = ", ".join(p["advisory"] for p in ci["pending_patches"]) or "-"
        click.echo(f"{ci['ci_name']:<20} {ci['compliance_status']:<14} {ci['current_patch_level']:<9} {pending}")


@patch.command("run")
@_server_options
@click.argument("policy")
@click.option("--wait", "wait_s", type=float, default=0.0, help="Seconds to wait for the run to end.")
@click.pass_context
def run(ctx: click.Context, url: str | None, token: str | None, as_json: bool, policy: str, wait_s: float) -> None:
    """Start a run of POLICY now (and wait for it with --wait)."""
    found = _call(ctx, url, token, "POST", "/patch/runs", json={"policy": policy})
    deadline = time.monotonic() + wait_s
    while wait_s and found["state"] not in FINAL and time.monotonic() < deadline:
        time.sleep(1.0)
        found = _call(ctx, url, token, "GET", f"/patch/runs/{found['id']}")
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    click.echo(f"run {found['id']} of {policy}: {found['state']}")
    for ci in found["cis"]:
        click.echo(f"  {ci['ci_name']:<20} {ci['state']:<12} {ci['reason'] or ''}")
