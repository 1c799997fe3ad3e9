"""AWS list prices the cost benchmark uses: us-east-1, Lambda on arm64, on-demand everything.

One table, one date. Taken from the public AWS pricing pages (aws.amazon.com/<service>/pricing) as
published; this machine has no internet access beyond the package registries, so the figures were
written down from those published pages as known on PRICES_AS_OF, not fetched by code. Check them
against the pages before quoting a figure to anyone; change them here only (docs/cost.md reads the
same table). Free tiers are ignored (a billing office at 100,000 claims a day is far past them).
"""

from __future__ import annotations

from decimal import Decimal

PRICES_AS_OF = "2026-12-07"
REGION = "us-east-1"

MILLION = Decimal(1_000_000)

# name -> (USD per unit, unit, source page)
PRICES: dict[str, tuple[Decimal, str, str]] = {
    "lambda_request": (Decimal("0.20") / MILLION, "request", "Lambda: $0.20 per 1M requests"),
    # arm64, first 7.5 billion GB-s a month tier ($0.0000133334 per GB-s; x86_64 is $0.0000166667).
    "lambda_gb_second": (Decimal("0.0000133334"), "GB-second", "Lambda arm64: $0.0000133334 per GB-s"),
    "sfn_transition": (Decimal("0.025") / 1000, "state transition", "Step Functions Standard: $0.025 per 1,000"),
    # On-demand capacity after the November 2024 price reduction ($0.625 / $0.125 per million).
    "dynamodb_write_unit": (Decimal("0.625") / MILLION, "write request unit", "DynamoDB on-demand: $0.625 per 1M WRU"),
    "dynamodb_read_unit": (Decimal("0.125") / MILLION, "read request unit", "DynamoDB on-demand: $0.125 per 1M RRU"),
    "sqs_request": (Decimal("0.40") / MILLION, "request (64 KB)", "SQS standard: $0.40 per 1M requests"),
    "s3_tier1": (Decimal("0.005") / 1000, "PUT/COPY/POST/LIST", "S3 Standard: $0.005 per 1,000"),
    "s3_tier2": (Decimal("0.0004") / 1000, "GET/HEAD", "S3 Standard: $0.0004 per 1,000"),
    "kms_request": (Decimal("0.03") / 10_000, "request", "KMS: $0.03 per 10,000 requests"),
    "secrets_request": (Decimal("0.05") / 10_000, "API call", "Secrets Manager: $0.05 per 10,000 API calls"),
    # Fixed monthly items (docs/cost.md): not per claim.
    "kms_key_month": (Decimal("1.00"), "key-month", "KMS: $1 per customer managed key per month"),
    "secret_month": (Decimal("0.40"), "secret-month", "Secrets Manager: $0.40 per secret per month"),
    "scheduler_invocation": (Decimal("1.00") / MILLION, "invocation", "EventBridge Scheduler: $1.00 per 1M"),
    "dynamodb_gb_month": (Decimal("0.25"), "GB-month", "DynamoDB Standard table storage: $0.25 per GB-month"),
    "s3_gb_month": (Decimal("0.023"), "GB-month", "S3 Standard, first 50 TB: $0.023 per GB-month"),
    "logs_ingest_gb": (Decimal("0.50"), "GB ingested", "CloudWatch Logs standard ingestion: $0.50 per GB"),
}


def price(name: str) -> Decimal:
    return PRICES[name][0]
