"""Staff API: FHIR R4 Bundles from a clinic's EHR. `POST /fhir/Bundle?clinic=<clinic_id>` bills the
Bundle's visits for that clinic exactly as a file dropped under encounters/ (workflow/fhir_intake.py)
and answers the response Bundle: an OperationOutcome per entry (accepted with the claim id, or the
issues with their FHIRPath). A Bundle that cannot be read is answered 400 with one OperationOutcome.

`routes()` builds a fresh Router for each app that includes it (a Router answers from the app that
included it last; tests load the handler more than once in one process).
"""

import json
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from medbill.entry import wiring
from medbill.entry.observability import service_name
from medbill.workflow.clinic_profiles import InvalidProfile, ProfileNotFound
from medbill.workflow.fhir_intake import receive_bundle

FHIR_JSON = "application/fhir+json"
logger = Logger(service=service_name("api"), child=True)

ClinicQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=30,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The clinic whose visits these are; the Bundle's Organization must be this clinic's.",
    ),
]

_FHIR_CONTENT: Any = {FHIR_JSON: {"schema": {"type": "object", "description": "a FHIR R4 resource"}}}


def _fhir(status: int, resource: dict[str, Any]) -> Response[str]:
    # Powertools serialises dict bodies for application/json only: FHIR JSON is written here.
    return Response(status_code=status, content_type=FHIR_JSON, body=json.dumps(resource, default=str))


def _outcome(status: int, code: str, text: str) -> Response[str]:
    return _fhir(
        status,
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]},
    )


def routes() -> Router:
    router = Router()

    @router.post(
        "/fhir/Bundle",
        summary="Bill the visits of a FHIR R4 Bundle",
        description="The body is a FHIR R4 Bundle (transaction, batch or collection), sent as application/json "
        "or application/fhir+json: docs/ehr-intake.md.",
        tags=["FHIR"],
        responses={
            200: {"description": "The response Bundle: an OperationOutcome per entry", "content": _FHIR_CONTENT},
            400: {"description": "Not a Bundle we take: one OperationOutcome", "content": _FHIR_CONTENT},
            404: {"description": "The clinic has no profile: one OperationOutcome", "content": _FHIR_CONTENT},
            409: {"description": "The clinic's profile is not valid: one OperationOutcome", "content": _FHIR_CONTENT},
        },
    )
    def post_bundle(clinic: ClinicQuery) -> Response[str]:
        # The body is read here, not declared: FHIR clients send application/fhir+json (which the API's
        # validation does not parse), and the reader takes the raw text so amounts stay Decimal.
        body = (router.current_event.decoded_body or "").encode()
        receipt = receive_bundle(
            wiring.repository(), wiring.artifacts(), wiring.workflow(), wiring.clinic_profiles(), clinic, body
        )
        logger.info(
            "FHIR Bundle received",
            clinic_id=clinic,
            source_key=receipt.source_key,
            claims_created=receipt.claims_created,
            claims_existing=receipt.claims_existing,
            rejected=receipt.rejected,
            file_error=receipt.file_error is not None,
        )
        return _fhir(400 if receipt.file_error else 200, receipt.response)

    @router.exception_handler(ProfileNotFound)
    def no_profile(err: ProfileNotFound) -> Response[str]:
        return _outcome(404, "not-found", str(err))

    @router.exception_handler(InvalidProfile)
    def bad_profile(err: InvalidProfile) -> Response[str]:
        return _outcome(409, "business-rule", f"{err}: fix the profile, then resend")

    return router
