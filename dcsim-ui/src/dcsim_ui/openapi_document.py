"""Write dc-sim's OpenAPI document as JSON without a server: the UI's types come from it.

``python -m dcsim_ui.openapi_document [PATH]`` builds the host app with the plugins of
core, dcsim-ucs and dcsim-ansible only (specs/016-ui.md: the UI is a client of dc-sim's
own API convention, SPEC-010, which core's API, dcsim-ucs's ``/ucs/api/v1`` and
dcsim-ansible's ``/ansible`` follow), and leaves out the routes that answer in a
vendor's own format (``/nuova``, UCS Manager's XML). So the document, and the types
generated from it, do not depend on which other packages happen to be installed; a
described package that is missing is an error, not a smaller document.
"""

from __future__ import annotations

import json
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

#: Distributions whose plugins the document describes.
DESCRIBED_DISTRIBUTIONS = frozenset({"dcsim-core", "dcsim-ui", "dcsim-ucs", "dcsim-ansible"})

#: Routes of those distributions that speak a vendor's format, not dc-sim's convention.
VENDOR_FORMAT_PATHS = frozenset({"/nuova"})


class MissingDistributionError(RuntimeError):
    """A distribution the document describes is not installed here."""


def openapi_document() -> dict[str, Any]:
    """Build the host app with core's plugins and return its OpenAPI document."""
    from litestar.serialization import encode_json

    from dcsim.app import DcSim
    from dcsim.logs import library_logging
    from dcsim.plugins import load_plugins
    from dcsim.settings import load_settings
    from dcsim.web.app import create_app

    plugins = entry_points(group="dcsim")
    missing = DESCRIBED_DISTRIBUTIONS - {ep.dist.name for ep in plugins if ep.dist is not None}
    if missing:
        names = " ".join(sorted(missing))
        raise MissingDistributionError(f"install {names} first: the document describes their APIs")
    others = tuple(ep.name for ep in plugins if ep.dist is None or ep.dist.name not in DESCRIBED_DISTRIBUTIONS)
    # Log through the standard library, as dcsim.open does: stdout is the document.
    library_logging()
    with tempfile.TemporaryDirectory() as data_dir:
        # No environment, no config file: the document is the code's, not this machine's.
        settings = load_settings(environ={}, data_dir=data_dir, disable_plugins=others, create_admin_token=False)
        sim = DcSim(settings, load_plugins(settings))
        # Litestar's encoder: examples in the document are msgspec Structs.
        document: dict[str, Any] = json.loads(encode_json(create_app(sim).openapi_schema.to_schema()))
    document["paths"] = {p: item for p, item in document["paths"].items() if p not in VENDOR_FORMAT_PATHS}
    return document


def main(argv: list[str]) -> int:
    """Print the document, or write it to the path given."""
    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
