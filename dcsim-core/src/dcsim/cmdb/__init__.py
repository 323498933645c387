"""The CMDB (configuration items, relationships and sync arrive with issue #4)."""
