"""What a 271 means for the visit (workflow.eligibility): status, plan dates, the visit's copay /
coinsurance / deductible left, network, another payer, corrections; the estimate; hold reasons;
the stage on the fakes (coverage stored, corrections applied with an audit event, holds, retries)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from medbill.billing.fees import FeeSchedule
from medbill.models.eligibility import EligibilityInquiry, EligibilityResult, IdentityCorrection
from medbill.models.status import ClaimStatus as S
from medbill.workflow import eligibility
from medbill.workflow.eligibility_retry import retry_due_checks
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import park_task_token, register, verify_eligibility
from medbill.x12.eligibility import Benefit, DatePeriod, Member, Party, Reference, Rejection, SubscriberResponse, Trace
from tests.factories import make_encounter
from tests.fakes import FakeEligibility, FakeStore, FakeWorkflow

D = Decimal
DOS = date(2026, 11, 18)
INQUIRY = EligibilityInquiry(
    "PAYERA01", "ACME", "W123", DOS, "CLM1", "DOE", "JANE", date(1980, 2, 3), service_type="98"
)
SOURCE = Party("PR", "2", "ACME", id_qualifier="PI", id="PAYERA01")
RECEIVER = Party("1P", "2", "CLINIC", id_qualifier="XX", id="1234567893")


def _member(*benefits: Benefit, dates: list[DatePeriod] | None = None) -> Member:
    m = Member("subscriber", last_name="DOE", first_name="JANE", id_qualifier="MI", member_id="W123")
    m.traces = [Trace("2", "CLM1")]
    m.references = [Reference("18", "P1", "GOLD PPO"), Reference("1L", "G1", "ACME EMPLOYEES")]
    m.dates = dates if dates is not None else [DatePeriod("346", "D8", "20260101"), DatePeriod("347", "D8", "20261231")]
    m.benefits = list(benefits)
    return m


ACTIVE = [
    Benefit("1", "IND", ["30", "98"], "PR", "GOLD PPO"),
    Benefit("B", "IND", ["98"], time_period="27", amount=D("40.00"), in_network="N"),
    Benefit("B", "IND", ["98"], time_period="27", amount=D("25.00"), in_network="Y"),
    Benefit("A", "IND", ["98"], time_period="27", percent=D("0.2"), in_network="Y"),
    Benefit("C", "IND", ["30"], time_period="23", amount=D("1500.00"), in_network="Y"),
    Benefit("C", "IND", ["30"], time_period="29", amount=D("60.00"), in_network="Y"),
    Benefit("G", "IND", ["30"], time_period="29", amount=D("2000.00"), in_network="Y"),
]


def _read(member: Member, source: Party = SOURCE) -> EligibilityResult:
    return eligibility.result_from_271(SubscriberResponse(member, source, RECEIVER), member, INQUIRY)


def test_active_coverage_gives_the_visits_in_network_amounts_and_plan_dates() -> None:
    r = _read(_member(*ACTIVE))
    assert (r.active, r.reason, r.plan, r.group_name) == (True, None, "GOLD PPO", "ACME EMPLOYEES")
    assert (r.copay, r.coinsurance, r.deductible_remaining, r.out_of_pocket_remaining) == (
        D("25.00"),
        D("0.2"),
        D("60.00"),
        D("2000.00"),
    )
    assert (r.plan_begin, r.plan_end, r.network, r.service_type) == (date(2026, 1, 1), date(2026, 12, 31), "in", "98")


def test_each_reason_to_hold() -> None:
    assert _read(_member(Benefit("6", "IND", ["30"]))).reason == "coverage_inactive"
    ended = _read(_member(*ACTIVE, dates=[DatePeriod("346", "D8", "20260101"), DatePeriod("347", "D8", "20261031")]))
    assert (ended.active, ended.reason, ended.plan_end) == (False, "coverage_ended", date(2026, 10, 31))
    range_ended = _read(_member(*ACTIVE, dates=[DatePeriod("291", "RD8", "20250101", "20251231")]))
    assert range_ended.reason == "coverage_ended"
    not_yet = _read(_member(*ACTIVE, dates=[DatePeriod("346", "D8", "20261201")]))
    assert not_yet.reason == "coverage_inactive"
    assert _read(_member(*ACTIVE, Benefit("I", "IND", ["98"]))).reason == "service_not_covered"
    assert _read(_member(*ACTIVE, Benefit("I", "IND", ["33"]))).active is True  # another service type
    other = Benefit("R", "IND", ["30"], entities=[Party("PRP", "2", "MEDICARE ADV", id_qualifier="PI", id="MA001")])
    r = _read(_member(*ACTIVE, other))
    assert (r.reason, r.other_payer_id, r.other_payer_name) == ("other_payer", "MA001", "MEDICARE ADV")


def test_rejections_by_level_and_code() -> None:
    def rejected(code: str, follow_up: str = "C") -> EligibilityResult:
        m = _member()
        m.rejections = [Rejection("2100C", "N", code, follow_up)]
        return _read(m)

    assert (rejected("75").reason, rejected("75").rejection_codes) == ("member_not_found", ("75",))
    assert rejected("72").reason == "member_not_found"
    unavailable = rejected("42", "R")
    assert (unavailable.reason, unavailable.retry_after_seconds) == ("unavailable", 900)
    assert rejected("15").reason == "rejected"
    source = replace(SOURCE, rejections=[Rejection("2100A", "N", "79", "C")])
    assert _read(_member(), source).reason == "payer_not_found"


def test_a_corrected_member_id_and_name_are_read_as_a_correction() -> None:
    m = _member(*ACTIVE)
    m.member_id, m.last_name, m.maintenance = "W999", "DOE-SMITH", ("Y", "18", "001", "25")
    m.references.append(Reference("Q4", "W123"))
    r = _read(m)
    assert r.active and r.correction == IdentityCorrection("W999", "DOE-SMITH", None, "subscriber")
    assert r.correction.fields == ["member_id", "last_name"]
    assert "W999" not in repr(r) and "DOE-SMITH" not in repr(r)


def test_the_estimate_takes_copay_then_deductible_then_coinsurance() -> None:
    r = EligibilityResult(True, copay=D("25.00"), coinsurance=D("0.2"), deductible_remaining=D("60.00"))
    e = eligibility.estimate_share(r, D("148.00"))
    assert (e.kind, e.amount, e.charges, e.copay, e.deductible, e.coinsurance) == (
        "estimate",
        D("97.60"),
        D("148.00"),
        D("25.00"),
        D("60.00"),
        D("12.60"),
    )
    capped = replace(r, out_of_pocket_remaining=D("50.00"))
    assert eligibility.estimate_share(capped, D("148.00")).amount == D("50.00")
    assert eligibility.estimate_share(r, D("20.00")).amount == D("20.00")  # never more than the charges
    assert eligibility.estimate_share(EligibilityResult(True), D("148.00")).amount == D("0.00")


def _claim_in(store: FakeStore, **overrides: object) -> str:
    claim = new_claim(make_encounter(clinic_id="clinic-northside", **overrides), "encounters/a.json", 1)
    store.create_claim(claim)
    register(store, claim.claim_id)
    return claim.claim_id


def test_the_stage_stores_coverage_and_the_estimate() -> None:
    store = FakeStore()
    claim_id = _claim_in(store)
    claim = store.get_claim(claim_id)
    key = (claim.payer_id, claim.encounter.coverage.member_id)
    found = EligibilityResult(
        True, copay=D("30.00"), coinsurance=D("0.2"), deductible_remaining=D("0.00"), plan="GOLD PPO", network="in"
    )
    gateway = FakeEligibility({key: replace(found, service_type="98", plan_begin=date(2026, 1, 1))})
    assert verify_eligibility(store, gateway, claim_id, FeeSchedule.load).decision == "eligible"
    saved = store.get_claim(claim_id)
    assert saved.status == S.ELIGIBLE and saved.copay == D("30.00")
    assert saved.coverage is not None and saved.coverage.model_dump(mode="json") == {
        "payer_id": claim.payer_id,
        "plan": "GOLD PPO",
        "group_name": None,
        "plan_begin": "2026-01-01",
        "plan_end": None,
        "service_type": "98",
        "network": "in",
        "copay": "30.00",
        "coinsurance": "0.2",
        "deductible_remaining": "0.00",
        "out_of_pocket_remaining": None,
        "other_payer_id": None,
        "checked_at": None,
    }
    # 99213 133.00 + 36415 15.00 = 148.00: copay 30.00, coinsurance 20 % of 118.00 = 23.60.
    assert saved.patient_estimate is not None
    assert (saved.patient_estimate.amount, saved.patient_estimate.kind) == (D("53.60"), "estimate")
    assert store.events(claim_id)[-1].detail["patient_estimate"] == "53.60"


def test_a_correction_is_applied_with_an_audit_event_naming_fields_only() -> None:
    store = FakeStore()
    claim_id = _claim_in(store)
    claim = store.get_claim(claim_id)
    old_member = claim.encounter.coverage.member_id
    correction = IdentityCorrection("NEWID0001", "Correctedname", None, "subscriber")
    gateway = FakeEligibility({(claim.payer_id, old_member): EligibilityResult(True, correction=correction)})
    verify_eligibility(store, gateway, claim_id)
    saved = store.get_claim(claim_id)
    assert saved.encounter.coverage.member_id == "NEWID0001"
    assert saved.encounter.patient.last_name == "Correctedname"
    assert saved.encounter.patient.first_name == claim.encounter.patient.first_name
    event = store.events(claim_id)[-1]
    assert event.detail["identity_corrected"] == ["member_id", "last_name"]
    assert old_member not in str(event.detail) and "NEWID0001" not in str(event.detail)


def test_an_unanswered_check_holds_and_the_schedule_asks_again_when_due() -> None:
    store, workflow = FakeStore(), FakeWorkflow()
    claim_id = _claim_in(store)
    claim = store.get_claim(claim_id)
    key = (claim.payer_id, claim.encounter.coverage.member_id)
    now = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    gateway = FakeEligibility(
        {key: EligibilityResult(False, "unavailable", rejection_codes=("42",), retry_after_seconds=900)}
    )
    held = verify_eligibility(store, gateway, claim_id, now=lambda: now)
    assert held.rules == ["ELIG-UNAVAILABLE"]  # execution state: the rule id only
    saved = store.get_claim(claim_id)
    assert saved.hold_reasons == [
        f"ELIG-UNAVAILABLE: payer {claim.payer_id} did not answer the eligibility check (42); "
        "asked again automatically after 2026-11-18T09:15Z"
    ]
    assert saved.status == S.ELIGIBILITY_HOLD and saved.eligibility_retry_at == now + timedelta(minutes=15)
    assert saved.coverage is None
    park_task_token(store, workflow, claim_id, "staff", "VerifyEligibility", "tok-1")
    assert retry_due_checks(store, workflow, now + timedelta(minutes=14)) == []
    assert retry_due_checks(store, workflow, now + timedelta(minutes=15)) == [claim_id]
    assert workflow.resumed == [("tok-1", {"rechecked": True})]
    assert store.get_claim(claim_id).task_token is None


def test_hold_reasons_name_rules_payers_codes_and_dates_only() -> None:
    store = FakeStore()
    claim_id = _claim_in(store)
    claim = store.get_claim(claim_id)
    payer, dos = claim.payer_id, claim.date_of_service
    cases = {
        EligibilityResult(False, "coverage_ended", plan_end=date(2026, 10, 31)): (
            f"ELIG-ENDED: coverage with payer {payer} ended on 2026-10-31, before the date of service {dos}"
        ),
        EligibilityResult(False, "service_not_covered", service_type="98"): (
            f"ELIG-NONCOVERED: service type 98 is not covered by payer {payer} on {dos}"
        ),
        EligibilityResult(False, "other_payer", other_payer_id="MA001"): (
            f"ELIG-OTHER-PAYER: payer {payer} names another payer (MA001) to bill for {dos}"
        ),
        EligibilityResult(False, "coverage_inactive"): f"coverage with payer {payer} is not active on {dos}",
        EligibilityResult(False, "rejected", rejection_codes=("15",)): (
            f"ELIG-REJECTED: payer {payer} rejected the eligibility check (AAA 15)"
        ),
    }
    for result, text in cases.items():
        assert eligibility.hold_reason(result, claim) == text
