"""Ansible on virtual nodes: modules run by dc-sim against a node's tree, never the host.

- :mod:`.payload`: what module a pipelined AnsiballZ payload runs, with which arguments;
- :mod:`.node`: one virtual node seen from Ansible (paths confined to its tree, files
  through core's virtual backend, package inventory, services, boot identity);
- :mod:`.shell`: the few shell commands a node answers (Ansible's own housekeeping,
  interpreter discovery, reboot, read-only commands);
- :mod:`.modules`: the dc-sim implementation of each supported module, and the refusal
  of any other.
"""
