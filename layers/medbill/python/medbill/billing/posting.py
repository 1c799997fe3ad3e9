"""Payment posting: one ERA claim payment -> one DynamoDB transaction on the claim.

The transaction holds the claim (conditional on its version), its audit event, the ledger entry
(conditional on its source not existing: the same remittance never posts twice) and the ERA's
result for that claim payment. Claim totals are recomputed from the whole ledger, so the ledger
and the claim can never disagree.

CLP02: 1/2/3 processed (19/20/21: and forwarded) post as payments, or as denials when nothing
was paid; 4 denied; 22 reversal undoes the entry it mirrors with the same payer claim number
(CLP07), or is held until that entry arrives; 23 not our claim; 25 predetermination (no money,
no status). Coordination of benefits: the patient balance is the PR of the last payer in the
sequence that adjudicated, and a later payer's CARC 23 (prior payers' adjudication) is no
write-off of its own, so charge = paid + adjustments + patient balance holds across payers. At one
payer level a later adjudication (by ERA payment date) supersedes earlier ones of the same service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from medbill.adapters.dynamodb.repository import ClaimRepository, claim_pk
from medbill.adapters.stepfunctions import WorkflowGateway
from medbill.billing.followup import AWAIT_CROSSOVER, crossover_reason
from medbill.billing.matching import match_lines
from medbill.models.claim import Adjustment, Claim, RemittanceOutcome
from medbill.models.common import utcnow
from medbill.models.remittance import (
    DENIED,
    FORWARDED,
    NOT_OUR_CLAIM,
    PAYER_SEQUENCE,
    PREDETERMINATION,
    PRIOR_PAYER_CARCS,
    PROCESSED,
    REVERSAL,
    ClaimRemittance,
    LedgerEntry,
    LedgerKind,
    RemitAdjustment,
)
from medbill.models.status import ALLOWED_TRANSITIONS, POSTED, ClaimStatus
from medbill.ports import AlreadyPosted, ClaimNotFound, StaleItem
from medbill.workflow.stages import with_lock_retry

if TYPE_CHECKING:
    from collections.abc import Sequence

ZERO = Decimal("0.00")
UNMATCHED_STATUS = "UNMATCHED_REMITTANCE"  # work-queue status in the by-status index

# "not_posted" is era.NOT_POSTED: the reconciliation leaves its amount out, so the ERA does not reconcile.
Result = Literal["posted", "already_posted", "unmatched", "held", "recorded", "not_posted"]


@dataclass
class PostingResult:
    claim_id: str
    era_id: str
    position: int
    result: Result
    outcome: RemittanceOutcome | None = None
    resumed: bool = False
    notes: list[str] = field(default_factory=list)
    # What a person should know (ids and codes only): also on the ERA's result and the audit event.
    problems: list[str] = field(default_factory=list)


def kind_of(remit: ClaimRemittance) -> LedgerKind:
    code = remit.status_code
    if code == REVERSAL:
        return "reversal"
    if code == DENIED:
        return "denial"
    if code == NOT_OUR_CLAIM:
        return "not_our_claim"
    if code == PREDETERMINATION:
        return "predetermination"
    later = PAYER_SEQUENCE.get(code, 1) > 1
    if code in PROCESSED and remit.paid == ZERO and any(_payer_side(a, later) for a in remit.all_adjustments()):
        return "denial"  # processed, nothing paid, the payer adjusted it away (not just to the patient)
    return "payment"


def _contractual(adj: RemitAdjustment | Adjustment) -> bool:
    return adj.group == "CO" and adj.reason == "45"


def _prior_payer(adj: RemitAdjustment | Adjustment) -> bool:
    """A later payer's reference to what the prior payers paid and wrote off (CARC 23)."""
    return adj.group != "PR" and adj.reason in PRIOR_PAYER_CARCS


def _payer_side(adj: RemitAdjustment, later_payer: bool = False) -> bool:
    """An adjustment that is neither the patient's share nor the contractual write-down (nor, from
    a secondary or tertiary, its account of the prior payers' adjudication)."""
    if later_payer and _prior_payer(adj):
        return False
    return bool(adj.amount) and adj.group != "PR" and not _contractual(adj)


def outcome_of(
    kind: LedgerKind, adjustments: Sequence[RemitAdjustment | Adjustment], paid: Decimal
) -> RemittanceOutcome | None:
    if kind == "reversal":
        return "reversed"
    if kind == "denial":
        return "denied"
    if kind == "not_our_claim":
        return "not_our_claim"
    if kind == "predetermination":
        return None
    # Contractual CO-45 alone is a normal full payment under contract; anything else is short
    # (a claim paid entirely to the deductible is short-paid: the patient owes it, it is not denied).
    shortfall = [a for a in adjustments if a.amount and not _contractual(a)]
    prior_payers_only = bool(shortfall) and all(_prior_payer(a) for a in shortfall)
    # Nothing paid and nothing owed by the patient is a denial, unless all that is missing is the
    # prior payers' share a later payer referred to (a secondary paying 0 is not a denial).
    if paid == ZERO and not any(a.group == "PR" and a.amount for a in adjustments) and not prior_payers_only:
        return "denied"
    return "short_paid" if shortfall else "paid"


