"""Names: the project, the repository's paths, the data bucket, the secrets. The bucket's key prefixes
are medbill.prefixes' (the Lambda code and the infra share one definition); infra.config re-exports
them."""

from __future__ import annotations

from pathlib import Path

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
