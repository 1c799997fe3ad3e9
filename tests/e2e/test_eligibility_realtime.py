"""The lifecycle's eligibility stage through the real-time gateway against the payer simulator's
CAQH CORE endpoint (a real HTTP server on 127.0.0.1, no mocked HTTP): coverage on the claim and in
GET /claims/{id}, a corrected member id in the 837P, holds with their reasons, an unanswered check
asked again by the schedule, and no member id in the execution history or the logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from infra.local.runtime import LocalRuntime
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.workflow.eligibility_retry import retry_due_checks
from tests.e2e.conftest import SAMPLE_FILES, SAMPLES, execution_texts, handler_logs, sample_phi
from tests.e2e.test_lifecycle_own_era import _api

D = Decimal
CASES = {  # encounter id -> member id at PAYERA01 (infra/local/payer_members.json)
    "NS-ELIG-CORRECTED": "ACM900000004",
    "NS-ELIG-UNANSWERED": "ACM900000005",
    "NS-ELIG-ENDED": "ACM900000001",
    "NS-ELIG-NONCOVERED": "ACM900000002",
    "NS-ELIG-OTHERPAYER": "ACM900000003",
}


def _cases_file() -> bytes:
    base = json.loads((SAMPLES / "northside-2026-11-20.json").read_bytes())[0]  # 99213 on 2026-11-16
    records = []
    for n, (encounter_id, member_id) in enumerate(CASES.items()):
        record = json.loads(json.dumps(base))
        record["encounter_id"] = encounter_id
        record["coverage"]["member_id"] = member_id
        record["patient"]["first_name"] = f"Eligcase{'abcde'[n]}"
        records.append(record)
    return json.dumps(records).encode()


def _by_encounter() -> dict[str, Claim]:
    return {c.encounter_id: c for c in wiring.repository().list_claims(limit=100).items}


def test_eligibility_through_the_core_endpoint(
    runtime_no_payer: LocalRuntime, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = runtime_no_payer
    with handler_logs(rt) as logs:
        for name in SAMPLE_FILES:
            rt.upload(f"encounters/{name}", (SAMPLES / name).read_bytes())
        rt.upload("encounters/eligibility-cases.json", _cases_file())
        rt.run_until_idle(timeout_s=300)
    claims = _by_encounter()
    assert len(claims) == 20
    # 19 members + payers + dates of service, each asked once a day over HTTP (two sample claims
    # share one: the second uses the day's answer); the unanswered one three times (AAA 42, retries).
    assert rt.core_endpoint.requests == 18 + 3
    assert rt.core_endpoint.responder.answers == 21
    twins = [c for c in claims.values() if c.encounter.coverage.member_id == "CCH-4418-0107"]
    assert len(twins) == 2 and twins[0].coverage == twins[1].coverage is not None

    sample = claims["NS-20261116-001"]  # ACM100200301: Acme PPO Silver, copay 25.00, deductible left 500.00
    assert sample.status == S.AWAITING_REMITTANCE and sample.coverage is not None
    assert (sample.coverage.plan, sample.coverage.copay, sample.coverage.coinsurance) == (
        "Acme PPO Silver (demo)",
        D("25.00"),
        D("0.20"),
    )
    assert (sample.coverage.deductible_remaining, sample.coverage.network, sample.coverage.service_type) == (
        D("500.00"),
        "in",
        "98",
    )
    # 99213 at 133.00: copay 25.00, then 108.00 of the deductible left.
    assert sample.patient_estimate is not None and sample.patient_estimate.amount == D("133.00")

    corrected = claims["NS-ELIG-CORRECTED"]
    assert corrected.status == S.AWAITING_REMITTANCE
    assert corrected.encounter.coverage.member_id == "ACM900000044"
    assert corrected.encounter.patient.last_name == "CORRECTED"
    # copay 25.00 + deductible left 100.00 + 20 % of the remaining 8.00.
    assert corrected.patient_estimate is not None and corrected.patient_estimate.amount == D("126.60")
    edi = rt.read(corrected.outbox_key or "").decode()
    assert "*MI*ACM900000044~" in edi and "ACM900000004~" not in edi and "*CORRECTED*" in edi
    events = wiring.repository().events(corrected.claim_id)
    assert [e.detail.get("identity_corrected") for e in events if e.new_status == "ELIGIBLE"] == [
        ["member_id", "last_name"]
    ]

    holds = {k: c.hold_reasons for k, c in claims.items() if c.status == S.ELIGIBILITY_HOLD}
    retry_at = claims["NS-ELIG-UNANSWERED"].eligibility_retry_at
    assert retry_at is not None
    assert holds == {
        "NS-20261118-005": ["coverage with payer PAYERC03 is not active on 2026-11-18"],
        "NS-ELIG-ENDED": [
            "ELIG-ENDED: coverage with payer PAYERA01 ended on 2026-10-31, before the date of service 2026-11-16"
        ],
        "NS-ELIG-NONCOVERED": ["ELIG-NONCOVERED: service type 98 is not covered by payer PAYERA01 on 2026-11-16"],
        "NS-ELIG-OTHERPAYER": [
            "ELIG-OTHER-PAYER: payer PAYERA01 names another payer (PAYERB02) to bill for 2026-11-16"
        ],
        "NS-ELIG-UNANSWERED": [
            "ELIG-UNAVAILABLE: payer PAYERA01 did not answer the eligibility check (42); "
            f"asked again automatically after {retry_at.strftime('%Y-%m-%dT%H:%MZ')}"
        ],
    }

    status, view = _api(rt, "GET", f"/claims/{corrected.claim_id}")
    assert status == 200
    assert view["coverage"]["plan"] == "Acme PPO Silver (demo)" and view["coverage"]["copay"] == "25.00"
    assert view["patient_estimate"]["kind"] == "estimate" and view["patient_estimate"]["amount"] == "126.60"

    # The schedule asks the unanswered one again once its time has come (still AAA 42: held again).
    unanswered = claims["NS-ELIG-UNANSWERED"]
    assert rt.wait_for_task_token_state(unanswered.claim_id) == "EligibilityHold"
    now = datetime.now(UTC)
    assert retry_due_checks(wiring.repository(), wiring.workflow(), now) == []
    assert retry_due_checks(wiring.repository(), wiring.workflow(), now + timedelta(minutes=16)) == [
        unanswered.claim_id
    ]
    rt.run_until_idle(timeout_s=300)
    assert rt.states_entered(unanswered.claim_id).count("VerifyEligibility") == 2
    assert _by_encounter()["NS-ELIG-UNANSWERED"].status == S.ELIGIBILITY_HOLD

    # No member id (sent, corrected) or name anywhere in execution state or logs.
    member_ids = {c.encounter.coverage.member_id for c in claims.values()} | set(CASES.values())
    texts = execution_texts(rt) + logs.getvalue().splitlines()
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    assert len(member_ids) == 19  # 14 sample members + 5 cases, with one corrected
    assert sorted({m for m in member_ids for t in texts if m in t}) == []
    assert sorted({v for v in sample_phi() | {"CORRECTED"} for t in texts if v in t}) == []
