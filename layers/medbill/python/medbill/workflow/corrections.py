"""Corrected (CLM05-3 = 7) and void (8) claims as staff actions.

The replacement is a new claim (its own id, so its 835 lands on it by CLP01) that carries the
original's payer claim number for REF*F8 and `replaces` the original; the original gets
`replaced_by` and leaves the worklists. The replacement starts its own execution, so it is
registered, verified, scrubbed, priced and submitted again like any claim. Both timelines record
the link and the reason. Retrying the same request (same request id) changes nothing: the new
claim's id is derived from the original and the request id, creation is conditional, and
StartExecution is idempotent by name.

Postings: a payer's reversal of the original under the replacement's CLP01, and anything for a
void (which carries no money of its own), land on the original (billing.correction_routing).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError

from medbill.billing.claim_updates import save_claim, with_lock_retry
from medbill.models.claim import Claim, ClaimLine, claim_id_for
from medbill.models.common import Model
from medbill.models.encounter import Encounter, ServiceLine
from medbill.models.errors import field_path
from medbill.models.status import POSTED
from medbill.models.status import ClaimStatus as S
from medbill.ports import ClaimStore, Workflow

CorrectionReason = Literal[
    "coding_error",
    "missing_information",
    "patient_or_insurance_information",
    "provider_information",
    "charge_correction",
    "billed_in_error",
    "duplicate_submission",
    "other",
]
REPLACED = "replaced"  # the original's follow-up action once a replacement or void is under way


class CorrectionRequest(Model):
    request_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    frequency: Literal["7", "8"]  # replacement, void
    reason: CorrectionReason
    # Corrections (replacement only); omitted: as billed.
    diagnoses: list[str] | None = Field(default=None, min_length=1, max_length=12)
    service_lines: list[ServiceLine] | None = Field(default=None, min_length=1, max_length=50)


class CannotCorrect(ValueError):
    """The claim cannot be corrected or voided now (ids and states only)."""


def _replacement(original: Claim, request: CorrectionRequest) -> Claim:
    changes: dict[str, Any] = {}
    if request.frequency == "7":
        if request.diagnoses is not None:
            changes["diagnoses"] = request.diagnoses
        if request.service_lines is not None:
            changes["service_lines"] = [line.model_dump() for line in request.service_lines]
    try:
        encounter = Encounter.model_validate({**original.encounter.model_dump(), **changes})
    except ValidationError as err:  # names the fields, never the values (they are PHI)
        fields = sorted({field_path(e["loc"]) or "encounter" for e in err.errors()})
        raise CannotCorrect(
            f"claim {original.claim_id}: the correction does not validate ({', '.join(fields)})"
        ) from None
    new_id = claim_id_for(original.clinic_id, f"{original.encounter_id}\x1f{request.frequency}\x1f{request.request_id}")
    lines = [
        ClaimLine(**line.model_dump(), line_number=n, line_control_number=f"{new_id}-{n:02d}")
        for n, line in enumerate(encounter.service_lines, start=1)
    ]
    return original.model_copy(
        update={
            "claim_id": new_id,
            "status": S.RECEIVED,
            "version": 0,
            "encounter": encounter,
            "lines": lines,
            "frequency_code": request.frequency,
            "replaces": original.claim_id,
            "replaced_by": None,
            "correction_reason": request.reason,
            **{field: Claim.model_fields[field].get_default(call_default_factory=True) for field in _RESET},
        },
        deep=True,
    )


# What the replacement starts without: it is a new claim to the payer.
_RESET = (
    "total_charge",
    "hold_reasons",
    "copay",
    "interchange_control_number",
    "outbox_key",
    "task_token",
    "remittance_outcome",
    "paid_amount",
    "adjustment_amount",
    "patient_responsibility",
    "adjustments",
    "patient_paid_amount",
    "patient_written_off_amount",
    "payer_written_off_amount",
    "follow_up_reason",
    "follow_up_action",
    "follow_up_category",
    "follow_up_amount",
    "follow_up_due",
    "follow_up_since",
    "timely_filing_alert",
)


def correct_claim(
    repo: ClaimStore, workflow: Workflow, claim_id: str, request: CorrectionRequest, actor: str
) -> dict[str, Any]:
    """Send a corrected (7) or void (8) claim for an adjudicated claim."""
    original = repo.get_claim(claim_id)
    if original.replaces and original.frequency_code == "8":
        raise CannotCorrect(f"claim {claim_id} is a void: correct the claim it voids")
    if not original.payer_claim_number or (original.status not in POSTED and original.status != S.FOLLOW_UP):
        raise CannotCorrect(
            f"claim {claim_id} is {original.status.value} without a payer claim number: only an adjudicated "
            "claim can be corrected or voided (resubmit it as an original)"
        )
    replacement = _replacement(original, request)
    if original.replaced_by not in (None, replacement.claim_id):
        raise CannotCorrect(f"claim {claim_id} is already replaced by {original.replaced_by}")
    link = {"frequency": request.frequency, "reason": request.reason}
    created = repo.create_claim(replacement, actor="correction")
    if created:
        save_claim(repo, repo.get_claim(replacement.claim_id), actor=actor, detail={"replaces": claim_id, **link})

    def mark(current: Claim) -> None:
        if current.replaced_by == replacement.claim_id:
            return
        save_claim(
            repo,
            current.model_copy(update={"replaced_by": replacement.claim_id, "follow_up_action": REPLACED}),
            actor=actor,
            new_status=S.FOLLOW_UP if current.status != S.FOLLOW_UP else None,
            detail={"replaced_by": replacement.claim_id, **link},
        )

    with_lock_retry(repo, claim_id, mark)
    workflow.start_claim(replacement.claim_id, replacement.clinic_id)
    return {
        "claim_id": claim_id,
        "replacement_claim_id": replacement.claim_id,
        "frequency": request.frequency,
        "reason": request.reason,
        "repeated": not created,
    }
