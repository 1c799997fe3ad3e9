"""Follow-up limits per payer, from configuration: the timely filing limit (from the date of
service), the appeal limit (from the adjudicating remittance), how near a deadline is "near", the
small-balance write-off, the staff write-off amount above which a manager must approve, and when a
quiet claim is asked about (276: `status_ack_hours`, `status_remittance_days`).

The shipped file is `medbill/data/payer_policies.json`; `MEDBILL_PAYER_POLICIES` names another one.
A payer's own entry wins over its claim filing indicator's (SBR09: MB = Medicare Part B), which wins
over the default. Read once per process.
"""

from __future__ import annotations

import calendar
import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from medbill.models.claim import Claim

POLICIES_ENV = "MEDBILL_PAYER_POLICIES"


@dataclass(frozen=True)
class PayerPolicy:
    filing_limit_days: int | None
    filing_limit_months: int | None
    appeal_limit_days: int
    near_deadline_days: int
    small_balance: Decimal
    write_off_approval_threshold: Decimal
    # Claim status inquiry (276): no 277CA this many hours after the send, or accepted and no 835
    # this many days after it, and the claim is asked about (workflow/claim_status.py).
    status_ack_hours: int = 48
    status_remittance_days: int = 30

    def filing_deadline(self, date_of_service: date) -> date:
        """Last day a claim for this service may reach the payer (Medicare: 12 months after it)."""
        if self.filing_limit_months:
            return add_months(date_of_service, self.filing_limit_months)
        return date_of_service + timedelta(days=self.filing_limit_days or 0)

    def appeal_deadline(self, adjudicated_on: date) -> date:
        return adjudicated_on + timedelta(days=self.appeal_limit_days)


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@cache
def _document() -> dict[str, Any]:
    path = os.environ.get(POLICIES_ENV)
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("medbill").joinpath("data", "payer_policies.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def policy_for(payer_id: str, filing_indicator: str = "") -> PayerPolicy:
    doc = _document()
    merged: dict[str, Any] = dict(doc.get("default", {}))
    layer_by_indicator = doc.get("by_filing_indicator", {}).get(filing_indicator, {})
    layer_by_payer = doc.get("by_payer", {}).get(payer_id, {})
    for layer in (layer_by_indicator, layer_by_payer):
        if "filing_limit_days" in layer or "filing_limit_months" in layer:
            merged.pop("filing_limit_days", None)
            merged.pop("filing_limit_months", None)
        merged.update(layer)
    return PayerPolicy(
        filing_limit_days=merged.get("filing_limit_days"),
        filing_limit_months=merged.get("filing_limit_months"),
        appeal_limit_days=int(merged.get("appeal_limit_days", 180)),
        near_deadline_days=int(merged.get("near_deadline_days", 30)),
        small_balance=Decimal(str(merged.get("small_balance", "0.00"))),
        write_off_approval_threshold=Decimal(str(merged.get("write_off_approval_threshold", "100.00"))),
        status_ack_hours=int(merged.get("status_ack_hours", 48)),
        status_remittance_days=int(merged.get("status_remittance_days", 30)),
    )


def claim_policy(claim: Claim) -> PayerPolicy:
    cov = claim.encounter.coverage
    return policy_for(cov.payer_id, cov.claim_filing_indicator)
