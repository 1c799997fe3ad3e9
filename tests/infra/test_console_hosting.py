"""Console hosting: a private bucket read by CloudFront through origin access control, HTTPS only,
security headers on every response."""

from __future__ import annotations

from aws_cdk.assertions import Match

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
    assert sec["ContentSecurityPolicy"]["ContentSecurityPolicy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert sec["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 63072000
    assert sec["FrameOptions"]["FrameOption"] == "DENY"
    assert sec["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert sec["ContentTypeOptions"]["Override"] is True
