"""The table's key layout: every partition and sort key prefix, in one place (docs/architecture.md).

Nothing outside `medbill.adapters.dynamodb` builds or reads a key.
"""

from __future__ import annotations

from medbill.models.remittance import ClaimRemittance

CLAIM_SK = "CLAIM"  # CLAIM#<id> / CLAIM: the claim item
EVENT = "EVENT#"  # CLAIM#<id> / EVENT#<iso ts>#<version>: audit trail
LEDGER = "LEDGER#"  # CLAIM#<id> / LEDGER#<source>: one posting
HELDREV = "HELDREV#"  # CLAIM#<id> / HELDREV#<CLP07>#<source>: a reversal waiting for its original
ERA_SK = "ERA"  # ERA#<era id> / ERA: the ERA payment header
CLP = "CLP#"  # ERA#<era id> / CLP#<position>: what became of one claim payment
SENT = "SENT#"  # ERA#<era id> / SENT#<first position>: claim payments queued for posting
PLB = "PLB#"  # ERA#<era id> / PLB#<n>: provider-level adjustments
ERA_LIST_PK = "ERALIST"  # ERALIST / <received at>#<era id>: every ERA payment, for GET /eras
REMIT = "REMIT#"  # UNMATCHED#<CLP01> / REMIT#<era id>#<position>
PATIENT_SK = "PATIENT"
PATIENTKEY_SK = "PATIENTKEY"
COUNTER_SK = "COUNTER"
CYCLE = "CYCLE#"  # STATEMENT#<account> / CYCLE#<YYYY-MM>: one patient statement per cycle
# ACCESS#<resource>#<id> / <iso ts>#<request id>#<action>: who read a claim, ledger or ERA (its own
# partition: claim and ERA partitions are read whole in places, and an access log grows without bound).


def access_pk(resource: str, resource_id: str) -> str:
    return f"ACCESS#{resource}#{resource_id}"


ELIGANSWER = "ELIGANSWER#"  # ELIGANSWER#<sha256> / DAY#<date>: an eligibility answer kept for the day
INTERCHANGE_CLAIM = "CLAIM#"  # INTERCHANGE#<control number> / CLAIM#<claim id>: the claims one 837P carried


def claim_pk(claim_id: str) -> str:
    return f"CLAIM#{claim_id}"


def ledger_sk(source: str) -> str:
    return f"{LEDGER}{source}"


def held_sk(reversal: ClaimRemittance) -> str:
    return f"{HELDREV}{reversal.payer_claim_number}#{reversal.source}"


def era_pk(era_id: str) -> str:
    return f"ERA#{era_id}"


def result_sk(position: int) -> str:
    return f"{CLP}{position:07d}"


def era_file_pk(file_id: str) -> str:
    return f"ERAFILE#{file_id}"


def unmatched_pk(clp01: str) -> str:
    return f"UNMATCHED#{clp01}"


def unmatched_sk(era_id: str, position: int) -> str:
    return f"{REMIT}{era_id}#{position:07d}"


def unmatched_key(remittance: ClaimRemittance) -> dict[str, str]:
    return {"pk": unmatched_pk(remittance.claim_id), "sk": unmatched_sk(remittance.era_id, remittance.position)}


def patient_pk(patient_id: str) -> str:
    return f"PATIENT#{patient_id}"


def patient_key_pk(key_hash: str) -> str:
    return f"PATIENTKEY#{key_hash}"


def counter_pk(name: str) -> str:
    return f"COUNTER#{name}"


def statement_pk(account: str) -> str:
    return f"STATEMENT#{account}"


def eligibility_answer_pk(key_hash: str) -> str:
    return f"{ELIGANSWER}{key_hash}"


def eligibility_day_sk(day: str) -> str:
    return f"DAY#{day}"


def interchange_pk(control_number: int) -> str:
    """ISA13 / GS06 as a number: a 999's AK102 says "7" where the ISA says "000000007"."""
    return f"INTERCHANGE#{control_number}"
