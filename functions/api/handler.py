"""Staff API: claims (status, money, timeline, ledger), ERAs (reconciliation, release of a
quarantined file) and the unmatched-remittance work queue.

Every request carries a verified staff identity (the Cognito authorizer's claims in
requestContext.authorizer.claims; the local API server fills the same shape): none is a 401 for
every path. `authorize_route`, one middleware on the resolver (so it covers included routers too),
applies medbill.workflow.authz.POLICIES: the role a route needs, and its scope by key (the claim's
clinic, the ERA's claims); out of scope answers exactly like not found.
"""

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from medbill.billing.era import EraNotFound, EraNotReleasable, reconciliation, release_era
from medbill.billing.posting import UNMATCHED_STATUS, UnmatchedNotFound, claim_ledger, match_unmatched
from medbill.entry import settings, wiring
from medbill.entry.observability import observability
from medbill.models.common import utcnow
from medbill.models.status import ClaimStatus
from medbill.ports import AccessRecord, BadPageToken, ClaimNotFound
from medbill.workflow import authz, reports
from medbill.workflow.authz import Forbidden, OutOfScope, StaffUser, Unauthenticated
from medbill.workflow.recovery import NotRetryable, retry_claim, stuck_claims
from medbill.workflow.stages import NotOnHold, recheck_hold
from medbill.workflow.views import (
    AccessLogPage,
    ClaimPage,
    ClaimView,
    EraPage,
    EraView,
    UnmatchedPage,
    access_view,
    claim_view,
    era_summary_view,
    era_view,
    summary_view,
    unmatched_view,
)

try:  # Lambda imports this file as the package `api` (/var/task/api/)
    from api import clinic_routes, fhir_routes, upload_routes
    from api.followup_routes import router as followup_router
except ImportError:  # tests, the local runtime and scripts import from the repository root
    from functions.api import clinic_routes, fhir_routes, upload_routes
    from functions.api.followup_routes import router as followup_router

api_settings = settings.load(settings.ApiSettings)  # cold start: a missing variable fails here, by name
obs = observability("api")
logger, tracer = obs.logger, obs.tracer
# The console (CloudFront) calls the API cross-origin in AWS: that origin only, with its token.
cors = (
    CORSConfig(allow_origin=api_settings.console_origin, allow_headers=["Authorization", "Content-Type"], max_age=600)
    if api_settings.console_origin
    else None
)
app = APIGatewayRestResolver(enable_validation=True, cors=cors)
app.include_router(fhir_routes.routes())  # POST /fhir/Bundle
app.include_router(clinic_routes.routes())  # PUT / GET /clinics/{clinic_id}/profile
app.include_router(upload_routes.routes())  # POST /clinics/{clinic_id}/uploads

ClaimId = Annotated[str, Path(min_length=1, max_length=20)]
EraId = Annotated[str, Path(min_length=1, max_length=120)]


class MatchRequest(BaseModel):
    claim_id: str = Field(min_length=1, max_length=20)


# --- who is calling, and may they --------------------------------------------------------------
def _claims(event: dict[str, Any]) -> dict[str, Any] | None:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    return claims if isinstance(claims, dict) else None


def staff() -> StaffUser:
    """The caller of the current request (set by authorize_route)."""
    user = app.context.get("staff_user")
    if not isinstance(user, StaffUser):
        raise Unauthenticated("no verified identity")
    return user