STATUS_FOR: dict[str, ClaimStatus] = {
    "paid": ClaimStatus.PAID,
    "short_paid": ClaimStatus.SHORT_PAID,
    "denied": ClaimStatus.DENIED,
    "not_our_claim": ClaimStatus.DENIED,  # no status of its own; the outcome and follow-up tell it apart
    "reversed": ClaimStatus.REVERSED,
}


@dataclass(frozen=True)
class PaymentFacts:
    """What the ERA record of a payment says about it (the posting message does not carry it)."""

    payer: str  # TRN03 / payer id: which payer sent it
    date: str  # BPR16 CCYYMMDD ("" when the payer sent none)


Payments = Mapping[str, PaymentFacts]  # by payment key (payer + TRN02)


def _payer(e: LedgerEntry, payments: Payments | None) -> str | None:
    facts = (payments or {}).get(_payment_of(e))
    return facts.payer or None if facts else None


def payer_levels(entries: Sequence[LedgerEntry], payments: Payments | None = None) -> dict[str, int]:
    """Each entry's place in the payer sequence (1 primary, 2 secondary, 3 tertiary), by source.
    A reversal takes the place of the entry it undoes.

    CLP02 4 does not say which payer denied. In order: the level that payer holds on this claim by
    its CLP02 1/2/3 (19/20/21) postings; a later one (2) when it cites the prior payers' adjudication
    (CARC 23); the lowest level no other payer of the claim holds (a primary paid and a different
    payer denies: the secondary); when the payer is not known, primary: with a primary payment
    standing, a CLP02 4 citing no CARC 23 is far more often that payer re-adjudicating (appeal,
    corrected claim) than a secondary, and the later adjudication then supersedes the earlier."""
    by_source = {e.source: e for e in entries}
    held: dict[str, set[int]] = defaultdict(set)  # payer -> levels it adjudicated at
    for e in entries:
        payer = _payer(e, payments)
        if payer and e.status_code in PAYER_SEQUENCE:
            held[payer].add(PAYER_SEQUENCE[e.status_code])

    def own(e: LedgerEntry) -> int:
        if e.status_code in PAYER_SEQUENCE:
            return PAYER_SEQUENCE[e.status_code]
        payer = _payer(e, payments)
        if payer and held.get(payer):
            return min(held[payer])
        if any(_prior_payer(a) for a in e.adjustments):
            return 2
        if payer:
            taken = set().union(*(levels for other, levels in held.items() if other != payer))
            return min((n for n in (1, 2, 3) if n not in taken), default=3)
        return 1

    out: dict[str, int] = {}
    for e in entries:
        target = by_source.get(e.reverses) if e.kind == "reversal" and e.reverses else None
        out[e.source] = own(target) if target is not None else own(e)
    return out


def _in_force(e: LedgerEntry) -> bool:
    """An adjudication still standing: not a reversal, not reversed, not a payer disowning the claim."""
    return e.kind in ("payment", "denial") and e.reversed_by is None


def adjudication_order(e: LedgerEntry, payments: Payments | None = None) -> tuple[str, str, int, str, int]:
    """Which of two adjudications is the later one, whatever order their messages landed in: the
    ERA payment date (BPR16), then the payment (payer + trace), then within one payment file order
    (the CLP's segment position; for entries written before it was kept, the source's last part,
    which counts occurrences of the same CLP01/CLP02/CLP07 in file order). The posting message
    carries no payment date, so it comes from the payment's ERA record; without one (a unit test, a
    record gone) the posting day stands in for it."""
    facts = (payments or {}).get(_payment_of(e))
    day = facts.date if facts and len(facts.date) == 8 and facts.date.isdigit() else ""
    stem, _, occurrence = e.source.rpartition("#")
    nth = int(occurrence) if occurrence.isdigit() else 0
    return (day or e.posted_at[:10].replace("-", ""), _payment_of(e), e.position, stem, nth)


def _covered_lines(e: LedgerEntry) -> set[int]:
    return {lp.claim_line_number for lp in e.lines if lp.claim_line_number is not None}


