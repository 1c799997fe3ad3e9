"""Every Lambda function of `config.FUNCTIONS`, built the same way.

Code layout: the whole `functions/` directory is one asset, so `/var/task` holds
`<name>/handler.py` for every stage and the handler string `<name>.handler.handler`
(`config.FunctionSpec.handler`) imports `functions/<name>/handler.py` as module `<name>.handler`
(each `functions/<name>/` is a package; an `__init__.py` there is optional but expected).
The domain library ships as our layer (`layers/medbill/python/medbill` -> `/opt/python/medbill`).

Runtime dependencies of the layer: boto3 comes with the Lambda runtime, pydantic with the
Powertools v3 layer. The pure-Python rest (`LAYER_VENDORED`, the same files serve arm64) are
copied into the layer at synth from the environment that runs it: no Docker, no network, and the
version deployed is the version the tests ran against. The patient statements' PDF stack
(`LAYER_PLATFORM_WHEELS`: fpdf2 and its dependencies; Pillow has native code) comes from the
wheels PyPI publishes for the Lambda platform (arm64, CPython 3.12), at the versions installed in
the environment, fetched once by `pip download` into a cache (`layer_wheel_cache()`) and unpacked
into the layer: still no Docker, and offline once the cache holds them (docs/decisions.md 32).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    ArnFormat,
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import config
from infra.constructs.iam import ManagedPolicyRole
from infra.constructs.nag import NO_VPC_REASON, SYNC_ONLY_REASON, acknowledge, arn_ref
from infra.constructs.network import Network
from infra.constructs.permissions import (
    ACCESS,
    IDEMPOTENCY_ACTIONS,
    KEY_ACTIONS,
    LIST_BUCKET,
    QUERY,
    SCAN,
    SECRET_ACTIONS,
    VPC_ACTIONS,
    Access,
)
from infra.constructs.secrets import Secrets
from infra.constructs.storage import Storage

__all__ = ["ACCESS", "ARCHITECTURE", "LOG_RETENTION", "RESERVED_CONCURRENCY", "RUNTIME", "Functions"]

# Official Powertools for AWS Lambda (Python) v3 layer, Python 3.12 / arm64. Bump in one place.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_VERSION = 27
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_YEAR  # logs carry ids and codes only, never PHI

# Reserved concurrency per function. Reserving guarantees each stage capacity (the HIPAA
# availability control) and caps the load one stage can put on DynamoDB and the clearinghouse.
# State machine tasks retry Lambda.TooManyRequestsException (claim.asl.json), so a burst is
# slowed down, not failed. SQS consumers also cap their event source mapping at the same value
# so SQS never delivers to a throttled function (which would count receives towards the DLQ).
# posting handles one claim payment per message (an 835 fans out to hundreds of them) and each
# resumes at most one execution, whose next tasks (followup) run at 25: 25 keeps posting from
# outrunning them and bounds concurrent transactions on the claims table.
# Total 240: the account needs a concurrency limit of at least 340 (Lambda keeps 100 unreserved;
# the default limit is 1000).
RESERVED_CONCURRENCY: dict[str, int] = {
    "intake": 5,
    "registration": 25,
    "eligibility": 25,
    "coding": 25,
    "charges": 25,
    "submission": 25,
    "await_token": 25,
    "remittance": 2,
    "posting": 25,
    "followup": 25,
    "api": 20,
    "acks": 5,  # a few 999 / 277CA files at a time, each touching its interchange's claims
    # Scheduled: one run at a time is the design (each run picks up what the last one left).
    "clearinghouse": 1,
    "eligibility_retry": 1,
    "timely_filing": 1,
    "statements": 1,
    "status_inquiry": 1,
    "eligibility_batch": 1,
    # 271s: a few files a night, each rewriting its answers' items; 2 lets one slow file not hold the rest.
    "eligibility_271": 2,
}


def powertools_layer_arn(region: str) -> str:
    return (
        f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-python312-arm64:{POWERTOOLS_LAYER_VERSION}"
    )


# Pure-Python runtime dependencies of the domain layer that no Lambda-provided layer carries
# (pydantic-settings reads each function's environment; python-dotenv is its one dependency that
# pydantic does not already bring).
LAYER_VENDORED = ("simple-icd-10-cm", "pydantic-settings", "python-dotenv", "hl7", "fhir.resources", "fhir-core")
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")

# Runtime dependencies with native code, or whose wheel differs per platform: fpdf2 (patient
# statements, decision 21) and what it requires. Taken as published wheels for the Lambda platform.
LAYER_PLATFORM_WHEELS = ("fpdf2", "pillow", "fonttools", "defusedxml")
# The python3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 and older tags run on it.
LAYER_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux2014_aarch64")
LAYER_PYTHON = "3.12"  # RUNTIME's version


def layer_wheel_cache() -> Path:
    """Where downloaded wheels are kept between synths (shared by worktrees): MEDBILL_LAYER_WHEELS, else
    ~/.cache/medbill/layer-wheels."""
    configured = os.environ.get("MEDBILL_LAYER_WHEELS")
    return Path(configured) if configured else Path.home() / ".cache" / "medbill" / "layer-wheels"


def _wheel_name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "_", distribution).lower()


def platform_wheels(cache: Path) -> list[Path]:
    """The Lambda-platform wheel of each LAYER_PLATFORM_WHEELS distribution at its installed version,
    downloaded into `cache` when it is not there yet."""
    pins = {name: importlib.metadata.version(name) for name in LAYER_PLATFORM_WHEELS}

    def cached(name: str) -> Path | None:
        return next(iter(sorted(cache.glob(f"{_wheel_name(name)}-{pins[name]}-*.whl"))), None)

    missing = [name for name in LAYER_PLATFORM_WHEELS if cached(name) is None]
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            *(f"--platform={platform}" for platform in LAYER_PLATFORMS),
            f"--python-version={LAYER_PYTHON}", "--implementation=cp", f"--abi=cp{LAYER_PYTHON.replace('.', '')}",
            f"--dest={cache}", *(f"{name}=={pins[name]}" for name in missing),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                "the medbill layer needs Lambda (arm64, CPython 3.12) wheels of "
                f"{', '.join(f'{n}=={pins[n]}' for n in missing)} and pip could not download them into "
                f"{cache} (no PyPI?): run `{' '.join(command)}` where PyPI is reachable, or point "
                f"MEDBILL_LAYER_WHEELS at a folder that holds them. pip said: {done.stderr.strip()[-400:]}"
            )
    wheels = [cached(name) for name in LAYER_PLATFORM_WHEELS]
    absent = [name for name, wheel in zip(LAYER_PLATFORM_WHEELS, wheels, strict=True) if wheel is None]
    if absent:
        raise RuntimeError(f"pip download left no wheel for {absent} in {cache}")
    return [w for w in wheels if w is not None]


@jsii.implements(ILocalBundling)
class LayerBundler:
    """Builds `python/` for the medbill layer: our package plus the vendored distributions."""

    def try_bundle(self, output_dir: str, *_options: Any, **_kw: Any) -> bool:  # jsii passes the options
        target = Path(output_dir) / "python"
        shutil.copytree(config.LAYER_PATH / "python" / "medbill", target / "medbill", ignore=_SKIP)
        for name in LAYER_VENDORED:
            dist = importlib.metadata.distribution(name)
            for file in dist.files or ():
                if "__pycache__" in file.parts or file.suffix == ".pyc":
                    continue
                destination = target / file
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(str(dist.locate_file(file))), destination)
        for wheel in platform_wheels(layer_wheel_cache()):
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(target)
        return True


def layer_code() -> lambda_.Code:
    # The image is never pulled: the local bundler always succeeds. The hash is of the output, so a
    # new code-set release changes the layer even when our sources did not.
    return lambda_.Code.from_asset(
        str(config.LAYER_PATH),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(image=DockerImage.from_registry("unused-local-bundling"), local=LayerBundler()),
    )


class Functions(Construct):
    """Factory and registry of the stack's Lambda functions (`create` one per `config.FUNCTIONS` key)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        secrets: Secrets,
        network: Network | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.storage = storage
        self.secrets = secrets
        self.network = network
        self.functions: dict[str, lambda_.Function] = {}
        self.code = lambda_.Code.from_asset(
            str(config.FUNCTIONS_PATH),
            exclude=["**/__pycache__", "**/*.pyc", ".gitkeep", "**/.mypy_cache", "**/.pytest_cache"],
        )
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", powertools_layer_arn(Stack.of(self).region)
        )
        self.medbill_layer = lambda_.LayerVersion(
            self,
            "MedbillLayer",
            code=layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="medbill domain library (python/medbill)",
            removal_policy=RemovalPolicy.RETAIN,
        )

    def create(
        self,
        name: str,
        *,
        state_machine: sfn.IStateMachine | None = None,
        queues: Mapping[str, sqs.IQueue] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> lambda_.Function:
        """The function `name`; `queues` (QueueSpec.name -> queue) must hold every queue it sends to;
        `dead_letter_queue`: where its failed asynchronous (scheduled) invocations go."""
        spec = config.FUNCTIONS[name]
        access = ACCESS[name]
        storage = self.storage
        needs_arn = name in config.STARTS_OR_READS_EXECUTIONS
        if needs_arn and state_machine is None:
            raise ValueError(f"{name} needs the state machine (STATE_MACHINE_ARN)")
        sends_to = {q.name: (queues or {}).get(q.name) for q in config.queues_sent_to(name)}
        missing = sorted(q for q, queue in sends_to.items() if queue is None)
        if missing:
            raise ValueError(f"{name} sends to {missing}: pass them in `queues`")
        targets = {q: queue for q, queue in sends_to.items() if queue is not None}
        environment = config.LambdaEnvironment(
            table_name=storage.claims_table.table_name,
            idempotency_table_name=storage.idempotency_table.table_name,
            data_bucket=storage.data_bucket.bucket_name,
            state_machine_arn=state_machine.state_machine_arn if state_machine is not None else "",
            queue_urls={q: queue.queue_url for q, queue in targets.items()},
            secret_ids={config.SECRET_VARIABLES[n]: self.secrets.arn(n) for n in access.secrets},
        ).as_env(spec)

        scope = Construct(self, name)
        log_group = logs.LogGroup(
            scope,
            "LogGroup",
            log_group_name=f"/aws/lambda/{spec.function_name}",
            retention=LOG_RETENTION,
            encryption_key=storage.keys.logs,
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = ManagedPolicyRole(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.function_name}: least privilege for the {name} stage",
            kms_via_services=access.kms_via_services,
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )
        fn = lambda_.Function(
            scope,
            "Function",
            function_name=spec.function_name,
            description=f"medbill {name} stage",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=self.code,
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            environment=environment,
            tracing=lambda_.Tracing.ACTIVE,
            layers=[self.powertools_layer, self.medbill_layer],
            log_group=log_group,
            role=role,
            reserved_concurrent_executions=RESERVED_CONCURRENCY[name],
            dead_letter_queue=dead_letter_queue,
            **self._vpc_props(name),
        )
        fn.node.add_dependency(role.policy, role.wildcard_policy)
        if self.network is not None:
            # Lambda creates and deletes the function's network interfaces with the function's role
            # (CDK adds this only to roles it creates). IAM has no resource types for these actions.
            role.add_to_principal_policy(iam.PolicyStatement(actions=list(VPC_ACTIONS), resources=["*"]))
        self._grant(role, access, state_machine)
        if targets:
            # SendMessageBatch authorizes as sqs:SendMessage; KMS (GenerateDataKey) is in KEY_ACTIONS.
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["sqs:SendMessage"],
                    resources=[targets[q].queue_arn for q in sorted(targets)],
                )
            )
        self._acknowledge(fn, role, access, asynchronous=dead_letter_queue is not None)
        self.functions[name] = fn
        return fn

    def _vpc_props(self, name: str) -> dict[str, Any]:
        if self.network is None:
            return {}
        return {
            "vpc": self.network.vpc,
            "vpc_subnets": self.network.subnets_for(name),
            "security_groups": self.network.security_groups_for(name),
        }

    def _grant(self, role: ManagedPolicyRole, access: Access, state_machine: sfn.IStateMachine | None) -> None:
        storage = self.storage
        claims_arn = storage.claims_table.table_arn
        if access.claims_actions:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(access.claims_actions),
                    resources=[claims_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(access.leading_keys)}},
                )
            )
        if access.index_queries:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[QUERY], resources=[f"{claims_arn}/index/{index}" for index in access.index_queries]
                )
            )
        if access.scan_claims:
            role.add_to_principal_policy(iam.PolicyStatement(actions=[SCAN], resources=[claims_arn]))
        if access.idempotency:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=list(IDEMPOTENCY_ACTIONS), resources=[storage.idempotency_table.table_arn])
            )
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(KEY_ACTIONS), resources=[storage.key.key_arn]))
        if access.secrets:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(SECRET_ACTIONS), resources=[self.secrets.arn(n) for n in access.secrets]
                )
            )
        bucket_arn = storage.data_bucket.bucket_arn
        if access.list_prefixes:
            # On the bucket, unconditioned: S3 answers a GetObject of a missing key with 404 only to a
            # caller that may list the bucket (a prefix condition does not count), and the exchange
            # ledger reads 404 as "not recorded yet". Listing shows key names (file and claim ids).
            role.add_to_principal_policy(iam.PolicyStatement(actions=[LIST_BUCKET], resources=[bucket_arn]))
        if access.read_prefixes:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject"], resources=[f"{bucket_arn}/{p}*" for p in access.read_prefixes]
                )
            )
        if access.read_version_prefixes:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObjectVersion"],
                    resources=[f"{bucket_arn}/{p}*" for p in access.read_version_prefixes],
                )
            )
        if access.write_prefixes:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["s3:PutObject"], resources=[f"{bucket_arn}/{p}*" for p in access.write_prefixes]
                )
            )
        if state_machine is not None and access.start_executions:
            state_machine.grant_start_execution(role)
        if state_machine is not None and access.read_executions:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=["states:ListExecutions"], resources=[state_machine.state_machine_arn])
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["states:DescribeExecution"],
                    resources=[
                        Stack.of(self).format_arn(
                            service="states",
                            resource="execution",
                            resource_name=f"{config.STATE_MACHINE_NAME}:*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                )
            )
        if access.task_response:
            # Functions inside the state machine cannot reference it (dependency cycle), so the
            # grant names the machine's ARN, built from its fixed name.
            machine_arn = Stack.of(self).format_arn(
                service="states",
                resource="stateMachine",
                resource_name=config.STATE_MACHINE_NAME,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
                    resources=[machine_arn],
                )
            )

    def _acknowledge(
        self, fn: lambda_.Function, role: ManagedPolicyRole, access: Access, *, asynchronous: bool
    ) -> None:
        acknowledge(
            fn,
            "AwsSolutions-L1",
            "Python 3.12 is pinned on purpose: the official Powertools v3 layer and our layer are built "
            "for python312-arm64; the runtime moves with the layer (see POWERTOOLS_LAYER_VERSION).",
        )
        if self.network is None:
            acknowledge(fn, "HIPAA.Security-LambdaInsideVPC", NO_VPC_REASON)
        if not asynchronous:  # scheduled functions have their dead-letter queue
            acknowledge(fn, "HIPAA.Security-LambdaDLQ", SYNC_ONLY_REASON)
        if access.read_executions:
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                f"execution:{config.STATE_MACHINE_NAME}:*]",
                "DescribeExecution on the claim state machine's executions only: execution names are per "
                "claim and attempt (workflow.recovery), so the grant needs a wildcard after the machine name.",
            )
        bucket = arn_ref(self.storage.data_bucket.node.default_child)  # type: ignore[arg-type]
        for prefix in (*access.read_prefixes, *access.write_prefixes):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{bucket}/{prefix}*]",
                f"Objects under the {prefix} prefix of the data bucket only: object keys are per file, so "
                "the grant needs a wildcard inside the prefix; it does not reach other prefixes.",
            )
