"""The playbooks a run may name: the library's and the configured project folders'.

Each playbook's header (SPEC-013 "Playbook header") is read from its leading comment
lines; a missing or broken header lists the playbook with ``header_error``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dcsim.errors import NotFound
from dcsim_ansible.records import Playbook, Variable

#: The library shipped in the package.
LIBRARY_DIR = Path(__file__).parent / "playbooks"


def read_header(text: str) -> dict[str, Any]:
    """The header mapping of a playbook's text; ValueError saying what is wrong."""
    lines = []
    for line in text.splitlines():
        if line == "#":
            lines.append("")
        elif line.startswith("# "):
            lines.append(line[2:])
        else:
            break
    if not lines:
        raise ValueError("no header: the playbook does not start with comment lines")
    try:
        header = yaml.safe_load("\n".join(lines))
    except yaml.YAMLError as exc:
        raise ValueError(f"the header is not YAML: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError("the header is not a YAML mapping")
    return header


def _variables(raw: Any) -> list[Variable]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise ValueError("variables must be a mapping of name to variable")
    found = []
    for name, spec in raw.items():
        spec = spec if isinstance(spec, dict) else {"description": str(spec or "")}
        found.append(
            Variable(
                name=str(name),
                description=str(spec.get("description", "")),
                default=spec.get("default"),
                required=bool(spec.get("required", False)),
                secret=bool(spec.get("secret", False)),
            )
        )
    return found


def describe(path: Path, source: str) -> Playbook:
    """The catalogue entry of the playbook at ``path``."""
    name = path.stem
    try:
        header = read_header(path.read_text(encoding="utf-8"))
        tags = header.get("tags") or []
        if not isinstance(tags, list):
            raise ValueError("tags must be a list")
        return Playbook(
            name=name,
            source=source,  # type: ignore[arg-type]
            description=str(header.get("description", "")),
            tags=[str(t) for t in tags],
            hosts=str(header["hosts"]) if header.get("hosts") else None,
            variables=_variables(header.get("variables")),
        )
    except (ValueError, OSError) as exc:
        return Playbook(name=name, source=source, header_error=str(exc))  # type: ignore[arg-type]


class Catalogue:
    """Finds playbooks by name: the library first, then each project folder in order."""

    def __init__(self, project_dirs: tuple[Path, ...] = (), library: Path = LIBRARY_DIR) -> None:
        self.folders: list[tuple[Path, str]] = [(library, "library"), *((p, "project") for p in project_dirs)]

    def _files(self) -> dict[str, tuple[Path, str]]:
        found: dict[str, tuple[Path, str]] = {}
        for folder, source in self.folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, (path, source))
        return found

    def list(self) -> list[Playbook]:
        """Every playbook, sorted by name."""
        return [describe(path, source) for _, (path, source) in sorted(self._files().items())]

    def path(self, name: str) -> Path:
        """The file of playbook ``name``; NotFound when there is none."""
        entry = self._files().get(name)
        if entry is None:
            raise NotFound(f"no playbook {name!r} in the library or the project folders")
        return entry[0]

    def get(self, name: str) -> Playbook:
        """The catalogue entry of playbook ``name``; NotFound when there is none."""
        entry = self._files().get(name)
        if entry is None:
            raise NotFound(f"no playbook {name!r} in the library or the project folders")
        return describe(*entry)
