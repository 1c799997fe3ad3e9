"""Composition root and what every handler shares: `settings` (each function's environment, checked
at cold start), `wiring` (which adapter serves which port), `messages` (the typed queue messages)
and `observability` (Logger, Tracer, Metrics and the handler decorator stack)."""
