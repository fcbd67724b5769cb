"""Composition roots, one per stack kind, and the configuration they are built from."""
