"""The claim state machine: `infra/statemachine/claim.asl.json` with `config.asl_substitutions`."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import config
from infra.constructs.functions import LOG_RETENTION, Functions
from infra.constructs.iam import ManagedPolicyRole

# The functions the state machine invokes (every placeholder of the ASL file that names a function).
TASK_FUNCTIONS = tuple(dict.fromkeys(config.ASL_FUNCTION_SUBSTITUTIONS.values()))


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Functions,
        timeouts: config.WorkflowTimeouts | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeouts = timeouts or config.WorkflowTimeouts.production()
        self.task_functions: dict[str, lambda_.Function] = {name: functions.create(name) for name in TASK_FUNCTIONS}

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"/aws/vendedlogs/states/{config.STATE_MACHINE_NAME}",
            retention=LOG_RETENTION,
            encryption_key=functions.storage.keys.logs,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"{config.STATE_MACHINE_NAME}: invoke the stage functions",
            kms_via_services=("states",),
        )
        # Unqualified ARNs only: the ASL invokes $LATEST, so no `:*` version wildcard is needed.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[fn.function_arn for fn in self.task_functions.values()],
            )
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=config.STATE_MACHINE_NAME,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(config.ASL_PATH)),
            definition_substitutions=config.asl_substitutions(
                {name: fn.function_arn for name, fn in self.task_functions.items()}, timeouts
            ),
            role=self.role,
            tracing_enabled=True,
            # State and history (ids, decisions, codes) are encrypted with the data key. Callers of
            # StartExecution / SendTask* need kms:GenerateDataKey/Decrypt on it through states.
            encryption_configuration=sfn.CustomerManagedEncryptionConfiguration(
                functions.storage.key, Duration.minutes(5)
            ),
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=False,  # executions carry ids only, but never log payloads
            ),
        )
        self.state_machine.node.add_dependency(self.role.policy)
        self._condition_log_delivery(functions.storage.key)

    def _condition_log_delivery(self, key: kms.Key) -> None:
        """CDK lets `delivery.logs.amazonaws.com` decrypt with the state machine's key (vended logs of an
        encrypted state machine) with no condition; scope it to this account's log deliveries."""
        stack = Stack.of(self)
        cfn_key = key.node.default_child
        assert isinstance(cfn_key, kms.CfnKey)
        document = stack.resolve(cfn_key.key_policy)
        for index, statement in enumerate(document["Statement"]):
            if statement.get("Principal") == {"Service": "delivery.logs.amazonaws.com"} and not statement.get(
                "Condition"
            ):
                cfn_key.add_property_override(
                    f"KeyPolicy.Statement.{index}.Condition",
                    {
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"},
                    },
                )
