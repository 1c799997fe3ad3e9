"""837P loops for secondary and tertiary claims (2320 / 2330A / 2330B / 2430) and for the scrubber's
data (2010AB pay-to, REF*SY, 2310C service facility, MJ anesthesia minutes): exact segments, and
pyx12 (the independent oracle) finds 0 errors."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medbill.models.claim import Adjustment, Claim, PriorAdjudication, PriorLineAdjudication
from medbill.models.common import Address
from medbill.models.encounter import BillingAddress, Coverage, OtherCoverage, ServiceFacility, Subscriber
from medbill.x12.claim837 import ControlNumbers, read_submission, write_837p
from testkit.x12_oracle import make_claim, make_person, pyx12_errors


class _Settings:
    sender_id = "MEDBILL01"
    receiver_id = "CLEARHOUSE"
    submitter_name = "MEDBILL BILLING SERVICE"
    submitter_contact = "EDI DESK"
    submitter_phone = "5555550100"
    receiver_name = "ACME CLEARINGHOUSE"
    usage_indicator = "T"


SECONDARY = OtherCoverage(
    coverage=Coverage(
        payer_id="SECPAY02", payer_name="SECOND HEALTH", member_id="SEC778899", claim_filing_indicator="CI"
    ),
    subscriber=Subscriber(relationship="spouse", person=make_person("ROE", "JOHN", sex="M")),
)
TERTIARY = OtherCoverage(
    coverage=Coverage(payer_id="TERPAY03", payer_name="THIRD MUTUAL", member_id="TER1234", claim_filing_indicator="CI")
)


def _write(*claims: Claim) -> str:
    numbers = ControlNumbers.from_counter(iter(range(7, 99)).__next__, transactions=1)
    return write_837p(list(claims), settings=_Settings(), control_numbers=numbers, created=datetime(2025, 4, 2, 9, 0))


def _segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def _with(claim: Claim, **encounter: Any) -> Claim:
    enc = claim.encounter.model_copy(update=encounter)
    return claim.model_copy(update={"encounter": enc})


def _multi(claim_id: str = "CLM-COB1") -> Claim:
    claim = make_claim(
        claim_id,
        payer_id="PRIPAY01",
        lines=(("99213", ("25",), "1", "150.00", (1,)), ("81002", (), "1", "20.00", (2,))),
    )
    return _with(claim, other_coverages=[SECONDARY, TERTIARY])


PRIMARY_ADJUDICATION = PriorAdjudication(
    sequence=1,
    payer_id="PRIPAY01",
    payer_claim_number="PCN1001",
    paid=D("106.00"),
    patient_liability=D("34.00"),
    claim_adjustments=[Adjustment(group="OA", reason="94", amount=D("0.00"))],
    lines=[
        PriorLineAdjudication(
            line_number=1,
            paid=D("96.00"),
            adjustments=[
                Adjustment(group="CO", reason="45", amount=D("30.00")),
                Adjustment(group="PR", reason="3", amount=D("20.00")),
                Adjustment(group="PR", reason="2", amount=D("4.00")),
            ],
        ),
        PriorLineAdjudication(
            line_number=2,
            paid=D("10.00"),
            adjustments=[Adjustment(group="PR", reason="1", amount=D("10.00"))],
        ),
    ],
    adjudicated_on=date(2025, 3, 28),
)


def _between(segments: list[str], start: str, stop: str) -> list[str]:
    i = segments.index(start)
    j = next(k for k in range(i + 1, len(segments)) if segments[k].startswith(stop))
    return segments[i:j]


def test_a_primary_claim_names_the_other_coverages_in_2320_without_adjudication() -> None:
    text = _write(_multi())
    segs = _segments(text)
    assert "SBR*P*18*GRP100******CI" in segs
    loop = _between(segs, "SBR*S*01*******CI", "SBR*T")
    assert loop == [
        "SBR*S*01*******CI",
        "OI***Y*P**Y",
        "NM1*IL*1*ROE*JOHN****MI*SEC778899",
        "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*627010001",
        "NM1*PR*2*SECOND HEALTH*****PI*SECPAY02",
    ]
    assert not [s for s in segs if s.startswith(("AMT*", "SVD*", "CAS*"))]
    assert pyx12_errors(text) == []


def test_the_secondary_claim_bills_the_second_payer_with_the_primarys_adjudication() -> None:
    claim = _multi().model_copy(update={"payer_sequence": 2, "prior_adjudications": [PRIMARY_ADJUDICATION]})
    text = _write(claim)
    segs = _segments(text)
    # 2000B is the secondary's subscriber (the spouse): the patient goes in 2000C.
    assert "SBR*S********CI" in segs
    assert "NM1*IL*1*ROE*JOHN****MI*SEC778899" in segs
    assert "PAT*01" in segs
    assert _between(segs, "SBR*P*18*GRP100******CI", "SBR*T") == [
        "SBR*P*18*GRP100******CI",
        "AMT*D*106.00",
        "AMT*EAF*34.00",
        "OI***Y*P**Y",
        "NM1*IL*1*DOE*JANE****MI*MEM123456",
        "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*627010001",
        "NM1*PR*2*ACME HEALTH*****PI*PRIPAY01",
        "REF*F8*PCN1001",
    ]
    # The tertiary is listed too, as a payer still to come.
    assert "SBR*T*18*******CI" in segs
    line1 = _between(segs, "REF*6R*CLM-COB1-1", "LX*2")
    assert line1 == [
        "REF*6R*CLM-COB1-1",
        "SVD*PRIPAY01*96.00*HC:99213:25**1",
        "CAS*CO*45*30.00",
        "CAS*PR*3*20.00**2*4.00",
        "DTP*573*D8*20250328",
    ]
    line2 = _between(segs, "REF*6R*CLM-COB1-2", "SE*")
    assert line2 == ["REF*6R*CLM-COB1-2", "SVD*PRIPAY01*10.00*HC:81002**1", "CAS*PR*1*10.00", "DTP*573*D8*20250328"]
    assert pyx12_errors(text) == []
    read = read_submission(text).claims[0]
    assert read.payer_id == "SECPAY02"
    assert read.payer_responsibility == "S"
    assert read.payer_claim_number is None  # 2330B REF*F8 is the primary's, not this claim's
    assert [
        (o.responsibility, o.payer_id, o.paid, o.patient_liability, o.payer_claim_number) for o in read.other_payers
    ] == [
        ("P", "PRIPAY01", D("106.00"), D("34.00"), "PCN1001"),
        ("T", "TERPAY03", None, None, ""),
    ]
    assert [(a.payer_id, a.paid, a.patient_responsibility) for line in read.lines for a in line.adjudications] == [
        ("PRIPAY01", D("96.00"), D("24.00")),
        ("PRIPAY01", D("10.00"), D("10.00")),
    ]


def test_the_tertiary_claim_carries_both_earlier_payers() -> None:
    secondary = PriorAdjudication(
        sequence=2,
        payer_id="SECPAY02",
        paid=D("24.00"),
        patient_liability=D("10.00"),
        claim_adjustments=[Adjustment(group="OA", reason="23", amount=D("136.00"))],
        adjudicated_on=date(2025, 4, 9),
    )
    claim = _multi().model_copy(update={"payer_sequence": 3, "prior_adjudications": [PRIMARY_ADJUDICATION, secondary]})
    text = _write(claim)
    segs = _segments(text)
    assert "SBR*T*18*******CI" in segs
    assert _between(segs, "SBR*S*01*******CI", "LX*1") == [
        "SBR*S*01*******CI",
        "CAS*OA*23*136.00",
        "AMT*D*24.00",
        "AMT*EAF*10.00",
        "OI***Y*P**Y",
        "NM1*IL*1*ROE*JOHN****MI*SEC778899",
        "N3*1 MAIN ST",
        "N4*SPRINGFIELD*IL*627010001",
        "NM1*PR*2*SECOND HEALTH*****PI*SECPAY02",
        "DTP*573*D8*20250409",  # no line adjudication from this payer: the date is on the claim
    ]
    assert sum(1 for s in segs if s.startswith("SVD*")) == 2  # the primary's lines; the secondary sent none
    assert pyx12_errors(text) == []


def test_pay_to_ssn_service_facility_and_anesthesia_minutes() -> None:
    claim = make_claim("CLM-ANES1", place_of_service="22", lines=(("00790", (), "45", "900.00", (1,)),))
    bp = claim.encounter.billing_provider.model_copy(
        update={
            "tin": "123456789",
            "tin_qualifier": "SY",
            "pay_to_address": Address(line1="PO BOX 4410", city="SPRINGFIELD", state="IL", postal_code="62708"),
        }
    )
    facility = ServiceFacility(
        organization_name="MEMORIAL HOSPITAL OUTPATIENT",
        npi="1497758544",
        address=BillingAddress(line1="800 N RUTLEDGE ST", city="SPRINGFIELD", state="IL", postal_code="627810001"),
    )
    text = _write(_with(claim, billing_provider=bp, service_facility=facility))
    segs = _segments(text)
    assert _between(segs, "REF*SY*123456789", "HL*2") == [
        "REF*SY*123456789",
        "NM1*87*2",
        "N3*PO BOX 4410",
        "N4*SPRINGFIELD*IL*62708",
    ]
    assert "REF*EI*123456789" not in segs
    assert _between(segs, "NM1*77*2*MEMORIAL HOSPITAL OUTPATIENT*****XX*1497758544", "LX*1") == [
        "NM1*77*2*MEMORIAL HOSPITAL OUTPATIENT*****XX*1497758544",
        "N3*800 N RUTLEDGE ST",
        "N4*SPRINGFIELD*IL*627810001",
    ]
    assert "SV1*HC:00790*900.00*MJ*45***1" in segs
    assert pyx12_errors(text) == []


def test_a_non_anesthesia_line_stays_in_units() -> None:
    segs = _segments(_write(make_claim("CLM-UN1", lines=(("99213", (), "1", "100.00", (1,)),))))
    assert "SV1*HC:99213*100.00*UN*1***1" in segs


def test_a_facility_without_npi_sends_no_id() -> None:
    claim = make_claim("CLM-FAC2", place_of_service="31")
    facility = ServiceFacility(
        organization_name="OAK NURSING CENTER",
        address=BillingAddress(line1="12 OAK LN", city="SPRINGFIELD", state="IL", postal_code="627020002"),
    )
    text = _write(_with(claim, service_facility=facility))
    assert "NM1*77*2*OAK NURSING CENTER" in _segments(text)
    assert pyx12_errors(text) == []


def test_a_group_with_more_than_six_reasons_is_refused() -> None:
    many = [Adjustment(group="CO", reason=str(100 + k), amount=D("1.00")) for k in range(7)]
    prior = PRIMARY_ADJUDICATION.model_copy(update={"claim_adjustments": many})
    claim = _multi().model_copy(update={"payer_sequence": 2, "prior_adjudications": [prior]})
    from medbill.x12.segments import X12DataError

    with pytest.raises(X12DataError, match="more than 6 CO adjustments"):
        _write(claim)


# --- property: any split of the primary's money round-trips through 2430 and passes pyx12 -------------


_CENTS = st.integers(min_value=0, max_value=15000)


@st.composite
def _line_splits(draw: st.DrawFn) -> list[tuple[D, D, D, D]]:
    """Per line (charge, paid, CO-45, PR-2) with charge = paid + CO + PR, all in cents."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        paid, co, pr = draw(_CENTS), draw(_CENTS), draw(_CENTS)
        if paid + co + pr == 0:
            paid = 100
        out.append(tuple(D(c) / 100 for c in (paid + co + pr, paid, co, pr)))
    return out  # type: ignore[return-value]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(splits=_line_splits())
