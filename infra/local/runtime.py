"""`LocalRuntime`: the whole medbill system on one machine, on moto.

In-process (tests, the demo)::

    with LocalRuntime() as rt:                      # mock_aws + provision + bridge + poller + simulator
        rt.upload("encounters/clinic-a.json", body)
        rt.run_until_idle(timeout_s=60, on_progress=print)
        rt.list_executions(); rt.execution_history("CLM0001")

Against a running moto server (infra/local/server.py): `LocalRuntime(endpoint_url=...)` skips
`mock_aws` and provisions against the endpoint; `start_background()` runs the poller and the
simulator in threads.

moto runs each Step Functions execution in its own daemon thread; Lambda tasks call back into
the bridge from those threads. Handler exceptions are logged by the bridge (type and location)
and kept in `rt.failures`; any other uncaught thread exception is logged through
`threading.excepthook` and kept in `rt.thread_errors`. On exit, executions still running are
stopped so their threads do not outlive the mock.

This module drives the system (lifecycle, files, pumping, waiting); reading executions lives in
`infra/local/executions.py` and thread supervision in `infra/local/supervision.py`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.core.config import DefaultConfig

from infra import config
from infra.local.executions import Executions
from infra.local.lambda_bridge import Handler, HandlerFailure, LambdaBridge, project_bridge
from infra.local.moto_memory import stop_instance_tracking
from infra.local.moto_query import partition_queries
from infra.local.moto_sfn_parser import per_parse_scopes
from infra.local.moto_transactions import fast_transactions
from infra.local.provision import (
    LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    REGION,
    LocalResources,
    client,
    ensure_aws_environment,
    provision,
)
from infra.local.sqs_poller import SqsPoller
from infra.local.supervision import LOG, BackgroundPump, ThreadErrors
from infra.local.user_data import UserData

__all__ = ["LOG", "MOTO_CONFIG", "Executions", "LocalRuntime", "Progress", "PumpResult"]

MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


@dataclass(frozen=True)
class Progress:
    """What `run_until_idle` reports after each pump."""

    elapsed_s: float
    messages: int  # SQS messages handed to consumers in this pump
    payer_files: int  # 837 files the payer simulator answered in this pump
    executions: dict[str, int]  # status -> count
    waiting: int  # running executions parked on a task token (payer or staff)
    busy: int  # running executions doing work
    dlq: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PumpResult:
    messages: int
    payer_files: int

    @property
    def total(self) -> int:
        return self.messages + self.payer_files


def _core_secret_name() -> str:
    from infra.local.core_endpoint import SECRET_NAME

    return SECRET_NAME


class LocalRuntime:
    """The in-process local runtime. See the module docstring."""

    def __init__(
        self,
        handlers: Mapping[str, Handler] | None = None,
        *,
        timeouts: config.WorkflowTimeouts | None = None,
        visibility_timeout_seconds: int = LOCAL_VISIBILITY_TIMEOUT_SECONDS,
        simulator: bool = True,
        core_endpoint: bool = True,
        payer_rules: Path | None = None,
        payer: bool = True,
        user_data: UserData | None = None,
        extra_env: Mapping[str, str] | None = None,
        status_inquiry_every_s: float | None = None,
        exchange_pacing: float = 0.0,
        endpoint_url: str | None = None,
        region: str = REGION,
    ) -> None:
        """`handlers`: function name or FUNCTIONS key -> handler. None = the project's
        functions/<name>/handler.py (loaded lazily); a mapping = exactly those handlers (tests).
        `simulator`: the SFTP clearinghouse on 127.0.0.1; `payer=False` runs it with nobody behind
        it (a person drops the answers). `exchange_pacing`: 0 runs the clearinghouse round on every
        pump; k > 0 waits k times the last round's duration (at least 1 s) before the next, as the
        scheduled exchange does in AWS, so a round that lists thousands of files cannot starve the
        handlers (bench/bench_pipeline.py). `user_data`: a person's fee schedules, payers and members
        added to the packaged ones (infra/local/user_data.py).
        """
        self.timeouts = timeouts or config.WorkflowTimeouts.local()
        self._visibility = visibility_timeout_seconds
        self._use_simulator = simulator
        self._payer = payer
        self.user_data = user_data
        # The status_inquiry schedule (EventBridge in AWS), run by the pump through the bridge (one
        # handler at a time, like the queue consumers); None: only when asked (`ask_claim_status`).
        self._inquiry_every = status_inquiry_every_s
        self._inquiry_last = time.monotonic()
        self._exchange_pacing = exchange_pacing
        self._exchange_next = 0.0  # monotonic time of the next paced clearinghouse round
        self._payer_rules = payer_rules or (user_data.rules_path if user_data else None)
        self._extra_env = dict(extra_env or {})
        if user_data is not None:
            self._extra_env.setdefault("FEE_SCHEDULE_DIR", str(user_data.fee_schedule_dir))
        self.core_endpoint: Any = None  # the simulator's CAQH CORE eligibility endpoint (issue 9)
        self._use_core_endpoint = core_endpoint
        if core_endpoint:
            self._extra_env.setdefault("ELIGIBILITY_SECRET_ID", _core_secret_name())
        self.endpoint_url = endpoint_url
        self.region = region
        self.bridge: LambdaBridge = LambdaBridge(dict(handlers)) if handlers is not None else project_bridge()
        self._thread_errors = ThreadErrors()
        self._mock: Any = None
        self._resources: LocalResources | None = None
        self._poller: SqsPoller | None = None
        self.simulator: Any = None  # LocalClearinghouse (SFTP server + payer simulator), when enabled
        self._clients: dict[str, Any] = {}
        self._background = BackgroundPump(lambda: self.pump().total, on_error=self._thread_errors.record)
        self._executions: Executions | None = None

    # --- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> LocalRuntime:
        ensure_aws_environment(self.region)
        self._thread_errors.install()
        # moto would otherwise keep every DynamoDB item it ever built (a long run grows without bound),
        # copy a whole table for each transaction and sort it for each query (a long run slows down
        # quadratically), and its Step Functions parser shares one scope stack between threads
        # (executions starting together).
        stop_instance_tracking()
        fast_transactions()
        partition_queries()
        per_parse_scopes()
        try:
            if self.endpoint_url is None:
                from moto import mock_aws

                self._mock = mock_aws(config=MOTO_CONFIG)
                self._mock.start()
            self.bridge.install()
            self._resources = provision(
                endpoint_url=self.endpoint_url,
                region=self.region,
                timeouts=self.timeouts,
                visibility_timeout_seconds=self._visibility,
                extra_env=self._extra_env,
            )
            self._poller = SqsPoller(self._resources, self.bridge, on_error=self._thread_errors.record)
            self._executions = Executions(
                lambda: self.sfn,
                self._resources.state_machine_arn,
                self._resources.region,
                self._resources.account_id,
            )
            if self._use_core_endpoint:  # eligibility: real-time 270/271 over CORE
                from infra.local.core_endpoint import start_for_runtime

                members = self.user_data.members_path if self.user_data else None
                self.core_endpoint = start_for_runtime(self.client("secretsmanager"), members)
            if self._use_simulator:  # the payer simulator behind a real SFTP server on 127.0.0.1
                from infra.local.clearinghouse_bridge import LocalClearinghouse

                self.simulator = LocalClearinghouse(
                    self.client("s3"),
                    self._resources.bucket,
                    secretsmanager=self.client("secretsmanager"),
                    rules_path=self._payer_rules,
                    payer=self._payer,
                )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.stop_background()
        if self.simulator is not None:
            self.simulator.close()  # the SFTP server
            self.simulator = None
        if self.core_endpoint is not None:
            self.core_endpoint.stop()
            self.core_endpoint = None
        if self._poller is not None:
            self._poller.stop()
        if self._resources is not None:
            with contextlib.suppress(Exception):
                self.stop_running_executions()
        self.bridge.uninstall()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._thread_errors.restore()
        self._clients.clear()
        # provision exported the handlers' environment into this process; the user's merged fee
        # schedules live only as long as this runtime, so do not leave their folder named there.
        if self.user_data is not None and os.environ.get("FEE_SCHEDULE_DIR") == str(self.user_data.fee_schedule_dir):
            del os.environ["FEE_SCHEDULE_DIR"]

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- access ---------------------------------------------------------------------------------------
    @property
    def resources(self) -> LocalResources:
        if self._resources is None:
            raise RuntimeError("LocalRuntime is not started")
        return self._resources

    @property
    def poller(self) -> SqsPoller:
        if self._poller is None:
            raise RuntimeError("LocalRuntime is not started")
        return self._poller

    @property
    def executions(self) -> Executions:
        if self._executions is None:
            raise RuntimeError("LocalRuntime is not started")
        return self._executions

    @property
    def thread_errors(self) -> list[tuple[str, BaseException]]:
        """Uncaught exceptions of other threads (and of the poller and background pump) so far."""
        return self._thread_errors.errors

    @property
    def failures(self) -> list[HandlerFailure]:
        """Every handler exception so far (function, request id, error type, the exception)."""
        return list(self.bridge.failures)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(service, self.endpoint_url, self.region)
        return self._clients[service]

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def sqs(self) -> Any:
        return self.client("sqs")

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def sfn(self) -> Any:
        return self.client("stepfunctions")

    @property
    def lambda_client(self) -> Any:
        return self.client("lambda")

    def register(self, name: str, handler: Handler) -> None:
        self.bridge.register(name, handler)

    def invoke(self, function: str, event: Any) -> Any:
        """Call one handler directly (no moto): the decoded result; exceptions propagate."""
        return self.bridge.call(function, event)

    # --- files ----------------------------------------------------------------------------------------
    def upload(self, key: str, body: bytes | str) -> None:
        """Put an object in the data bucket (S3 notifies the queue of its prefix)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.s3.put_object(Bucket=self.resources.bucket, Key=key, Body=data)

    def upload_file(self, path: Path | str, key: str | None = None) -> str:
        path = Path(path)
        key = key or config.ENCOUNTERS_PREFIX + path.name
        self.upload(key, path.read_bytes())
        return key

    def read(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.resources.bucket, Key=key)["Body"].read())

    def list_keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.resources.bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(keys)

    # --- driving --------------------------------------------------------------------------------------
    def ask_claim_status(self, now: datetime | None = None) -> Any:
        """One run of the status_inquiry schedule (276s for quiet claims into outbox/276/), in this
        thread: call it while nothing else runs (idle, no background pump). `now`: a later clock, so
        the demo and tests need not wait the payers' hours. Returns the `InquiryRun`."""
        from medbill.entry import wiring
        from medbill.models.common import utcnow
        from medbill.workflow.claim_status import send_status_inquiries

        return send_status_inquiries(
            wiring.repository(), wiring.artifacts(), wiring.status_inquiry_writer(), now or utcnow()
        )

    def pump(self) -> PumpResult:
        """Poll every queue once and run the payer simulator once."""
        messages = self.poller.poll_once()
        if self._inquiry_every is not None and time.monotonic() - self._inquiry_last >= self._inquiry_every:
            self._inquiry_last = time.monotonic()
            self.bridge.call(config.STATUS_INQUIRY_FUNCTION.function_name, {})
        files = 0
        if self.simulator is not None and time.monotonic() >= self._exchange_next:
            started = time.monotonic()
            files = self.simulator.run_once()
            if self._exchange_pacing > 0:
                took = time.monotonic() - started
                self._exchange_next = time.monotonic() + max(1.0, self._exchange_pacing * took)
        return PumpResult(messages, files)

    def queue_depths(self) -> dict[str, int]:
        """Messages visible or in flight per queue (not counting DLQs)."""
        depths = {}
        for queue in self.resources.queues.values():
            attrs = self.sqs.get_queue_attributes(
                QueueUrl=queue.url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[queue.spec.name] = int(attrs["ApproximateNumberOfMessages"]) + int(
                attrs["ApproximateNumberOfMessagesNotVisible"]
            )
        return depths

    def progress(self, started: float, pumped: PumpResult | None = None) -> Progress:
        activity = self.executions.activity()
        return Progress(
            elapsed_s=round(time.monotonic() - started, 2),
            messages=pumped.messages if pumped else 0,
            payer_files=pumped.payer_files if pumped else 0,
            executions=activity.statuses,
            waiting=activity.waiting,
            busy=activity.busy,
            dlq=self.poller.dlq_depths(),
        )

    def is_idle(self) -> bool:
        """No queued or in-flight messages, no running handler, no execution doing work."""
        if self.bridge.in_flight or any(self.queue_depths().values()):
            return False
        if self.simulator is not None and self.simulator.pending():
            return False
        return self.executions.activity().busy == 0

    def run_until_idle(
        self,
        timeout_s: float = 60.0,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        interval_s: float = 0.1,
    ) -> Progress:
        """Pump until nothing is left to do except wait for people or payers (token waits).

        Idle must hold on two checks in a row, so work started by a handler in between counts.
        Raises TimeoutError after `timeout_s`.
        """
        started = time.monotonic()
        deadline = started + timeout_s
        quiet = 0
        while True:
            pumped = self.pump()
            if on_progress is not None:
                on_progress(self.progress(started, pumped))
            if pumped.total == 0 and self.is_idle():
                quiet += 1
                if quiet >= 2:
                    return self.progress(started)
            else:
                quiet = 0
            if time.monotonic() > deadline:
                raise TimeoutError(f"local runtime not idle after {timeout_s}s: {self.progress(started)}")
            time.sleep(interval_s)

    def run_until(self, predicate: Callable[[], bool], timeout_s: float = 60.0, *, interval_s: float = 0.1) -> None:
        """Pump until `predicate()` is true; TimeoutError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.pump()
            if predicate():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout_s}s")
            time.sleep(interval_s)

    # --- background mode (server.py) ------------------------------------------------------------------
    def start_background(self, interval_s: float = 0.5) -> None:
        self._background.start(interval_s)

    def stop_background(self) -> None:
        self._background.stop()

    # --- executions -----------------------------------------------------------------------------------
    def execution_arn(self, claim_id: str) -> str:
        return self.executions.arn(claim_id)

    def start_execution(self, claim_id: str, execution_input: Mapping[str, Any] | None = None) -> str:
        return self.executions.start(claim_id, execution_input)

    def list_executions(self, status: str | None = None) -> list[dict[str, Any]]:
        return self.executions.list_all(status)

    def describe_execution(self, claim_id: str) -> dict[str, Any]:
        return self.executions.describe(claim_id)

    def execution_history(self, claim_id: str) -> list[dict[str, Any]]:
        return self.executions.history(claim_id)

    def states_entered(self, claim_id: str) -> list[str]:
        """The state names an execution entered, in order (handy in tests and the demo)."""
        return self.executions.states_entered(claim_id)

    def stop_running_executions(self) -> int:
        """StopExecution for every running execution (see `Executions.stop_running`)."""
        return self.executions.stop_running()

    def wait_for_execution(self, claim_id: str, timeout_s: float = 30.0, *, pump: bool = True) -> dict[str, Any]:
        """Wait (pumping) until the claim's execution is no longer RUNNING; its description."""
        result: dict[str, Any] = {}

        def done() -> bool:
            nonlocal result
            result = self.describe_execution(claim_id)
            return result["status"] != "RUNNING"

        if pump:
            self.run_until(done, timeout_s)
        else:
            deadline = time.monotonic() + timeout_s
            while not done():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"execution {claim_id} still running after {timeout_s}s")
                time.sleep(0.05)
        return result

    def wait_for_task_token_state(self, claim_id: str, timeout_s: float = 30.0) -> str:
        """Wait until the execution is parked on a task token; the state it waits in."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            events = self.execution_history(claim_id)
            if events and events[-1]["type"] == "TaskSubmitted":
                entered = [e for e in events if "stateEnteredEventDetails" in e]
                return str(entered[-1]["stateEnteredEventDetails"]["name"])
            if self.describe_execution(claim_id)["status"] != "RUNNING":
                raise RuntimeError(f"execution {claim_id} ended without waiting for a token")
            self.pump()
            time.sleep(0.05)
        raise TimeoutError(f"execution {claim_id} not waiting for a token after {timeout_s}s")
