"""Staff identity: the Cognito user pool billing staff sign in to, its app client (the console),
the role groups, and the API Gateway authorizer that checks their tokens.

- MFA required (TOTP; no SMS: no phone numbers to leak or SIM-swap), a password policy, no
  self sign-up (an admin creates staff), threat protection in full-function mode (the Plus
  feature plan: adaptive authentication and compromised-credential checks).
- Groups are roles (`viewer`, `biller`, `billing_manager`, `admin`) and clinic membership
  (`clinic:<clinic_id>`, created by an admin when a clinic is onboarded): they reach the API as
  the ID token's `cognito:groups` claim (docs/decisions.md, staff identity).
- The app client is a public client (a browser console: no secret), SRP sign-in only (no OAuth /
  hosted UI), short tokens, revocation on sign-out, and no answer that says whether a user name exists.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infra import config
from medbill.workflow.authz import Role


class StaffIdentity(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{config.PROJECT}-staff",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.groups = {
            role.group: cognito.CfnUserPoolGroup(
                self,
                f"Group{role.name.title().replace('_', '')}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=role.group,
                description=f"medbill staff role: {role.group}",
                precedence=10 - int(role),  # lower wins in Cognito: admin first
            )
            for role in Role
        }
        self.client = self.user_pool.add_client(
            "ConsoleClient",
            user_pool_client_name=f"{config.PROJECT}-console",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
            # The console signs in with SRP + TOTP from the page (console/cognito.js): no hosted UI,
            # so no OAuth flows and no callback URL to keep in step with the console's domain.
            disable_o_auth=True,
        )
        # The staff API accepts the pool's ID tokens (Authorization: <token>); the claims, groups
        # included, reach the function in requestContext.authorizer.claims.
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "ApiAuthorizer",
            cognito_user_pools=[self.user_pool],
            authorizer_name=f"{config.PROJECT}-staff",
            identity_source="method.request.header.Authorization",
            results_cache_ttl=Duration.minutes(5),
        )
