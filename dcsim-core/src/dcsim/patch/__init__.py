"""Patch management: advisories, compliance of every CI, policies, schedules and runs (SPEC-015)."""
