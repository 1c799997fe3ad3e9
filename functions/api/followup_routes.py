"""Staff API, follow-up: write-offs and adjustments (with approval), patient payments and refunds,
and worklists by follow-up action. Included by handler.py (`app.include_router(router)`)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel

from medbill.billing.worklists import WORKLISTS, money_at_stake, waiting_since
from medbill.billing.writeoffs import (
    PatientMoneyRequest,
    StaffActionRefused,
    StaffAdjustmentRequest,
    adjust,
    approve,
    patient_payment,
    patient_refund,
)
from medbill.entry import wiring
from medbill.workflow import authz
from medbill.workflow.authz import StaffUser, Unauthenticated
from medbill.workflow.corrections import CannotCorrect, CorrectionRequest, correct_claim
from medbill.workflow.resent_changes import NothingToResolve, ResentChangesResolution, resolve_resent_changes

router = Router()


class UnknownWorklist(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no worklist {name}: one of {', '.join(sorted(WORKLISTS))}")


ClaimId = Annotated[str, Path(min_length=1, max_length=20)]
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def acting_staff() -> str:
    """Who is acting: the signed-in staff user the authorization middleware put on the request
    (`staff:<user name>:<sub>`); the approval rules compare it with the requester's."""
    user = router.context.get("staff_user")
    if not isinstance(user, StaffUser):
        raise Unauthenticated("no verified identity")
    return user.actor


@router.exception_handler([StaffActionRefused, CannotCorrect, NothingToResolve, UnknownWorklist])
def refused(err: Exception) -> Response[dict[str, str]]:
    # The messages name ids, states and amounts only (the domain's exceptions are written that way).
    status = 404 if isinstance(err, UnknownWorklist) else 409
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})


@router.post("/claims/<claim_id>/corrections")
def post_correction(claim_id: ClaimId, request: Annotated[CorrectionRequest, Body()]) -> dict[str, Any]:
    """A corrected (frequency 7) or void (8) claim: scrubbed and submitted again as a new claim."""
    return correct_claim(wiring.repository(), wiring.workflow(), claim_id, request, acting_staff())


@router.post("/claims/<claim_id>/resent-changes/resolve")
def post_resent_changes_resolution(
    claim_id: ClaimId, request: Annotated[ResentChangesResolution, Body()]
) -> dict[str, Any]:
    """Resolve a re-sent encounter that changed (the `resent_changed` worklist): keep the first copy,
    or record that the claim was corrected. Takes the claim off the worklist; audited with the actor."""
    return resolve_resent_changes(wiring.repository(), claim_id, request, acting_staff())


@router.post("/claims/<claim_id>/adjustments")
def post_adjustment(claim_id: ClaimId, request: Annotated[StaffAdjustmentRequest, Body()]) -> dict[str, Any]:
    return adjust(wiring.repository(), claim_id, request, acting_staff())


@router.post("/claims/<claim_id>/adjustments/<request_id>/approve")
def post_approval(claim_id: ClaimId, request_id: RequestId) -> dict[str, Any]:
    return approve(wiring.repository(), claim_id, request_id, acting_staff())


@router.post("/claims/<claim_id>/patient-payments")
def post_patient_payment(claim_id: ClaimId, request: Annotated[PatientMoneyRequest, Body()]) -> dict[str, Any]:
    return patient_payment(wiring.repository(), claim_id, request, acting_staff())


@router.post("/claims/<claim_id>/patient-refunds")
def post_patient_refund(claim_id: ClaimId, request: Annotated[PatientMoneyRequest, Body()]) -> dict[str, Any]:
    return patient_refund(wiring.repository(), claim_id, request, acting_staff())


WorklistName = Annotated[str, Path(min_length=3, max_length=40, pattern=r"^[a-z_]+$")]


class WorklistItem(BaseModel):
    claim_id: str
    clinic_id: str
    payer_id: str
    status: str
    action: str | None
    category: str | None
    amount_at_stake: str
    since: str
    appeal_due: str | None
    filing_deadline: str | None
    changed_fields: list[str]  # resent_changed: the fields a re-sent copy changed (names, never values)


class WorklistPage(BaseModel):
    worklist: str
    items: list[WorklistItem]
    next_token: str | None


@router.get("/worklists/<name>")
def get_worklist(
    name: WorklistName,
    clinic: Annotated[str | None, Query(min_length=1, max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> WorklistPage:
    if name not in WORKLISTS:
        raise UnknownWorklist(name)
    user = router.context.get("staff_user")
    if not isinstance(user, StaffUser):
        raise Unauthenticated("no verified identity")
    page = authz.list_visible_worklist(
        wiring.repository(), user, name, clinic_id=clinic, limit=limit, next_token=next_token
    )
    items = [
        WorklistItem(
            claim_id=c.claim_id,
            clinic_id=c.clinic_id,
            payer_id=c.payer_id,
            status=c.status.value,
            action=c.follow_up_action,
            category=c.follow_up_category,
            amount_at_stake=f"{money_at_stake(c):.2f}",
            since=waiting_since(c).isoformat(),
            appeal_due=c.follow_up_due.isoformat() if c.follow_up_due else None,
            filing_deadline=c.timely_filing_alert.isoformat() if c.timely_filing_alert else None,
            changed_fields=c.resent_changes,
        )
        for c in page.items
    ]
    return WorklistPage(worklist=name, items=items, next_token=page.next_token)
