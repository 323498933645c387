"""Field-level differences between two dumps of the world (``GET /sim/state/diff``)."""

from __future__ import annotations

from typing import Any


def diff_states(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]], marked_at: str
) -> dict[str, Any]:
    """Objects added and removed, and field-level changes, between two dumps."""
    added, removed, changed = [], [], []
    for kind in sorted(set(before) | set(after)):
        old = {o["id"]: o for o in before.get(kind, [])}
        new = {o["id"]: o for o in after.get(kind, [])}
        added += [{"kind": kind, "id": i, "name": new[i]["name"]} for i in new.keys() - old.keys()]
        removed += [{"kind": kind, "id": i, "name": old[i]["name"]} for i in old.keys() - new.keys()]
        for object_id in old.keys() & new.keys():
            for field in sorted(set(old[object_id]) | set(new[object_id])):
                if old[object_id].get(field) != new[object_id].get(field):
                    changed.append({
                        "kind": kind, "id": object_id, "name": new[object_id]["name"], "field": field,
                        "before": old[object_id].get(field), "after": new[object_id].get(field),
                    })  # fmt: skip
    return {"marked_at": marked_at, "added": added, "removed": removed, "changed": changed}


__all__ = ["diff_states"]
