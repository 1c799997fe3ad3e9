"""Acknowledgements drive claims: the 999s and 277CAs the clearinghouse exchange fetched into
`acks/999/` and `acks/277ca/`, read and applied to the claims they answer.

- A 999 names our GS06 (AK102) and ST02 (AK202), never a claim: the claims are found through the
  interchange each 837P recorded at submission (ClaimStore.claims_for_interchange; ISA13 = GS06).
  A transaction rejected (IK5 R/M/W/X, or a group rejected whole by AK9) rejects every claim in it,
  with the IK3/IK4 errors (segment, position, loop, element and their codes: never the bad value).
  Accepted with errors (IK5 E) rejects only for payers that treat it so (`errors_reject`).
- A 277CA names each claim (TRN02 = CLM01): A1/A2 (A0, A5) accept it, keeping the payer's claim
  control number (REF*1K); A3/A4/A6/A7/A8 reject it with the status codes in words.

Every acknowledgement is recorded on the claim (proof of filing: file, time, verdict), once per file.
A rejected claim whose execution waits for remittance is resumed at once with outcome "rejected"
(the state machine routes it to follow-up, correct_and_resubmit); an accepted one keeps waiting.
Summaries and reasons carry ids and codes only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from medbill.billing.claim_updates import save_claim, with_lock_retry
from medbill.models.claim import AckKind, Acknowledgement, Claim
from medbill.models.common import utcnow
from medbill.models.status import AWAITING, ClaimStatus
from medbill.ports import Artifacts, ClaimStore, Workflow
from medbill.prefixes import ACK_277CA_PREFIX, ACK_999_PREFIX
from medbill.x12.ack277ca import REJECTED_CATEGORIES, ClaimAck, StatusCode, read_277ca
from medbill.x12.ack999 import GroupAck, SegmentError, TransactionAck, read_999_groups
from medbill.x12.status_codes import describe

__all__ = ["AckFileSummary", "ack_kind", "apply_acknowledgement", "receive_ack_file"]

Applied = Literal["accepted", "rejected", "recorded", "duplicate", "unknown_claim"]

# IK304 (segment syntax error) and IK403 (element syntax error), X12 999 code lists, in words.
IK304 = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}
IK403 = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing",
    "I10": "implementation 'not used' data element present",
    "I11": "implementation too few repetitions",
    "I12": "implementation pattern match failure",
    "I13": "implementation dependent 'not used' data element present",
}


@dataclass
class AckFileSummary:
    """What one acknowledgement file did (ids, counts and codes only)."""

    key: str
    kind: AckKind
    claims: dict[str, Applied] = field(default_factory=dict)  # claim id -> what happened
    resumed: list[str] = field(default_factory=list)  # claims whose execution went to follow-up
    problems: list[str] = field(default_factory=list)

    def count(self, applied: Applied) -> int:
        return sum(1 for a in self.claims.values() if a == applied)


def ack_kind(key: str) -> AckKind | None:
    if key.startswith(ACK_999_PREFIX):
        return "999"
    if key.startswith(ACK_277CA_PREFIX):
        return "277CA"
    return None


def receive_ack_file(
    repo: ClaimStore,
    store: Artifacts,
    workflow: Workflow,
    key: str,
    *,
    errors_reject: Callable[[str], bool] = lambda _payer_id: False,
    received_at: datetime | None = None,
) -> AckFileSummary:
    """Read the 999 or 277CA at `key` and apply it to each claim it answers. Safe to run twice."""
    kind = ack_kind(key)
    if kind is None:
        raise ValueError(f"not an acknowledgement key: {key}")
    text = store.read(key).decode("utf-8", errors="replace")
    when = received_at or utcnow()
    summary = AckFileSummary(key=key, kind=kind)
    if kind == "999":
        for claim_id, ack in _from_999(repo, text, key, when, errors_reject, summary):
            _apply(repo, workflow, claim_id, ack, summary)
    else:
        for claim_id, ack in _from_277ca(text, key, when, summary):
            _apply(repo, workflow, claim_id, ack, summary)
    return summary


# --- 999 ----------------------------------------------------------------------------------------
def _from_999(
    repo: ClaimStore,
    text: str,
    key: str,
    when: datetime,
    errors_reject: Callable[[str], bool],
    summary: AckFileSummary,
) -> list[tuple[str, Acknowledgement]]:
    groups, problems = read_999_groups(text)
    summary.problems += problems
    out: list[tuple[str, Acknowledgement]] = []
    for group in groups:
        claim_ids = _claims_of_group(repo, group, summary)
        for claim_id in claim_ids:
            transaction = _transaction_for(group, claim_id, claim_ids)
            out.append((claim_id, _ack_999(repo, group, transaction, claim_id, key, when, errors_reject)))
    return out


def _claims_of_group(repo: ClaimStore, group: GroupAck, summary: AckFileSummary) -> list[str]:
    try:
        number = int(group.group_control_number)
    except ValueError:
        summary.problems.append(f"AK102 is not a control number: {group.group_control_number[:12]!r}")
        return []
    claim_ids = repo.claims_for_interchange(number)
    if not claim_ids:
        summary.problems.append(f"999 answers group {number}, which no claim of ours was sent in")
    return claim_ids


def _transaction_for(group: GroupAck, claim_id: str, claim_ids: list[str]) -> TransactionAck | None:
    """The AK2 loop that answers this claim: the one whose errors name it (CTX), else the group's
    only transaction (our 837Ps carry one claim, one transaction), else none (answered as a whole)."""
    for t in group.transactions:
        if any(e.claim_id == claim_id for e in t.segment_errors):
            return t
    if len(group.transactions) == 1 or (group.transactions and len(claim_ids) == 1):
        return group.transactions[0]
    return None


def _ack_999(
    repo: ClaimStore,
    group: GroupAck,
    t: TransactionAck | None,
    claim_id: str,
    key: str,
    when: datetime,
    errors_reject: Callable[[str], bool],
) -> Acknowledgement:
    if t is None:
        codes = [f"AK9:{group.ak9_code}", *(f"AK905:{c}" for c in group.error_codes)]
        if not group.rejected:
            return Acknowledgement(kind="999", key=key, received_at=when, verdict="accepted", codes=codes)
        words = f"999 rejected functional group {group.group_control_number} (AK9 {group.ak9_code})"
        return Acknowledgement(kind="999", key=key, received_at=when, verdict="rejected", codes=codes, reason=words)
    codes = [f"IK5:{t.ik5_code}", *(f"IK502:{c}" for c in t.error_codes)]
    errors = [e for e in t.segment_errors if e.claim_id in (None, claim_id)]
    codes += [c for e in errors for c in _error_codes(e)]
    status = t.status
    if status == "accepted_with_errors" and errors_reject(repo.get_claim(claim_id).payer_id):
        status = "rejected"
    reason: str | None = None
    if status == "rejected":
        words = "; ".join(_error_words(e) for e in errors) or "no segment errors given"
        reason = f"999 rejected transaction {t.control_number} (IK5 {t.ik5_code}): {words}"
    return Acknowledgement(kind="999", key=key, received_at=when, verdict=status, codes=codes, reason=reason)


def _error_codes(e: SegmentError) -> list[str]:
    elements = [f"IK4:{x.position}:{x.code}" for x in e.elements]
    return [f"IK3:{e.segment_id}:{e.position}:{e.loop_id}:{e.code}", *elements]


def _error_words(e: SegmentError) -> str:
    where = f"segment {e.segment_id} at position {e.position}" + (f" in loop {e.loop_id}" if e.loop_id else "")
    words = f"{where}: {IK304.get(e.code, f'IK304 {e.code}')}"
    for x in e.elements:
        ref = f" (element {x.element_ref})" if x.element_ref else ""
        words += f", {e.segment_id}{x.position.split(':')[0].zfill(2)}{ref} {IK403.get(x.code, f'IK403 {x.code}')}"
    return words


# --- 277CA --------------------------------------------------------------------------------------
def _from_277ca(text: str, key: str, when: datetime, summary: AckFileSummary) -> list[tuple[str, Acknowledgement]]:
    ack = read_277ca(text)
    summary.problems += ack.envelope_problems + ack.problems
    above = [
        c for lv in ack.rejected_levels for st in lv.statuses for c in st.codes if c.category in REJECTED_CATEGORIES
    ]
    if ack.rejected_levels and not ack.claims:
        summary.problems.append("277CA rejects above the claims and lists no claim")
    return [(c.claim_id, _ack_277ca(c, key, when, above)) for c in ack.claims]


def _ack_277ca(c: ClaimAck, key: str, when: datetime, above: list[StatusCode]) -> Acknowledgement:
    codes = c.codes
    if c.outcome == "rejected":
        # The claim's own rejecting codes, else those of the level above that rejected it (batch, provider).
        rejecting = [s for st in c.statuses for s in st.codes if s.category in REJECTED_CATEGORIES] or above
        reason = "277CA rejected: " + "; ".join(describe(s.category, s.code, s.entity) for s in rejecting)
        codes = codes if rejecting is not above else [*codes, *(str(s) for s in above)]
        return Acknowledgement(kind="277CA", key=key, received_at=when, verdict="rejected", codes=codes, reason=reason)
    verdict: Literal["accepted", "pending"] = "accepted" if c.outcome == "accepted" else "pending"
    return Acknowledgement(
        kind="277CA",
        key=key,
        received_at=when,
        verdict=verdict,
        codes=codes,
        payer_claim_number=c.payer_claim_number,
    )


# --- applying one acknowledgement to one claim --------------------------------------------------
def apply_acknowledgement(
    repo: ClaimStore, workflow: Workflow, claim_id: str, ack: Acknowledgement
) -> tuple[Applied, bool]:
    """Record `ack` on the claim and move its status: REJECTED (and its waiting execution resumed
    towards follow-up) or ACCEPTED; a claim past its wait only records it. Once per file (the key).
    Returns what happened and whether an execution was resumed."""
    if not repo.claim_exists(claim_id):
        return "unknown_claim", False

    def step(claim: Claim) -> tuple[Applied, str | None]:
        if any(a.kind == ack.kind and a.key == ack.key for a in claim.acknowledgements):
            return "duplicate", None
        update: dict[str, object] = {"acknowledgements": [*claim.acknowledgements, ack]}
        new_status: ClaimStatus | None = None
        token = None
        if ack.verdict == "rejected" and claim.status in AWAITING:
            new_status, token = ClaimStatus.REJECTED, claim.task_token
            update.update(rejection_reason=ack.reason, task_token=None)
        elif ack.kind == "277CA" and ack.verdict == "accepted" and claim.status in AWAITING:
            new_status = ClaimStatus.ACCEPTED
            if ack.payer_claim_number:
                update["payer_claim_number"] = ack.payer_claim_number
        save_claim(
            repo,
            claim.model_copy(update=update),
            actor="acknowledgements",
            new_status=new_status,
            detail={"kind": ack.kind, "key": ack.key, "verdict": ack.verdict, "codes": ack.codes},
        )
        applied: Applied = "recorded" if new_status is None else ack.verdict  # type: ignore[assignment]
        return applied, token

    applied, token = with_lock_retry(repo, claim_id, step)
    # After the save: a retry of this message finds the acknowledgement recorded and resumes nothing
    # twice; a token already ended (the wait timed out) says False.
    return applied, token is not None and workflow.resume(token, {"outcome": "rejected"})


def _apply(repo: ClaimStore, workflow: Workflow, claim_id: str, ack: Acknowledgement, summary: AckFileSummary) -> None:
    applied, resumed = apply_acknowledgement(repo, workflow, claim_id, ack)
    summary.claims[claim_id] = applied
    if resumed:
        summary.resumed.append(claim_id)
