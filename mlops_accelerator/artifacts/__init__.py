"""Artifact builders: the pure logic behind the stage notebooks (reports, charts, notes)."""
