"""Coordination of benefits for our own secondary and tertiary claims: what an earlier payer decided,
read from its postings in force, in the shape the 837P's 2320 / 2430 loops carry it. No I/O.

Line-level adjustments (SVC CAS) go with their line (2430); only what the payer adjusted at claim
level (CLP CAS) stays in 2320's CAS, so nothing is reported twice. An SVC that matched none of our
lines cannot be sent as a line adjudication: its adjustments and payment count at claim level.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from medbill.billing.ledger import Payments, in_force, payer_levels, payment_of, superseded_by
from medbill.models.claim import Adjustment, Claim, PriorAdjudication, PriorLineAdjudication
from medbill.models.remittance import LedgerEntry, RemitAdjustment

ZERO = Decimal("0.00")


def _merged(adjustments: Sequence[RemitAdjustment | Adjustment]) -> list[Adjustment]:
    """One adjustment per group + reason (a CAS names each once), in first-seen order."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for adj in adjustments:
        sums[(adj.group, adj.reason)] += adj.amount
    return [Adjustment(group=g, reason=r, amount=amount) for (g, r), amount in sums.items() if amount]  # type: ignore[arg-type]


def _claim_level(entry: LedgerEntry) -> list[RemitAdjustment]:
    """The entry's adjustments less those its matched lines carry (the ledger keeps both together)."""
    on_lines = Counter(
        (a.group, a.reason, a.amount) for lp in entry.lines if lp.claim_line_number is not None for a in lp.adjustments
    )
    out = []
    for adj in entry.adjustments:
        key = (adj.group, adj.reason, adj.amount)
        if on_lines[key]:
            on_lines[key] -= 1
        else:
            out.append(adj)
    return out


def prior_adjudication(
    claim: Claim, entries: Sequence[LedgerEntry], sequence: int, payments: Payments | None = None
) -> PriorAdjudication | None:
    """What the payer at `sequence` (1 primary, 2 secondary) decided, from its adjudications in force
    (None: it has none). Its patient liability (AMT*EAF) is its PR: what it left to the next payer."""
    levels = payer_levels(entries, payments)
    superseded = superseded_by(entries, payments, levels)
    standing = [
        e
        for e in entries
        if in_force(e) and e.counts_toward_claim and e.source not in superseded and levels[e.source] == sequence
    ]
    if not standing:
        return None
    claim_adjustments: list[RemitAdjustment] = []
    line_paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    line_adjustments: dict[int, list[RemitAdjustment]] = defaultdict(list)
    for entry in standing:
        claim_adjustments += _claim_level(entry)
        for lp in entry.lines:
            if lp.claim_line_number is None:
                claim_adjustments += lp.adjustments
                continue
            line_paid[lp.claim_line_number] += lp.paid
            line_adjustments[lp.claim_line_number] += lp.adjustments
    every = [*claim_adjustments, *(a for adjs in line_adjustments.values() for a in adjs)]
    last = standing[-1]
    covered = sorted(set(line_paid) | set(line_adjustments))
    return PriorAdjudication(
        sequence=sequence,
        payer_id=claim.encounter.coverages[sequence - 1][0].payer_id,
        payer_claim_number=last.payer_claim_number,
        paid=sum((e.paid for e in standing), ZERO),
        patient_liability=sum((a.amount for a in every if a.group == "PR"), ZERO),
        claim_adjustments=_merged(claim_adjustments),
        lines=[
            PriorLineAdjudication(line_number=n, paid=line_paid[n], adjustments=_merged(line_adjustments[n]))
            for n in covered
            if n <= len(claim.lines)
        ],
        adjudicated_on=max(adjudication_date(e, payments) for e in standing),
    )


def adjudication_date(entry: LedgerEntry, payments: Payments | None = None) -> date:
    """When the payer adjudicated the claim payment behind `entry` (837P 2430 / 2330B DTP*573, "Adjudication
    or Payment Date"): the payment's BPR16 (check issue or EFT effective date). Not the 835's DTM*050
    (the day the payer received the claim) nor DTM*036 (coverage expiration). A payment without a
    usable BPR16 (none, or a date that is not one) falls back to the day we posted it."""
    facts = (payments or {}).get(payment_of(entry))
    for sent in (entry.payment_date, facts.date if facts else ""):
        try:
            return datetime.strptime(sent, "%Y%m%d").date()
        except ValueError:
            continue
    return date.fromisoformat(entry.posted_at[:10])


def next_payer_sequence(claim: Claim) -> int | None:
    """The next coverage in the encounter's order after the payer billed now (None: there is none)."""
    nxt = claim.payer_sequence + 1
    return nxt if nxt <= len(claim.encounter.coverages) else None
