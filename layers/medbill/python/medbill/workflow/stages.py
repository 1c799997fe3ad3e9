"""The work of each state-machine stage, on a claim, through the ports (medbill.ports).

Each stage is safe to run twice (Step Functions retries Lambda errors): a stage that finds the
claim already past it returns the recorded result instead of doing the work again.
Results (workflow.results) are ids and codes only: they become execution output, which must never
carry PHI.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from medbill.billing.claim_updates import MAX_LOCK_RETRIES, save_claim, with_lock_retry
from medbill.billing.fees import FeeSchedule, FeeScheduleNotFound
from medbill.coding import default_references, scrub
from medbill.models.claim import Claim, Filing, RemittanceOutcome
from medbill.models.common import utcnow
from medbill.models.eligibility import EligibilityResult
from medbill.models.status import HOLD_STATUSES, POSTED
from medbill.models.status import ClaimStatus as S
from medbill.ports import Artifacts, ClaimStore, ConcurrentUpdate, EligibilityAnswers, EligibilityGateway, Workflow
from medbill.workflow import eligibility, eligibility_cache
from medbill.workflow.results import (
    AlreadyAdjudicated,
    Charged,
    Decision,
    Failed,
    Parked,
    Registered,
    Routed,
    Submitted,
)

_AFTER_REGISTRATION = set(S) - {S.RECEIVED}
_AFTER_ELIGIBILITY = set(S) - {S.RECEIVED, S.REGISTERED, S.ELIGIBILITY_HOLD}
_AFTER_CODING = _AFTER_ELIGIBILITY - {S.ELIGIBLE, S.CODING_HOLD}
_AFTER_CHARGES = _AFTER_CODING - {S.CODED}
_AFTER_SUBMISSION = _AFTER_CHARGES - {S.CHARGED}


# --- 1. patient registration ----------------------------------------------------------------
def patient_match_key(claim: Claim) -> str:
    """SHA-256 hex of the match key, name + DOB + member id (normalized). It is derived from PHI,
    so it only ever addresses the lookup item in DynamoDB: never returned, logged or recorded."""
    p = claim.encounter.patient
    key = "|".join(
        [
            p.last_name.strip().upper(),
            p.first_name.strip().upper(),
            p.date_of_birth.isoformat(),
            claim.encounter.coverage.member_id.strip().upper(),
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()


def new_patient_id() -> str:
    """A random patient id: "PAT" + 16 base32 characters (80 random bits), nothing derived from the person."""
    return "PAT" + base64.b32encode(secrets.token_bytes(10)).decode()


def patient_id_for(repo: ClaimStore, claim: Claim) -> str:
    """The same person (name + DOB + member id) always gets the same id, through the lookup item:
    its recorded id, else a new random one claimed with a conditional put; when two registrations
    race for a new person, the loser reads and uses the winner's id."""
    key_hash = patient_match_key(claim)
    for _ in range(MAX_LOCK_RETRIES):
        existing = repo.patient_id_for_match_key(key_hash)
        if existing:
            return existing
        patient_id = new_patient_id()
        if repo.claim_patient_key(key_hash, patient_id):
            return patient_id
    raise ConcurrentUpdate(claim.claim_id)


def register(repo: ClaimStore, claim_id: str) -> Registered:
    def step(claim: Claim) -> Registered:
        if claim.status in _AFTER_REGISTRATION:
            return Registered(patient_id=claim.patient_id)
        enc = claim.encounter
        patient_id = patient_id_for(repo, claim)
        record = {
            "patient": enc.patient.model_dump(mode="json"),
            "coverages": [
                {
                    **enc.coverage.model_dump(mode="json"),
                    "relationship": enc.subscriber.relationship,
                    "subscriber": enc.subscriber.person.model_dump(mode="json") if enc.subscriber.person else None,
                }
            ],
            "clinic_id": claim.clinic_id,
        }
        new = repo.upsert_patient(patient_id, record)
        save_claim(
            repo,
            claim.model_copy(update={"patient_id": patient_id}),
            actor="registration",
            new_status=S.REGISTERED,
            detail={"patient_id": patient_id, "new_patient": new},
        )
        return Registered(patient_id=patient_id)

    return with_lock_retry(repo, claim_id, step)


# --- 2. insurance verification --------------------------------------------------------------
def eligibility_rule(reason: str | None) -> str:
    """The rule id an eligibility hold carries into the execution: "coverage_inactive" ->
    "ELIG-COVERAGE-INACTIVE" (the reason text, with the payer and date, stays on the claim)."""
    return "ELIG-" + (reason or "unknown").upper().replace("_", "-")


