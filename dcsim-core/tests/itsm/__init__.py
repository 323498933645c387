"""ITSM: incidents, problems, changes, SLAs and automation rules."""
