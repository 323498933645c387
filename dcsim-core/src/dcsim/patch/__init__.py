"""Patch compliance (policies, advisories and runs arrive with their issue)."""