def verify_eligibility(
    repo: ClaimStore,
    gateway: EligibilityGateway,
    claim_id: str,
    fee_schedules: Callable[[str], FeeSchedule] | None = None,
    now: Callable[[], datetime] = utcnow,
    answers: EligibilityAnswers | None = None,
) -> Decision:
    """Ask the payer (270/271 through the gateway); store what it found on the claim; hold with a
    reason (rule id, codes, payer id, dates: no PHI) when the visit is not covered as billed, or
    when nobody answered (then `eligibility_retry_at` says when the schedule asks again)."""

    def step(claim: Claim) -> Decision:
        if claim.status in _AFTER_ELIGIBILITY:
            return Decision(decision="eligible", rules=[])
        result = _today_or_ask(claim, gateway, answers, now())
        payer_id = claim.encounter.coverage.payer_id
        update: dict[str, Any] = {
            "coverage": eligibility.coverage_found(result, payer_id) if result.reason != "unavailable" else None,
            "eligibility_retry_at": None,
        }
        detail: dict[str, Any] = {"plan": result.plan, "copay": str(result.copay) if result.copay is not None else None}
        if result.correction is not None:
            claim = eligibility.apply_correction(claim, result.correction)
            detail["identity_corrected"] = result.correction.fields  # names of fields, never values
        if result.active:
            estimate = eligibility.estimate_for(claim, result, fee_schedules)
            update |= {"hold_reasons": [], "copay": result.copay, "patient_estimate": estimate}
            if estimate is not None:
                detail["patient_estimate"] = str(estimate.amount)
            save_claim(repo, claim.model_copy(update=update), actor="eligibility", new_status=S.ELIGIBLE, detail=detail)
            return Decision(decision="eligible", rules=[])
        retry_at = eligibility.retry_time(result, now())
        reason = eligibility.hold_reason(result, claim, retry_at)
        update |= {"hold_reasons": [reason], "eligibility_retry_at": retry_at}
        detail = {"reason_code": result.reason, "aaa": list(result.rejection_codes)} | (
            {"identity_corrected": detail["identity_corrected"]} if "identity_corrected" in detail else {}
        )
        save_claim(
            repo, claim.model_copy(update=update), actor="eligibility", new_status=S.ELIGIBILITY_HOLD, detail=detail
        )
        return Decision(decision="hold", rules=[eligibility_rule(result.reason)])

    return with_lock_retry(repo, claim_id, step)


def _today_or_ask(
    claim: Claim, gateway: EligibilityGateway, answers: EligibilityAnswers | None, now: datetime
) -> EligibilityResult:
    """Today's kept answer for this member + payer + DOS when it covers the visit's service type,
    else the payer's. Not on a person's recheck (they fixed something and want a fresh answer), but
    yes on a claim held because the payer did not answer: an answer kept since (a batch 271, another
    claim's check) is the answer it waited for (unanswered checks are never kept)."""
    if answers is None:
        return gateway.verify(eligibility.inquiry_for(claim))
    cov = claim.encounter.coverage
    key, day = eligibility_cache.answer_key(cov.payer_id, cov.member_id, claim.encounter.date_of_service), now.date()
    waited = claim.status == S.ELIGIBILITY_HOLD and claim.eligibility_retry_at is not None
    use_kept = claim.status != S.ELIGIBILITY_HOLD or waited
    record = answers.cached_eligibility(key, day.isoformat()) if use_kept else None
    if record is not None and eligibility_cache.covers(record, eligibility.visit_service_type(claim)):
        return eligibility_cache.from_record(record)
    result = gateway.verify(eligibility.inquiry_for(claim))
    if eligibility_cache.cacheable(result):
        answers.cache_eligibility(key, day.isoformat(), eligibility_cache.to_record(result))
    return result


# --- 3. medical coding ----------------------------------------------------------------------
def code(repo: ClaimStore, fee_schedules: Callable[[str], FeeSchedule], claim_id: str) -> Decision:
    def step(claim: Claim) -> Decision:
        if claim.status in _AFTER_CODING:
            return Decision(decision="coded", rules=[])
        try:
            schedule: FeeSchedule | None = fee_schedules(claim.clinic_id)
        except FeeScheduleNotFound:
            schedule = None  # the scrubber holds the claim: "no fee schedule for clinic ..."
        scrubbed = scrub(claim.encounter, default_references(), schedule)
        reasons = scrubbed.reasons
        if reasons:
            save_claim(
                repo,
                claim.model_copy(update={"hold_reasons": reasons}),
                actor="coding",
                new_status=S.CODING_HOLD,
                detail={"edits_failed": len(reasons), "reference_data": scrubbed.versions},
            )
            return Decision(decision="hold", rules=list(dict.fromkeys(f.rule_id for f in scrubbed.holds)))
        save_claim(
            repo,
            claim.model_copy(update={"hold_reasons": []}),
            actor="coding",
            new_status=S.CODED,
            detail={"reference_data": scrubbed.versions},  # which code sets were in force, never the codes
        )
        return Decision(decision="coded", rules=[])

    return with_lock_retry(repo, claim_id, step)


