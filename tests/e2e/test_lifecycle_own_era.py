"""The lifecycle on the local runtime, with 835s built by the test: intake -> ... -> posting -> routing.

The payer simulator is off here so the test decides every claim's outcome and checks the money to
the cent; tests/e2e/test_demo.py runs the same lifecycle with the simulator.
"""

from __future__ import annotations

import json
from decimal import Decimal

from infra import config
from infra.local.runtime import LocalRuntime
from medbill.billing.era import reconciliation
from medbill.entry import wiring
from medbill.models.claim import Claim
from medbill.models.status import ClaimStatus as S
from medbill.x12.remittance835 import ClaimPayment
from testkit.era_builder import claim_payment, era_for
from tests.e2e.conftest import SAMPLE_FILES, SAMPLES, execution_texts, handler_logs, sample_clinical, sample_phi
from tests.staff import ADMIN


def _upload_samples(rt: LocalRuntime) -> None:
    for name in SAMPLE_FILES:
        rt.upload(f"encounters/{name}", (SAMPLES / name).read_bytes())
    rt.run_until_idle(timeout_s=90)


def _claims() -> dict[str, Claim]:
    return {c.claim_id: c for c in wiring.repository().list_claims(limit=100).items}


def test_intake_to_remittance_wait_with_holds_and_rejections(runtime_no_payer: LocalRuntime) -> None:
    rt = runtime_no_payer
    _upload_samples(rt)
    claims = _claims()
    statuses = sorted(c.status for c in claims.values())
    # 16 records: 1 rejected at intake, 1 eligibility hold, 1 coding hold, the rest await the payer.
    assert len(claims) == 15
    assert statuses.count(S.AWAITING_REMITTANCE) == 13
    assert [c.hold_reasons for c in claims.values() if c.status == S.ELIGIBILITY_HOLD] == [
        ["coverage with payer PAYERC03 is not active on 2026-11-18"]
    ]
    coding_hold = [c for c in claims.values() if c.status == S.CODING_HOLD]
    assert len(coding_hold) == 1 and "diagnosis 1 is a category" in coding_hold[0].hold_reasons[0]
    # Every submitted claim has its 837P in the outbox, and charges add up.
    outbox = rt.list_keys("outbox/837/")
    for claim in claims.values():
        if claim.status == S.AWAITING_REMITTANCE:
            assert claim.outbox_key in outbox
            assert claim.total_charge == sum((line.charge or Decimal(0) for line in claim.lines), Decimal(0))
            assert claim.task_token
    report = json.loads(rt.read("rejections/encounters/northside-2026-11-20.json.json"))
    assert report["counts"]["rejected"] == 1
    assert any("E11.9X is not an ICD-10-CM code" in r["reason"] for r in report["rejections"])
    bad = json.loads(rt.read("rejections/encounters/bad-file.json.json"))
    assert bad["file_error"].startswith("not valid JSON")
    assert rt.poller.dlq_depths() == {q.dlq_name: 0 for q in config.LOCAL_QUEUES}


