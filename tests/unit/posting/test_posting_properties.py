"""Generated ERAs posted in any order keep the ledger's invariants (one in-memory store per module,
fresh claim ids and trace numbers per example).

- every ledger entry of a processed claim: charge = paid + adjustments (PR included);
- every ERA payment: BPR02 = posted + held + unmatched - PLB (difference 0.00, reconciled);
- every claim's totals are the sums over its ledger entries; the net is what the payer finally paid.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from medbill.billing.era import reconciliation
from medbill.models.status import ClaimStatus as S
from medbill.x12.remittance835 import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    Reference,
    ServiceLine,
)
from tests.posting_harness import Posting, era_text, make_claim, reversal_of

D = Decimal
CENT = D("0.01")
ZERO = D("0.00")
DOS = date(2026, 10, 14)
CODES = [("99213", ["25"]), ("36415", []), ("85025", []), ("99214", []), ("J1100", [])]
_ids = itertools.count(1)

Scenario = str  # paid | short_paid | denied | zero_paid | corrected | reversal_only | reversal_first


def cents(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    return st.integers(lo, hi).map(lambda n: D(n) * CENT)


@dataclass
class ClaimPlan:
    lines: list[tuple[int, Decimal]]  # (index in CODES, charge)
    scenario: Scenario
    allowed_pct: int
    coins_pct: int
    corrected_pct: int


claim_plans = st.builds(
    ClaimPlan,
    lines=st.lists(st.tuples(st.integers(0, len(CODES) - 1), cents(1000, 40000)), min_size=1, max_size=3),
    scenario=st.sampled_from(
        ["paid", "short_paid", "denied", "zero_paid", "corrected", "reversal_only", "reversal_first"]
    ),
    allowed_pct=st.integers(10, 100),
    coins_pct=st.integers(0, 50),
    corrected_pct=st.integers(10, 100),
)


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def payment_for(
    claim_id: str, plan: ClaimPlan, pcn: str, *, pct: int | None = None, denied: bool = False
) -> ClaimPayment:
    svcs = []
    for n, (code_ix, charge) in enumerate(plan.lines, start=1):
        code, mods = CODES[code_ix]
        svc = ServiceLine(
            "HC",
            code,
            charge,
            ZERO,
            modifiers=list(mods),
            references=[Reference("6R", f"{claim_id}-{n:02d}")],
            dates={"472": DOS.strftime("%Y%m%d")},
        )
        if denied:
            svc.adjustments = [Adjustment("CO", "50", charge)]
        else:
            allowed = _q(charge * (pct or plan.allowed_pct) / 100)
            pr = _q(allowed * plan.coins_pct / 100) if plan.scenario == "short_paid" else ZERO
            svc.amounts = {"B6": allowed}
            svc.paid = allowed - pr
            svc.adjustments = [
                a for a in (Adjustment("CO", "45", charge - allowed), Adjustment("PR", "2", pr)) if a.amount
            ]
        svcs.append(svc)
    paid = sum((s.paid for s in svcs), ZERO)
    return ClaimPayment(
        claim_id=claim_id,
        status_code="4" if denied else "1",
        charge=sum((c for _, c in plan.lines), ZERO),
        paid=paid,
        patient_responsibility=sum((a.amount for s in svcs for a in s.adjustments if a.group == "PR"), ZERO),
        filing_indicator="CI",
        payer_claim_control_number=pcn,
        lines=svcs,
    )


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: the store keeps every example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plans=st.lists(claim_plans, min_size=1, max_size=4),
    unknown=st.lists(cents(0, 20000), max_size=2),
    plb=st.lists(st.tuples(st.sampled_from(["WO", "L6", "CV", "FB"]), cents(-3000, 3000), st.booleans()), max_size=2),
    rnd=st.randoms(use_true_random=False),
)
def test_generated_eras_keep_the_ledger_invariants(
    shared_posting: Posting,
    plans: list[ClaimPlan],
    unknown: list[Decimal],
    plb: list[tuple[str, Decimal, bool]],
    rnd: random.Random,
) -> None:
    p = shared_posting
    run = next(_ids)
    first: list[ClaimPayment] = []  # ERA 1
    second: list[ClaimPayment] = []  # ERA 2, posted after ERA 1
    expected_paid: dict[str, Decimal] = {}
    expected_status: dict[str, S] = {}
    claim_ids: list[str] = []
    for i, plan in enumerate(plans):
        claim_id = f"PROP{run:05d}X{i:02d}"
        claim_ids.append(claim_id)
        make_claim(
            p.repo,
            claim_id,
            dos=DOS,
            lines=[(CODES[ix][0], CODES[ix][1], f"{charge:.2f}") for ix, charge in plan.lines],
        )
        pcn = f"PCN{run:05d}{i:02d}"
        if plan.scenario in ("paid", "short_paid"):
            pay = payment_for(claim_id, plan, pcn)
            first.append(pay)
            expected_paid[claim_id] = pay.paid
            has_pr = any(a.group == "PR" and a.amount for s in pay.lines for a in s.adjustments)
            expected_status[claim_id] = S.SHORT_PAID if has_pr else S.PAID
        elif plan.scenario == "denied":
            first.append(payment_for(claim_id, plan, pcn, denied=True))
            expected_paid[claim_id], expected_status[claim_id] = ZERO, S.DENIED
        elif plan.scenario == "zero_paid":  # CLP02 1 with nothing paid: a denial in all but name
            pay = payment_for(claim_id, plan, pcn, denied=True)
            pay.status_code = "1"
            first.append(pay)
            expected_paid[claim_id], expected_status[claim_id] = ZERO, S.DENIED
        elif plan.scenario == "corrected":  # paid, taken back, paid again correctly: all in ERA 1
            original = payment_for(claim_id, plan, pcn)
            fixed = payment_for(claim_id, plan, pcn + "C", pct=plan.corrected_pct)
            first += [original, reversal_of(original), fixed]
            expected_paid[claim_id] = fixed.paid
        elif plan.scenario == "reversal_only":  # the original never comes: held
            first.append(reversal_of(payment_for(claim_id, plan, pcn)))
            expected_paid[claim_id], expected_status[claim_id] = ZERO, S.AWAITING_REMITTANCE
        else:  # reversal_first: the reversal in ERA 1, its original in ERA 2
            original = payment_for(claim_id, plan, pcn)
            first.append(reversal_of(original))
            second.append(original)
            expected_paid[claim_id], expected_status[claim_id] = ZERO, S.REVERSED
    for n, amount in enumerate(unknown):
        second.append(
            ClaimPayment(
                f"UNK{run:05d}N{n}", "1", amount, amount, filing_indicator="CI", payer_claim_control_number=f"U{n}"
            )
        )
    plbs = [
        ProviderAdjustment("1234567893", "20261231", reason, amount, claim_ids[0] if ref else f"REF{run}")
        for reason, amount, ref in plb
        if amount
    ]
    eras = [(f"T{run:05d}A", first, plbs), (f"T{run:05d}B", second, [])]
    for trace, claims, adjustments in eras:
        if not claims and not adjustments:
            continue
        summary = p.receive(f"era/prop-{trace}.835", era_text(claims, adjustments, trace))
        assert not summary.quarantined, summary.problems
        messages = p.queue.take()
        rnd.shuffle(messages)  # SQS promises no order
        p.post(messages)

    for trace, claims, adjustments in eras:
        if not claims and not adjustments:
            continue
        rec = reconciliation(p.repo, f"1999999999-{trace}")
        assert rec is not None
        bpr = sum((c.paid for c in claims), ZERO) - sum((a.amount for a in adjustments), ZERO)
        accounted = D(rec["posted_total"]) + D(rec["held_total"]) + D(rec["unmatched_total"]) - D(rec["plb_total"])
        assert D(rec["total_paid"]) == bpr == accounted
        assert rec["difference"] == "0.00" and rec["reconciled"] is True
        assert rec["claims_recorded"] == len(claims)
        assert rec["unmatched_count"] == (len(unknown) if trace.endswith("B") else 0)

    for claim_id, plan in zip(claim_ids, plans, strict=True):
        claim = p.claim(claim_id)
        entries = p.repo.ledger_entries(claim_id)
        counted = [e for e in entries if e.counts_toward_claim]
        for e in counted:
            assert e.charge == e.paid + sum((a.amount for a in e.adjustments), ZERO), (plan.scenario, e.source)
            assert sum((lp.paid for lp in e.lines), ZERO) == e.paid
            assert all(lp.match == "control_number" for lp in e.lines)
        assert claim.paid_amount == sum((e.paid for e in counted), ZERO) == expected_paid[claim_id], plan.scenario
        net = sum((a.amount for e in counted for a in e.adjustments), ZERO)
        assert claim.adjustment_amount + claim.patient_responsibility == net
        assert claim.patient_responsibility == sum(
            (a.amount for e in counted for a in e.adjustments if a.group == "PR"), ZERO
        )
        net_charge = sum((e.charge for e in counted), ZERO)
        assert net_charge == claim.paid_amount + net  # the claim balances as its entries do
        if plan.scenario in ("paid", "short_paid", "denied", "zero_paid", "corrected"):
            assert net_charge == claim.total_charge  # what is left on the ledger is the claim, once
        else:
            assert net_charge == ZERO  # reversed away, or never posted
        assert [line.paid_amount for line in claim.lines] == [
            sum((lp.paid for e in counted for lp in e.lines if lp.claim_line_number == line.line_number), ZERO)
            for line in claim.lines
        ]
        if claim_id in expected_status:
            assert claim.status == expected_status[claim_id], plan.scenario
        reversals = [e for e in entries if e.kind == "reversal"]
        for r in reversals:  # every applied reversal undoes exactly one entry, and says which
            undone = [e for e in entries if e.source == r.reverses]
            assert len(undone) == 1 and undone[0].reversed_by == r.source
        held = p.repo.held_reversals(claim_id)
        assert len(held) == (1 if plan.scenario == "reversal_only" else 0), plan.scenario
        if plan.scenario == "reversal_only":
            assert counted == [] and claim.version == 1  # held: one audit save, no money
    if plbs and any(ref for *_, ref in plb):
        linked = [e for e in p.repo.ledger_entries(claim_ids[0]) if e.kind == "provider_adjustment"]
        assert sorted(e.paid for e in linked) == sorted(-a.amount for a in plbs if a.reference == claim_ids[0])
