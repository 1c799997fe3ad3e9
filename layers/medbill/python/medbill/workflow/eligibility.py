"""Insurance verification, the domain half: what to ask (the inquiry for a claim), what a 271
means for the visit (`result_from_271`), what the claim keeps (`coverage_found`, the patient's
share estimate), why it holds (reasons as rule ids, no PHI) and when an unanswered check is asked
again (`retry_time`; workflow.eligibility_retry resumes the held executions).

The adapter (medbill.adapters.eligibility_core) carries the 270/271 over CAQH CORE connectivity
and calls `result_from_271`; the stage (workflow.stages.verify_eligibility) calls the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from medbill.billing.fees import FeeSchedule, FeeScheduleError
from medbill.models.claim import Claim
from medbill.models.common import CENT
from medbill.models.eligibility import (
    COVERAGE_ENDED,
    COVERAGE_INACTIVE,
    MEMBER_NOT_FOUND,
    OTHER_PAYER,
    PAYER_NOT_FOUND,
    REJECTED,
    SERVICE_NOT_COVERED,
    UNAVAILABLE,
    CoverageFound,
    EligibilityInquiry,
    EligibilityResult,
    IdentityCorrection,
    PatientShareEstimate,
)
from medbill.x12.eligibility import (
    Benefit,
    Dependent270,
    EligibilityRequest,
    InformationReceiver,
    InformationSource,
    Member,
    Subscriber270,
    SubscriberResponse,
)

RETRY_AFTER_SECONDS = 15 * 60  # an unanswered check (AAA 42, timeout) is asked again after this
UNAVAILABLE_CODES = frozenset({"42", "80"})  # unable to respond now / no response: retry later
MEMBER_CODES = frozenset({"64", "65", "67", "71", "72", "73", "75", "76", "77", "78"})
PAYER_CODES = frozenset({"79", "T4"})
OTHER_PAYER_ENTITIES = frozenset({"PRP", "PR", "GP", "Y2"})  # primary payer, payer, gateway, managed care
_NETWORK = {"Y": "in", "N": "out", "W": "both", "U": "unknown"}

# Hold reasons (on the claim only; the execution carries stages.eligibility_rule ids): a rule id, then
# words with payer ids, codes and dates of service.
REASON_TEXT: dict[str, str] = {
    COVERAGE_INACTIVE: "coverage with payer {payer} is not active on {dos}",
    COVERAGE_ENDED: "ELIG-ENDED: coverage with payer {payer} ended on {end}, before the date of service {dos}",
    SERVICE_NOT_COVERED: "ELIG-NONCOVERED: service type {service_type} is not covered by payer {payer} on {dos}",
    OTHER_PAYER: "ELIG-OTHER-PAYER: payer {payer} names another payer ({other}) to bill for {dos}",
    MEMBER_NOT_FOUND: "payer {payer} does not recognise the member id",
    PAYER_NOT_FOUND: "payer {payer} is unknown to the eligibility service",
    UNAVAILABLE: "ELIG-UNAVAILABLE: payer {payer} did not answer the eligibility check ({codes}); "
    "asked again automatically after {retry_at}",
    REJECTED: "ELIG-REJECTED: payer {payer} rejected the eligibility check (AAA {codes})",
}


def visit_service_type(claim: Claim) -> str:
    """EQ01 for the visit: 98 (professional physician visit, office) for E/M codes, else 30."""
    codes = [line.procedure_code for line in claim.encounter.service_lines]
    return "98" if any(c.startswith("992") for c in codes) else "30"


def inquiry_for(claim: Claim) -> EligibilityInquiry:
    enc = claim.encounter
    subscriber = enc.subscriber.person or enc.patient
    dependent = enc.patient if enc.subscriber.person is not None else None
    relationship = {"spouse": "01", "child": "19"}.get(enc.subscriber.relationship, "34")
    provider = enc.billing_provider
    return EligibilityInquiry(
        payer_id=enc.coverage.payer_id,
        payer_name=enc.coverage.payer_name,
        member_id=enc.coverage.member_id,
        date_of_service=enc.date_of_service,
        trace_number=claim.claim_id,
        subscriber_last_name=subscriber.last_name,
        subscriber_first_name=subscriber.first_name,
        subscriber_birth_date=subscriber.date_of_birth,
        dependent_last_name=dependent.last_name if dependent else "",
        dependent_first_name=dependent.first_name if dependent else "",
        dependent_birth_date=dependent.date_of_birth if dependent else None,
        dependent_relationship=relationship if dependent else "",
        service_type=visit_service_type(claim),
        provider_npi=provider.npi,
        provider_name=provider.organization_name or provider.last_name or "",
    )


def request_for(inquiry: EligibilityInquiry) -> EligibilityRequest:
    """The 270 request (one HL 22, and an HL 23 when the patient is a dependent) for an inquiry."""
    dependent = inquiry.dependent_last_name and inquiry.dependent_birth_date is not None
    subscriber = Subscriber270(
        inquiry.member_id,
        inquiry.subscriber_last_name or "UNKNOWN",
        inquiry.subscriber_first_name,
        None if dependent else inquiry.subscriber_birth_date,
    )
    return EligibilityRequest(
        inquiry.trace_number,
        InformationSource(inquiry.payer_id, inquiry.payer_name),
        InformationReceiver(inquiry.provider_npi, inquiry.provider_name or "PROVIDER"),
        subscriber,
        inquiry.date_of_service,
        (inquiry.service_type,),
        Dependent270(
            inquiry.dependent_last_name,
            inquiry.dependent_first_name,
            inquiry.dependent_birth_date,  # type: ignore[arg-type]
            relationship=inquiry.dependent_relationship,
        )
        if dependent
        else None,
    )


# --- reading a 271 answer -------------------------------------------------------------------------
def _d8(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _plan_dates(member: Member) -> tuple[date | None, date | None]:
    """Begin and end of coverage: 346/347 (plan), 356/357 (eligibility), or a 291/346/356 RD8 range."""
    begin = end = None
    for d in member.dates:
        if d.qualifier in ("346", "356", "291"):
            begin = begin or _d8(d.start)
            if d.format == "RD8" and d.end:
                end = end or _d8(d.end)
        elif d.qualifier in ("347", "357"):
            end = end or _d8(d.start)
    return begin, end


def _for_visit(benefits: list[Benefit], code: str, service_type: str) -> list[Benefit]:
    """Benefits of EB01 `code` for the visit's service type, else for plan coverage (30);
    in-network first."""
    own = [b for b in benefits if b.code == code and service_type in b.service_types]
    picked = own or [b for b in benefits if b.code == code and (not b.service_types or "30" in b.service_types)]
    return sorted(picked, key=lambda b: b.in_network != "Y")


def _amount(benefits: list[Benefit], code: str, service_type: str, *, remaining: bool = False) -> Decimal | None:
    for b in _for_visit(benefits, code, service_type):
        if remaining and b.time_period != "29":
            continue
        if b.amount is not None:
            return b.amount
    return None


def _rejection_codes(answer: SubscriberResponse, member: Member) -> tuple[str, ...]:
    found = [r.reason for r in answer.upper_rejections] + [r.reason for r in member.rejections]
    return tuple(dict.fromkeys(found))


def _rejected(answer: SubscriberResponse, codes: tuple[str, ...]) -> EligibilityResult:
    if set(codes) & UNAVAILABLE_CODES:
        return EligibilityResult(False, UNAVAILABLE, rejection_codes=codes, retry_after_seconds=RETRY_AFTER_SECONDS)
    if answer.source.rejections and set(codes) & PAYER_CODES:
        return EligibilityResult(False, PAYER_NOT_FOUND, rejection_codes=codes)
    if set(codes) & MEMBER_CODES:
        return EligibilityResult(False, MEMBER_NOT_FOUND, rejection_codes=codes)
    return EligibilityResult(False, REJECTED, rejection_codes=codes)


def _correction(member: Member, inquiry: EligibilityInquiry) -> IdentityCorrection | None:
    if not member.identity_corrected:
        return None
    is_dependent = member.level == "dependent"
    asked_last = inquiry.dependent_last_name if is_dependent else inquiry.subscriber_last_name
    asked_first = inquiry.dependent_first_name if is_dependent else inquiry.subscriber_first_name
    new_id = member.member_id if (not is_dependent and member.member_id != inquiry.member_id) else None
    last = member.last_name if member.last_name and member.last_name.upper() != asked_last.upper() else None
    first = member.first_name if member.first_name and member.first_name.upper() != asked_first.upper() else None
    correction = IdentityCorrection(new_id or None, last, first, member.level)
    return correction if correction.fields else None


def _other_payer(benefits: list[Benefit]) -> tuple[str, str] | None:
    for b in benefits:
        if b.code != "R":
            continue
        for party in b.entities:
            if party.entity in OTHER_PAYER_ENTITIES and party.id:
                return party.id, party.name
    return None


def result_from_271(
    answer: SubscriberResponse, member: Member, inquiry: EligibilityInquiry, checked_at: datetime | None = None
) -> EligibilityResult:
    """What the 271's answer for `member` means for the visit the inquiry asked about."""
    codes = _rejection_codes(answer, member)
    if codes:
        return _rejected(answer, codes)
    # A dependent's benefits may sit on the subscriber (when the dependent has its own id, or none).
    benefits = member.benefits or answer.subscriber.benefits
    holder = member if member.dates or member.references else answer.subscriber
    begin, end = _plan_dates(holder)
    service_type = inquiry.service_type
    plan_ref = next((r for r in holder.references if r.qualifier == "18"), None)
    group_ref = next((r for r in holder.references if r.qualifier == "1L"), None)
    status_eb = next((b for b in benefits if b.code in {"1", "2", "3", "4", "5", "6", "7", "8"}), None)
    plan = (plan_ref.description if plan_ref and plan_ref.description else None) or (
        status_eb.plan_description if status_eb and status_eb.plan_description else None
    )
    copay_eb = next(iter(_for_visit(benefits, "B", service_type)), None)
    other = _other_payer(benefits)
    found = {
        "plan": plan,
        "group_name": group_ref.description if group_ref and group_ref.description else None,
        "copay": _amount(benefits, "B", service_type),
        "coinsurance": next(
            (b.percent for b in _for_visit(benefits, "A", service_type) if b.percent is not None), None
        ),
        "deductible_remaining": _amount(benefits, "C", service_type, remaining=True),
        "out_of_pocket_remaining": _amount(benefits, "G", service_type, remaining=True),
        "plan_begin": begin,
        "plan_end": end,
        "network": _NETWORK.get(copay_eb.in_network if copay_eb else (status_eb.in_network if status_eb else "")),
        "service_type": service_type,
        "other_payer_id": other[0] if other else None,
        "other_payer_name": other[1] if other else None,
        "correction": _correction(member, inquiry),
        "checked_at": checked_at,
    }
    dos = inquiry.date_of_service
    codes_set = {b.code for b in benefits}
    if not (codes_set & {"1", "2", "3", "4", "5"}):
        return EligibilityResult(False, COVERAGE_INACTIVE, **found)  # type: ignore[arg-type]
    if end is not None and end < dos:
        return EligibilityResult(False, COVERAGE_ENDED, **found)  # type: ignore[arg-type]
    if begin is not None and begin > dos:
        return EligibilityResult(False, COVERAGE_INACTIVE, **found)  # type: ignore[arg-type]
    if any(b.code == "I" and service_type in b.service_types for b in benefits):
        return EligibilityResult(False, SERVICE_NOT_COVERED, **found)  # type: ignore[arg-type]
    if other is not None:
        return EligibilityResult(False, OTHER_PAYER, **found)  # type: ignore[arg-type]
    return EligibilityResult(True, None, **found)  # type: ignore[arg-type]


