"""Posting audit regressions (in-process moto): coordination of benefits through the posting handler,
forwarded (CLP02 19) and not-our-claim (23) remittance, the posting a reversal undoes when it shares
its CLP07 with the corrected claim, and money posted on a claim no execution waits on."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from infra.local.lambda_bridge import LambdaBridge, load_project_handlers
from infra.local.provision import LocalResources
from medbill.billing.era import reconciliation
from medbill.billing.followup import AWAIT_CROSSOVER
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.workflow.stages import follow_up
from medbill.x12.remittance835 import Adjustment, ClaimPayment
from testkit.era_builder import claim_payment, era_for
from tests.factories import CANARY_FIRST, CANARY_LAST
from tests.integration.posting.conftest import CollectingQueue, FakeWorkflow, Posting, make_claim
from tests.integration.posting.test_posting_faults import _sqs_event

D = Decimal
DOS = date(2026, 10, 5)
LINES = [("99213", ["25"], "120.00"), ("36415", [], "30.00")]


def _claim(p: Posting, claim_id: str, status: S = S.AWAITING_REMITTANCE) -> Claim:
    return make_claim(p.repo, claim_id, dos=DOS, lines=LINES, status=status)


def _balanced(claim: Claim) -> bool:
    return claim.paid_amount + claim.adjustment_amount + claim.patient_responsibility == claim.total_charge


@contextmanager
def posting_logs() -> Iterator[io.StringIO]:
    """The posting handler's log lines while the block runs. Powertools binds its stream once per
    process (an earlier test's capsys may hold it), so capture at the logger, with its formatter."""
    logger = logging.getLogger("medbill-posting")  # Powertools names the logger after its service
    assert logger.handlers, "the posting handler is not loaded"
    sink = io.StringIO()
    capture = logging.StreamHandler(sink)
    capture.setFormatter(logger.handlers[0].formatter)
    logger.addHandler(capture)
    try:
        yield sink
    finally:
        logger.removeHandler(capture)


def test_forwarded_primary_then_secondary_through_the_posting_handler(aws: LocalResources) -> None:
    _, resolver = load_project_handlers()
    bridge = LambdaBridge(resolver=resolver)
    queue = CollectingQueue()
    p = Posting(wiring.repository(), queue, FakeWorkflow())
    claim = _claim(p, "COB01")

    # Primary: allowed 120.00, CO-45 30.00, pays 96.00, PR-2 24.00, and forwards the claim (CLP02 19).
    primary = claim_payment(claim, "short_paid")
    primary.status_code = "19"
    p.receive("era/prim.835", era_for([], payer_id="PAYERA01", trace="P1", extra_claims=[primary]))
    assert bridge.call("posting", _sqs_event([r.model_dump_json() for r in queue.take()])) == {"batchItemFailures": []}
    got = p.claim("COB01")
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("96.00"), D("30.00"), D("24.00"))
    assert got.status == S.SHORT_PAID and got.remittance_outcome == "short_paid" and _balanced(got)
    assert [e.forwarded for e in p.ledger("COB01")] == [True]
    assert got.follow_up_action == AWAIT_CROSSOVER and "CLP02 19" in (got.follow_up_reason or "")
    # The workflow's follow-up shows the patient balance but waits for the crossover payer.
    assert follow_up(p.repo, "COB01", "short_paid").model_dump(mode="json") == {
        "status": "FOLLOW_UP",
        "action": AWAIT_CROSSOVER,
    }
    reason = p.claim("COB01").follow_up_reason or ""
    assert "forwarded to the next payer" in reason and "PR-2 24.00" in reason

    # Secondary pays the coinsurance; OA-23 126.00 is the primary's payment and write-off.
    secondary = ClaimPayment(
        "COB01",
        "2",
        D("150.00"),
        D("24.00"),
        D("0.00"),
        "CI",
        "SECPCN1",
        adjustments=[Adjustment("OA", "23", D("126.00"))],
    )
    summary = p.receive("era/sec.835", era_for([], payer_id="PAYERB02", trace="S1", extra_claims=[secondary]))
    with posting_logs() as sink:
        response = bridge.call("posting", _sqs_event([r.model_dump_json() for r in queue.take()]))
    assert response == {"batchItemFailures": []}
    got = p.claim("COB01")
    assert (got.paid_amount, got.adjustment_amount, got.patient_responsibility) == (D("120.00"), D("30.00"), D("0.00"))
    assert [(a.group, a.reason, a.amount) for a in got.adjustments] == [("CO", "45", D("30.00"))]
    assert got.status == S.PAID and got.remittance_outcome == "paid" and _balanced(got)
    assert got.follow_up_action is None  # nothing left to wait for
    # The claim's execution had ended in follow-up: the ERA, the timeline and the log say so.
    rec = reconciliation(p.repo, summary.era_ids[0])
    assert rec is not None and rec["reconciled"]
    (result,) = rec["claims"]
    assert result["outcome"] == "paid" and result["problems"] == [
        "claim COB01 was not waiting for remittance (status FOLLOW_UP)"
    ]
    assert p.repo.events("COB01")[-1].detail["problems"] == result["problems"]
    logged = sink.getvalue()
    warnings = [json.loads(x) for x in logged.splitlines() if '"claim payment posted with problems"' in x]
    assert len(warnings) == 1 and warnings[0]["claim_id"] == "COB01" and warnings[0]["status_code"] == "2"
    assert CANARY_LAST not in logged and CANARY_FIRST not in logged


# --- one payer level, two adjudications (re-audit 4): the later payment supersedes ---------------


PAID = [("CO", "45", "30.00"), ("PR", "2", "24.00")]


# --- a reversal repeated, a corrected copy of a posted payment (re-audit 4) ------------------------
