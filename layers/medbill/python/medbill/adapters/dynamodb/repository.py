"""The DynamoDB adapter of the claim store and the ERA store: one single table.

Item layout (keys.py builds every key; docs/architecture.md explains it):
  CLAIM#<id> / CLAIM                      the claim (status, version, totals, pending task token)
  CLAIM#<id> / EVENT#<iso ts>#<version>   append-only audit trail
  CLAIM#<id> / LEDGER#<source>            one posting (payment, denial, reversal, PLB), unique per source
  CLAIM#<id> / HELDREV#<CLP07>#<source>   a reversal that arrived before its original
  PATIENT#<id> / PATIENT                  demographics and coverages
  PATIENTKEY#<sha256> / PATIENTKEY        match key (name, DOB, member id) -> random patient id; stays here
  ERA#<era id> / ERA                      one ERA payment (BPR/TRN): totals, status, problems
  ERA#<era id> / CLP#<position>           what became of each claim payment (posted, unmatched, held)
  ERA#<era id> / SENT#<first position>    claim payments queued for posting (positions, CLP01s)
  ERA#<era id> / PLB#<n>                  provider-level adjustments
  ERALIST / <received at>#<era id>        the list of ERA payments, newest first (GET /eras)
  ERAFILE#<file id> / ERA#<era id>        the ERA records a file (by content) created
  UNMATCHED#<CLP01> / REMIT#<era id>#<position>   remittance for a claim we do not know (yet)
  COUNTER#<name> / COUNTER                atomic counters (X12 control numbers)
  ACCESS#<resource>#<id> / <ts>#<request>#<action>   who read a claim, ledger or ERA (audit.py)
  INTERCHANGE#<n> / CLAIM#<claim id>      the claims our 837P with ISA13 = GS06 = n carried (999 matching)
  PAYEE#<NPI> / CLINIC#<clinic id>        the payee directory: clinics billing under an NPI (payees.py)

Every status change is a conditional write on `version`, committed in one transaction with its
audit event (and ledger entries, ERA results and consumed work items when money moves).
"""

from __future__ import annotations

from medbill.adapters.dynamodb.audit import AccessAuditTable
from medbill.adapters.dynamodb.claims import ClaimTable
from medbill.adapters.dynamodb.eligibility import EligibilityTable
from medbill.adapters.dynamodb.eras import EraTable
from medbill.adapters.dynamodb.interchanges import InterchangeTable
from medbill.adapters.dynamodb.worklists import WorklistTable


class ClaimRepository(ClaimTable, WorklistTable, EraTable, AccessAuditTable, EligibilityTable, InterchangeTable):
    """Implements medbill.ports.ClaimStore and EraStore (and so BillingStore), AccessAudit and
    EligibilityAnswers."""


__all__ = ["ClaimRepository"]