def superseded_by(
    entries: Sequence[LedgerEntry], payments: Payments | None = None, levels: dict[str, int] | None = None
) -> dict[str, str]:
    """Standing adjudications a later one at the same payer level replaced: source -> source of the
    one that superseded it. A payer that denied and later paid (after a corrected claim or an appeal)
    rarely reverses its denial first; counting both would bill 300.00 of a 150.00 claim. Two cover the
    same service when their matched lines overlap or either is claim-level (no matched lines); a
    payer's split claim (MA15) covers disjoint lines and both count. Superseded entries stay on the
    ledger, out of the totals."""
    levels = levels if levels is not None else payer_levels(entries, payments)
    # A claim payment that bills no charge (CLP03 0.00: a payer's negative or supplemental amount on an
    # earlier adjudication) adjusts that adjudication rather than replacing it: it always counts.
    standing = sorted(
        (e for e in entries if _in_force(e) and e.counts_toward_claim and e.charge),
        key=lambda e: adjudication_order(e, payments),
    )
    out: dict[str, str] = {}
    for i, earlier in enumerate(standing):
        lines = _covered_lines(earlier)
        for later in standing[i + 1 :]:
            if levels[later.source] != levels[earlier.source]:
                continue
            other = _covered_lines(later)
            if not lines or not other or lines & other:
                out[earlier.source] = later.source
                break
    return out


def claim_ledger(repo: ClaimRepository, claim_id: str) -> dict[str, Any]:
    """A claim's money and every posting on its ledger, oldest first, each saying which later
    adjudication superseded it (None while it counts): the staff API's ledger view."""
    claim = repo.get_claim(claim_id)
    entries = sorted(repo.ledger_entries(claim_id), key=lambda e: (e.posted_at, e.source))
    over = superseded_by(entries, payment_facts(repo, entries))
    return {
        "claim_id": claim_id,
        "paid_amount": f"{claim.paid_amount:.2f}",
        "adjustment_amount": f"{claim.adjustment_amount:.2f}",
        "patient_responsibility": f"{claim.patient_responsibility:.2f}",
        "entries": [{**e.model_dump(mode="json"), "superseded_by": over.get(e.source)} for e in entries],
    }


def last_adjudication(entries: Sequence[LedgerEntry], payments: Payments | None = None) -> LedgerEntry | None:
    """The adjudication that decides the claim now: the last payer in the sequence that has one in
    force, its latest (by payment date, whatever order the messages landed in)."""
    levels = payer_levels(entries, payments)
    standing = [e for e in entries if _in_force(e)]
    return max(standing, key=lambda e: (levels[e.source], adjudication_order(e, payments)), default=None)


