"""An ERA (X12 835) file in S3 -> balance check -> post each claim -> reconciliation record and report.

A payment (ST..SE) that does not balance is not posted: it is recorded as quarantined with the
reasons, for a person to look at. Claims we do not know (unknown CLP01) are kept in the ERA
record and the report, never dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from medbill.billing.posting import ClaimRemittance, post_claim
from medbill.gateways.workflow import WorkflowGateway
from medbill.models.claim import Adjustment
from medbill.prefixes import ERA_REPORTS_PREFIX
from medbill.store.artifacts import ArtifactStore
from medbill.store.repository import ClaimRepository, utcnow
from medbill.x12.remittance835 import ClaimPayment, Payment, parse_835
from medbill.x12.tokenizer import X12SyntaxError

ZERO = Decimal("0.00")


@dataclass
class EraSummary:
    source_key: str
    report_key: str
    file_error: str | None = None
    payments: int = 0
    quarantined: int = 0
    claims_posted: int = 0
    claims_already_posted: int = 0
    claims_unmatched: int = 0
    claims_failed: int = 0
    resumed: int = 0
    era_ids: list[str] = field(default_factory=list)


def era_id_for(payment: Payment) -> str:
    """Payer + TRN02 names a payment uniquely (the same check/EFT trace never repeats per payer)."""
    payer = payment.payer_identifier or payment.payer.reference("2U") or payment.payer.id or "UNKNOWN"
    return f"{payer}#{payment.trace_number or payment.control_number}"


def to_remittance(claim: ClaimPayment) -> ClaimRemittance:
    return ClaimRemittance(
        claim_id=claim.claim_id,
        status_code=claim.status_code,
        charge=claim.charge,
        paid=claim.paid,
        patient_responsibility=claim.patient_responsibility or ZERO,
        payer_claim_number=claim.payer_claim_control_number or None,
        adjustments=tuple(
            Adjustment.model_validate({"group": a.group, "reason": a.reason, "amount": a.amount})
            for a in claim.all_adjustments
        ),
        position=claim.position,
    )


def post_era_file(repo: ClaimRepository, store: ArtifactStore, workflow: WorkflowGateway, key: str) -> EraSummary:
    summary = EraSummary(source_key=key, report_key=f"{ERA_REPORTS_PREFIX}{key}.json")
    report: dict[str, Any] = {"source_key": key, "processed_at": utcnow().isoformat(), "payments": []}
    try:
        text = store.read(key).decode("utf-8-sig")
        payments = parse_835(text)
        if not payments:
            raise X12SyntaxError("the file holds no 835 transaction (no ST*835)")
    except UnicodeDecodeError:
        summary.file_error = "the file is not UTF-8 text, so it cannot be an X12 835"
    except X12SyntaxError as err:
        summary.file_error = f"not a readable X12 835: {err}"
    if summary.file_error:
        report["file_error"] = summary.file_error
        store.write_json(summary.report_key, report)
        return summary

    for payment in payments:
        summary.payments += 1
        era_id = era_id_for(payment)
        summary.era_ids.append(era_id)
        report["payments"].append(_post_payment(repo, workflow, key, era_id, payment, summary))
    report["summary"] = {k: v for k, v in asdict(summary).items() if k not in ("era_ids",)}
    store.write_json(summary.report_key, report)
    return summary


def _post_payment(
    repo: ClaimRepository,
    workflow: WorkflowGateway,
    key: str,
    era_id: str,
    payment: Payment,
    summary: EraSummary,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "era_id": era_id,
        "source_key": key,
        "payer_id": payment.payer_identifier,
        "trace_number": payment.trace_number,
        "total_paid": f"{payment.total_paid:.2f}",
        "provider_adjustments": [
            {"reason": a.reason, "reference": a.reference, "amount": f"{a.amount:.2f}"}
            for a in payment.provider_adjustments
        ],
        "claims": len(payment.claims),
        "balanced": payment.balanced,
        "problems": list(payment.problems),
    }
    if not payment.balanced:
        summary.quarantined += 1
        record["status"] = "QUARANTINED"
        repo.put_era(era_id, record)
        return record

    posted_total = ZERO
    unmatched: list[dict[str, str]] = []
    outcomes: list[dict[str, Any]] = []
    for claim in payment.claims:
        try:
            remit = to_remittance(claim)
        except ValidationError as err:
            summary.claims_failed += 1
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in err.errors())
            record["problems"].append(f"CLP at segment {claim.position} (claim {claim.claim_id}): bad {fields}")
            continue
        result = post_claim(repo, workflow, era_id, remit)
        if result.unmatched:
            summary.claims_unmatched += 1
            unmatched.append(
                {"claim_id": claim.claim_id, "status_code": claim.status_code, "paid": f"{claim.paid:.2f}"}
            )
            continue
        posted_total += claim.paid
        summary.claims_posted += int(result.posted)
        summary.claims_already_posted += int(not result.posted)
        summary.resumed += int(result.resumed)
        outcomes.append({"claim_id": claim.claim_id, "outcome": result.outcome, "posted": result.posted})
    unmatched_total = sum((Decimal(u["paid"]) for u in unmatched), ZERO)
    # BPR02 = claims paid - PLB; posted + unmatched covers every claim, so this must be zero.
    difference = payment.total_paid - (posted_total + unmatched_total - payment.provider_adjustment_total)
    record.update(
        status="POSTED" if not unmatched else "POSTED_WITH_UNMATCHED",
        posted_total=f"{posted_total:.2f}",
        unmatched_total=f"{unmatched_total:.2f}",
        plb_total=f"{payment.provider_adjustment_total:.2f}",
        reconciliation_difference=f"{difference:.2f}",
        unmatched=unmatched,
        outcomes=outcomes,
    )
    repo.put_era(era_id, record)
    return record
