"""S3 artifact store: encounter files in, rejection reports, 837P outbox, ERA files and reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.exceptions import ClientError

from medbill.ports import ObjectReplaced, ObjectStat, ObjectVersion

READ_CHUNK_BYTES = 1024 * 1024
# What S3 answers a GET pinned to a version the key no longer holds: If-Match failed (412), the key
# was deleted, or the version was deleted.
_REPLACED = {"PreconditionFailed", "412", "NoSuchKey", "NoSuchVersion", "404"}


def _version_id(value: str | None) -> str | None:
    """S3's VersionId; "null" is the id of an object written while versioning was off (none to pin)."""
    return value if value and value != "null" else None


class ArtifactStore:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client or boto3.client("s3")

    def read(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def stat(self, key: str) -> ObjectStat:
        head = self._client.head_object(Bucket=self.bucket, Key=key)
        version = ObjectVersion(etag=head["ETag"].strip('"'), version_id=_version_id(head.get("VersionId")))
        return ObjectStat(size=int(head["ContentLength"]), version=version)

    def open(self, key: str, start: int = 0, version: ObjectVersion | None = None) -> Iterator[bytes]:
        """A ranged GET read in chunks: the object is never held whole. With `version`, that version
        only: by VersionId (a versioned bucket keeps it), else If-Match on its ETag (S3 answers 412
        once the key holds another object); either way never a newer object at an older offset."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start:
            args["Range"] = f"bytes={start}-"
        if version is not None and version.version_id:
            args["VersionId"] = version.version_id
        elif version is not None:
            args["IfMatch"] = f'"{version.etag}"'
        try:
            body = self._client.get_object(**args)["Body"]
        except ClientError as exc:
            if version is not None and exc.response.get("Error", {}).get("Code") in _REPLACED:
                raise ObjectReplaced(key) from None
            raise
        try:
            yield from body.iter_chunks(chunk_size=READ_CHUNK_BYTES)
        finally:
            body.close()

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
