"""The ``docker`` node backend (stevedore ``dcsim.nodes``: ``docker``), by responsibility.

- :mod:`.backend`: :class:`DockerNodes`, the node contract on containers;
- :mod:`.instances`: which instance owns which container (names, owner labels), and
  listing, stopping and removing an instance's containers (``dcsim nodes``);
- :mod:`.files`: files in and out of nodes through the archive API, the SSH key pair;
- :mod:`.observers`: power changes from Docker's event stream, file changes from
  ``inotifywait`` inside the nodes;
- :mod:`.engine`: the connection to the Docker engine and its errors.
"""

from dcsim.sim.nodes.docker.backend import DockerNodes, image_name
from dcsim.sim.nodes.docker.engine import connect
from dcsim.sim.nodes.docker.files import LABELS_PATH, PACKAGES_PATH, ensure_ssh_key, node_files, ssh_key_path, tar_files
from dcsim.sim.nodes.docker.instances import (
    INSTANCE_LABEL,
    MANAGED_LABEL,
    NODE_LABEL,
    container_name,
    instance_name,
    owner_labels,
    snapshot_image,
)

__all__ = [
    "INSTANCE_LABEL",
    "LABELS_PATH",
    "MANAGED_LABEL",
    "NODE_LABEL",
    "PACKAGES_PATH",
    "DockerNodes",
    "connect",
    "container_name",
    "ensure_ssh_key",
    "image_name",
    "instance_name",
    "node_files",
    "owner_labels",
    "snapshot_image",
    "ssh_key_path",
    "tar_files",
]
