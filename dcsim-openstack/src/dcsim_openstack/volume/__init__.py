"""Cinder v3 with microversions: volumes (core's ``Volume`` with Cinder's record),
snapshots and volume types; attachments go through Nova."""
