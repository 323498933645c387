"""ITSM (incidents, problems and changes arrive with issue #5)."""
