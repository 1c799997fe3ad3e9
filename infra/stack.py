"""The medbill stack: one stack, constructs split by concern, every name from `infra.config`."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import config
from infra.constructs.api import STAGE_NAME, Api
from infra.constructs.console_hosting import ConsoleHosting
from infra.constructs.functions import Functions
from infra.constructs.intake import Intake
from infra.constructs.monitoring import MonitoredResources, Monitoring
from infra.constructs.network import Network
from infra.constructs.schedules import Schedules
from infra.constructs.secrets import Secrets
from infra.constructs.staff_identity import StaffIdentity
from infra.constructs.storage import Storage
from infra.constructs.waf import ApiFirewall
from infra.constructs.workflow import Workflow

STACK_NAME = "Medbill"


class MedbillStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str = STACK_NAME,
        *,
        timeouts: config.WorkflowTimeouts | None = None,
        options: config.DeployOptions | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        options = options or config.DeployOptions()
        self.options = options
        self.storage = Storage(self, "Storage")
        self.network = (
            Network(self, "Network", logs_key=self.storage.keys.logs, clearinghouse_egress=options.clearinghouse_egress)
            if options.vpc
            else None
        )
        self.secrets = Secrets(self, "Secrets", key=self.storage.key)
        self.functions = Functions(self, "Functions", storage=self.storage, secrets=self.secrets, network=self.network)
        # Order matters: the state machine needs the stage functions' ARNs; intake starts executions
        # (STATE_MACHINE_ARN) and the api resumes them by task token (IAM on the state machine). The
        # queues (Intake) exist before the api, which sends to the posting and remittance queues.
        self.workflow = Workflow(self, "Workflow", functions=self.functions, timeouts=timeouts)
        state_machine = self.workflow.state_machine
        self.intake = Intake(self, "Intake", functions=self.functions, state_machine=state_machine)
        self.schedules = Schedules(self, "Schedules", functions=self.functions, state_machine=state_machine)
        self.staff = StaffIdentity(self, "StaffIdentity")
        self.console = ConsoleHosting(self, "Console", access_log_bucket=self.storage.access_log_bucket)
        self.api = Api(
            self,
            "Api",
            functions=self.functions,
            state_machine=state_machine,
            queues=self.intake.queues,
            authorizer=self.staff.authorizer,
            console_origin=self.console.origin,
        )
        # The console signs in against the pool, calls the API and uploads encounter files straight
        # to the data bucket (presigned POST): config.json, CSP and the bucket's CORS name them.
        api_origin = f"https://{self.api.rest_api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}"
        self.console.configure(
            user_pool_id=self.staff.user_pool.user_pool_id,
            client_id=self.staff.client.user_pool_client_id,
            api_url=f"{api_origin}/{STAGE_NAME}",
        )
        data_bucket = self.storage.data_bucket
        # S3 by wildcard: naming the bucket in the CSP would be a cycle (the bucket's CORS names the
        # distribution, whose headers policy would name the bucket). The bucket's CORS is exact.
        self.console.connect_to(
            api_origin, f"https://*.s3.{self.url_suffix}", f"https://*.s3.{self.region}.{self.url_suffix}"
        )
        for rule in config.CONSOLE_UPLOAD_CORS:
            data_bucket.add_cors_rule(
                allowed_origins=[self.console.origin],
                allowed_methods=[s3.HttpMethods(m) for m in rule["AllowedMethods"]],
                allowed_headers=rule["AllowedHeaders"],
                exposed_headers=rule["ExposeHeaders"],
                max_age=rule["MaxAgeSeconds"],
            )
        self.firewall = ApiFirewall(
            self, "Firewall", stage=self.api.rest_api.deployment_stage, logs_key=self.storage.keys.logs
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            key=self.storage.keys.logs,
            alarm_email=options.alarm_email,
            resources=MonitoredResources(
                state_machine=state_machine,
                state_machine_log_group=self.workflow.log_group,
                functions=self.functions.functions,
                queues=self.intake.queues,
                dlqs={**self.intake.dlqs, config.SCHEDULED_DLQ.removesuffix("-dlq"): self.schedules.dlq},
                rest_api=self.api.rest_api,
            ),
        )