def test_any_primary_adjudication_round_trips_and_passes_pyx12(splits: list[tuple[D, D, D, D]]) -> None:
    lines = tuple(("99213" if n == 0 else "36415", (), "1", f"{c:.2f}", (1,)) for n, (c, _, _, _) in enumerate(splits))
    base = make_claim("CLM-PROP1", payer_id="PRIPAY01", lines=lines)
    claim = base.model_copy(update={"encounter": base.encounter.model_copy(update={"other_coverages": [SECONDARY]})})
    prior = PriorAdjudication(
        sequence=1,
        payer_id="PRIPAY01",
        paid=sum((p for _, p, _, _ in splits), D("0.00")),
        patient_liability=sum((r for _, _, _, r in splits), D("0.00")),
        lines=[
            PriorLineAdjudication(
                line_number=n,
                paid=p,
                adjustments=[
                    Adjustment(group="CO", reason="45", amount=co),
                    Adjustment(group="PR", reason="2", amount=r),
                ],
            )
            for n, (_, p, co, r) in enumerate(splits, start=1)
        ],
        adjudicated_on=date(2025, 3, 28),
    )
    text = _write(claim.model_copy(update={"payer_sequence": 2, "prior_adjudications": [prior]}))
    assert pyx12_errors(text) == []
    read = read_submission(text).claims[0]
    assert [(a.paid, a.patient_responsibility) for line in read.lines for a in line.adjudications] == [
        (p, r) for _, p, _, r in splits
    ]
    assert read.other_payers[0].paid == prior.paid and read.other_payers[0].patient_liability == prior.patient_liability
