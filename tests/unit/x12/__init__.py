"""X12 unit tests (a package so the test modules can share their builders)."""
