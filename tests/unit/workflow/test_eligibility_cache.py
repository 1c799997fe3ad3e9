"""Each member + payer + date of service is asked once a day: today's answer is used (not on a
recheck), unanswered checks are never kept, and an answer survives the round trip exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from medbill.models.eligibility import EligibilityResult, IdentityCorrection
from medbill.models.status import ClaimStatus as S
from medbill.workflow import eligibility_cache
from medbill.workflow.intake import new_claim
from medbill.workflow.stages import register, verify_eligibility
from tests.factories import make_encounter
from tests.fakes import FakeEligibility, FakeStore

D = Decimal
NOW = datetime(2026, 11, 17, 21, 0, tzinfo=UTC)
FULL = EligibilityResult(
    True,
    copay=D("25.00"),
    deductible_remaining=D("60.00"),
    plan="GOLD",
    coinsurance=D("0.2"),
    out_of_pocket_remaining=D("900.00"),
    plan_begin=date(2026, 1, 1),
    plan_end=date(2026, 12, 31),
    network="in",
    service_type="98",
    group_name="G",
    rejection_codes=(),
    correction=IdentityCorrection("NEW1", None, "ANN", "subscriber"),
    checked_at=NOW,
)


def test_a_result_survives_the_record_round_trip() -> None:
    assert eligibility_cache.from_record(eligibility_cache.to_record(FULL)) == FULL
    bare = EligibilityResult(False, "member_not_found", rejection_codes=("75",))
    assert eligibility_cache.from_record(eligibility_cache.to_record(bare)) == bare


def test_the_key_is_a_hash_of_payer_member_and_date() -> None:
    key = eligibility_cache.answer_key("PAYERA01", " acm1 ", date(2026, 11, 18))
    assert key == eligibility_cache.answer_key("payera01", "ACM1", date(2026, 11, 18))
    assert len(key) == 64 and "ACM1" not in key
    assert key != eligibility_cache.answer_key("PAYERA01", "ACM1", date(2026, 11, 19))


def _two_claims(store: FakeStore) -> list[str]:
    ids = []
    for n in (1, 2):  # same member, payer and date of service: two visits' claims
        claim = new_claim(make_encounter(encounter_id=f"E{n}", clinic_id="clinic-northside"), "encounters/a.json", n)
        store.create_claim(claim)
        register(store, claim.claim_id)
        ids.append(claim.claim_id)
    return ids


def test_the_second_claim_of_the_day_uses_the_first_answer() -> None:
    store, gateway = FakeStore(), FakeEligibility()
    first, second = _two_claims(store)
    for claim_id in (first, second):
        assert verify_eligibility(store, gateway, claim_id, now=lambda: NOW, answers=store).decision == "eligible"
    assert len(gateway.checked) == 1
    assert store.get_claim(second).coverage == store.get_claim(first).coverage


def test_unanswered_checks_are_not_kept_and_a_recheck_asks_again() -> None:
    store = FakeStore()
    first, second = _two_claims(store)
    claim = store.get_claim(first)
    key = (claim.payer_id, claim.encounter.coverage.member_id)
    gateway = FakeEligibility({key: EligibilityResult(False, "unavailable", retry_after_seconds=900)})
    verify_eligibility(store, gateway, first, now=lambda: NOW, answers=store)
    verify_eligibility(store, gateway, second, now=lambda: NOW, answers=store)
    assert len(gateway.checked) == 2
    # Coverage inactive is kept; the held claim's recheck asks the payer again all the same.
    gateway.answers[key] = EligibilityResult(False, "coverage_inactive")
    verify_eligibility(store, gateway, first, now=lambda: NOW, answers=store)
    assert len(gateway.checked) == 3 and store.get_claim(first).status == S.ELIGIBILITY_HOLD
    gateway.answers[key] = replace(FULL, correction=None)
    verify_eligibility(store, gateway, first, now=lambda: NOW, answers=store)
    assert len(gateway.checked) == 4 and store.get_claim(first).status == S.ELIGIBLE
