"""Ledger rules: what a claim payment is (kind, outcome), which postings count (payer levels,
supersession, reversal targets) and the claim's money recomputed from its ledger. No I/O.

Coordination of benefits: the patient balance is the PR of the last payer in the sequence that
adjudicated, and a later payer's CARC 23 (prior payers' adjudication) is no write-off of its own, so
charge = paid + adjustments + patient balance holds across payers. At one payer level a later
adjudication (by ERA payment date) supersedes earlier ones of the same service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from medbill.billing.adjustment_rules import is_expected_reduction
from medbill.models.claim import Adjustment, Claim, ClaimLine, RemittanceOutcome
from medbill.models.remittance import (
    DENIED,
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
from medbill.models.status import ClaimStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

ZERO = Decimal("0.00")


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
    if code in PROCESSED and remit.paid == ZERO:
        later = PAYER_SEQUENCE[code] > 1  # PROCESSED is the payer sequence's codes: a secondary or tertiary
        if any(_payer_side(a, later) for a in remit.all_adjustments()):
            return "denial"  # processed, nothing paid, the payer adjusted it away (not just to the patient)
    return "payment"


def _contractual(adj: RemitAdjustment | Adjustment) -> bool:
    """An expected contractual reduction (CO-45, CO-253 sequestration, ...: the rules table)."""
    return is_expected_reduction(adj.group, adj.reason)


def _prior_payer(adj: RemitAdjustment | Adjustment) -> bool:
    """A later payer's reference to what the prior payers paid and wrote off (CARC 23)."""
    return adj.group != "PR" and adj.reason in PRIOR_PAYER_CARCS


def _payer_side(adj: RemitAdjustment, later_payer: bool) -> bool:
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
    return _payment_outcome(adjustments, paid)


def _payment_outcome(adjustments: Sequence[RemitAdjustment | Adjustment], paid: Decimal) -> RemittanceOutcome:
    """The outcome of a payment (a claim payment, or the claim's totals over all payers)."""
    # Expected contractual reductions alone (CO-45, CO-253, ...) are a normal full payment under
    # contract; anything else is short (a claim paid entirely to the deductible is short-paid: the
    # patient owes it, it is not denied).
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
    facts = (payments or {}).get(payment_of(e))
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
    by_source: dict[str | None, LedgerEntry] = {e.source: e for e in entries}
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

    # Only a reversal undoes an entry (`reverses`); one whose original is not on the ledger stands for itself.
    return {e.source: own(by_source.get(e.reverses, e)) for e in entries}


def in_force(e: LedgerEntry) -> bool:
    """An adjudication still standing: not a reversal, not reversed, not a payer disowning the claim."""
    return e.kind in ("payment", "denial") and e.reversed_by is None


def adjudication_order(e: LedgerEntry, payments: Payments | None = None) -> tuple[str, str, int, str, int]:
    """Which of two adjudications is the later one, whatever order their messages landed in: the
    ERA payment date (BPR16), then the payment (payer + trace), then within one payment file order
    (the CLP's segment position; for entries written before it was kept, the source's last part,
    which counts occurrences of the same CLP01/CLP02/CLP07 in file order). The posting message
    carries no payment date, so it comes from the payment's ERA record; without one (a unit test, a
    record gone) the posting day stands in for it."""
    facts = (payments or {}).get(payment_of(e))
    day = facts.date if facts and len(facts.date) == 8 and facts.date.isdigit() else ""
    stem, _, occurrence = e.source.rpartition("#")
    nth = int(occurrence) if occurrence.isdigit() else 0
    return (day or e.posted_at[:10].replace("-", ""), payment_of(e), e.position, stem, nth)


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
        (e for e in entries if in_force(e) and e.counts_toward_claim and e.charge),
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


def last_adjudication(entries: Sequence[LedgerEntry], payments: Payments | None = None) -> LedgerEntry | None:
    """The adjudication that decides the claim now: the last payer in the sequence that has one in
    force, its latest (by payment date, whatever order the messages landed in)."""
    levels = payer_levels(entries, payments)
    standing = [e for e in entries if in_force(e)]
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
    adjustments = _net_adjustments(adjudicated, levels)
    lines = _line_amounts(claim, counted, adjudicated, levels)
    return {
        "paid_amount": sum((e.paid for e in counted), ZERO),
        "patient_responsibility": sum((a.amount for a in adjustments if a.group == "PR"), ZERO),
        "adjustment_amount": sum((a.amount for a in adjustments if a.group != "PR"), ZERO),
        "adjustments": adjustments,
        "lines": lines,
    }


def _net_adjustments(adjudicated: list[LedgerEntry], levels: dict[str, int]) -> list[Adjustment]:
    """The claim's adjustments across payers (claim_totals): every payer's own, the PR of the last
    payer that adjudicated, and what its CARC 23 says beyond what the earlier payers posted."""
    standing = [e for e in adjudicated if in_force(e)]
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
    return [
        Adjustment.model_validate({"group": g, "reason": r, "amount": amount})
        for (g, r), amount in net.items()
        if amount
    ]


def _line_amounts(
    claim: Claim, counted: list[LedgerEntry], adjudicated: list[LedgerEntry], levels: dict[str, int]
) -> list[ClaimLine]:
    """The claim's lines with their paid and allowed amounts from the ledger (claim_totals)."""
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
            if in_force(entry):
                allowed[lp.claim_line_number][levels[entry.source]] += lp.allowed
    line_allowed = {n: by_level[min(by_level)] for n, by_level in allowed.items()}
    return [
        line.model_copy(
            update={
                "paid_amount": line_paid.get(line.line_number, ZERO),
                # Reported once and all reversed since: nothing allowed in force.
                "allowed_amount": line_allowed.get(line.line_number, ZERO if line.line_number in reported else None),
            }
        )
        for line in claim.lines
    ]


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
    return _payment_outcome(totals["adjustments"], totals["paid_amount"])


def payment_of(item: ClaimRemittance | LedgerEntry) -> str:
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
    payment = payment_of(remit)
    candidates = [
        e
        for e in _reversible(ledger, remit)
        if e.reversed_by is None and (payment_of(e) != payment or _mirrors_exactly(e, remit))
    ]
    if not any(_mirrors(e, remit) for e in candidates) and already_reversed(ledger, remit) is not None:
        # A second reversal of one payment (a payer repeating it in a later payment) must not fall back
        # to another posting of that CLP07: that undoes the correction.
        return None
    return min(
        candidates,
        key=lambda e: (payment_of(e) == payment, not _mirrors(e, remit), e.posted_at, e.source),
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
    payment = payment_of(remit)
    done = [
        e
        for e in _reversible(ledger, remit)
        if e.reversed_by is not None and e.reversed_by != remit.source and _mirrors(e, remit)
    ]
    # Of its own payment only an exact mirror could have been its original (reversal_target).
    return min(done, key=lambda e: (payment_of(e) == payment, e.posted_at, e.source), default=None)
