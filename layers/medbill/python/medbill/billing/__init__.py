"""Billing: fee schedules and charge entry (fees), ledger posting, follow-up rules."""
