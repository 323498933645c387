"""Build hook: a wheel built from a source checkout gets the app built into it.

With Node.js and npm on PATH, building the wheel runs ``npm run build:app`` (Vite) in
``web/``, which writes the app to ``src/dcsim_ui/static/``; the wheel ships those files, so
whoever installs it needs no Node.js. ``npm ci`` runs first unless ``web/node_modules``
already holds what the lockfile names, and the build is skipped when the app built
earlier is newer than every source it is built from. Without npm, files built earlier
are used; with none, the build stops and says what to do. An editable install builds
nothing: run ``npm run build`` in ``web/`` (specs/016-ui.md, "Packaging").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Set to 1 to build a wheel without the app (it then serves a page saying how to build it).
SKIP_VARIABLE = "DCSIMUI_SKIP_WEB_BUILD"

#: What ``npm run build`` reads, under ``web/``: a change to any of them means a new build.
BUILD_INPUTS = ("src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json")

#: The fields of a lockfile entry that name exactly what is installed.
PINNED_FIELDS = ("version", "resolved", "integrity")

NO_NODE = """dcsim-ui: cannot build the web app: npm (Node.js 20.19 or newer) is not on PATH,
and src/dcsim_ui/static/ holds no build from before.
Do one of:
  - install Node.js 20.19+ and npm (Debian: apt-get install nodejs npm), then reinstall;
  - install a dcsim-ui wheel built elsewhere (it carries the app and needs no Node.js);
  - build without the app: {skip}=1 pip install ./dcsim-ui (dc-sim then serves a page
    at / saying how to build it).
"""


def node_modules_match_lockfile(web: Path) -> bool:
    """True when ``web/node_modules`` holds exactly the packages ``package-lock.json`` pins.

    npm records what it installed in ``node_modules/.package-lock.json``: every entry must
    be the lockfile's, and every package the lockfile requires must be there (optional
    ones, such as other platforms' binaries, may be absent).
    """
    try:
        wanted = json.loads((web / "package-lock.json").read_text(encoding="utf-8"))["packages"]
        installed = json.loads((web / "node_modules" / ".package-lock.json").read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError):
        return False

    def pins(entry: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(entry.get(field) for field in PINNED_FIELDS)

    for name, entry in installed.items():
        if name not in wanted or pins(entry) != pins(wanted[name]):
            return False
    required = (name for name, entry in wanted.items() if name and not entry.get("optional"))
    return all(name in installed and (web / name).is_dir() for name in required)


def built_app_is_current(web: Path, static: Path) -> bool:
    """True when ``static/index.html`` and the assets it names exist and are newer than
    every build input (a source checkout's files keep the times they were written)."""
    index = static / "index.html"
    try:
        built_at = index.stat().st_mtime
        assets = re.findall(r'(?:src|href)="/(assets/[^"]+)"', index.read_text(encoding="utf-8"))
    except OSError:
        return False
    if not assets or not all((static / asset).is_file() for asset in assets):
        return False
    for name in BUILD_INPUTS:
        path = web / name
        files = path.rglob("*") if path.is_dir() else [path] if path.exists() else []
        if any(f.stat().st_mtime >= built_at for f in files if f.is_file()):
            return False
    return True


class WebAppBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Runs the npm build before the wheel is assembled."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        web = root / "web"
        static = root / "src" / "dcsim_ui" / "static"
        built = static / "index.html"
        if os.environ.get(SKIP_VARIABLE) == "1":
            self.app.display_warning(f"dcsim-ui: {SKIP_VARIABLE}=1: the wheel has no web app")
            return
        npm = shutil.which("npm")
        if npm is None or not (web / "package.json").is_file():
            if built.is_file():
                self.app.display_info("dcsim-ui: npm not found; shipping the app built earlier")
                return
            raise RuntimeError(NO_NODE.format(skip=SKIP_VARIABLE))
        if built_app_is_current(web, static):
            self.app.display_info("dcsim-ui: the app built earlier is newer than its sources; shipping it")
            return
        # The browsers of Playwright's e2e tests come from Debian, never from a download.
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        # vite only: type errors do not change the bundle, and `npm run typecheck` checks them.
        commands = [[npm, "run", "build:app"]]
        if node_modules_match_lockfile(web):
            self.app.display_info("dcsim-ui: web/node_modules matches package-lock.json; no npm ci")
        else:
            # --prefer-offline: npm's cache first (a rebuild takes seconds, not minutes).
            commands.insert(0, [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"])
        for command in commands:
            self.app.display_info(f"dcsim-ui: {' '.join(command[1:])} in {web}")
            subprocess.run(command, cwd=web, env=env, check=True)
        if not built.is_file():
            raise RuntimeError(f"dcsim-ui: npm run build:app wrote no {built}")