def claim_totals(claim: Claim, entries: list[LedgerEntry], payments: Payments | None = None) -> dict[str, Any]:
    """Claim money recomputed from its ledger: reversals carry negative amounts, so sums net out.

    Across payers (coordination of benefits): paid is every payer's payment; the patient balance is
    the PR of the last payer that adjudicated (each earlier PR was billed on to the next payer); a
    later payer's CARC 23 is its account of the earlier payers' payments and write-offs, so only
    what it says beyond what those payers posted counts (nothing, when they agree). That keeps
    charge = paid + adjustments + patient balance, to the cent, as the last payer's CLP balances.
    At one payer level a later adjudication supersedes the earlier ones of the same service
    (superseded_by): only the later counts.
    """
    levels = payer_levels(entries, payments)
    superseded = superseded_by(entries, payments, levels)
    counted = [e for e in entries if e.counts_toward_claim and e.source not in superseded]
    # A payer that says the claim is not its own adjudicated nothing: its write-off is no money of ours.
    adjudicated = [e for e in counted if e.kind != "not_our_claim"]
    standing = [e for e in adjudicated if _in_force(e)]
    last = max((levels[e.source] for e in standing), default=0)  # 0: nothing in force, all nets out
    net: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    cited: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)  # the last payer's CARC 23
    own: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)  # the last payer's other adjustments
    earlier: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)  # the earlier payers' adjustments
    before = ZERO  # what the payers before the last one paid and wrote off
    for entry in adjudicated:
        level = levels[entry.source]
        if level < last:
            before += entry.paid
        for adj in entry.adjustments:
            key: tuple[str, str] = (adj.group, adj.reason)
            if adj.group == "PR":
                if last == 0 or level == last:
                    net[key] += adj.amount
            elif level > 1 and _prior_payer(adj):
                if level == last:  # an intermediate payer's reference is superseded by the last one's
                    cited[key] += adj.amount
            else:
                net[key] += adj.amount
                if level < last:
                    before += adj.amount
                    earlier[key] += adj.amount
                elif level == last:
                    own[key] += adj.amount
    if last > 1:
        # The last payer's CLP balances on its own: charge = its paid + its adjustments + its PR, its
        # CARC 23 standing for the earlier payers. What it cites beyond what they posted counts: zero
        # when they agree; the prior payers' share while their remittance has not arrived; negative
        # when it paid part of what an earlier one wrote off (or cites no CARC 23 at all).
        diff = sum(cited.values(), ZERO) - before
        # A secondary that repeats the primary's write-off (its own CO-45 beside OA-23 for the
        # primary's payment only) says it twice: the repeat is what its CARC 23 falls short by.
        for key in sorted(own):
            if diff >= ZERO:
                break
            repeat = min(-diff, own[key], earlier[key])
            if repeat > ZERO:
                net[key] -= repeat
                diff += repeat
        if diff:
            cite = ("OA", "23") if ("OA", "23") in cited or not cited else min(cited)
            net[cite] += diff
    adjustments = [
        Adjustment.model_validate({"group": g, "reason": r, "amount": amount})
        for (g, r), amount in net.items()
        if amount
    ]
    line_paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for entry in counted:
        for lp in entry.lines:
            if lp.claim_line_number is not None:
                line_paid[lp.claim_line_number] += lp.paid
    # Allowed (AMT*B6) from adjudications in force only: a reversal often carries none, so netting
    # would leave the reversed allowed in. Of several payers, the first one's: its allowed is what
    # the contractual write-off is measured against (a later payer's would double it).
    allowed: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    reported: set[int] = set()
    for entry in adjudicated:
        for lp in entry.lines:
            if lp.claim_line_number is None or lp.allowed is None:
                continue
            reported.add(lp.claim_line_number)
            if _in_force(entry):
                allowed[lp.claim_line_number][levels[entry.source]] += lp.allowed
    line_allowed = {n: by_level[min(by_level)] for n, by_level in allowed.items()}
    lines = [
        line.model_copy(
            update={
                "paid_amount": line_paid.get(line.line_number, ZERO),
                # Reported once and all reversed since: nothing allowed in force.
                "allowed_amount": line_allowed.get(line.line_number, ZERO if line.line_number in reported else None),
            }
        )
        for line in claim.lines
    ]
    return {
        "paid_amount": sum((e.paid for e in counted), ZERO),
        "patient_responsibility": sum((a.amount for a in adjustments if a.group == "PR"), ZERO),
        "adjustment_amount": sum((a.amount for a in adjustments if a.group != "PR"), ZERO),
        "adjustments": adjustments,
        "lines": lines,
    }


def payment_facts(repo: ClaimRepository, entries: Sequence[LedgerEntry]) -> dict[str, PaymentFacts]:
    """The payer and payment date of the payments behind the standing adjudications, from their ERA
    records, read only when they can change the totals: a CLP02 4 beside another adjudication (which
    payer denied), or two adjudications at one level (which is the later). Most claims need none."""
    standing = [e for e in entries if _in_force(e)]
    known = [PAYER_SEQUENCE[e.status_code] for e in standing if e.status_code in PAYER_SEQUENCE]
    if len(standing) < 2 or (len(known) == len(standing) and len(set(known)) == len(known)):
        return {}
    out = {}
    for key in sorted({_payment_of(e) for e in entries if e.kind in ("payment", "denial")}):
        header = repo.get_era(key) or {}
        trace = str(header.get("trace_number") or "")
        # No TRN03: the payer part of the key (payer + "-" + TRN02), as the ERA id was made.
        payer = str(header.get("payer_id") or "") or (
            key[: -len(trace) - 1] if trace and key.endswith(f"-{trace}") else ""
        )
        out[key] = PaymentFacts(payer=payer, date=str(header.get("payment_date") or ""))
    return out


def claim_outcome(
    entries: Sequence[LedgerEntry], totals: dict[str, Any], payments: Payments | None = None
) -> RemittanceOutcome:
    """The claim's outcome from its postings in force and its effective totals (all payers)."""
    last = last_adjudication(entries, payments)
    if last is None:
        disowned = any(e.kind == "not_our_claim" and e.reversed_by is None for e in entries)
        return "not_our_claim" if disowned else "reversed"
    if last.status_code == DENIED or (last.kind == "denial" and totals["paid_amount"] == ZERO):
        return "denied"
    return outcome_of("payment", totals["adjustments"], totals["paid_amount"]) or "paid"


def _entry(claim: Claim, remit: ClaimRemittance, kind: LedgerKind, now: str) -> LedgerEntry:
    lines = match_lines(claim, remit.lines, remit.service_date)
    return LedgerEntry(
        source=remit.source,
        kind=kind,
        era_id=remit.era_id,
        posted_at=now,
        status_code=remit.status_code,
        payer_claim_number=remit.payer_claim_number,
        charge=remit.charge,
        paid=remit.paid,
        patient_responsibility=remit.patient_responsibility,
        adjustments=remit.all_adjustments(),
        remarks=remit.remarks,
        lines=lines,
        payment_key=_payment_of(remit),
        forwarded=remit.status_code in FORWARDED,
        position=remit.position,
    )


