"""CDK constructs for the medbill stack, one module per concern.

storage (KMS key, buckets, tables, backups), functions (every Lambda from `config.FUNCTIONS`),
workflow (claim state machine), intake (S3 -> SQS -> Lambda), api (staff REST API), monitoring
(alarms). `nag` holds the one helper every cdk-nag acknowledgement goes through.
"""
