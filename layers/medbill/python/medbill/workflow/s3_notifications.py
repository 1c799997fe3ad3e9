"""S3 event notifications as they arrive in an SQS message body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3Event


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str


class NotAnS3Notification(ValueError):
    pass


def objects_in(body: str) -> list[S3Object]:
    """The created objects named by one notification. S3's `s3:TestEvent` names none."""
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as err:
        raise NotAnS3Notification("SQS message body is not JSON") from err
    if not isinstance(payload, dict):
        raise NotAnS3Notification("SQS message body is not an S3 notification")
    if payload.get("Event") == "s3:TestEvent":
        return []
    if "Records" not in payload:
        raise NotAnS3Notification("SQS message body has no S3 Records")
    out = []
    for record in S3Event(payload).records:
        if not record.event_name.startswith("ObjectCreated"):
            continue
        # Keys arrive URL-encoded in notifications ("my file.json" -> "my+file.json").
        out.append(
            S3Object(
                bucket=record.s3.bucket.name,
                key=unquote_plus(record.s3.get_object.key),
                etag=record.s3.get_object.etag or "",
            )
        )
    return out
