"""Staff identity in the template: the user pool (MFA, password policy, threat protection), the
role groups, the console client, the API's Cognito authorizer, and an access log that says who
read which path."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from medbill.workflow.authz import Role
from tests.infra.conftest import Synth


def test_user_pool_requires_mfa_a_strong_password_and_admin_created_users(synth: Synth) -> None:
    synth.assertions.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "MfaConfiguration": "ON",
            "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": 12,
                    "RequireLowercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                    "RequireUppercase": True,
                    "TemporaryPasswordValidityDays": 3,
                }
            },
            "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
            "UserPoolTier": "PLUS",
            "DeletionProtection": "ACTIVE",
        },
    )


def test_role_groups_exist_with_admin_first(synth: Synth) -> None:
    groups = {p["GroupName"]: p["Precedence"] for p in synth.props("AWS::Cognito::UserPoolGroup").values()}
    assert set(groups) == {r.group for r in Role}
    assert sorted(groups, key=groups.__getitem__) == ["admin", "billing_manager", "biller", "viewer"]


def test_console_client_is_public_srp_and_hides_user_existence(synth: Synth) -> None:
    synth.assertions.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "AllowedOAuthFlowsUserPoolClient": False,  # SRP from the console: no hosted UI, no callbacks
            "EnableTokenRevocation": True,
            "IdTokenValidity": 60,
        },
    )


def test_authorizer_checks_the_staff_pool_token_in_the_authorization_header(synth: Synth) -> None:
    (pool,) = synth.resources("AWS::Cognito::UserPool")
    synth.assertions.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "COGNITO_USER_POOLS",
            "IdentitySource": "method.request.header.Authorization",
            "ProviderARNs": [{"Fn::GetAtt": [pool, "Arn"]}],
        },
    )


def test_access_log_names_the_user_and_the_real_path_but_no_query(synth: Synth) -> None:
    (stage,) = synth.props("AWS::ApiGateway::Stage").values()
    fmt = json.loads(stage["AccessLogSetting"]["Format"])
    assert fmt["path"] == "$context.path"  # /claims/CLM123, not /claims/{claim_id}
    assert fmt["user"] == "$context.authorizer.claims.sub"
    assert fmt["userName"] == "$context.authorizer.claims['cognito:username']"
    assert not any("querystring" in v.lower() or "requestOverride" in v for v in fmt.values())
    synth.assertions.has_resource_properties("AWS::ApiGateway::Stage", {"AccessLogSetting": Match.any_value()})
