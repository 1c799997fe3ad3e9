"""The monthly statement run: every guarantor account with a patient balance gets one statement per
cycle, as a PDF and a print-vendor record in the artifact store. Reads the `bill_patient` worklist
(a keyed query, never a scan). Safe to run twice: a cycle's statement is recorded once, and its
files have fixed keys. Returns ids and counts only."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from medbill.billing.statement_render import render_pdf, render_vendor_record
from medbill.billing.statements import FINAL, account_of, billable, build_statement, cycle_of, next_sequence
from medbill.models.claim import Claim
from medbill.ports import Artifacts, ClaimStore

STATEMENTS_PREFIX = "statements/"


def _patient_claims(repo: ClaimStore) -> dict[str, list[Claim]]:
    by_account: dict[str, list[Claim]] = defaultdict(list)
    token: str | None = None
    while True:
        page = repo.worklist("bill_patient", limit=100, next_token=token)
        for claim in page.items:
            if billable(claim):
                by_account[account_of(claim)].append(claim)
        token = page.next_token
        if not token:
            return by_account


def run_statements(repo: ClaimStore, artifacts: Artifacts, today: date) -> dict[str, Any]:
    cycle = cycle_of(today)
    sent: list[str] = []
    skipped = final = 0
    for account, claims in sorted(_patient_claims(repo).items()):
        previous = repo.statements_for(account)
        if any(r.get("cycle") == cycle for r in previous):
            skipped += 1  # this cycle's statement went out already
            continue
        sequence = next_sequence(previous)
        if sequence > FINAL:
            final += 1  # the 90-day final notice went out: a person decides (write-off review, bad debt)
            continue
        statement = build_statement(account, claims, today, sequence)
        pdf_key = f"{STATEMENTS_PREFIX}{cycle}/{statement.statement_id}.pdf"
        vendor_key = f"{STATEMENTS_PREFIX}{cycle}/{statement.statement_id}.txt"
        artifacts.write(pdf_key, render_pdf(statement), "application/pdf")
        artifacts.write(vendor_key, render_vendor_record(statement), "text/plain")
        record = {
            "statement_id": statement.statement_id,
            "account": account,
            "cycle": cycle,
            "sequence": sequence,
            "notice": statement.notice,
            "statement_date": today.isoformat(),
            "total_due": f"{statement.total_due:.2f}",
            "claims": [line.claim_id for line in statement.lines],
            "pdf_key": pdf_key,
            "vendor_key": vendor_key,
        }
        if repo.create_statement(account, cycle, record):
            sent.append(statement.statement_id)
        else:
            skipped += 1  # a parallel run recorded it first (same keys, same files)
    return {"cycle": cycle, "sent": sent, "skipped": skipped, "past_final_notice": final}