def _result_sk(remit: ClaimRemittance) -> str:
    """The sort key of this claim payment's result on its ERA (repository.era_result_item)."""
    return f"CLP#{remit.position:07d}"


def _result(
    remit: ClaimRemittance,
    claim_id: str,
    result: Result,
    outcome: str | None = None,
    problems: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "clp01": remit.claim_id,
        "result": result,
        "outcome": outcome,
        "status_code": remit.status_code,
        "charge": f"{remit.charge:.2f}",
        "paid": f"{remit.paid:.2f}",
        "payer_claim_number": remit.payer_claim_number,
        "problems": problems or [],  # per claim payment on the ERA (GET /eras/{id}): ids and codes only
        "recorded_at": utcnow().isoformat(),
    }


def _payment_of(item: ClaimRemittance | LedgerEntry) -> str:
    """Payer + TRN02 of the payment that carried it, whichever file did (era_id of a conflicting
    file is `<payment>~<file id>`)."""
    return item.payment_key or item.era_id.split("~")[0]


def reversal_target(ledger: Sequence[LedgerEntry], remit: ClaimRemittance) -> LedgerEntry | None:
    """The posting a reversal undoes: same payer claim number (CLP07), not reversed yet. A reversal
    and its corrected claim usually come in one payment and may share the CLP07, so a posting of
    the reversal's own payment is taken only if it mirrors the reversal exactly (negated CLP03,
    CLP04, CLP05 and adjustments); otherwise the reversal waits for its original. Among the rest:
    the one it mirrors, else the earliest posted; none when the one it mirrors is reversed already
    (already_reversed)."""
    payment = _payment_of(remit)
    candidates = [
        e
        for e in _reversible(ledger, remit)
        if e.reversed_by is None and (_payment_of(e) != payment or _mirrors_exactly(e, remit))
    ]
    if not any(_mirrors(e, remit) for e in candidates) and already_reversed(ledger, remit) is not None:
        # A second reversal of one payment (a payer repeating it in a later payment) must not fall back
        # to another posting of that CLP07: that undoes the correction.
        return None
    return min(
        candidates,
        key=lambda e: (_payment_of(e) == payment, not _mirrors(e, remit), e.posted_at, e.source),
        default=None,
    )


def _mirrors(e: LedgerEntry, remit: ClaimRemittance) -> bool:
    return e.charge == -remit.charge and e.paid == -remit.paid


def _mirrors_exactly(e: LedgerEntry, remit: ClaimRemittance) -> bool:
    """CLP03/04/05 and every adjustment negated. A correction in the reversal's own payment often keeps
    the charge and paid amount and changes only the breakdown (allowed, PR group): that is not the
    posting the reversal undoes, its original is (and may still be on its way)."""
    if not _mirrors(e, remit) or e.patient_responsibility != -remit.patient_responsibility:
        return False
    theirs = sorted((a.group, a.reason, -a.amount) for a in remit.all_adjustments())
    return sorted((a.group, a.reason, a.amount) for a in e.adjustments) == theirs


def _reversible(ledger: Sequence[LedgerEntry], remit: ClaimRemittance) -> list[LedgerEntry]:
    return [e for e in ledger if e.kind in ("payment", "denial") and e.payer_claim_number == remit.payer_claim_number]


def already_reversed(ledger: Sequence[LedgerEntry], remit: ClaimRemittance) -> LedgerEntry | None:
    """The posting this reversal mirrors exactly (same CLP07, negated CLP03 and CLP04) when another
    reversal has undone it already: the reversal is a repeat, and applying it anywhere is wrong."""
    payment = _payment_of(remit)
    done = [
        e
        for e in _reversible(ledger, remit)
        if e.reversed_by is not None and e.reversed_by != remit.source and _mirrors(e, remit)
    ]
    # Of its own payment only an exact mirror could have been its original (reversal_target).
    return min(done, key=lambda e: (_payment_of(e) == payment, e.posted_at, e.source), default=None)


def _not_waiting(claim: Claim, outcome: str | None, kept: bool) -> list[str]:
    """Money posted on a claim no execution waits on (before submission, closed, failed, or past its
    wait): say so, so a person sees it. Ids and codes only."""
    problems = []
    if kept:
        problems.append(f"status kept at {claim.status.value}: remittance outcome {outcome}")
    if (
        outcome
        and not claim.task_token
        and claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.AWAITING_REMITTANCE)
    ):
        problems.append(f"claim {claim.claim_id} was not waiting for remittance (status {claim.status.value})")
    return problems


