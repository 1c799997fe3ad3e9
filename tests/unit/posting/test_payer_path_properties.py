"""Every payer path, in any arrival order, on the in-memory fakes (issue 16, item 3).

One claim per example, and the remittance a billing office sees for it: maybe a payer that says it
is not its claim (CLP02 23); the primary (1, or 19 forwarded), maybe paid, reversed (22) and paid
again correctly; maybe a secondary (2, or 20 forwarded) and a tertiary (3), each paying part of the
patient balance the payer before it left and citing that payer's payment and write-off as CARC 23.
Each payment is its own ERA file (its own payer, trace and date); files arrive in any order, their
claim payments in any order, and SQS redelivers some of them.

Invariants, whatever the order:
- charge = paid + adjustments + patient balance, to the cent, and each equals the payers' own account
  (paid: every payer's payment; adjustments: the primary's CO-45; patient: the last payer's PR);
- nothing is posted twice: one ledger entry per claim payment, the reversal undoes its original;
- the outcome (money, outcome, status, follow-up, ledger) is the same for two arrival orders.

Examples per run: the hypothesis profile (tests/conftest.py; HYPOTHESIS_PROFILE=dev or thorough for more).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbill.billing.followup import AWAIT_CROSSOVER
from medbill.models.status import ClaimStatus as S
from medbill.x12.remittance835 import Adjustment, ClaimPayment, Party, Payment, Reference, write_835
from tests.posting_harness import in_memory_posting, make_claim

D = Decimal
CENT = D("0.01")
ZERO = D("0.00")
DOS = date(2026, 10, 14)
CODES = [("99213", ["25"]), ("36415", []), ("85025", [])]
CLAIM_ID = "PATH0001"


def cents(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    return st.integers(lo, hi).map(lambda n: D(n) * CENT)


def _pct(amount: Decimal, pct: int) -> Decimal:
    return (amount * pct / 100).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PayerPath:
    charges: list[Decimal]  # the claim's lines
    allowed_pct: int  # the primary's allowed amount, of the charge
    patient_pct: int  # the primary's patient responsibility, of the allowed amount
    levels: int  # 1 primary, 2 + secondary, 3 + tertiary
    forwarded: bool  # the primary forwarded the claim (19), and the secondary too (20) when a tertiary follows
    secondary_pct: int  # of the patient balance the primary left
    tertiary_pct: int  # of the patient balance the secondary left
    corrected_from: int | None  # the primary first paid with this allowed %, then reversed it and paid again
    not_our_claim: bool  # another payer first says the claim is not its own (CLP02 23)


paths = st.builds(
    PayerPath,
    charges=st.lists(cents(1000, 40000), min_size=1, max_size=3),
    allowed_pct=st.integers(10, 100),
    patient_pct=st.sampled_from([0, 0, 10, 20, 50]),
    levels=st.integers(1, 3),
    forwarded=st.booleans(),
    secondary_pct=st.sampled_from([0, 50, 100, 100]),
    tertiary_pct=st.sampled_from([0, 50, 100]),
    corrected_from=st.none() | st.integers(10, 100),
    not_our_claim=st.booleans(),
)


@dataclass(frozen=True)
class Era:
    payer_id: str
    trace: str
    day: int
    claims: list[ClaimPayment]


def _cp(
    status: str, charge: Decimal, paid: Decimal, adjustments: list[tuple[str, str, Decimal]], pcn: str
) -> ClaimPayment:
    adjs = [Adjustment(g, r, a) for g, r, a in adjustments if a]
    patient = sum((a.amount for a in adjs if a.group == "PR"), ZERO)
    return ClaimPayment(CLAIM_ID, status, charge, paid, patient, "CI", pcn, adjustments=adjs)


def _reversal(original: ClaimPayment) -> ClaimPayment:
    return ClaimPayment(
        CLAIM_ID,
        "22",
        -original.charge,
        -original.paid,
        -(original.patient_responsibility or ZERO),
        "CI",
        original.payer_claim_control_number,
        adjustments=[Adjustment(a.group, a.reason, -a.amount) for a in original.adjustments],
    )


def _primary(path: PayerPath, charge: Decimal, allowed_pct: int, pcn: str) -> tuple[ClaimPayment, Decimal]:
    allowed = _pct(charge, allowed_pct)
    patient = _pct(allowed, path.patient_pct)
    status = "19" if path.forwarded else "1"
    return _cp(status, charge, allowed - patient, [("CO", "45", charge - allowed), ("PR", "2", patient)], pcn), patient


@dataclass(frozen=True)
class Expected:
    paid: Decimal
    adjustments: Decimal
    patient: Decimal
    outcome: str
    follow_up_action: str | None
    entries: int


def remittance(path: PayerPath) -> tuple[list[Era], Expected]:
    """The ERAs of this path, in the order the payers sent them, and what the claim must end as."""
    charge = sum(path.charges, ZERO)
    eras: list[Era] = []
    if path.not_our_claim:
        eras.append(Era("PAYERW09", "W1", 1, [_cp("23", charge, ZERO, [("OA", "109", charge)], "WRONG1")]))
    if path.corrected_from is not None:
        original, _ = _primary(path, charge, path.corrected_from, "PRIM0")
        eras.append(Era("PAYERA01", "P0", 2, [original]))
        primary, patient = _primary(path, charge, path.allowed_pct, "PRIM1")
        eras.append(Era("PAYERA01", "P1", 5, [_reversal(original), primary]))
    else:
        primary, patient = _primary(path, charge, path.allowed_pct, "PRIM1")
        eras.append(Era("PAYERA01", "P1", 5, [primary]))
    paid = primary.paid
    last_status = primary.status_code
    if path.levels >= 2:
        pays = _pct(patient, path.secondary_pct)
        status = "20" if path.forwarded and path.levels == 3 else "2"
        secondary = _cp(status, charge, pays, [("OA", "23", charge - patient), ("PR", "2", patient - pays)], "SEC1")
        eras.append(Era("PAYERB02", "S1", 10, [secondary]))
        paid, patient, last_status = paid + pays, patient - pays, status
    if path.levels == 3:
        pays = _pct(patient, path.tertiary_pct)
        tertiary = _cp("3", charge, pays, [("OA", "23", charge - patient), ("PR", "2", patient - pays)], "TER1")
        eras.append(Era("PAYERC03", "T1", 15, [tertiary]))
        paid, patient, last_status = paid + pays, patient - pays, "3"
    outcome = "paid" if patient == ZERO else "short_paid"
    waits = last_status in ("19", "20") and outcome != "paid"
    entries = sum(len(e.claims) for e in eras)
    expected = Expected(
        paid, charge - _pct(charge, path.allowed_pct), patient, outcome, AWAIT_CROSSOVER if waits else None, entries
    )
    return eras, expected


def _text(era: Era) -> str:
    total = sum((c.paid for c in era.claims), ZERO)
    payment = Payment(
        total_paid=abs(total),
        handling_code="I",
        credit_debit="D" if total < 0 else "C",
        payment_method="ACH" if total else "NON",
        payment_date=f"202611{era.day:02d}",
        trace_number=era.trace,
        payer_identifier="1" + era.payer_id[:9].ljust(9, "0"),
        payer=Party("PR", name="PATH PAYER", references=[Reference("2U", era.payer_id)]),
        payee=Party("PE", name="TEST CLINIC", id_qualifier="XX", id="1234567893"),
        claims=era.claims,
    )
    return write_835(
        [payment],
        sender_id=era.payer_id,
        receiver_id="MEDBILL",
        interchange_control_number=1,
        created=datetime(2026, 11, 30),
    )


def play(path: PayerPath, eras: list[Era], rnd: random.Random) -> dict[str, Any]:
    """Post the ERAs in an order `rnd` picks, redelivering some messages; the claim as it ends."""
    p = in_memory_posting()
    make_claim(
        p.repo,
        CLAIM_ID,
        dos=DOS,
        lines=[(CODES[n][0], CODES[n][1], f"{charge:.2f}") for n, charge in enumerate(path.charges)],
    )
    delivered = []
    for era in rnd.sample(eras, len(eras)):
        p.receive(f"era/{era.trace}.835", _text(era))
        messages = p.queue.take()
        rnd.shuffle(messages)
        for message in messages:
            p.post([message])
            delivered.append(message)
            if rnd.random() < 0.3:  # SQS delivers it again, now or after later messages
                p.post([rnd.choice(delivered)])
    for message in rnd.sample(delivered, min(2, len(delivered))):
        p.post([message])
    claim = p.claim(CLAIM_ID)
    ledger = p.ledger(CLAIM_ID)
    return {
        "money": (claim.paid_amount, claim.adjustment_amount, claim.patient_responsibility),
        "total_charge": claim.total_charge,
        "outcome": claim.remittance_outcome,
        "status": claim.status,
        "follow_up_action": claim.follow_up_action,
        "ledger": [(e.source, e.kind, e.status_code, e.reverses, e.reversed_by) for e in ledger],
        "held": p.repo.held_reversals(CLAIM_ID),
    }


STATUS = {"paid": S.PAID, "short_paid": S.SHORT_PAID}


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=paths, first=st.randoms(use_true_random=False), second=st.randoms(use_true_random=False))
def test_every_payer_path_settles_the_same_whatever_the_arrival_order(
    path: PayerPath, first: random.Random, second: random.Random
) -> None:
    eras, expected = remittance(path)
    one, two = play(path, eras, first), play(path, eras, second)

    assert one == two  # the arrival order does not change the outcome
    paid, adjusted, patient = one["money"]
    assert one["total_charge"] == paid + adjusted + patient  # to the cent
    assert (paid, adjusted, patient) == (expected.paid, expected.adjustments, expected.patient)
    assert (one["outcome"], one["status"]) == (expected.outcome, STATUS[expected.outcome])
    assert one["follow_up_action"] == expected.follow_up_action
    # Nothing posted twice: one entry per claim payment, whatever was redelivered; nothing left held.
    sources = [source for source, *_ in one["ledger"]]
    assert len(sources) == len(set(sources)) == expected.entries
    assert one["held"] == []
    reversals = [row for row in one["ledger"] if row[1] == "reversal"]
    assert len(reversals) == (path.corrected_from is not None)
    for source, _, _, reverses, _ in reversals:
        assert [row[4] for row in one["ledger"] if row[0] == reverses] == [source]
