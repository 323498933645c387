"""pluggy markers for the ``dcsim`` project: ``hookimpl`` for plugin authors."""

from __future__ import annotations

import pluggy

PROJECT = "dcsim"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
