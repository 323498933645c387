"""Hook implementations of the `ui` plugin, and nothing else.

This module is what the entry point `ui` in the group `dcsim` names. It implements no
hooks yet: the plugin registers and is listed by `dcsim plugins`, and its routes, events
and services come with a later issue of its own (not filed yet). Heavy vendor libraries are to be imported lazily,
inside hook implementations, never at module level.
"""
