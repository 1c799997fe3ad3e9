"""LocalRuntime end to end with fakes: ASL -> 837P in the outbox -> payer simulator -> 835 -> resume."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3

from infra import config
from infra.config import ClearinghouseSettings
from infra.local.runtime import LocalRuntime, Progress
from medbill.x12.claim837 import ControlNumbers, write_837p
from medbill.x12.remittance835 import parse_835
from testkit.x12_oracle import make_claim
from tests.integration.local.fakes import FAST, FakeWorkflow

SCENARIOS = {
    # claim id -> (payer, lines): see infra/local/payer_rules.json
    "CLM-RT-PAID": ("PAYERB02", (("99213", (), "1", "120.00", (1,)),)),
    "CLM-RT-SHORT": ("PAYERA01", (("99214", (), "1", "180.00", (1,)),)),
    "CLM-RT-DENIED": ("PAYERC03", (("97110", (), "1", "60.00", (1,)),)),
}


class Lifecycle(FakeWorkflow):
    """Fakes whose submission writes a real 837P and whose remittance reads the real 835."""

    def __init__(self) -> None:
        super().__init__()
        self.icn = 0
        self.remittance_outcomes: dict[str, str] = {}

    def submission(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record("submission", event)
        claim_id = event["claim_id"]
        payer, lines = SCENARIOS[claim_id]
        self.icn += 1
        text = write_837p(
            [make_claim(claim_id, payer_id=payer, lines=lines)],
            settings=ClearinghouseSettings(),
            control_numbers=ControlNumbers(self.icn, self.icn),
            created=datetime(2025, 3, 15, 10, 0),
        )
        boto3.client("s3").put_object(
            Bucket=config.DATA_BUCKET, Key=f"{config.OUTBOX_837_PREFIX}{claim_id}.x12", Body=text.encode()
        )
        return {"interchange_control_number": f"{self.icn:09d}"}

    def remittance(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        s3, sfn = boto3.client("s3"), boto3.client("stepfunctions")
        failures = []
        for record in event["Records"]:
            body = json.loads(record["body"])
            if body.get("Event") == "s3:TestEvent":
                continue
            key = unquote_plus(body["Records"][0]["s3"]["object"]["key"])
            era = s3.get_object(Bucket=config.DATA_BUCKET, Key=key)["Body"].read().decode()
            for payment in parse_835(era):
                for claim in payment.claims:
                    token = self.tokens.get((claim.claim_id, "remittance"))
                    if token is None:  # not parked yet: fail this record, SQS brings it back
                        failures.append({"itemIdentifier": record["messageId"]})
                        break
                    pr = sum((a.amount for a in claim.all_adjustments if a.group == "PR"), 0)
                    outcome = "denied" if claim.status_code == "4" else ("short_paid" if pr else "paid")
                    self.remittance_outcomes[claim.claim_id] = outcome
                    sfn.send_task_success(taskToken=token, output=json.dumps({"outcome": outcome}))
        return {"batchItemFailures": failures}

    def handlers(self) -> dict[str, Any]:
        return {**super().handlers(), "submission": self.submission, "remittance": self.remittance}


def test_full_lifecycle_with_the_payer_simulator_runs_until_idle() -> None:
    wf = Lifecycle()
    seen: list[Progress] = []
    with LocalRuntime(wf.handlers(), timeouts=FAST, visibility_timeout_seconds=1) as rt:
        for claim_id in SCENARIOS:
            rt.start_execution(claim_id)
        final = rt.run_until_idle(timeout_s=40, on_progress=seen.append)
        assert final.executions == {"SUCCEEDED": 3}
        assert final.busy == 0 and final.waiting == 0
        assert any(p.payer_files for p in seen)
        assert wf.remittance_outcomes == {
            "CLM-RT-PAID": "paid",
            "CLM-RT-SHORT": "short_paid",
            "CLM-RT-DENIED": "denied",
        }
        assert rt.states_entered("CLM-RT-PAID")[-1] == "Close"
        for claim_id in ("CLM-RT-SHORT", "CLM-RT-DENIED"):
            assert rt.states_entered(claim_id)[-3:] == ["FollowUp", "FollowUpRoute", "InFollowUp"]
        assert len(rt.list_keys(config.ACK_999_PREFIX)) == 3
        assert len(rt.list_keys(config.ERA_PREFIX)) >= 3  # one per payer per pass
        assert rt.poller.dlq_depths() == {q.dlq_name: 0 for q in config.LOCAL_QUEUES}
        assert rt.failures == [] and rt.thread_errors == []


def test_idle_means_parked_on_a_token_and_stop_ends_running_executions() -> None:
    wf = FakeWorkflow()
    wf.eligibility["CLM-RT-HOLD"] = ["hold"]
    with LocalRuntime(wf.handlers(), timeouts=FAST, simulator=False) as rt:
        rt.start_execution("CLM-RT-HOLD")
        final = rt.run_until_idle(timeout_s=20)
        assert (final.executions, final.waiting, final.busy) == ({"RUNNING": 1}, 1, 0)
        assert rt.wait_for_task_token_state("CLM-RT-HOLD") == "EligibilityHold"
        # what leaving the runtime does, so no execution thread outlives the mock
        assert rt.stop_running_executions() == 1
        assert rt.describe_execution("CLM-RT-HOLD")["status"] == "ABORTED"


class _CountingExchange:
    def __init__(self, seconds: float) -> None:
        self.rounds = 0
        self.seconds = seconds

    def run_once(self) -> int:
        self.rounds += 1
        time.sleep(self.seconds)
        return 0


class _NoQueues:
    def poll_once(self) -> int:
        return 0


def _paced(pacing: float, exchange: _CountingExchange) -> LocalRuntime:
    rt = LocalRuntime(handlers={}, simulator=False, core_endpoint=False, exchange_pacing=pacing)
    rt._poller = _NoQueues()  # type: ignore[assignment]  # the pump's queues, without moto
    rt.simulator = exchange
    return rt


def test_the_clearinghouse_round_runs_on_every_pump_unless_paced() -> None:
    unpaced = _CountingExchange(0.0)
    rt = _paced(0.0, unpaced)
    for _ in range(5):
        rt.pump()
    assert unpaced.rounds == 5

    # Paced at 2x a 0.6 s round: the next round waits 1.2 s, so five quick pumps run it once...
    paced = _CountingExchange(0.6)
    rt = _paced(2.0, paced)
    for _ in range(5):
        rt.pump()
    assert paced.rounds == 1
    # ...and a pump after the wait runs it again (the wait is measured from the round's own time,
    # which a loaded machine stretches: sleep until it is over rather than a fixed 1.3 s).
    time.sleep(max(0.0, rt._exchange_next - time.monotonic()) + 0.05)
    rt.pump()
    assert paced.rounds == 2
