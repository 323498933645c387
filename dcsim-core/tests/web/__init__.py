"""The HTTP contract convention (specs/010-api-conventions.md)."""
