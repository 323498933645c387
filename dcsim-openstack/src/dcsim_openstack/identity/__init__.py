"""Keystone v3: users, roles, role assignments, application credentials and tokens."""