# --- 4. charge entry ------------------------------------------------------------------------
def enter_charges(repo: ClaimStore, fee_schedules: Callable[[str], FeeSchedule], claim_id: str) -> Charged:
    def step(claim: Claim) -> Charged:
        if claim.status in _AFTER_CHARGES:
            return Charged(total_charge=f"{claim.total_charge:.2f}")
        schedule = fee_schedules(claim.clinic_id)
        priced = schedule.price_lines(claim.encounter)
        lines = [
            line.model_copy(update={"charge": charge})
            for line, charge in zip(claim.lines, priced.line_charges, strict=True)
        ]
        saved = save_claim(
            repo,
            claim.model_copy(update={"lines": lines, "total_charge": priced.total}),
            actor="charges",
            new_status=S.CHARGED,
            detail={"total_charge": f"{priced.total:.2f}", "lines": len(lines)},
        )
        return Charged(total_charge=f"{saved.total_charge:.2f}")

    return with_lock_retry(repo, claim_id, step)


# --- 5. claim submission --------------------------------------------------------------------
@dataclass
class Submitter:
    """Writes the 837P for a claim; the X12 writer and the envelope settings live behind it."""

    write: Callable[[Claim, int, datetime], str]  # (claim, control number, created) -> 837P text
    outbox_prefix: str


def submit(repo: ClaimStore, store: Artifacts, submitter: Submitter, claim_id: str) -> Submitted:
    def step(claim: Claim) -> Submitted:
        if claim.status in _AFTER_SUBMISSION:
            return Submitted(interchange_control_number=claim.interchange_control_number)
        # Reserve the control number, outbox key and creation time on the claim before writing the
        # file: a retry (timeout, lost race) finds them and writes the same bytes to the same key, so
        # a file the clearinghouse exchange may already have sent is never changed and its control
        # number never serves another file.
        if not claim.interchange_control_number or claim.filing is None:
            claim = _reserve_filing(repo, submitter, claim)
        filing = claim.filing
        assert filing is not None  # reserved above
        text = submitter.write(claim, int(filing.interchange_control_number), filing.written_at)
        store.write(filing.outbox_key, text, "application/edi-x12")
        save_claim(repo, claim, actor="submission", new_status=S.SUBMITTED, detail={"outbox_key": filing.outbox_key})
        return Submitted(interchange_control_number=filing.interchange_control_number)

    return with_lock_retry(repo, claim_id, step)


def _reserve_filing(repo: ClaimStore, submitter: Submitter, claim: Claim) -> Claim:
    """The claim with its control numbers, outbox key and creation time saved (one 837P per claim:
    ISA13 = GS06 = ST02 = one counter draw, as entry.wiring writes it). The interchange is recorded
    so a 999, which names GS06 and ST02 only, finds the claim."""
    number = int(claim.interchange_control_number or repo.next_counter("x12-interchange"))
    control = str(number).zfill(9)
    key = claim.outbox_key or f"{submitter.outbox_prefix}{claim.claim_id}-{control}.x12"
    filing = Filing(
        outbox_key=key,
        interchange_control_number=control,
        group_control_number=str(number),
        transaction_control_number=f"{number:04d}",
        written_at=utcnow().replace(microsecond=0),
    )
    repo.record_interchange(number, claim.claim_id)
    return repo.save(
        claim.model_copy(update={"interchange_control_number": control, "outbox_key": key, "filing": filing}),
        actor="submission",
        detail={"interchange_control_number": control, "reserved": True},
    )


# --- waits: park a task token on the claim --------------------------------------------------
def park_task_token(
    repo: ClaimStore, workflow: Workflow, claim_id: str, wait: str, stage: str, token: str
) -> Parked | AlreadyAdjudicated:
    """Store the execution's task token so the remittance stage or a person can resume it.

    If the claim is already past a remittance wait (`_past_remittance_wait`), resume at once.
    """

    def step(claim: Claim) -> Parked | AlreadyAdjudicated:
        outcome = _past_remittance_wait(claim) if wait == "remittance" else None
        if outcome is not None:
            workflow.resume(token, {"outcome": outcome})
            repo.save(claim.model_copy(update={"task_token": None}), actor="await", detail={"resumed": True})
            return AlreadyAdjudicated(outcome=outcome)
        new_status = S.AWAITING_REMITTANCE if wait == "remittance" and claim.status == S.SUBMITTED else None
        save_claim(
            repo,
            claim.model_copy(update={"task_token": token}),
            actor="await",
            new_status=new_status,
            detail={"wait": wait, "stage": stage},
        )
        return Parked()

    return with_lock_retry(repo, claim_id, step)


