"""A role whose grants land in customer-managed policies instead of an inline policy.

CDK's `grant*` helpers add statements to a role's inline ``DefaultPolicy``; HIPAA.Security's
IAMNoInlinePolicy rule flags inline policies. `ManagedPolicyRole` overrides
`add_to_principal_policy` so every grant (ours and the ones CDK adds for tracing, event
sources, ...) goes into a customer-managed policy attached to this role only:

- ``Policy``: every statement on named resources.
- ``WildcardPolicy``: statements on Resource ``*`` whose actions AWS documents without resource-level
  permissions (`WILDCARD_ONLY_ACTIONS`: X-Ray segments, Lambda's VPC network interfaces, Step
  Functions' vended-log delivery). Its cdk-nag IAM5 ``Resource::*`` acknowledgement covers only
  this policy; any other ``*`` statement stays in ``Policy`` and fails the synth.

KMS statements added without a condition (CDK's queue grants) get ``kms:ViaService`` for the
services this role reaches the key through (``kms_via_services``), so no role can call KMS directly.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.nag import acknowledge

# Actions that have no resource-level permissions (the IAM service authorization reference lists
# Resource "*" for them).
WILDCARD_ONLY_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }
)
WILDCARD_REASON = (
    "Every action in this policy is one the IAM service authorization reference lists without "
    "resource types (X-Ray trace segments, Lambda VPC network interfaces, CloudWatch Logs vended-log "
    "delivery), so Resource '*' is the only form IAM accepts; statements on other actions live in the "
    "role's other policy, where a wildcard fails the synth."
)


def via_services(stack: Stack, services: Iterable[str]) -> list[str]:
    return sorted(f"{service}.{stack.region}.amazonaws.com" for service in services)


class ManagedPolicyRole(iam.Role):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        assumed_by: iam.IPrincipal,
        description: str,
        kms_via_services: Iterable[str] = (),
    ) -> None:
        super().__init__(scope, construct_id, assumed_by=assumed_by, description=description)
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self])
        self._wildcard_policy: iam.ManagedPolicy | None = None
        self.kms_via_services = tuple(kms_via_services)

    @property
    def wildcard_policy(self) -> iam.ManagedPolicy:
        if self._wildcard_policy is None:
            self._wildcard_policy = iam.ManagedPolicy(self, "WildcardPolicy", roles=[self])
            acknowledge(self._wildcard_policy, "AwsSolutions-IAM5[Resource::*]", WILDCARD_REASON)
        return self._wildcard_policy

    def _target(self, statement: iam.PolicyStatement) -> iam.ManagedPolicy:
        if statement.resources == ["*"] and statement.actions and set(statement.actions) <= WILDCARD_ONLY_ACTIONS:
            return self.wildcard_policy
        return self.policy

    def _conditioned(self, statement: iam.PolicyStatement) -> iam.PolicyStatement:
        is_kms = statement.actions and all(a.startswith("kms:") for a in statement.actions)
        if is_kms and self.kms_via_services and not statement.conditions:
            statement.add_condition(
                "StringEquals", {"kms:ViaService": via_services(Stack.of(self), self.kms_via_services)}
            )
        return statement

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        target = self._target(statement)
        target.add_statements(self._conditioned(statement))
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=target)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        self.add_to_principal_policy(statement)
        return True
