"""What dcsim-ansible hands to ansible-core: its playbook library, roles and plugins.

Ansible finds these through configuration, never through an installed collection:
:func:`ansible_env` gives the environment variables a run needs (the runner merges them
into the environment of ``ansible-playbook``), so the package works wherever it is installed.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent

#: The playbook library (``<name>.yml``, each with its header).
PLAYBOOKS_DIR = _PACKAGE / "playbooks"
#: Roles the playbooks share (``sim_vm_base``, ``sim_patch``, ``sim_hardening``, ``sim_cmdb_facts``).
ROLES_DIR = _PACKAGE / "roles"
#: Ansible connection plugins (``dcsim_virtual``).
CONNECTION_PLUGINS_DIR = Path(__file__).resolve().parent / "connection"
#: The collections the vendor playbooks use.
REQUIREMENTS_FILE = _PACKAGE / "requirements.yml"


def ansible_env() -> dict[str, str]:
    """Environment variables that let ``ansible-playbook`` find the library's roles and plugins."""
    return {
        "ANSIBLE_ROLES_PATH": str(ROLES_DIR),
        "ANSIBLE_CONNECTION_PLUGINS": str(CONNECTION_PLUGINS_DIR),
    }


def playbook_path(name: str) -> Path:
    """The library playbook ``name`` (without ``.yml``); FileNotFoundError if there is none."""
    path = PLAYBOOKS_DIR / f"{name}.yml"
    if "/" in name or not path.is_file():
        raise FileNotFoundError(f"no playbook {name!r} in the library")
    return path


__all__ = ["CONNECTION_PLUGINS_DIR", "PLAYBOOKS_DIR", "REQUIREMENTS_FILE", "ROLES_DIR", "ansible_env", "playbook_path"]
