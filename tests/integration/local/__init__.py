"""Tests of the local runtime (infra/local): bridge, poller, API server, payer simulator."""
