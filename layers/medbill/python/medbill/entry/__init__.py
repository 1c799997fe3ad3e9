"""Composition root: settings, which adapter serves which port, and what every handler shares."""
