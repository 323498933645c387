"""The simulation engine (the object model and lifecycle arrive with issue #3)."""
