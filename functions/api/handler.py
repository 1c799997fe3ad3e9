"""Staff API: claim status, money and timeline; claim lists by status or clinic (paginated)."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from medbill import wiring
from medbill.store.repository import BadPageToken, ClaimNotFound
from medbill.workflow.status import ClaimStatus
from medbill.workflow.views import ClaimPage, ClaimView, claim_view, summary_view

logger = Logger(service="medbill-api")
tracer = Tracer()
metrics = Metrics()
app = APIGatewayRestResolver(enable_validation=True)


@app.get("/claims/<claim_id>")
@tracer.capture_method
def get_claim(claim_id: Annotated[str, Path(min_length=1, max_length=20)]) -> ClaimView:
    repo = wiring.repository()
    return claim_view(repo.get_claim(claim_id), repo.events(claim_id))


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


@app.exception_handler(ClaimNotFound)
def claim_not_found(err: ClaimNotFound) -> Response:
    return Response(status_code=404, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})


@app.exception_handler(BadPageToken)
def bad_page_token(err: BadPageToken) -> Response:
    return Response(status_code=400, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