def _held_key(remit: ClaimRemittance) -> str:
    return f"HELDREV#{remit.payer_claim_number}#{remit.source}"


def post_remittance(
    repo: ClaimRepository,
    workflow: WorkflowGateway,
    remit: ClaimRemittance,
    *,
    claim_id: str | None = None,
    consume: dict[str, str] | None = None,
) -> PostingResult:
    """Post one claim payment. `claim_id` overrides CLP01 (a person matched it); `consume` is the
    key of a held-reversal or unmatched item to delete in the same transaction."""
    target_id = claim_id or remit.claim_id

    held_waiting: list[bool] = []  # the last read saw a held reversal for this payer claim number

    def step(claim: Claim) -> PostingResult:
        ledger, held_items = repo.posting_state(claim.claim_id)
        prefix = f"HELDREV#{remit.payer_claim_number}#"
        held_waiting[:] = [any(i["sk"].startswith(prefix) for i in held_items)]
        if any(e.source == remit.source for e in ledger):
            raise AlreadyPosted(claim.claim_id)
        now = utcnow().isoformat()
        kind = kind_of(remit)
        extra: list[dict[str, Any]] = []
        if consume:
            extra.append({"Delete": {"Key": repo.item(consume), "ConditionExpression": "attribute_exists(sk)"}})
        else:
            # Posted from a re-sent ERA after it was parked as unmatched: the work item goes too.
            extra.append({"Delete": {"Key": repo.item(_unmatched_key(remit))}})
        entries = list(ledger)
        if kind == "reversal":
            original = reversal_target(ledger, remit)
            repeated = already_reversed(ledger, remit) if original is None else None
            if repeated is not None:
                # Not held (its original is here) and not applied twice: a person sees it on the ERA (which
                # then does not reconcile: its amount is on no ledger) and on the claim's timeline.
                problems = [
                    f"reverses payment {repeated.source} already reversed by {repeated.reversed_by}: not applied twice"
                ]
                if any(r.get("result") == "not_posted" for r in repo.era_items(remit.era_id, _result_sk(remit))):
                    # This message came again (SQS redelivery): recorded already, no second timeline event.
                    return PostingResult(claim.claim_id, remit.era_id, remit.position, "not_posted", problems=problems)
                extra.append(
                    repo.era_result_item(
                        remit.era_id, remit.position, _result(remit, claim.claim_id, "not_posted", problems=problems)
                    )
                )
                repo.save(
                    claim,
                    actor="posting",
                    detail={"era_id": remit.era_id, "clp02": remit.status_code, "problems": problems},
                    extra=extra,
                )
                return PostingResult(claim.claim_id, remit.era_id, remit.position, "not_posted", problems=problems)
            if original is None:
                # The original has not arrived yet: keep the reversal and apply it when it does.
                key = _held_key(remit)
                if any(i["sk"] == key for i in held_items):
                    # Held already (the message came again: SQS redelivery, a file released twice, a
                    # copy of the payment in another file): this ERA still records its result.
                    result = _result(remit, claim.claim_id, "held")
                    repo.transact([repo.era_result_item(remit.era_id, remit.position, result)])
                    return PostingResult(claim.claim_id, remit.era_id, remit.position, "held")
                held = {
                    "pk": claim_pk(claim.claim_id),
                    "sk": key,
                    "data": remit.model_dump_json(),
                }
                extra += [
                    {"Put": {"Item": repo.item(held), "ConditionExpression": "attribute_not_exists(sk)"}},
                    repo.era_result_item(remit.era_id, remit.position, _result(remit, claim.claim_id, "held")),
                ]
                repo.save(
                    claim,
                    actor="posting",
                    detail={"era_id": remit.era_id, "held_reversal": remit.payer_claim_number},
                    extra=extra,
                )
                return PostingResult(claim.claim_id, remit.era_id, remit.position, "held")
            entry = _entry(claim, remit, kind, now).model_copy(update={"reverses": original.source})
            marked = original.model_copy(update={"reversed_by": entry.source})
            extra.append(repo.mark_reversed_item(claim.claim_id, marked))
            entries = [marked if e.source == original.source else e for e in entries]
        else:
            entry = _entry(claim, remit, kind, now)
        entries.append(entry)
        payments = payment_facts(repo, entries)
        update = claim_totals(claim, entries, payments)
        # The claim's outcome comes from its postings in force and its totals over all payers, whatever
        # order messages land in: a reversal and the corrected payment of one ERA post in parallel.
        outcome = None if kind == "predetermination" else claim_outcome(entries, update, payments)
        new_status = STATUS_FOR.get(outcome) if outcome else None
        kept = new_status is not None and new_status not in ALLOWED_TRANSITIONS[claim.status] | {claim.status}
        if kept:
            new_status = None  # money is always posted; a status the workflow does not allow here stays
        problems = _not_waiting(claim, outcome, kept)
        if outcome:
            update["remittance_outcome"] = outcome
            update.update(_crossover(claim, entries, outcome, update, payments))
        extra.append(
            repo.era_result_item(
                remit.era_id, remit.position, _result(remit, claim.claim_id, "posted", outcome, problems)
            )
        )
        if remit.payer_claim_number and kind != "reversal":
            update["payer_claim_number"] = remit.payer_claim_number
        detail: dict[str, Any] = {
            "era_id": remit.era_id,
            "clp02": remit.status_code,
            "paid": f"{remit.paid:.2f}",
            "outcome": outcome,
            "kind": kind,
        }
        if entry.forwarded:
            detail["forwarded"] = True
        if problems:
            detail["problems"] = problems
        saved = repo.save(
            claim.model_copy(update=update),
            actor="posting",
            new_status=new_status if new_status != claim.status else None,
            detail=detail,
            ledger=[entry],
            extra=extra,
        )
        return PostingResult(
            claim.claim_id,
            remit.era_id,
            remit.position,
            "posted",
            outcome,
            resumed=resume_waiting(repo, workflow, saved),
            problems=problems,
        )

    try:
        result = with_lock_retry(repo, target_id, step)
    except ClaimNotFound:
        return _record_unmatched(repo, remit)
    except StaleItem as err:
        if consume:
            raise UnmatchedNotFound(f"{remit.era_id}~{remit.position}") from err
        raise
    except AlreadyPosted:
        # Posted before (a redelivery, or another file of the same payment): record it on this ERA,
        # and finish what a crash may have cut short: held reversals, the resume. A copy whose amounts
        # differ from what was posted (a corrected re-send under the same payer + TRN02, released) is
        # not the same claim payment: not posted, so its ERA does not reconcile and a person decides.
        problems = _differs_from_posted(repo, target_id, remit)
        done: Result = "not_posted" if problems else "already_posted"
        repo.transact(
            [repo.era_result_item(remit.era_id, remit.position, _result(remit, target_id, done, problems=problems))]
        )
        if consume:
            repo.transact([{"Delete": {"Key": repo.item(consume)}}])
        applied = apply_held_reversals(repo, workflow, target_id)
        claim = repo.get_claim(target_id)
        return PostingResult(
            target_id,
            remit.era_id,
            remit.position,
            done,
            claim.remittance_outcome,
            resumed=resume_waiting(repo, workflow, claim),
            notes=[f"applied held reversal {s}" for s in applied],
            problems=problems,
        )
    # Only when the read saw one: most postings have no held reversal and skip the extra read.
    if result.result == "posted" and kind_of(remit) in ("payment", "denial") and any(held_waiting):
        result.notes += [f"applied held reversal {s}" for s in apply_held_reversals(repo, workflow, target_id)]
    return result


