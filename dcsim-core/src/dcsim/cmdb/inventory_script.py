"""``dcsim-inventory``: an Ansible inventory script that reads a running dc-sim's CMDB.

Ansible runs it as ``dcsim-inventory --list`` (or ``--host NAME``) when it is given
with ``-i``: ``ansible-inventory -i $(which dcsim-inventory) --list``. The server is
``$DCSIM_URL`` (default http://127.0.0.1:8000); the token is ``$DCSIM_TOKEN``, else the
file ``$DCSIM_TOKEN_FILE``, else the admin token in the data directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from dcsim.settings import load_settings


def _token() -> str:
    if os.environ.get("DCSIM_TOKEN"):
        return os.environ["DCSIM_TOKEN"]
    path = Path(os.environ.get("DCSIM_TOKEN_FILE") or load_settings().admin_token_path)
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SystemExit(f"dcsim-inventory: no token: set DCSIM_TOKEN or DCSIM_TOKEN_FILE ({exc})") from exc


def fetch_inventory(url: str, token: str) -> dict[str, object]:
    """GET the inventory JSON from a dc-sim server."""
    request = urllib.request.Request(
        url.rstrip("/") + "/cmdb/ansible/inventory", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"dcsim-inventory: {url} answered {exc.code}: {exc.read().decode(errors='replace')}") from exc
    except urllib.error.URLError as exc:
        raise SystemExit(f"dcsim-inventory: cannot reach {url}: {exc.reason}") from exc


def main(argv: list[str] | None = None) -> int:
    """Print the inventory (``--list``) or one host's variables (``--host``)."""
    parser = argparse.ArgumentParser(prog="dcsim-inventory", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--list", action="store_true", help="the whole inventory")
    group.add_argument("--host", help="the variables of one host")
    args = parser.parse_args(argv)
    inventory = fetch_inventory(os.environ.get("DCSIM_URL", "http://127.0.0.1:8000"), _token())
    if args.list:
        json.dump(inventory, sys.stdout)
    else:
        hostvars = inventory.get("_meta", {}).get("hostvars", {})  # type: ignore[attr-defined]
        json.dump(hostvars.get(args.host, {}), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
