"""Hook implementations of the `ucs` plugin, and nothing else.

This module is what the entry point `ucs` in the group `dcsim` names. It implements no
hooks yet: the plugin registers and is listed by `dcsim plugins`, and its routes, events
and services come with issue 6. Heavy vendor libraries are to be imported lazily,
inside hook implementations, never at module level.
"""
