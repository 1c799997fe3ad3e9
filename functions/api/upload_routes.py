"""Staff API: `POST /clinics/{clinic_id}/uploads` hands out a presigned S3 POST for one encounter
file into the clinic's folder (workflow/uploads.py). A biller of that clinic only (the policy
table); the browser then posts the file to S3 itself (the bucket's CORS allows the console origin).

`routes()` builds a fresh Router for each app that includes it.
"""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import BaseModel, Field

from medbill.entry import wiring
from medbill.entry.observability import service_name
from medbill.workflow.uploads import BadUpload, UploadNotFound, new_upload, upload_report

logger = Logger(service=service_name("api"), child=True)

ClinicId = Annotated[str, Path(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9_-]+$")]
UploadId = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9._-]+$")]


class UploadRequest(BaseModel):
    file_name: str = Field(min_length=1, max_length=200, description="used for its extension only")
    size: int = Field(ge=1, description="bytes; the presigned form allows at most this many")


class UploadTicketView(BaseModel):
    upload_id: str  # GET /clinics/{clinic_id}/uploads/{upload_id}: its intake report
    key: str
    url: str
    fields: dict[str, str]
    expires_at: str
    max_bytes: int
    report_key: str


def routes() -> Router:
    router = Router()

    @router.post(
        "/clinics/<clinic_id>/uploads",
        summary="Upload an encounter file for a clinic",
        description="Answers a presigned S3 POST (url + form fields) for one file into "
        "encounters/<clinic_id>/; post the fields and then the file as multipart/form-data.",
        tags=["Clinics"],
        responses={400: {"description": "A file intake cannot read (the rule, never the name)"}},
    )
    def post_upload(clinic_id: ClinicId, request: Annotated[UploadRequest, Body()]) -> UploadTicketView:
        ticket = new_upload(wiring.uploads(), clinic_id, request.file_name, request.size)
        logger.info("encounter upload granted", clinic_id=clinic_id, key=ticket.key, size=request.size)
        return UploadTicketView(upload_id=ticket.key.rsplit("/", 1)[1], **ticket.as_dict())

    @router.get(
        "/clinics/<clinic_id>/uploads/<upload_id>",
        summary="The intake report of an uploaded file",
        description="Claim ids of the accepted records, rejections by record and field (never values); "
        "404 until intake has read the file.",
        tags=["Clinics"],
    )
    def get_upload(clinic_id: ClinicId, upload_id: UploadId) -> dict[str, Any]:
        return upload_report(wiring.uploads(), clinic_id, upload_id)

    @router.exception_handler(UploadNotFound)
    def no_report(err: UploadNotFound) -> Response[dict[str, Any]]:
        return Response(status_code=404, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})

    @router.exception_handler(BadUpload)
    def bad_upload(err: BadUpload) -> Response[dict[str, Any]]:
        return Response(status_code=400, content_type=content_types.APPLICATION_JSON, body={"message": str(err)})

    return router
