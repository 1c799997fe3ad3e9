"""Staff API, follow-up: write-offs and adjustments (with approval), patient payments and refunds,
and worklists by follow-up action. Included by handler.py (`app.include_router(router)`)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from medbill.billing.writeoffs import (
    PatientMoneyRequest,
    StaffAdjustmentRequest,
    adjust,
    approve,
    patient_payment,
    patient_refund,
)
from medbill.entry import wiring

router = Router()

ClaimId = Annotated[str, Path(min_length=1, max_length=20)]
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def acting_staff() -> str:
    """Who is acting: the one place the staff identity is read (staff authorization replaces it)."""
    event = APIGatewayProxyEvent(router.current_event.raw_event)
    return event.request_context.identity.user_arn or "unknown"


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
