"""Glance v2: images (core's ``Image``) with Glance's own metadata, data and tags."""
