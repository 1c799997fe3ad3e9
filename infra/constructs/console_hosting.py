"""The staff console in AWS: its static files in a private S3 bucket, served by CloudFront through
origin access control (the bucket is never public), HTTPS only, with security headers on every
response (the same headers infra/local/console.py sets on the laptop).

`config.json` (where the console finds the user pool, its app client and the staff API) is written
by the stack: a CloudFront Function answers it with the stack's own values (`configure`), so it
cannot drift from the deployed pool and API, and no Lambda-backed deployment is needed for it.
The Content-Security-Policy names exactly the origins the console talks to (`connect_to`).

The files are code (HTML, JS, CSS) and hold no PHI; everything a user reads comes from the staff
API with their token, and API Gateway's access log plus the application's access audit record it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import CfnOutput, Duration, IStableStringProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.nag import acknowledge


def content_security_policy(connect: Sequence[str]) -> str:
    """The console loads only its own files and talks only to `connect`: the user pool's Cognito
    endpoint, the staff API and the data bucket (uploads), each named exactly (a CSP host may only
    start with a wildcard, and an exact list leaves an injected script nowhere to send data)."""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {' '.join(connect)}; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ).replace("'self' ;", "'self';")


@jsii.implements(IStableStringProducer)
class _Policy:
    """The CSP, produced at synth: the API and the data bucket are added after the distribution."""

    def __init__(self, connect: list[str]) -> None:
        self.connect = connect

    def produce(self) -> str:
        return content_security_policy(self.connect)


def config_function_code(config: dict[str, Any]) -> str:
    """A CloudFront Function (cloudfront-js-2.0) that answers GET /config.json with `config`."""
    body = json.dumps(json.dumps(config, sort_keys=True))  # a JS string literal holding the JSON
    return (
        "function handler(event) {\n"
        "  return { statusCode: 200, statusDescription: 'OK',\n"
        "    headers: { 'content-type': { value: 'application/json' }, 'cache-control': { value: 'no-store' } },\n"
        f"    body: {{ encoding: 'text', data: {body} }} }};\n"
        "}\n"
    )


class ConsoleHosting(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, access_log_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self._connect: list[str] = []
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix="console-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="medbill console: CSP, HSTS, no framing, no sniffing, no referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=Lazy.string(_Policy(self._connect)), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )
        self._headers = headers
        self._origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="medbill staff console",
            default_root_object="index.html",
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            default_behavior=cloudfront.BehaviorOptions(
                origin=self._origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
            ),
        )
        CfnOutput(self, "ConsoleUrl", value=self.origin + "/", description="the staff console")
        CfnOutput(
            self, "ConsoleBucketName", value=self.bucket.bucket_name, description="make deploy syncs console/ here"
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "The bucket holds the console's static code (HTML, JS, CSS), never PHI; SSE-S3 encrypts it at "
            "rest and CloudFront reads it through origin access control without a key grant.",
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "The console files are built from the repository and redeployed from it; a replica would add "
            "nothing the source of truth does not already give.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Staff work from wherever the office does; sign-in (MFA, threat protection) and the API's "
            "authorizer decide who gets data, not the viewer's country.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves static files with no PHI and no API; the data behind the console is "
            "the staff API, protected by the Cognito authorizer.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "CloudFront standard logs need an ACL-enabled bucket; the distribution serves static code only, "
            "and every read of data is logged by API Gateway (user and path) and the access audit.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "Without a custom domain CloudFront serves its default certificate, whose policy CloudFront "
            "fixes; TLSv1.2_2021 is set and applies once the office's domain and certificate are attached.",
        )

    @property
    def origin(self) -> str:
        """The console's origin (CORS on the API and the data bucket allow exactly this)."""
        return f"https://{self.distribution.distribution_domain_name}"

    def connect_to(self, *origins: str) -> None:
        """Let the console's scripts call these origins (Content-Security-Policy connect-src)."""
        self._connect.extend(o for o in origins if o not in self._connect)

    def configure(self, *, user_pool_id: str, client_id: str, api_url: str) -> None:
        """Serve config.json from the stack's values: the user pool and app client the console signs
        in to (SRP + TOTP straight against Cognito's regional endpoint) and the staff API's URL."""
        region = Stack.of(self).region
        cognito_endpoint = f"https://cognito-idp.{region}.amazonaws.com/"
        config = {
            "api_base": api_url.rstrip("/"),
            "cognito_endpoint": cognito_endpoint,
            "user_pool_id": user_pool_id,
            "client_id": client_id,
            "region": region,
            "totp_issuer": "medbill",
        }
        function = cloudfront.Function(
            self,
            "ConfigFunction",
            comment="medbill console config.json (user pool, app client, API) from the stack",
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            code=cloudfront.FunctionCode.from_inline(config_function_code(config)),
        )
        self.distribution.add_behavior(
            "/config.json",
            self._origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            response_headers_policy=self._headers,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )
        self.connect_to(cognito_endpoint.rstrip("/"))
