"""Staff API: claims (status, money, timeline, ledger), ERAs (reconciliation, release of a
quarantined file) and the unmatched-remittance work queue."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from medbill.billing.era import EraNotFound, EraNotReleasable, reconciliation, release_era
from medbill.billing.era import list_eras as list_era_payments  # repository.list_eras is the raw read
from medbill.billing.posting import UNMATCHED_STATUS, UnmatchedNotFound, claim_ledger, match_unmatched
from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.models.status import ClaimStatus
from medbill.ports import BadPageToken, ClaimNotFound
from medbill.workflow.stages import NotOnHold, recheck_hold
from medbill.workflow.views import (
    ClaimPage,
    ClaimView,
    EraPage,
    EraView,
    UnmatchedPage,
    claim_view,
    era_summary_view,
    era_view,
    summary_view,
    unmatched_view,
)

try:  # in Lambda the functions/ directory is the code root and this module is api.handler
    from api.followup_routes import router as followup_router
except ModuleNotFoundError:  # tests and the local runtime load handler.py by path from the repo root
    from functions.api.followup_routes import router as followup_router

settings.load(settings.ApiSettings)  # cold start: a missing variable fails here, by name
obs = observability("api")
logger, tracer = obs.logger, obs.tracer
app = APIGatewayRestResolver(enable_validation=True)

ClaimId = Annotated[str, Path(min_length=1, max_length=20)]
EraId = Annotated[str, Path(min_length=1, max_length=120)]


class MatchRequest(BaseModel):
    claim_id: str = Field(min_length=1, max_length=20)


# --- claims ---------------------------------------------------------------------------------------
@app.get("/claims/<claim_id>")
@tracer.capture_method
def get_claim(claim_id: ClaimId) -> ClaimView:
    repo = wiring.repository()
    return claim_view(repo.get_claim(claim_id), repo.events(claim_id))


@app.get("/claims/<claim_id>/ledger")
@tracer.capture_method
def get_ledger(claim_id: ClaimId) -> dict[str, Any]:
    return claim_ledger(wiring.repository(), claim_id)


@app.post("/claims/<claim_id>/recheck")
@tracer.capture_method
def post_recheck(claim_id: ClaimId) -> dict[str, Any]:
    actor = app.current_event.request_context.identity.user_arn or "unknown"
    return recheck_hold(wiring.repository(), wiring.workflow(), claim_id, actor)


@app.get("/claims")
@tracer.capture_method
def list_claims(
    status: Annotated[ClaimStatus | None, Query()] = None,
    clinic: Annotated[str | None, Query(min_length=1, max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> ClaimPage:
    page = wiring.repository().list_claims(
        status=status.value if status else None, clinic_id=clinic, limit=limit, next_token=next_token
    )
    return ClaimPage(items=[summary_view(c) for c in page.items], next_token=page.next_token)


# --- ERAs -----------------------------------------------------------------------------------------
@app.get("/eras")
@tracer.capture_method
def list_eras(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> EraPage:
    items, token = list_era_payments(wiring.repository(), limit=limit, next_token=next_token)
    return EraPage(items=[era_summary_view(i) for i in items], next_token=token)


@app.get("/eras/<era_id>")
@tracer.capture_method
def get_era(
    era_id: EraId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> EraView:
    # The reconciliation is complete on every page; the claim payments come `limit` at a time (a
    # 50,000-claim ERA would not fit in one Lambda response).
    rec = reconciliation(wiring.repository(), era_id, limit=limit, next_token=next_token)
    if rec is None:
        raise EraNotFound(era_id)
    return era_view(rec)


@app.post("/eras/<era_id>/release")
@tracer.capture_method
def post_release(era_id: EraId) -> Response[dict[str, Any]]:
    released_by = app.current_event.request_context.identity.user_arn or "unknown"
    body = release_era(wiring.repository(), wiring.release_queue(), era_id, released_by)
    logger.info("ERA released for posting", era_id=era_id, released_by=released_by)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


# --- unmatched remittance -------------------------------------------------------------------------
@app.get("/worklists/unmatched-remittance")
@tracer.capture_method
def unmatched_worklist(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> UnmatchedPage:
    items, token = wiring.repository().query_status(UNMATCHED_STATUS, limit=limit, next_token=next_token)
    return UnmatchedPage(items=[unmatched_view(i) for i in items], next_token=token)


@app.post("/worklists/unmatched-remittance/<remittance_id>/match")
@tracer.capture_method
def match_remittance(
    remittance_id: Annotated[str, Path(min_length=3, max_length=160)], request: Annotated[MatchRequest, Body()]
) -> dict[str, Any]:
    result = match_unmatched(wiring.repository(), wiring.workflow(), remittance_id, request.claim_id)
    return {
        "claim_id": result.claim_id,
        "era_id": result.era_id,
        "result": result.result,
        "outcome": result.outcome,
        "resumed": result.resumed,
    }


app.include_router(followup_router)  # after /worklists/unmatched-remittance: its routes match first

# --- errors: the domain's exceptions as HTTP status codes ----------------------------------------
ERROR_STATUS: dict[type[Exception], int] = {
    ClaimNotFound: 404,
    UnmatchedNotFound: 404,
    EraNotFound: 404,
    BadPageToken: 400,
    NotOnHold: 409,
    EraNotReleasable: 409,
}


@app.exception_handler(list(ERROR_STATUS))
def known_error(err: Exception) -> Response:
    # The messages name ids and states only (the domain's exceptions are written that way).
    status = next(code for cls, code in ERROR_STATUS.items() if isinstance(err, cls))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})


@obs.handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
