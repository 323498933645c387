"""Jinja filters of the ``sim_patch`` role: what patching or a desired inventory changes.

Versions compare as rpm and dpkg order them (:func:`dcsim.patch.versions.compare_versions`),
the same rule core's patch module uses for compliance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dcsim.patch.versions import compare_versions


def dcsim_patch_updates(
    inventory: Mapping[str, str], advisories: Iterable[Mapping[str, Any]], only: Iterable[str] | None = None
) -> dict[str, str]:
    """Package to the version that fixes every advisory affecting it, for installed
    packages older than an advisory's ``fixed_version`` (limited to ``only`` when given)."""
    allowed = set(only or [])
    updates: dict[str, str] = {}
    for advisory in advisories:
        name, fixed = str(advisory["package"]), str(advisory["fixed_version"])
        if name not in inventory or (allowed and name not in allowed):
            continue
        current = updates.get(name, inventory[name])
        if compare_versions(current, fixed) < 0:
            updates[name] = fixed
    return updates


def dcsim_inventory_apply(inventory: Mapping[str, str], desired: Mapping[str, str | None]) -> dict[str, str]:
    """``inventory`` with ``desired`` versions set and packages desired as null removed."""
    result = dict(inventory)
    for name, version in desired.items():
        if version is None:
            result.pop(name, None)
        else:
            result[name] = str(version)
    return dict(sorted(result.items()))


class FilterModule:
    """Ansible's entry point for the filters of this file."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"dcsim_patch_updates": dcsim_patch_updates, "dcsim_inventory_apply": dcsim_inventory_apply}
