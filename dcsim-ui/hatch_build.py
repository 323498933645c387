"""Build hook: a wheel built from a source checkout gets the app built into it.

With Node.js and npm on PATH, building the wheel runs ``npm ci`` and ``npm run build``
in ``web/``, which writes the app to ``src/dcsim_ui/static/``; the wheel ships those
files, so whoever installs it needs no Node.js. Without npm, files built earlier are
used; with none, the build stops and says what to do. An editable install builds
nothing: run ``npm run build`` in ``web/`` (specs/016-ui.md, "Packaging").
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Set to 1 to build a wheel without the app (it then serves a page saying how to build it).
SKIP_VARIABLE = "DCSIMUI_SKIP_WEB_BUILD"

NO_NODE = """dcsim-ui: cannot build the web app: npm (Node.js 20.19 or newer) is not on PATH,
and src/dcsim_ui/static/ holds no build from before.
Do one of:
  - install Node.js 20.19+ and npm (Debian: apt-get install nodejs npm), then reinstall;
  - install a dcsim-ui wheel built elsewhere (it carries the app and needs no Node.js);
  - build without the app: {skip}=1 pip install ./dcsim-ui (dc-sim then serves a page
    at / saying how to build it).
"""


class WebAppBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Runs the npm build before the wheel is assembled."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        web = root / "web"
        built = root / "src" / "dcsim_ui" / "static" / "index.html"
        if os.environ.get(SKIP_VARIABLE) == "1":
            self.app.display_warning(f"dcsim-ui: {SKIP_VARIABLE}=1: the wheel has no web app")
            return
        npm = shutil.which("npm")
        if npm is None or not (web / "package.json").is_file():
            if built.is_file():
                self.app.display_info("dcsim-ui: npm not found; shipping the app built earlier")
                return
            raise RuntimeError(NO_NODE.format(skip=SKIP_VARIABLE))
        # The browsers of Playwright's e2e tests come from Debian, never from a download.
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        # --prefer-offline: npm's cache first (a rebuild takes seconds, not minutes).
        for command in ([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"], [npm, "run", "build"]):
            self.app.display_info(f"dcsim-ui: {' '.join(command[1:])} in {web}")
            subprocess.run(command, cwd=web, env=env, check=True)
        if not built.is_file():
            raise RuntimeError(f"dcsim-ui: npm run build wrote no {built}")