# --- what the claim keeps ---------------------------------------------------------------------------
def hold_reason(result: EligibilityResult, claim: Claim, retry_at: datetime | None = None) -> str:
    enc = claim.encounter
    template = REASON_TEXT.get(result.reason or "", "ELIG-FAILED: eligibility check failed ({reason})")
    return template.format(
        payer=enc.coverage.payer_id,
        dos=enc.date_of_service.isoformat(),
        end=result.plan_end.isoformat() if result.plan_end else "?",
        service_type=result.service_type or "30",
        other=result.other_payer_id or "?",
        codes=", ".join(result.rejection_codes) or "no answer",
        retry_at=retry_at.strftime("%Y-%m-%dT%H:%MZ") if retry_at else "a while",
        reason=result.reason,
    )


def coverage_found(result: EligibilityResult, payer_id: str) -> CoverageFound:
    return CoverageFound(
        payer_id=payer_id,
        plan=result.plan,
        group_name=result.group_name,
        plan_begin=result.plan_begin,
        plan_end=result.plan_end,
        service_type=result.service_type,
        network=result.network,
        copay=result.copay,
        coinsurance=result.coinsurance,
        deductible_remaining=result.deductible_remaining,
        out_of_pocket_remaining=result.out_of_pocket_remaining,
        other_payer_id=result.other_payer_id,
        checked_at=result.checked_at,
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def estimate_share(result: EligibilityResult, charges: Decimal) -> PatientShareEstimate:
    """Copay, then the remaining deductible on the charges, then coinsurance on what is left; never
    more than the charges (nor than the out-of-pocket maximum left)."""
    copay = min(result.copay or Decimal(0), charges)
    deductible = min(result.deductible_remaining or Decimal(0), charges - copay)
    coinsurance = _cents((charges - copay - deductible) * (result.coinsurance or Decimal(0)))
    amount = copay + deductible + coinsurance
    if result.out_of_pocket_remaining is not None:
        amount = min(amount, result.out_of_pocket_remaining)
    return PatientShareEstimate(
        amount=_cents(amount),
        charges=_cents(charges),
        copay=_cents(copay),
        deductible=_cents(deductible),
        coinsurance=coinsurance,
    )


def estimate_for(
    claim: Claim, result: EligibilityResult, fee_schedules: Callable[[str], FeeSchedule] | None
) -> PatientShareEstimate | None:
    """The estimate, or None when the visit cannot be priced yet (no schedule, a line not on it:
    coding holds the claim for that later)."""
    if fee_schedules is None:
        return None
    try:
        priced = fee_schedules(claim.clinic_id).price_lines(claim.encounter)
    except (FeeScheduleError, LookupError, ValueError):
        return None
    return estimate_share(result, priced.total_charge)


def apply_correction(claim: Claim, correction: IdentityCorrection) -> Claim:
    """The payer's corrected member id or name, on the claim's encounter (so the 837P carries it)."""
    enc = claim.encounter
    coverage = enc.coverage
    if correction.member_id:
        coverage = coverage.model_copy(update={"member_id": correction.member_id})
    names = {k: v for k, v in (("last_name", correction.last_name), ("first_name", correction.first_name)) if v}
    update: dict[str, object] = {"coverage": coverage}
    if names:
        if correction.of == "subscriber" and enc.subscriber.person is not None:
            update["subscriber"] = enc.subscriber.model_copy(
                update={"person": enc.subscriber.person.model_copy(update=names)}
            )
        else:
            update["patient"] = enc.patient.model_copy(update=names)
    return claim.model_copy(update={"encounter": enc.model_copy(update=update)})


# --- asking again ------------------------------------------------------------------------------------
def retry_time(result: EligibilityResult, now: datetime) -> datetime | None:
    if result.reason != UNAVAILABLE:
        return None
    return now + timedelta(seconds=result.retry_after_seconds or RETRY_AFTER_SECONDS)


__all__ = [
    "apply_correction",
    "coverage_found",
    "estimate_for",
    "estimate_share",
    "hold_reason",
    "inquiry_for",
    "request_for",
    "result_from_271",
    "retry_time",
    "visit_service_type",
]