def _differs_from_posted(repo: ClaimRepository, claim_id: str, remit: ClaimRemittance) -> list[str]:
    """A problem (ids and amounts only) when the ledger entry of this claim payment's source holds
    other amounts (CLP03, CLP04, CLP05) than the message."""
    posted = next((e for e in repo.ledger_entries(claim_id) if e.source == remit.source), None)
    if posted is None:
        return []
    theirs = (posted.charge, posted.paid, posted.patient_responsibility)
    if theirs == (remit.charge, remit.paid, remit.patient_responsibility):
        return []

    def amounts(charge: Decimal, paid: Decimal, patient: Decimal) -> str:
        return f"charge {charge:.2f} paid {paid:.2f} patient responsibility {patient:.2f}"

    return [
        f"claim payment {remit.source} was posted from {posted.era_id} with {amounts(*theirs)}; this copy has "
        f"{amounts(remit.charge, remit.paid, remit.patient_responsibility)}: not posted"
    ]


def apply_held_reversals(repo: ClaimRepository, workflow: WorkflowGateway, claim_id: str) -> list[str]:
    """Apply every held reversal whose original is now on the ledger. Safe to call any time: a
    crash after posting an original leaves nothing behind, the next delivery finishes the job."""
    ledger, held_items = repo.posting_state(claim_id)
    applied = []
    for item in held_items:
        held = ClaimRemittance.model_validate_json(item["data"])
        if reversal_target(ledger, held) is not None:  # the same choice posting makes
            post_remittance(repo, workflow, held, claim_id=claim_id, consume={"pk": item["pk"], "sk": item["sk"]})
            applied.append(held.source)
            ledger = repo.posting_state(claim_id)[0]  # two held reversals must not pick one original
    return applied