def test_posting_routes_each_claim_and_reconciles(runtime_no_payer: LocalRuntime) -> None:
    rt = runtime_no_payer
    _upload_samples(rt)
    waiting = sorted((c for c in _claims().values() if c.status == S.AWAITING_REMITTANCE), key=lambda c: c.claim_id)
    outcomes = ["paid", "short_paid", "denied"]
    plan = [(c, outcomes[i % 3]) for i, c in enumerate(waiting)]
    stranger = ClaimPayment(claim_id="NOTOURS0001", status_code="1", charge=Decimal("50.00"), paid=Decimal("50.00"))
    era = era_for(plan, payer_id="PAYERA01", trace="EFT0001", extra_claims=[stranger])
    rt.upload("era/payera01-eft0001.835", era)
    rt.run_until_idle(timeout_s=90)

    claims = _claims()
    executions = {e["name"]: e["status"] for e in rt.list_executions()}
    for claim, outcome in plan:
        got = claims[claim.claim_id]
        expected = claim_payment(claim, outcome)
        assert got.paid_amount == expected.paid, claim.claim_id
        assert got.patient_responsibility == expected.patient_responsibility
        assert got.paid_amount + got.adjustment_amount + got.patient_responsibility == claim.total_charge
        assert got.task_token is None
        if outcome == "paid":
            assert got.status == S.PAID and executions[claim.claim_id] == "SUCCEEDED"
        else:
            assert got.status == S.FOLLOW_UP and executions[claim.claim_id] == "SUCCEEDED"
            assert got.follow_up_action == ("bill_patient" if outcome == "short_paid" else "appeal")
            assert got.remittance_outcome == outcome
    rec = reconciliation(wiring.repository(), "1PAYERA010-EFT0001")
    assert rec is not None
    assert rec["era_status"] == "POSTED_WITH_UNMATCHED"
    assert [(c["clp01"], c["result"], c["paid"]) for c in rec["claims"] if c["result"] == "unmatched"] == [
        ("NOTOURS0001", "unmatched", "50.00")
    ]
    assert rec["posted_count"] == len(plan) and rec["unmatched_total"] == "50.00"
    assert rec["difference"] == "0.00" and rec["reconciled"] is True
    report = json.loads(rt.read("era-reports/era/payera01-eft0001.835.json"))
    assert report["status"] == "POSTING" and report["claims_queued"] == len(plan) + 1

    # The same ERA again, under the same key and under another key: nothing posts twice.
    ledger_before = {c.claim_id: wiring.repository().ledger(c.claim_id) for c, _ in plan}
    rt.upload("era/payera01-eft0001.835", era)
    rt.upload("era/copy-of-eft0001.835", era)
    rt.run_until_idle(timeout_s=60)
    after = _claims()
    for claim, _ in plan:
        assert after[claim.claim_id].paid_amount == claims[claim.claim_id].paid_amount
        assert wiring.repository().ledger(claim.claim_id) == ledger_before[claim.claim_id]
    again = reconciliation(wiring.repository(), "1PAYERA010-EFT0001")
    assert again is not None and again["posted_total"] == rec["posted_total"] and again["reconciled"]
    assert set(rt.poller.dlq_depths().values()) == {0}


def test_same_encounter_file_twice_creates_nothing_twice(runtime_no_payer: LocalRuntime) -> None:
    rt = runtime_no_payer
    _upload_samples(rt)
    before = _claims()
    name = "northside-2026-11-20.json"
    rt.upload(f"encounters/{name}", (SAMPLES / name).read_bytes())  # redelivery / re-upload
    rt.upload(f"encounters/again-{name}", (SAMPLES / name).read_bytes())  # the same encounters, new file
    rt.run_until_idle(timeout_s=60)
    after = _claims()
    assert after.keys() == before.keys()
    assert len(rt.list_executions()) == len(before)
    again = json.loads(rt.read(f"rejections/encounters/again-{name}.json"))
    duplicates = [r for r in again["rejections"] if "already received as claim" in r["reason"]]
    assert len(duplicates) == sum(1 for c in before.values() if c.source_key == f"encounters/{name}")


def test_no_phi_in_executions_or_logs(runtime_no_payer: LocalRuntime, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    rt = runtime_no_payer
    with handler_logs(rt) as logs:
        _upload_samples(rt)
    phi = sample_phi()
    assert len(phi) > 20  # the canaries are really there
    lines = logs.getvalue().splitlines()
    # The check below means something only if the handlers really logged, with their structured keys.
    services = {json.loads(line)["service"] for line in lines}
    stages = ("intake", "registration", "eligibility", "coding", "charges", "submission", "await_token")
    assert {f"medbill-{name}" for name in stages} <= services
    texts = execution_texts(rt) + lines
    captured = capsys.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    texts += [rt.read(k).decode() for k in rt.list_keys("rejections/")]
    leaks = sorted({value for value in phi for text in texts if value in text})
    assert leaks == []


def _clinical_leaks(texts: list[str]) -> list[str]:
    import re

    return sorted(
        {
            v
            for v in sample_clinical()
            for text in texts
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])", text)
        }
    )


