"""Waits that run out, with the real handlers: no 835 in time, and holds nobody cleared."""

from __future__ import annotations

import time

from infra import config
from infra.local.runtime import LocalRuntime
from medbill.entry import wiring
from medbill.models.status import ClaimStatus as S
from tests.e2e.conftest import SAMPLES

# Seconds instead of days (the production values are in config.WorkflowTimeouts).
SHORT = config.WorkflowTimeouts(remittance_wait_seconds=3, staff_hold_seconds=3, retry_interval_seconds=1)


def test_claims_with_no_remittance_or_an_uncleared_hold_end_in_follow_up_with_the_reason() -> None:
    with LocalRuntime(simulator=False, timeouts=SHORT) as rt:
        wiring.reset()
        rt.upload("encounters/northside.json", (SAMPLES / "northside-2026-11-20.json").read_bytes())
        rt.run_until_idle(timeout_s=90)
        deadline = time.monotonic() + 60
        while any(e["status"] == "RUNNING" for e in rt.list_executions()):
            assert time.monotonic() < deadline, "executions still running after their waits ran out"
            time.sleep(0.5)
        claims = wiring.repository().list_claims(limit=100).items
        executions = {e["name"]: e["status"] for e in rt.list_executions()}
        assert rt.failures == []
    wiring.reset()

    assert len(claims) == 9 and set(executions.values()) == {"SUCCEEDED"}
    assert {c.status for c in claims} == {S.FOLLOW_UP}
    held = [c for c in claims if c.hold_reasons]
    waited = [c for c in claims if not c.hold_reasons]
    # The sample holds one claim at eligibility (inactive coverage) and one at coding (E11).
    assert len(held) == 2 and {c.follow_up_action for c in held} == {"review_hold"}
    assert len(waited) == 7
    for claim in waited:
        assert claim.follow_up_action == "status_inquiry"
        assert claim.follow_up_reason is not None and "no remittance received" in claim.follow_up_reason
        assert claim.task_token is None
