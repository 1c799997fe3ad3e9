"""Clinic profiles in the data bucket: `config/clinics/<clinic_id>.json` (the ClinicProfileFiles port)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from medbill.workflow.clinic_profiles import profile_key


class S3ClinicProfileFiles:
    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client or boto3.client("s3")

    def read_profile(self, clinic_id: str) -> bytes | None:
        try:
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=profile_key(clinic_id))["Body"].read()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise  # access denied, throttling: the caller retries, never "no profile"
        return body

    def write_profile(self, clinic_id: str, body: bytes) -> None:
        self._client.put_object(
            Bucket=self.bucket, Key=profile_key(clinic_id), Body=body, ContentType="application/json"
        )
