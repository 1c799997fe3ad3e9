"""Staff REST API: API Gateway (Cognito user pool authorizer: staff ID tokens) -> the `api` function (proxy)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import config
from infra.constructs.functions import Functions
from infra.constructs.nag import acknowledge

STAGE_NAME = "v1"
ACCESS_LOG_RETENTION = logs.RetentionDays.SIX_YEARS  # who accessed which claim: HIPAA audit trail
# Stage-wide throttling (requests per second, burst). A billing office's staff make a few requests a
# second; the api function's reserved concurrency (20) is the hard cap behind this.
THROTTLE_RATE_LIMIT = 50
THROTTLE_BURST_LIMIT = 100

# One line per request: who (the Cognito subject and user name) called which path (the real path,
# claim id included: `$context.path`, not the route template) and what came back. No query string,
# no bodies (PHI).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "user": "$context.authorizer.claims.sub",
    "userName": "$context.authorizer.claims['cognito:username']",
    "authorizerError": "$context.authorizer.error",
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Functions,
        state_machine: sfn.IStateMachine,
        queues: Mapping[str, sqs.IQueue],
        authorizer: apigw.IAuthorizer,
        console_origin: str | None = None,
    ) -> None:
        """`queues`: QueueSpec.name -> queue; the api sends to the posting and remittance queues.
        `authorizer`: the staff user pool's (infra/constructs/staff_identity.py), on every method.
        `console_origin`: the staff console's (CloudFront) origin, the only one CORS allows."""
        super().__init__(scope, construct_id)
        self.function = functions.create("api", state_machine=state_machine, queues=queues)
        cors = None
        if console_origin is not None:
            # The function adds Access-Control-Allow-Origin for this origin only (functions/api).
            self.function.add_environment("CONSOLE_ORIGIN", console_origin)
            cors = apigw.CorsOptions(
                allow_origins=[console_origin],
                allow_methods=["GET", "POST", "PUT"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=Duration.minutes(10),
            )

        self.access_log_group = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{config.PROJECT}-api",
            retention=ACCESS_LOG_RETENTION,
            encryption_key=functions.storage.keys.logs,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{config.PROJECT}-api",
            description="medbill staff API: claim status, timeline, work queues, A/R aging, staff actions",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                metrics_enabled=True,
                throttling_rate_limit=THROTTLE_RATE_LIMIT,
                throttling_burst_limit=THROTTLE_BURST_LIMIT,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request/response bodies carry PHI: never log them
                access_log_destination=apigw.LogGroupLogDestination(self.access_log_group),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
            default_method_options=apigw.MethodOptions(
                authorization_type=apigw.AuthorizationType.COGNITO, authorizer=authorizer
            ),
            # Preflight (OPTIONS, no token: browsers send none) answered by API Gateway itself.
            default_cors_preflight_options=cors,
        )
        if console_origin is not None:
            # API Gateway's own answers (401 without a token, 403, 429, 5xx) carry the origin too, so
            # the console reads them instead of seeing a network error.
            for name, kind in (
                ("Default4xx", apigw.ResponseType.DEFAULT_4_XX),
                ("Default5xx", apigw.ResponseType.DEFAULT_5_XX),
            ):
                self.rest_api.add_gateway_response(
                    name, type=kind, response_headers={"Access-Control-Allow-Origin": f"'{console_origin}'"}
                )
        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        integration = apigw.LambdaIntegration(self.function, proxy=True)

        def method(resource: apigw.IResource, http_method: str, *path_params: str) -> None:
            resource.add_method(
                http_method,
                integration,
                request_validator=validator,
                request_parameters={f"method.request.path.{p}": True for p in path_params} or None,
            )

        claims = self.rest_api.root.add_resource("claims")
        method(claims, "GET")
        claim = claims.add_resource("{claim_id}")
        method(claim, "GET", "claim_id")
        # Paths below an explicit resource are declared too, not left to the root proxy: REST API
        # routing matches the most specific resource and need not fall back to /{proxy+}.
        method(claim.add_resource("ledger"), "GET", "claim_id")
        method(claim.add_resource("recheck"), "POST", "claim_id")

        # ERAs: list, one ERA (balance check, quarantine problems), release of a quarantined ERA.
        eras = self.rest_api.root.add_resource("eras")
        method(eras, "GET")
        era = eras.add_resource("{era_id}")
        method(era, "GET", "era_id")
        method(era.add_resource("release"), "POST", "era_id")

        # Unmatched remittance (a payment with no claim yet): the work queue, and matching by a person.
        unmatched = self.rest_api.root.add_resource("worklists").add_resource("unmatched-remittance")
        method(unmatched, "GET")
        method(unmatched.add_resource("{remittance_id}").add_resource("match"), "POST", "remittance_id")

        # Everything else (timeline, work queues, A/R aging, staff actions) is routed by the function.
        proxy = self.rest_api.root.add_resource("{proxy+}")
        method(proxy, "ANY", "proxy")

        acknowledge(
            self.rest_api,
            "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
            "The rule requires the stage cache to be encrypted when caching is on; this stage has no cache "
            "cluster (claim status must never be served stale), so no response is ever stored to encrypt.",
        )
        acknowledge(
            self.rest_api,
            "HIPAA.Security-APIGWSSLEnabled",
            "Client certificates authenticate API Gateway to HTTP backends; the only backend is a Lambda "
            "proxy integration, which API Gateway calls through the AWS API with SigV4 over TLS.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "This is API Gateway's account-level CloudWatch Logs role, assumed by apigateway.amazonaws.com "
            "only; the AWS-managed service-role policy is what API Gateway documents for it, and the rule "
            "targets policies granted to workload principals.",
        )
