"""Property: any balanced payment written by write_835 reads back equal and balanced, and one cent
moved anywhere is reported at the right segment."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbill.x12.remittance835 import (
    Adjustment,
    ClaimPayment,
    Party,
    Payment,
    PersonName,
    ProviderAdjustment,
    Reference,
    ServiceLine,
    parse_835,
    write_835,
)
from medbill.x12.tokenizer import tokenize

CENT = Decimal("0.01")
ZERO = Decimal("0")
STATUSES = ["1", "2", "3", "4", "19", "20", "21", "22", "23", "25"]
GROUPS = ["CO", "PR", "OA", "PI", "CR"]
CARCS = ["1", "2", "3", "16", "18", "23", "29", "45", "50", "96", "97", "109", "204", "A1"]
PLB_REASONS = ["WO", "L6", "FB", "72", "CS", "J1", "CV", "50", "IR", "AP"]
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

money = st.integers(-500_00, 5_000_00).map(lambda c: Decimal(c).scaleb(-2))
positive = st.integers(0, 5_000_00).map(lambda c: Decimal(c).scaleb(-2))
code = st.text(ALNUM, min_size=1, max_size=8)


@st.composite
def adjustments(draw: st.DrawFn, total: Decimal, max_size: int = 7) -> list[Adjustment]:
    """Adjustments summing to ``total`` (the last one takes up the rest)."""
    n = draw(st.integers(1, max_size))
    amounts = [draw(money) for _ in range(n - 1)]
    amounts.append(total - sum(amounts, ZERO))
    out = []
    for amount in amounts:
        qty = draw(st.none() | st.integers(0, 9).map(Decimal))
        out.append(Adjustment(draw(st.sampled_from(GROUPS)), draw(st.sampled_from(CARCS)), amount, qty))
    return out


@st.composite
def service_lines(draw: st.DrawFn, index: int) -> ServiceLine:
    charge, paid = draw(positive), draw(money)
    return ServiceLine(
        draw(st.sampled_from(["HC", "AD", "NU"])),
        draw(st.text(ALNUM, min_size=5, max_size=5)),
        charge,
        paid,
        modifiers=draw(st.lists(st.text(ALNUM, min_size=2, max_size=2), max_size=4)),
        units=draw(st.none() | st.integers(1, 99).map(Decimal)),
        dates=draw(st.sampled_from([{"472": "20250102"}, {"150": "20250101", "151": "20250103"}])),
        adjustments=draw(adjustments(charge - paid)) if charge != paid or draw(st.booleans()) else [],
        references=[Reference("6R", f"L{index}")],
        amounts=draw(st.sampled_from([{}, {"B6": paid}])),
        remarks=draw(st.lists(st.tuples(st.sampled_from(["HE", "RX"]), code), max_size=2)),
    )


@st.composite
def claims(draw: st.DrawFn, index: int) -> ClaimPayment:
    lines = [draw(service_lines(k)) for k in range(draw(st.integers(0, 4)))]
    claim_adj = draw(
        st.lists(st.builds(Adjustment, st.sampled_from(GROUPS), st.sampled_from(CARCS), money), max_size=8)
    )
    charge = sum((ln.charge for ln in lines), ZERO) if lines else draw(positive)
    line_adj = sum((a.amount for ln in lines for a in ln.adjustments), ZERO)
    paid = charge - line_adj - sum((a.amount for a in claim_adj), ZERO)
    return ClaimPayment(
        f"{draw(st.text(ALNUM, min_size=1, max_size=16))}{index}",
        draw(st.sampled_from(STATUSES)),
        charge,
        paid,
        draw(st.none() | positive),
        "12",
        draw(code),
        "11",
        "1",
        header_number=draw(st.sampled_from(["1", "2"])),
        adjustments=claim_adj,
        names=[PersonName("QC", "1", "DOE", "JANE", id_qualifier="MI", id=draw(code))],
        dates={"232": "20250101"},
        lines=lines,
    )


@st.composite
def payments(draw: st.DrawFn) -> Payment:
    cs = [draw(claims(i)) for i in range(draw(st.integers(1, 5)))]
    plb = [
        ProviderAdjustment("1234567893", "20251231", draw(st.sampled_from(PLB_REASONS)), draw(money), draw(code))
        for _ in range(draw(st.integers(0, 8)))
    ]
    total = sum((c.paid for c in cs), ZERO) - sum((a.amount for a in plb), ZERO)
    return Payment(
        abs(total),
        credit_debit="D" if total < 0 else "C",
        payment_method="CHK",
        payment_date="20250117",
        trace_number=draw(code),
        payer_identifier="1123456789",
        payer=Party("PR", "PAYER", address=["PO BOX 1"], city="AUSTIN", state="TX", postal_code="78701"),
        payee=Party("PE", "CLINIC", "XX", "1234567893"),
        claims=cs,
        provider_adjustments=plb,
        control_number="0001",
    )


def write(p: Payment) -> str:
    return write_835([p], sender_id="PAYER", receiver_id="CLINIC", interchange_control_number=7)


def nth_position(text: str, seg_id: str, n: int) -> int:
    return [s.position for s in tokenize(text) if s.id == seg_id][n]


SETTINGS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(payments())
def test_written_payments_read_back_equal_and_balanced(p: Payment) -> None:
    (back,) = parse_835(write(p))
    assert back == p
    assert back.balanced and back.valid, back.problems


@SETTINGS
@given(payments(), st.data())
def test_one_cent_off_in_a_claim_charge_is_reported_at_its_clp(p: Payment, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(p.claims) - 1))
    claim = p.claims[k]
    claim.charge += CENT
    text = write(p)
    (back,) = parse_835(text)
    assert not back.balanced
    pos = nth_position(text, "CLP", k)
    assert [x for x in back.problems if x.startswith("CLP")] == [
        f"CLP at segment {pos} (claim {claim.claim_id}): charge {claim.charge:.2f} - paid {claim.paid:.2f} = "
        f"{claim.charge - claim.paid:.2f} but adjustments sum to {claim.charge - claim.paid - CENT:.2f}"
    ]
    assert not any(x.startswith("BPR") for x in back.problems)  # CLP04 unchanged: the total still balances


@SETTINGS
@given(payments(), st.data())
def test_one_cent_off_in_a_line_is_reported_at_its_svc(p: Payment, data: st.DataObject) -> None:
    with_lines = [(i, c) for i, c in enumerate(p.claims) if c.lines]
    if not with_lines:
        return
    i, claim = data.draw(st.sampled_from(with_lines))
    j = data.draw(st.integers(0, len(claim.lines) - 1))
    claim.lines[j].paid -= CENT  # line off by a cent; CLP04 unchanged so the claim is off too
    text = write(p)
    (back,) = parse_835(text)
    assert not back.balanced and not back.claims[i].balanced
    svc_index = sum(len(c.lines) for c in p.claims[:i]) + j
    pos = nth_position(text, "SVC", svc_index)
    assert any(x.startswith(f"SVC at segment {pos} (claim {claim.claim_id},") for x in back.problems), back.problems


@SETTINGS
@given(payments(), st.data())
def test_one_cent_off_in_a_plb_is_reported_at_the_bpr(p: Payment, data: st.DataObject) -> None:
    if p.provider_adjustments:
        k = data.draw(st.integers(0, len(p.provider_adjustments) - 1))
        p.provider_adjustments[k].amount += CENT
    else:
        p.total_paid += CENT if p.credit_debit == "C" else -CENT
    (back,) = parse_835(write(p))
    assert [x[:17] for x in back.problems] == ["BPR at segment 4 "]
    assert all(c.balanced for c in back.claims)
