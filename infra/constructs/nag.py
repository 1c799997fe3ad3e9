"""cdk-nag acknowledgements: the only way this stack suppresses a finding.

Every acknowledgement names the rule with its pack prefix (``AwsSolutions::`` or
``HIPAA.Security::``), is attached to the narrowest construct that produces the finding and
carries a reason. `tests/infra/test_nag.py` reads the validation report and fails on an
acknowledgement without a pack prefix or a reason.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct

AWS_SOLUTIONS = "AwsSolutions"
HIPAA = "HIPAA.Security"
PACKS = (AWS_SOLUTIONS, HIPAA)

# Reasons used in more than one place.
NO_VPC_REASON = (
    "This synth is the stack without VPC mode (context medbill:vpc unset): the function reaches only "
    "AWS service APIs (DynamoDB, S3, SQS, Step Functions, KMS, Logs, X-Ray) over TLS with SigV4, and no "
    "resource it uses lives in a VPC. With medbill:vpc=true every function runs in private subnets "
    "behind VPC endpoints and this acknowledgement is not made (docs/operations.md)."
)
SYNC_ONLY_REASON = (
    "The function is only invoked synchronously (SQS event source mapping, Step Functions task, API "
    "Gateway); an on-failure DLQ applies to asynchronous invocations only. SQS-triggered functions "
    "are covered by the source queue's DLQ; Step Functions catches and records task failures."
)


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding (``AwsSolutions-IAM5[...]`` or ``HIPAA.Security-...``) on a construct."""
    pack = rule.split("-", 1)[0]
    if pack not in PACKS:
        raise ValueError(f"unknown cdk-nag pack in rule id {rule!r}")
    if not reason.strip():
        raise ValueError(f"acknowledgement of {rule} needs a reason")
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{pack}::{rule}", reason=reason))


def arn_ref(resource: CfnResource, attribute: str = "Arn") -> str:
    """How cdk-nag spells a `Fn::GetAtt` in a finding id, e.g. ``<DataBucket1234.Arn>``."""
    stack = Stack.of(resource)
    logical_id = stack.resolve(resource.logical_id)
    return f"<{logical_id}.{attribute}>"