def test_no_diagnosis_code_or_date_of_service_in_execution_state(runtime_no_payer: LocalRuntime) -> None:
    """The state (execution input/output, every state's input and output) carries decisions, not the
    hold reasons: ResultSelector drops them. (The raw task results in history: the xfail below.)"""
    rt = runtime_no_payer
    _upload_samples(rt)
    holds = [c for c in _claims().values() if c.status in (S.ELIGIBILITY_HOLD, S.CODING_HOLD)]
    assert len(holds) == 2 and all(c.hold_reasons for c in holds)  # the reasons are there, on the claims
    texts = []
    for execution in rt.list_executions():
        arn = execution["executionArn"]
        described = rt.sfn.describe_execution(executionArn=arn)
        texts += [described.get("input", ""), described.get("output", "")]
        for event in rt.sfn.get_execution_history(executionArn=arn)["events"]:
            event.pop("taskSucceededEventDetails", None)  # the Lambda's raw result, before ResultSelector
            texts.append(json.dumps(event, default=str))
    assert _clinical_leaks(texts) == []


def test_no_diagnosis_code_or_date_of_service_in_execution_state_or_history(runtime_no_payer: LocalRuntime) -> None:
    """Hold reasons (\"coverage ... not active on 2026-11-18\", \"E11 is a category\") stay on the claim:
    ResultSelector keeps only the stage's decision in the state, and the stage results that Step
    Functions records in history (TaskSucceeded output) must not carry them either."""
    rt = runtime_no_payer
    _upload_samples(rt)
    assert len(sample_clinical()) > 10
    assert _clinical_leaks(execution_texts(rt)) == []


def _api(rt: LocalRuntime, method: str, path: str) -> tuple[int, dict]:
    event = {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {"requestId": "r1", "stage": "v1", "authorizer": {"claims": ADMIN}},
        "body": None,
        "isBase64Encoded": False,
    }
    resp = rt.invoke("api", event)
    return resp["statusCode"], json.loads(resp["body"])


def test_unbalanced_era_is_quarantined_until_a_person_releases_it(runtime_no_payer: LocalRuntime) -> None:
    rt = runtime_no_payer
    _upload_samples(rt)
    waiting = sorted((c for c in _claims().values() if c.status == S.AWAITING_REMITTANCE), key=lambda c: c.claim_id)[:3]
    era = era_for([(c, "paid") for c in waiting], payer_id="PAYERB02", trace="CHK777")
    total = sum((claim_payment(c, "paid").paid for c in waiting), Decimal(0))
    short = era.replace(f"BPR*I*{total:.2f}*", f"BPR*I*{total - Decimal('1.00'):.2f}*")
    rt.upload("era/payerb02-chk777.835", short)
    rt.run_until_idle(timeout_s=60)
    era_id = "1PAYERB020-CHK777"
    status, body = _api(rt, "GET", f"/eras/{era_id}")
    assert status == 200 and body["era_status"] == "QUARANTINED" and body["posted_count"] == 0
    assert all(_claims()[c.claim_id].status == S.AWAITING_REMITTANCE for c in waiting)

    status, body = _api(rt, "POST", f"/eras/{era_id}/release")
    assert status == 202
    rt.run_until_idle(timeout_s=60)
    status, body = _api(rt, "GET", f"/eras/{era_id}")
    assert body["era_status"] == "POSTED" and body["posted_count"] == 3
    assert body["difference"] == "-1.00" and body["reconciled"] is False  # the payer's own 1.00 error, visible
    claims = _claims()
    assert all(claims[c.claim_id].status == S.PAID for c in waiting)
    executions = {e["name"]: e["status"] for e in rt.list_executions()}
    assert all(executions[c.claim_id] == "SUCCEEDED" for c in waiting)


