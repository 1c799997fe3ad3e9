"""Staff REST API: API Gateway (IAM auth, SigV4-signed requests) -> the `api` function (proxy)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy
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


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Functions,
        state_machine: sfn.IStateMachine,
        queues: Mapping[str, sqs.IQueue],
    ) -> None:
        """`queues`: QueueSpec.name -> queue; the api sends to the posting and remittance queues."""
        super().__init__(scope, construct_id)
        self.function = functions.create("api", state_machine=state_machine, queues=queues)

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
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
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
            "AwsSolutions-COG4",
            "The rule asks for a Cognito user pool authorizer as the API's authentication; every method here "
            "is authenticated by AWS_IAM instead (SigV4-signed requests from staff IAM roles federated from "
            "the office identity provider, APIG4 met), so there is no unauthenticated method for it to cover.",
        )
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