def _past_remittance_wait(claim: Claim) -> str | None:
    """The outcome to resume a remittance wait with at once, when nothing else would resume it:
    - the 835 was posted before the wait began (files can beat the workflow);
    - a 999 / 277CA rejected the claim first (workflow.acknowledgements);
    - a retry of a claim that failed in or after its follow-up stage (FOLLOW_UP): the wait is long
      over; the follow-up stage keeps what it decided (follow_up)."""
    if claim.status in POSTED and claim.remittance_outcome:
        return claim.remittance_outcome
    if claim.status == S.REJECTED:
        return "rejected"
    if claim.status == S.FOLLOW_UP:
        return claim.remittance_outcome or ("rejected" if claim.rejection_reason else "timed_out")
    return None


# --- 7. follow-up ---------------------------------------------------------------------------
# What a person should do next, by outcome and the adjustment rules (medbill.billing.followup).
def follow_up(repo: ClaimStore, claim_id: str, outcome: str) -> Routed:
    from medbill.billing.followup import decide
    from medbill.workflow.followup import follow_up_context

    def step(claim: Claim) -> Routed:
        if claim.status == S.FOLLOW_UP:
            return Routed(status=claim.status.value, action=claim.follow_up_action)
        effective = outcome
        if outcome == "timed_out" and claim.remittance_outcome:
            # The 835 was posted just as the wait ran out: follow up on what the payer said.
            effective = claim.remittance_outcome
            if effective == "paid":
                return Routed(status=claim.status.value, action=None)
        decided = decide(claim, effective, follow_up_context(repo, claim))
        remittance_outcome: RemittanceOutcome | None = claim.remittance_outcome
        if effective == "timed_out":
            remittance_outcome = "timed_out"
        saved = save_claim(
            repo,
            claim.model_copy(
                update={
                    "follow_up_reason": decided.reason,
                    "follow_up_action": decided.action,
                    "follow_up_category": decided.category,
                    "follow_up_amount": decided.amount,
                    "follow_up_due": decided.due,
                    "follow_up_since": utcnow(),
                    "task_token": None,
                    "remittance_outcome": remittance_outcome,
                }
            ),
            actor="followup",
            new_status=S.FOLLOW_UP,
            detail={"outcome": effective, "action": decided.action, "category": decided.category},
        )
        return Routed(status=saved.status.value, action=decided.action)

    return with_lock_retry(repo, claim_id, step)


class NotOnHold(Exception):
    """The claim is not waiting on a person (no hold, or its wait already ended)."""


def recheck_hold(repo: ClaimStore, workflow: Workflow, claim_id: str, actor: str) -> dict[str, Any]:
    """A person fixed what held the claim (coverage reinstated, fee schedule or code set updated):
    resume its execution, which runs the stage that held it again."""

    claim = repo.get_claim(claim_id)
    if claim.status not in HOLD_STATUSES or not claim.task_token:
        raise NotOnHold(f"claim {claim.claim_id} is {claim.status.value}, not waiting on a hold")
    token = claim.task_token
    # Resume first: the token stays on the claim until SendTaskSuccess has succeeded, so a failed call
    # (throttled, Step Functions unavailable) leaves the hold as it was and the person can try again.
    resumed = workflow.resume(token, {"rechecked": True})

    def clear(current: Claim) -> None:
        if current.task_token == token:  # the resumed stage may already have parked a new one
            detail = {"recheck_by": actor} if resumed else {"hold_ended": True}
            repo.save(current.model_copy(update={"task_token": None}), actor=actor, detail=detail)

    with_lock_retry(repo, claim_id, clear)
    if not resumed:
        raise NotOnHold(f"claim {claim.claim_id}: its hold already ended")
    return {"claim_id": claim.claim_id, "status": claim.status.value, "rechecked": True}


def fail(repo: ClaimStore, claim_id: str, error: str) -> Failed:
    """The workflow caught an error it cannot handle: make it visible on the claim."""

    def step(claim: Claim) -> Failed:
        if claim.status in (S.FAILED, S.CLOSED):
            return Failed(status=claim.status.value)
        # Error names only (e.g. "States.TaskFailed", "Lambda.Unknown"): causes can quote data.
        code = error[:100]
        # The status it failed from is where a staff retry (workflow.recovery) puts it back.
        update: dict[str, Any] = {"hold_reasons": [f"workflow error: {code}"], "task_token": None}
        update |= {"failed_from": claim.status, "failure": code}
        save_claim(
            repo,
            claim.model_copy(update=update),
            actor="workflow",
            new_status=S.FAILED,
            detail={"error": code, "failed_from": claim.status.value, "attempt": claim.attempt},
        )
        return Failed(status=S.FAILED.value)

    return with_lock_retry(repo, claim_id, step)