def test_remittance_before_its_claim_waits_then_posts_when_the_claim_arrives(runtime_no_payer: LocalRuntime) -> None:
    from medbill.billing.fees import FeeSchedule
    from medbill.intake import read_encounter_file
    from medbill.workflow.intake import new_claim

    rt = runtime_no_payer
    name = "lakeview-2026-11-20.csv"
    body = (SAMPLES / name).read_bytes()
    # The claim as it will be once priced: same id, lines and charges (the claim id is deterministic).
    record = next(
        r
        for r in read_encounter_file(f"encounters/{name}", body).encounters
        if r.encounter.coverage.payer_id == "PAYERB02"
    )
    future = new_claim(record.encounter, f"encounters/{name}", record.record_number)
    priced = FeeSchedule.load(future.clinic_id).price_lines(record.encounter)
    lines = [line.model_copy(update={"charge": c}) for line, c in zip(future.lines, priced.line_charges, strict=True)]
    future = future.model_copy(update={"lines": lines, "total_charge": priced.total})

    rt.upload("era/early.835", era_for([(future, "paid")], payer_id="PAYERB02", trace="EARLY1"))
    rt.run_until_idle(timeout_s=60)
    _, work = _api(rt, "GET", "/worklists/unmatched-remittance")
    assert [i["clp01"] for i in work["items"]] == [future.claim_id]

    rt.upload(f"encounters/{name}", body)
    rt.run_until_idle(timeout_s=90)
    claim = _claims()[future.claim_id]
    assert claim.status == S.PAID and claim.paid_amount == claim_payment(future, "paid").paid
    assert _api(rt, "GET", "/worklists/unmatched-remittance")[1]["items"] == []
    era = _api(rt, "GET", "/eras/1PAYERB020-EARLY1")[1]
    assert (era["era_status"], era["posted_count"], era["reconciled"]) == ("POSTED", 1, True)
    assert {e["name"]: e["status"] for e in rt.list_executions()}[future.claim_id] == "SUCCEEDED"


def test_staff_recheck_resumes_a_held_claim(runtime_no_payer: LocalRuntime) -> None:
    rt = runtime_no_payer
    _upload_samples(rt)
    held = next(c for c in _claims().values() if c.status == S.ELIGIBILITY_HOLD)
    assert rt.wait_for_task_token_state(held.claim_id) == "EligibilityHold"
    # Nothing changed at the payer: the recheck runs eligibility again and the claim holds again.
    status, body = _api(rt, "POST", f"/claims/{held.claim_id}/recheck")
    assert status == 200 and body["rechecked"] is True
    rt.run_until_idle(timeout_s=60)
    again = _claims()[held.claim_id]
    assert again.status == S.ELIGIBILITY_HOLD and again.task_token
    history = rt.states_entered(held.claim_id)
    assert history.count("VerifyEligibility") == 2 and history.count("EligibilityHold") == 2
    # A claim that is not on hold cannot be rechecked.
    paid_or_waiting = next(c for c in _claims().values() if c.status == S.AWAITING_REMITTANCE)
    assert _api(rt, "POST", f"/claims/{paid_or_waiting.claim_id}/recheck")[0] == 409


def test_intake_of_a_long_file_continues_through_the_queue(runtime_no_payer: LocalRuntime) -> None:
    import inspect

    rt = runtime_no_payer
    intake_globals = inspect.unwrap(rt.bridge.handler_for("intake")).__globals__
    intake_globals["TIME_RESERVE_MS"] = 10**9  # always "out of time": one record per message, the rest continues
    name = "northside-2026-11-20.json"
    rt.upload(f"encounters/{name}", (SAMPLES / name).read_bytes())
    rt.run_until_idle(timeout_s=120)
    claims = [c for c in _claims().values() if c.source_key == f"encounters/{name}"]
    assert len(claims) == 9 and len({c.record_number for c in claims}) == 9
    report = json.loads(rt.read(f"rejections/encounters/{name}.json"))
    assert report["complete"] is True and report["counts"] == {"records": 10, "accepted": 9, "rejected": 1}
    assert set(rt.poller.dlq_depths().values()) == {0}
