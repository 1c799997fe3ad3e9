"""The staff console in AWS: its static files in a private S3 bucket, served by CloudFront through
origin access control (the bucket is never public), HTTPS only, with security headers on every
response (the same headers infra/local/console.py sets on the laptop).

The files are code (HTML, JS, CSS) and hold no PHI; everything a user reads comes from the staff
API with their token, and API Gateway's access log plus the application's access audit record it.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.nag import acknowledge

# The console loads only its own files and talks to Cognito and the staff API.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' https://cognito-idp.*.amazonaws.com https://*.execute-api.*.amazonaws.com; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class ConsoleHosting(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, access_log_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
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
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True
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
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="medbill staff console",
            default_root_object="index.html",
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
            ),
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
