"""Storage: the DynamoDB tables (key schemas, GSIs, TTL) and the data bucket's CORS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


# --- DynamoDB -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GsiSpec:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    partition_key: str
    sort_key: str | None
    gsis: tuple[GsiSpec, ...] = ()
    ttl_attribute: str | None = None


CLAIMS_TABLE = TableSpec(
    name="medbill-claims",
    partition_key="pk",
    sort_key="sk",
    gsis=(
        # Work queues: every claim in a status, oldest first. Only claim items carry these keys.
        GsiSpec(name="by-status", partition_key="status", sort_key="updated_at"),
        # Clinic views: a clinic's claims by date of service.
        GsiSpec(name="by-clinic", partition_key="clinic_id", sort_key="date_of_service"),
        # Follow-up worklists: a list's claims, money at stake first, then oldest (sparse: only
        # claims on a worklist carry the keys; billing.worklists.worklist_of).
        GsiSpec(name="by-worklist", partition_key="worklist", sort_key="worklist_order"),
        # The same lists per clinic (`<clinic>#<worklist>`): a clinic's staff read theirs by key.
        GsiSpec(name="by-clinic-worklist", partition_key="clinic_worklist", sort_key="worklist_order"),
    ),
    # Eligibility answers (`ELIGANSWER#` items, adapters/dynamodb/eligibility.py) expire on `expires_at`
    # (epoch seconds, two days after the day they answer for); no other item carries it.
    ttl_attribute="expires_at",
)

# The data bucket's CORS for the staff console's presigned uploads (POST /clinics/{id}/uploads):
# the console's origin only (CloudFront's in AWS, the local server's on the laptop), a form POST.
CONSOLE_UPLOAD_CORS: tuple[dict[str, Any], ...] = (
    {"AllowedMethods": ["POST"], "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
)

# Powertools idempotency table: its default key and TTL attribute names.
IDEMPOTENCY_TABLE = TableSpec(name="medbill-idempotency", partition_key="id", sort_key=None, ttl_attribute="expiration")
