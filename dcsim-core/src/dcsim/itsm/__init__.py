"""ITSM: incidents, problems and changes with enforced workflows, SLAs and automation rules (SPEC-006)."""
