"""S3 artifact store: encounter files in, rejection reports, 837P outbox, ERA files and reports."""

from __future__ import annotations

import json
from typing import Any

import boto3


class ArtifactStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client or boto3.client("s3")

    def read(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def write(self, key: str, body: bytes | str, content_type: str = "application/octet-stream") -> None:
        data = body.encode() if isinstance(body, str) else body
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def write_json(self, key: str, document: dict[str, Any]) -> None:
        self.write(key, json.dumps(document, indent=2, sort_keys=True, default=str), "application/json")

    def upload_form(self, key: str, *, max_bytes: int, expires_s: int) -> dict[str, Any]:
        """A presigned POST for exactly this key and at most `max_bytes` (S3 checks both; the
        bucket's default encryption and its CORS rule for the console origin apply)."""
        form = self._client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_s,
        )
        return {"url": form["url"], "fields": dict(form["fields"])}

    def read_if_present(self, key: str) -> bytes | None:
        try:
            return self.read(key)
        except self._client.exceptions.NoSuchKey:
            return None
