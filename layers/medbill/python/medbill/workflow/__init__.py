"""Claim statuses and the transitions the workflow allows between them."""
