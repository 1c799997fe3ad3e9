"""Names: the project, the repository's paths, the data bucket and its key prefixes, the secrets."""

from __future__ import annotations

from pathlib import Path

from medbill.prefixes import (  # the Lambda code and the infra share one definition
    ACK_277CA_PREFIX,
    ACK_999_PREFIX,
    ACKS_PREFIX,
    APPOINTMENTS_PREFIX,
    CLEARINGHOUSE_QUARANTINE_PREFIX,
    CLINIC_PROFILES_PREFIX,
    ELIGIBILITY_271_PREFIX,
    ELIGIBILITY_BATCH_LEDGER_PREFIX,
    ELIGIBILITY_REPORTS_PREFIX,
    ENCOUNTERS_PREFIX,
    ERA_PREFIX,
    ERA_REPORTS_PREFIX,
    ERA_WORK_PREFIX,
    EXCHANGE_LEDGER_PREFIX,
    FHIR_API_PREFIX,
    OUTBOX_270_PREFIX,
    OUTBOX_276_PREFIX,
    OUTBOX_837_PREFIX,
    OUTBOX_PREFIXES,
    REJECTIONS_PREFIX,
    STATUS_277_PREFIX,
)

PROJECT = "medbill"
# infra/config/names.py -> the repository root
REPO_ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = REPO_ROOT / "infra" / "statemachine" / "claim.asl.json"
LAYER_PATH = REPO_ROOT / "layers" / "medbill"
FUNCTIONS_PATH = REPO_ROOT / "functions"

# --- S3: one data bucket, one prefix per kind of file -------------------------------------------
DATA_BUCKET = "medbill-data"  # local name; the CDK stack lets CloudFormation name the bucket


# --- Secrets Manager (values are put by an operator after deploy: docs/operations.md) ------------
CLEARINGHOUSE_SECRET_NAME = f"{PROJECT}/clearinghouse/sftp"  # adapters.sftp.SftpSecret
ELIGIBILITY_SECRET_NAME = f"{PROJECT}/clearinghouse/core"  # adapters.eligibility_core.CoreSecret
# Secret (by name) -> the variable that carries its ARN, and the functions that read it.
SECRET_VARIABLES = {
    CLEARINGHOUSE_SECRET_NAME: "CLEARINGHOUSE_SECRET_ID",
    ELIGIBILITY_SECRET_NAME: "ELIGIBILITY_SECRET_ID",
}


__all__ = [
    "ACKS_PREFIX",
    "ACK_277CA_PREFIX",
    "ACK_999_PREFIX",
    "APPOINTMENTS_PREFIX",
    "ASL_PATH",
    "CLEARINGHOUSE_QUARANTINE_PREFIX",
    "CLEARINGHOUSE_SECRET_NAME",
    "CLINIC_PROFILES_PREFIX",
    "DATA_BUCKET",
    "ELIGIBILITY_271_PREFIX",
    "ELIGIBILITY_BATCH_LEDGER_PREFIX",
    "ELIGIBILITY_REPORTS_PREFIX",
    "ELIGIBILITY_SECRET_NAME",
    "ENCOUNTERS_PREFIX",
    "ERA_PREFIX",
    "ERA_REPORTS_PREFIX",
    "ERA_WORK_PREFIX",
    "EXCHANGE_LEDGER_PREFIX",
    "FHIR_API_PREFIX",
    "FUNCTIONS_PATH",
    "LAYER_PATH",
    "OUTBOX_270_PREFIX",
    "OUTBOX_276_PREFIX",
    "OUTBOX_837_PREFIX",
    "OUTBOX_PREFIXES",
    "PROJECT",
    "REJECTIONS_PREFIX",
    "REPO_ROOT",
    "SECRET_VARIABLES",
    "STATUS_277_PREFIX",
]
