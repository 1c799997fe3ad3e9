"""Staff API (admin): clinic profiles, `PUT` / `GET /clinics/{clinic_id}/profile`.

A profile is validated like an encounter: a bad one is answered 422 naming each field and what is
wrong with it, never the value. Stored at `config/clinics/<clinic_id>.json` (docs/ehr-intake.md).
`routes()` builds a fresh Router for each app that includes it.
"""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from medbill.entry import wiring
from medbill.entry.observability import service_name
from medbill.models.clinic_profile import ClinicProfile
from medbill.workflow.clinic_profiles import InvalidProfile, ProfileNotFound

logger = Logger(service=service_name("api"), child=True)

ClinicId = Annotated[str, Path(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_-]+$")]
ProfileBody = Annotated[dict[str, Any], Body(description="The clinic profile (docs/ehr-intake.md)")]

_MESSAGE: Any = {
    content_types.APPLICATION_JSON: {
        "schema": {"type": "object", "properties": {"message": {"type": "string"}, "problems": {"type": "array"}}}
    }
}


def routes() -> Router:
    router = Router()

    @router.put(
        "/clinics/<clinic_id>/profile",
        summary="Store a clinic's profile",
        tags=["Clinics"],
        responses={
            200: {"description": "The stored profile, defaults filled in"},
            422: {
                "description": "Not valid: `problems` names each field and what is wrong (never the value)",
                "content": _MESSAGE,
            },
        },
    )
    def put_profile(clinic_id: ClinicId, profile: ProfileBody) -> ClinicProfile:
        stored = wiring.clinic_profiles().put(clinic_id, profile)
        logger.info("clinic profile stored", clinic_id=clinic_id)
        return stored

    @router.get(
        "/clinics/<clinic_id>/profile",
        summary="A clinic's profile",
        tags=["Clinics"],
        responses={
            200: {"description": "The clinic's profile"},
            404: {"description": "The clinic has no profile", "content": _MESSAGE},
        },
    )
    def get_profile(clinic_id: ClinicId) -> ClinicProfile:
        return wiring.clinic_profiles().get(clinic_id)

    @router.exception_handler(ProfileNotFound)
    def no_profile(err: ProfileNotFound) -> Response[dict[str, Any]]:
        return Response(status_code=404, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})

    @router.exception_handler(InvalidProfile)
    def bad_profile(err: InvalidProfile) -> Response[dict[str, Any]]:
        problems = [{"field": f, "reason": r} for f, r in err.problems]
        body = {"message": str(err), "problems": problems}
        return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body=body)

    return router
