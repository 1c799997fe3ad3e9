"""Console hosting: a private bucket read by CloudFront through origin access control, HTTPS only,
security headers on every response."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from infra import config
from infra.constructs.console_hosting import content_security_policy
from infra.local.console import SECURITY_HEADERS
from tests.infra.conftest import Synth

CLOUDFRONT = "cloudfront.amazonaws.com"


def test_cloudfront_reads_the_private_bucket_through_origin_access_control(synth: Synth) -> None:
    (oac,) = synth.resources("AWS::CloudFront::OriginAccessControl")
    (dist,) = synth.props("AWS::CloudFront::Distribution").values()
    config = dist["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac, "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == "index.html"
    synth.assertions.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject"}
                        )
                    ]
                )
            }
        },
    )


def test_every_response_carries_the_security_headers_the_local_server_sets(synth: Synth) -> None:
    (policy,) = synth.props("AWS::CloudFront::ResponseHeadersPolicy").values()
    sec = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = _render(sec["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    dist, api = _logical_id(synth, "AWS::CloudFront::Distribution"), _api_id(synth)
    # The origins the console talks to: Cognito's regional endpoint, this API, S3 (by wildcard: the
    # bucket's name here would be a dependency cycle; its CORS names the console exactly).
    assert csp == content_security_policy(
        [
            "https://cognito-idp.${AWS::Region}.amazonaws.com",
            f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}",
            "https://*.s3.${AWS::URLSuffix}",
            "https://*.s3.${AWS::Region}.${AWS::URLSuffix}",
        ]
    )
    assert dist  # the distribution exists (its domain is the console's origin below)
    assert sec["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 63072000
    assert SECURITY_HEADERS["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert sec["FrameOptions"]["FrameOption"] == "DENY"
    assert sec["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert sec["ContentTypeOptions"]["Override"] is True


def _render(value: Any) -> str:
    """A template string with its references as ${...} (Fn::Join / Ref / GetAtt), to compare whole."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_render(p) for p in parts)
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    raise AssertionError(f"unexpected template value {value}")


def _logical_id(synth: Synth, cfn_type: str) -> str:
    (logical_id,) = synth.resources(cfn_type)
    return logical_id


def _api_id(synth: Synth) -> str:
    return _logical_id(synth, "AWS::ApiGateway::RestApi")


def _origin(synth: Synth) -> str:
    return f"https://${{{_logical_id(synth, 'AWS::CloudFront::Distribution')}.DomainName}}"


def test_config_json_is_written_by_the_stack_with_the_pool_client_and_api(synth: Synth) -> None:
    (function,) = synth.props("AWS::CloudFront::Function").values()
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    code = _render(function["FunctionCode"])
    pool = _logical_id(synth, "AWS::Cognito::UserPool")
    client = _logical_id(synth, "AWS::Cognito::UserPoolClient")
    api = _api_id(synth)
    for expected in (
        f'\\"user_pool_id\\": \\"${{{pool}}}\\"',
        f'\\"client_id\\": \\"${{{client}}}\\"',
        '\\"cognito_endpoint\\": \\"https://cognito-idp.${AWS::Region}.amazonaws.com/\\"',
        f'\\"api_base\\": \\"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/v1\\"',
    ):
        assert expected in code, expected
    (dist,) = synth.props("AWS::CloudFront::Distribution").values()
    (behavior,) = dist["DistributionConfig"]["CacheBehaviors"]
    assert behavior["PathPattern"] == "/config.json"
    assert behavior["FunctionAssociations"][0]["EventType"] == "viewer-request"


def test_only_the_console_origin_may_call_the_api_and_upload_to_the_data_bucket(synth: Synth) -> None:
    origin = _origin(synth)
    (cors,) = [v["CorsConfiguration"] for v in synth.props("AWS::S3::Bucket").values() if v.get("CorsConfiguration")]
    (rule,) = cors["CorsRules"]
    assert [_render(o) for o in rule["AllowedOrigins"]] == [origin]
    assert rule["AllowedMethods"] == list(config.CONSOLE_UPLOAD_CORS[0]["AllowedMethods"]) == ["POST"]
    # API Gateway answers the preflight itself (no token on OPTIONS) for that origin only.
    options = [m for m in synth.props("AWS::ApiGateway::Method").values() if m["HttpMethod"] == "OPTIONS"]
    assert options and all(m["AuthorizationType"] == "NONE" for m in options)
    others = [m for m in synth.props("AWS::ApiGateway::Method").values() if m["HttpMethod"] != "OPTIONS"]
    assert others and all(m["AuthorizationType"] == "COGNITO_USER_POOLS" for m in others)
    allowed = {
        _render(
            m["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
                "method.response.header.Access-Control-Allow-Origin"
            ]
        )
        for m in options
    }
    assert allowed == {f"'{origin}'"}
    gateway = {g["ResponseType"]: g for g in synth.props("AWS::ApiGateway::GatewayResponse").values()}
    assert {
        _render(g["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]) for g in gateway.values()
    } == {f"'{origin}'"}
    assert set(gateway) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    # The function adds the header to its own answers (Powertools CORS) for the same origin.
    (api_fn,) = [
        f
        for f in synth.props("AWS::Lambda::Function").values()
        if "CONSOLE_ORIGIN" in f.get("Environment", {}).get("Variables", {})
    ]
    assert _render(api_fn["Environment"]["Variables"]["CONSOLE_ORIGIN"]) == origin