def authorize_route(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    route = app.context.get("_route")
    user = authz.staff_user(_claims(app.current_event.raw_event))
    policy = authz.policy_for(route.method if route else "", route.openapi_path if route else "")
    authz.authorize(user, policy)
    assert policy is not None
    args: dict[str, str] = app.context.get("_route_args") or {}
    repo = wiring.repository()
    if policy.scope == authz.SCOPE_CLAIM:
        claim_id = args["claim_id"]
        authz.require_claim_scope(user, claim_id, repo.get_claim(claim_id).clinic_id)
    elif policy.scope == authz.SCOPE_ERA:
        era_id = args["era_id"]
        if not user.is_admin:
            authz.require_era_scope(user, era_id, authz.era_clinics(repo, era_id))
    elif policy.scope == authz.SCOPE_CLINIC:
        query = app.current_event.query_string_parameters or {}
        authz.require_clinic_scope(user, args.get("clinic_id") or query.get("clinic"))
    app.append_context(staff_user=user)
    response = next_middleware(app)
    if policy.audit_read and response.status_code == 200:
        _record_read(user, policy.audit_read, args)
    return response


def _record_read(user: StaffUser, action: str, args: dict[str, str]) -> None:
    """Who read which claim, ledger or ERA, and when: the application's access audit."""
    resource, resource_id = ("era", args["era_id"]) if "era_id" in args else ("claim", args["claim_id"])
    wiring.repository().record_access(
        AccessRecord(
            resource=resource,
            resource_id=resource_id,
            action=action,
            user_id=user.user_id,
            user_name=user.name,
            at=utcnow().isoformat(),
            request_id=app.current_event.request_context.request_id or "",
        )
    )


app.use(middlewares=[authorize_route])


# --- the caller ----------------------------------------------------------------------------------
class MeView(BaseModel):
    user_id: str
    name: str
    role: str
    clinics: list[str]  # empty for admins, who see every clinic
    all_clinics: bool


@app.get("/me")
def get_me() -> MeView:
    user = staff()
    return MeView(
        user_id=user.user_id,
        name=user.name,
        role=user.role.group,
        clinics=sorted(user.clinics),
        all_clinics=user.is_admin,
    )


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


@app.get("/claims/<claim_id>/access-log")
@tracer.capture_method
def get_access_log(
    claim_id: ClaimId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> AccessLogPage:
    """Who looked at this claim (its detail or its ledger), newest first: admins only."""
    records, token = wiring.repository().access_log("claim", claim_id, limit=limit, next_token=next_token)
    return AccessLogPage(items=[access_view(r) for r in records], next_token=token)


@app.post("/claims/<claim_id>/recheck")
@tracer.capture_method
def post_recheck(claim_id: ClaimId) -> dict[str, Any]:
    return recheck_hold(wiring.repository(), wiring.workflow(), claim_id, staff().actor)


@app.post("/claims/<claim_id>/retry")
@tracer.capture_method
def post_retry(claim_id: ClaimId) -> dict[str, Any]:
    """Retry a FAILED (or stuck) claim from its last good stage: a new execution `<claim id>-r<n>`."""
    result = retry_claim(wiring.repository(), wiring.executions(), claim_id, staff().actor)
    logger.info("claim retried", claim_id=claim_id, attempt=result["attempt"])
    return result


@app.get("/claims")
@tracer.capture_method
def list_claims(
    status: Annotated[ClaimStatus | None, Query()] = None,
    clinic: Annotated[str | None, Query(min_length=1, max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> ClaimPage:
    page = authz.list_visible_claims(
        wiring.repository(),
        staff(),
        status=status.value if status else None,
        clinic_id=clinic,
        limit=limit,
        next_token=next_token,
    )
    return ClaimPage(items=[summary_view(c) for c in page.items], next_token=page.next_token)


# --- ERAs -----------------------------------------------------------------------------------------
@app.get("/eras")
@tracer.capture_method
def list_eras(
    clinic: Annotated[str | None, Query(min_length=1, max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> EraPage:
    """ERA payments, newest first: those paid to the user's clinics' payees (admins: every one)."""
    items, token = authz.list_visible_eras(
        wiring.repository(), staff(), clinic_id=clinic, limit=limit, next_token=next_token
    )
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
def post_release(
    era_id: EraId,
    # A file quarantined as not UTF-8: the encoding a person confirmed it is in (docs/operations.md).
    encoding: Annotated[Literal["latin-1", "windows-1252"] | None, Query()] = None,
) -> Response[dict[str, Any]]:
    released_by = staff().actor
    body = release_era(wiring.repository(), wiring.release_queue(), era_id, released_by, encoding=encoding)
    logger.info("ERA released for posting", era_id=era_id, released_by=released_by, encoding=encoding)
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


# --- stuck claims: the execution ended but MarkFailed could not mark the claim FAILED -------------
class StuckClaimView(BaseModel):
    claim_id: str
    clinic_id: str
    status: str
    attempt: int
    execution: str


@app.get("/worklists/stuck-claims")
@tracer.capture_method
def stuck_worklist() -> list[StuckClaimView]:
    user = staff()
    return [
        StuckClaimView(**vars(s))
        for s in stuck_claims(wiring.repository(), wiring.executions())
        if user.sees_clinic(s.clinic_id)
    ]


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
    repo = wiring.repository()
    try:
        authz.require_claim_scope(staff(), request.claim_id, repo.get_claim(request.claim_id).clinic_id)
    except ClaimNotFound as err:
        raise OutOfScope(str(err)) from err
    result = match_unmatched(repo, wiring.workflow(), remittance_id, request.claim_id, actor=staff().actor)
    return {
        "claim_id": result.claim_id,
        "era_id": result.era_id,
        "result": result.result,
        "outcome": result.outcome,
        "resumed": result.resumed,
    }


# --- reports: computed here, drawn by the console; ?format=csv for a spreadsheet -------------------
ReportClinic = Annotated[str | None, Query(min_length=1, max_length=30)]
AsOf = Annotated[date | None, Query(description="the day the report is for (default today, UTC)")]
Format = Annotated[Literal["json", "csv"], Query()]


def _report_histories(clinic: str | None) -> list[reports.ClaimHistory]:
    repo = wiring.repository()
    return reports.histories(repo, authz.all_visible_claims(repo, staff(), clinic_id=clinic))


def _report(body: dict[str, Any], fmt: str, to_csv: Any, name: str) -> Response[Any]:
    if fmt == "csv":
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=to_csv(body),
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


@app.get("/reports/ar-aging")
@tracer.capture_method
def report_ar_aging(clinic: ReportClinic = None, as_of: AsOf = None, format: Format = "json") -> Response[Any]:
    """Open insurance A/R by age of the date of service (0-30 ... 120+), by payer and by clinic."""
    day = as_of or utcnow().date()
    return _report(reports.ar_aging(_report_histories(clinic), day), format, reports.ar_aging_csv, "ar-aging")


@app.get("/reports/kpis")
@tracer.capture_method
def report_kpis(clinic: ReportClinic = None, as_of: AsOf = None, format: Format = "json") -> Response[Any]:
    """Clean-claim, first-pass resolution, denial (by CARC) and touchless rates; days in A/R."""
    day = as_of or utcnow().date()
    return _report(reports.kpis(_report_histories(clinic), day), format, reports.kpis_csv, "kpis")


@app.get("/reports/stage-times")
@tracer.capture_method
def report_stage_times(clinic: ReportClinic = None, as_of: AsOf = None, format: Format = "json") -> Response[Any]:
    """Hours spent in each stage per clinic and payer, from the claims' audit events."""
    at = datetime.combine(as_of, time.max, tzinfo=UTC) if as_of else utcnow()
    body = reports.stage_times(_report_histories(clinic), at)
    return _report(body, format, reports.stage_times_csv, "stage-times")


app.include_router(followup_router)  # after /worklists/unmatched-remittance: its routes match first

# --- errors: the domain's exceptions as HTTP status codes ----------------------------------------
ERROR_STATUS: dict[type[Exception], int] = {
    ClaimNotFound: 404,
    UnmatchedNotFound: 404,
    EraNotFound: 404,
    BadPageToken: 400,
    NotOnHold: 409,
    NotRetryable: 409,
    EraNotReleasable: 409,
    OutOfScope: 404,
    Forbidden: 403,
    Unauthenticated: 401,
}


@app.exception_handler(list(ERROR_STATUS))
def known_error(err: Exception) -> Response:
    # The messages name ids and states only (the domain's exceptions are written that way).
    status = next(code for cls, code in ERROR_STATUS.items() if isinstance(err, cls))
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})


@obs.handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Before routing and validation: without a verified identity every path is a 401, known or not.
    if not (_claims(event) or {}).get("sub"):
        return {
            "statusCode": 401,
            "headers": {"Content-Type": "application/json"},
            "body": '{"message": "Unauthorized"}',
            "isBase64Encoded": False,
        }
    return app.resolve(event, context)
