"""A role whose grants land in one customer-managed policy instead of an inline policy.

CDK's `grant*` helpers add statements to a role's inline ``DefaultPolicy``; HIPAA.Security's
IAMNoInlinePolicy rule flags inline policies. `ManagedPolicyRole` overrides
`add_to_principal_policy` so every grant (ours and the ones CDK adds for tracing, event
sources, ...) goes into a customer-managed policy attached to this role only.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    def __init__(self, scope: Construct, construct_id: str, *, assumed_by: iam.IPrincipal, description: str) -> None:
        super().__init__(scope, construct_id, assumed_by=assumed_by, description=description)
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self])

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        self.policy.add_statements(statement)
        return True