def _crossover(
    claim: Claim, entries: list[LedgerEntry], outcome: str, totals: dict[str, Any], payments: Payments
) -> dict[str, Any]:
    """CLP02 19/20/21: the payer sent the claim on to the next payer, so the patient balance is not
    the patient's to pay yet. The follow-up waits for the crossover payer's remittance (classify
    reads this); a later payer's posting clears it."""
    last = last_adjudication(entries, payments)
    if last is not None and last.status_code in FORWARDED and outcome != "paid":
        return {
            "follow_up_reason": crossover_reason(last.status_code, totals["patient_responsibility"]),
            "follow_up_action": AWAIT_CROSSOVER,
        }
    if claim.follow_up_action == AWAIT_CROSSOVER:
        return {"follow_up_reason": None, "follow_up_action": None}
    return {}


def _unmatched_key(remit: ClaimRemittance) -> dict[str, str]:
    return {"pk": f"UNMATCHED#{remit.claim_id}", "sk": f"REMIT#{remit.era_id}#{remit.position:07d}"}


def _record_unmatched(repo: ClaimRepository, remit: ClaimRemittance) -> PostingResult:
    """A claim we do not know: keep the remittance in the unmatched work queue, with its amounts."""
    now = utcnow().isoformat()
    unmatched = {
        **_unmatched_key(remit),
        "status": UNMATCHED_STATUS,  # by-status index: the work queue
        "updated_at": now,
        "unmatched_id": unmatched_id(remit.era_id, remit.position),
        "era_id": remit.era_id,
        "position": remit.position,
        "clp01": remit.claim_id,
        "status_code": remit.status_code,
        "charge": f"{remit.charge:.2f}",
        "paid": f"{remit.paid:.2f}",
        "payer_id": remit.payer_id,
        "data": remit.model_dump_json(),
    }
    repo.transact(
        [
            {"Put": {"Item": repo.item(unmatched), "ConditionExpression": "attribute_not_exists(sk)"}},
            repo.era_result_item(remit.era_id, remit.position, _result(remit, "", "unmatched")),
        ]
    )
    return PostingResult(remit.claim_id, remit.era_id, remit.position, "unmatched")


def unmatched_id(era_id: str, position: int) -> str:
    return f"{era_id}~{position}"


class UnmatchedNotFound(Exception):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"no unmatched remittance {item_id}")


def match_unmatched(repo: ClaimRepository, workflow: WorkflowGateway, item_id: str, claim_id: str) -> PostingResult:
    """A person (or a claim that turned up) matches an unmatched remittance to a claim: post it."""
    era_id, _, pos = item_id.rpartition("~")
    if not era_id or not pos.isdigit():
        raise UnmatchedNotFound(item_id)
    results = [r for r in repo.era_items(era_id, f"CLP#{int(pos):07d}") if r.get("result") == "unmatched"]
    if not results:
        raise UnmatchedNotFound(item_id)
    key = {"pk": f"UNMATCHED#{results[0]['clp01']}", "sk": f"REMIT#{era_id}#{int(pos):07d}"}  # _unmatched_key
    items = [i for i in repo.items_under(key["pk"], key["sk"]) if i["sk"] == key["sk"]]
    if not items:
        raise UnmatchedNotFound(item_id)
    remit = ClaimRemittance.model_validate_json(items[0]["data"])
    repo.get_claim(claim_id)  # ClaimNotFound -> the API says so; nothing is consumed
    return post_remittance(repo, workflow, remit, claim_id=claim_id, consume=key)


def post_waiting_unmatched(repo: ClaimRepository, workflow: WorkflowGateway, claim_id: str) -> list[PostingResult]:
    """Remittance that arrived before its claim was known, posted now that the claim waits for it."""
    out = []
    for item in repo.items_under(f"UNMATCHED#{claim_id}", "REMIT#"):
        remit = ClaimRemittance.model_validate_json(item["data"])
        out.append(post_remittance(repo, workflow, remit, consume={"pk": item["pk"], "sk": item["sk"]}))
    return out


def resume_waiting(repo: ClaimRepository, workflow: WorkflowGateway, claim: Claim) -> bool:
    """Resume the claim's waiting execution with the outcome, once, and clear the token."""
    if not claim.task_token or claim.status not in POSTED or not claim.remittance_outcome:
        return False
    token = claim.task_token
    resumed = workflow.resume(token, {"outcome": claim.remittance_outcome})  # False: the wait already ended

    def clear(current: Claim) -> bool:
        if current.task_token == token:  # a newer wait's token is not ours to clear
            repo.save(current.model_copy(update={"task_token": None}), actor="posting", detail={"resumed": resumed})
        return True

    with_lock_retry(repo, claim.claim_id, clear)
    return resumed
