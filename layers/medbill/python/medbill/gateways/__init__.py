"""Adapters to the outside: eligibility (X12 270/271 through a clearinghouse) and the workflow engine."""
