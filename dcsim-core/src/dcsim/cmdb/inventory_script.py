"""``dcsim-inventory``: an Ansible inventory script that reads a running dc-sim's CMDB.

Ansible runs it as ``dcsim-inventory --list`` (or ``--host NAME``) when it is given
with ``-i``: ``ansible-inventory -i $(which dcsim-inventory) --list``. The server is
``$DCSIM_URL`` (default http://127.0.0.1:8000); the token is ``$DCSIM_TOKEN``, else the
file ``$DCSIM_TOKEN_FILE``, else the admin token in the data directory.

``--list`` writes the server's body to stdout as it came (compact JSON), without parsing
and encoding it again: Ansible parses it, and a 10,000-host inventory is megabytes. The
script imports dc-sim's settings only when it must find the token file, so that its
start-up stays that of Python and ``urllib``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path


def _token() -> str:
    if os.environ.get("DCSIM_TOKEN"):
        return os.environ["DCSIM_TOKEN"]
    if os.environ.get("DCSIM_TOKEN_FILE"):
        path = Path(os.environ["DCSIM_TOKEN_FILE"])
    else:
        from dcsim.settings import load_settings  # pydantic and the logging set-up: only here

        path = load_settings().admin_token_path
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SystemExit(f"dcsim-inventory: no token: set DCSIM_TOKEN or DCSIM_TOKEN_FILE ({exc})") from exc


def fetch_inventory_body(url: str, token: str) -> bytes:
    """GET the inventory JSON from a dc-sim server: the body as it came."""
    request = urllib.request.Request(
        url.rstrip("/") + "/cmdb/ansible/inventory", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"dcsim-inventory: {url} answered {exc.code}: {exc.read().decode(errors='replace')}") from exc
    except urllib.error.URLError as exc:
        raise SystemExit(f"dcsim-inventory: cannot reach {url}: {exc.reason}") from exc


def fetch_inventory(url: str, token: str) -> dict[str, object]:
    """GET the inventory JSON from a dc-sim server, parsed."""
    inventory: dict[str, object] = json.loads(fetch_inventory_body(url, token))
    return inventory


def main(argv: list[str] | None = None) -> int:
    """Print the inventory (``--list``) or one host's variables (``--host``)."""
    parser = argparse.ArgumentParser(prog="dcsim-inventory", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--list", action="store_true", help="the whole inventory")
    group.add_argument("--host", help="the variables of one host")
    args = parser.parse_args(argv)
    url, token = os.environ.get("DCSIM_URL", "http://127.0.0.1:8000"), _token()
    if args.list:
        sys.stdout.buffer.write(fetch_inventory_body(url, token))
        sys.stdout.buffer.write(b"\n")
        return 0
    hostvars = fetch_inventory(url, token).get("_meta", {}).get("hostvars", {})  # type: ignore[attr-defined]
    json.dump(hostvars.get(args.host, {}), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
