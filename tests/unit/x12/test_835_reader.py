"""835 reader: every element we post from, balancing problems with positions, PLB, streaming."""

from __future__ import annotations

import io
import logging
from decimal import Decimal as D

import pytest

from medbill.x12.remittance835 import RemittanceReader, parse_835, read_835
from medbill.x12.tokenizer import X12SyntaxError

# One payment, two claims, PLB. Numbers balance: see the comments. Segment positions on the right.
SEGMENTS = [
    "ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLINICRCVR     *250115*0930*^*00501*000000123*0*P*:",  # 1
    "GS*HP*PAYERSENDER*CLINICRCVR*20250115*0930*123*X*005010X221A1",  # 2
    "ST*835*0001",  # 3
    "BPR*I*186.00*C*ACH*CCP*01*011000015*DA*123456789*1123456789**01*021000021*DA*987654321*20250117",  # 4
    "TRN*1*EFT0000123*1123456789*SUPP01",  # 5
    "CUR*PR*USD",  # 6
    "REF*EV*CLINICRCVR",  # 7
    "DTM*405*20250115",  # 8
    "N1*PR*ACME HEALTH PLAN*XV*PLAN01",  # 9
    "N3*PO BOX 100*SUITE 2",  # 10
    "N4*AUSTIN*TX*78701",  # 11
    "REF*2U*ACME01",  # 12
    "PER*CX*CLAIMS DEPT*TE*8005551212",  # 13
    "PER*BL*EDI DESK*TE*8005551313*EM*EDI@ACME.EXAMPLE",  # 14
    "N1*PE*SUNRISE CLINIC*XX*1234567893",  # 15
    "N3*1 MAIN ST",  # 16
    "N4*DALLAS*TX*75201",  # 17
    "REF*TJ*741234567",  # 18
    "LX*1",  # 19
    # claim 1: 300 charged, 190 paid; CO45 60 + PR1 30 at line level, PR2 20 at claim level = 110
    "CLP*CLM0001*1*300.00*190.00*50.00*12*PCN0001*11*1",  # 20
    "CAS*PR*2*20.00*1",  # 21
    "NM1*QC*1*DOE*JANE*Q***MI*W111222333",  # 22
    "NM1*IL*1*DOE*JOHN****MI*W111222300",  # 23
    "NM1*74*1*DOE*JANET",  # 24
    "NM1*82*1*SMITH*ALAN****XX*1003000126",  # 25
    "MOA***MA01*N130",  # 26
    "REF*EA*MRN42",  # 27
    "DTM*232*20250102",  # 28
    "DTM*233*20250103",  # 29
    "DTM*050*20250110",  # 30
    "AMT*AU*240.00",  # 31
    "SVC*HC:99214:25:GT:59:XU:OFFICE VISIT*200.00*130.00**1*HC:99215",  # 32
    "DTM*472*20250102",  # 33
    "CAS*CO*45*40.00",  # 34
    "CAS*PR*1*30.00",  # 35
    "REF*6R*CLM0001-1",  # 36
    "REF*6B*PRE123",  # 37
    "AMT*B6*160.00",  # 38
    "LQ*HE*N130",  # 39
    "LQ*RX*M16",  # 40
    "SVC*HC:81002*100.00*80.00**2",  # 41
    "DTM*150*20250102",  # 42
    "DTM*151*20250103",  # 43
    "CAS*CO*45*20.00*2",  # 44
    "REF*6R*CLM0001-2",  # 45
    # claim 2: denied; 100 charged, 0 paid, CO29 100
    "CLP*CLM0002*4*100.00*0*0*12*PCN0002*11*1",  # 46
    "CAS*CO*29*100.00",  # 47
    "NM1*QC*1*ROE*RICHARD****MI*W999",  # 48
    "MIA*0***0*MA02***************N1*N2*N3*N4",  # 49
    "PLB*1234567893*20251231*WO:CLM0000*10.00*L6:INT*-6.00*FB:REF9*0*72:ADV7*0*CS:CS1*0*J1:NX*0",  # 50
    "SE*49*0001",  # 51
    "GE*1*123",  # 52
    "IEA*1*000000123",  # 53
]
TEXT = "~".join(SEGMENTS) + "~"
# claim 1: 300 - 190 = 110 = PR2 20 (claim) + CO45 40 + PR1 30 (line 1) + CO45 20 (line 2)
# line 1: 200 - 130 = 70 = 40 + 30; line 2: 100 - 80 = 20
# payment: claims 190 + 0 - PLB (10 - 6 + 0...) = 186


def payment():
    (p,) = parse_835(TEXT)
    return p


def test_transaction_header() -> None:
    p = payment()
    assert (p.handling_code, p.total_paid, p.credit_debit, p.payment_method, p.payment_format) == (
        "I",
        D("186.00"),
        "C",
        "ACH",
        "CCP",
    )
    assert p.bank_details[:4] == ["01", "011000015", "DA", "123456789"]
    assert p.payment_date == "20250117"
    assert (p.trace_type, p.trace_number, p.payer_identifier, p.originating_company_supplemental) == (
        "1",
        "EFT0000123",
        "1123456789",
        "SUPP01",
    )
    assert p.currency == "USD" and p.production_date == "20250115"
    assert [(r.qualifier, r.value) for r in p.references] == [("EV", "CLINICRCVR")]
    assert p.control_number == "0001" and p.version == "005010X221A1" and p.position == 3
    assert p.interchange is not None and p.interchange.control_number == "000000123"


def test_payer_and_payee_loops() -> None:
    p = payment()
    payer, payee = p.payer, p.payee
    assert (payer.entity, payer.name, payer.id_qualifier, payer.id) == ("PR", "ACME HEALTH PLAN", "XV", "PLAN01")
    assert payer.address == ["PO BOX 100", "SUITE 2"]
    assert (payer.city, payer.state, payer.postal_code) == ("AUSTIN", "TX", "78701")
    assert payer.reference("2U") == "ACME01"
    assert [(c.function, c.name, c.communications) for c in payer.contacts] == [
        ("CX", "CLAIMS DEPT", [("TE", "8005551212")]),
        ("BL", "EDI DESK", [("TE", "8005551313"), ("EM", "EDI@ACME.EXAMPLE")]),
    ]
    assert payee.name == "SUNRISE CLINIC" and payee.npi == "1234567893" and payee.tin == "741234567"
    assert payee.address == ["1 MAIN ST"] and payee.city == "DALLAS"


def test_claim_header_elements() -> None:
    c1, c2 = payment().claims
    assert c1.header_number == "1" and c1.position == 20
    assert (c1.claim_id, c1.status_code, c1.charge, c1.paid, c1.patient_responsibility) == (
        "CLM0001",
        "1",
        D("300.00"),
        D("190.00"),
        D("50.00"),
    )
    assert (c1.filing_indicator, c1.payer_claim_control_number, c1.facility_code, c1.frequency_code) == (
        "12",
        "PCN0001",
        "11",
        "1",
    )
    assert [(a.group, a.reason, a.amount, a.quantity) for a in c1.adjustments] == [("PR", "2", D("20.00"), D("1"))]
    assert c1.dates == {"232": "20250102", "233": "20250103", "050": "20250110"}
    assert c1.amounts == {"AU": D("240.00")}
    assert c1.references[0].qualifier == "EA"
    assert c1.outpatient[2:4] == ["MA01", "N130"] and c1.remark_codes == ["MA01", "N130"]
    assert (c2.status_code, c2.paid, c2.patient_responsibility) == ("4", D("0"), D("0"))
    assert c2.remark_codes == ["MA02", "N1", "N2", "N3", "N4"]  # MIA05 and MIA20-23


def test_claim_names_keep_ids_and_codes() -> None:
    c1 = payment().claims[0]
    assert [n.entity for n in c1.names] == ["QC", "IL", "74", "82"]
    assert c1.patient is not None and c1.patient.id_qualifier == "MI" and c1.patient.id == "W111222333"
    assert c1.insured is not None and c1.insured.last == "DOE"
    assert c1.corrected_insured is not None and c1.corrected_insured.first == "JANET"
    assert c1.rendering_provider is not None and c1.rendering_provider.id == "1003000126"
    assert "JANE" not in repr(c1) and "W111222333" not in repr(c1)  # names and member ids stay out of repr


def test_service_lines() -> None:
    line1, line2 = payment().claims[0].lines
    assert (line1.procedure_qualifier, line1.procedure_code, line1.modifiers) == (
        "HC",
        "99214",
        ["25", "GT", "59", "XU"],
    )
    assert line1.description == "OFFICE VISIT"
    assert (line1.charge, line1.paid, line1.units) == (D("200.00"), D("130.00"), D("1"))
    assert line1.original_procedure == ["HC", "99215"]
    assert line1.dates == {"472": "20250102"} and line1.service_date == "20250102"
    assert [(a.group, a.reason, a.amount) for a in line1.adjustments] == [
        ("CO", "45", D("40.00")),
        ("PR", "1", D("30.00")),
    ]
    assert line1.control_number == "CLM0001-1" and line1.reference("6B") == "PRE123"
    assert line1.allowed == D("160.00")
    assert line1.remarks == [("HE", "N130"), ("RX", "M16")]
    assert line2.dates == {"150": "20250102", "151": "20250103"} and line2.service_date == "20250102"
    assert line2.units == D("2") and line2.adjustments[0].quantity == D("2")


def test_every_plb_reason_is_kept_with_its_reference() -> None:
    p = payment()
    assert [(a.reason, a.reference, a.amount) for a in p.provider_adjustments] == [
        ("WO", "CLM0000", D("10.00")),
        ("L6", "INT", D("-6.00")),
        ("FB", "REF9", D("0")),
        ("72", "ADV7", D("0")),
        ("CS", "CS1", D("0")),
        ("J1", "NX", D("0")),
    ]
    assert {a.provider_id for a in p.provider_adjustments} == {"1234567893"}
    assert p.provider_adjustments[0].fiscal_period_date == "20251231"
    assert p.provider_adjustment_total == D("4.00")


def test_balanced_file_has_no_problems() -> None:
    p = payment()
    assert p.balanced and p.valid and p.problems == []
    assert all(c.balanced for c in p.claims)
    assert p.claims_paid_total == D("190.00") and p.claim_count == 2


def test_all_claim_status_codes_are_kept() -> None:
    for status in ("1", "2", "3", "4", "19", "20", "21", "22", "23", "25"):
        (p,) = parse_835(TEXT.replace("CLP*CLM0002*4*", f"CLP*CLM0002*{status}*"))
        assert p.claims[1].status_code == status and p.valid
    (p,) = parse_835(TEXT.replace("CLP*CLM0002*4*", "CLP*CLM0002*99*"))
    assert any("CLP02 status 99 is not a valid claim status code" in x for x in p.problems)


def test_claim_imbalance_names_position_claim_and_numbers() -> None:
    (p,) = parse_835(TEXT.replace("CAS*PR*2*20.00*1", "CAS*PR*2*15.00*1"))
    assert not p.balanced
    assert (
        "CLP at segment 20 (claim CLM0001): charge 300.00 - paid 190.00 = 110.00 but adjustments sum to 105.00"
        in p.problems
    )
    assert not p.claims[0].balanced and p.claims[1].balanced


def test_line_imbalance_is_reported_at_the_svc() -> None:
    (p,) = parse_835(TEXT.replace("CAS*CO*45*20.00*2", "CAS*CO*45*25.00*2"))
    assert (
        "SVC at segment 41 (claim CLM0001, procedure 81002): charge 100.00 - paid 80.00 = 20.00 "
        "but line adjustments sum to 25.00" in p.problems
    )
    assert any(x.startswith("CLP at segment 20 (claim CLM0001)") for x in p.problems)


def test_transaction_imbalance_reports_bpr_and_plb() -> None:
    (p,) = parse_835(TEXT.replace("BPR*I*186.00", "BPR*I*190.00"))
    assert not p.balanced
    assert p.problems == [
        "BPR at segment 4 (trace EFT0000123): total paid 190.00 but claims paid 190.00 - provider "
        "adjustments 4.00 = 186.00"
    ]


def test_debit_payment_counts_negative() -> None:
    # A debit (provider owes): claims paid 0, PLB WO 25 -> BPR02 25 with BPR03 D balances.
    text = TEXT.replace("BPR*I*186.00*C", "BPR*I*25.00*D").replace("*190.00*50.00*", "*0*50.00*")
    text = text.replace("CAS*PR*2*20.00*1", "CAS*PR*2*210.00*1")
    text = text.replace("*WO:CLM0000*10.00*L6:INT*-6.00*", "*WO:CLM0000*31.00*L6:INT*-6.00*")
    (p,) = parse_835(text)
    assert p.credit_debit == "D" and p.signed_total == D("-25.00")
    assert p.balanced, p.problems


def test_reversal_and_correction_balance_with_negative_amounts() -> None:
    text = TEXT.replace("CLP*CLM0002*4*100.00*0*0*", "CLP*CLM0002*22*-100.00*0*0*").replace(
        "CAS*CO*29*100.00", "CAS*CO*29*-100.00"
    )
    (p,) = parse_835(text)
    assert p.claims[1].is_reversal and p.balanced


def test_se_count_problem_belongs_to_the_payment() -> None:
    (p,) = parse_835(TEXT.replace("SE*49*0001", "SE*40*0001"))
    assert p.balanced and not p.valid
    assert p.problems == ["SE at segment 51: SE01 says 40 segments but the transaction ST..SE (segments 3-51) has 49."]


def test_bad_amount_is_reported_not_raised() -> None:
    (p,) = parse_835(TEXT.replace("AMT*B6*160.00", "AMT*B6*1X0"))
    assert "AMT at segment 38: AMT02 (3 characters, not shown) is not an X12 decimal number" in p.problems[0]
    assert p.balanced and not p.valid  # AMT is not part of balancing


def test_wrong_implementation_guide_is_a_problem() -> None:
    (p,) = parse_835(TEXT.replace("005010X221A1", "5010"))
    assert "ST at segment 3: implementation guide 5010 is not 005010X221A1." in p.problems


def test_non_835_transactions_are_skipped_and_reported() -> None:
    text = TEXT.replace("GE*1*123", "ST*999*0002~AK1*HC*1~SE*3*0002~GE*2*123")
    reader = RemittanceReader(text)
    payments = list(reader.payments())
    assert len(payments) == 1 and payments[0].claim_count == 2
    assert reader.problems == ["ST at segment 52: transaction set 999 is not an 835; skipped."]


def test_streaming_hands_out_claims_one_by_one() -> None:
    reader = RemittanceReader(io.StringIO(TEXT))
    list_payments = []
    for p in reader.payments():
        list_payments.append(p)
        assert p.trace_number == "EFT0000123" and p.claims == []  # header is ready before any claim
        ids = []
        for claim in p.iter_claims():
            ids.append(claim.claim_id)
            assert p.provider_adjustments == []  # PLB comes after the claims
        assert ids == ["CLM0001", "CLM0002"]
        assert p.balanced and len(p.provider_adjustments) == 6
    assert len(list_payments) == 1


def test_payments_not_consumed_are_still_balanced() -> None:
    two = TEXT.replace(
        "SE*49*0001~GE*1*123", "SE*49*0001~" + TEXT[TEXT.index("ST*835") : TEXT.index("GE*")] + "GE*2*123"
    )
    two = two.replace("ST*835*0001", "ST*835*0002", 1).replace("SE*49*0001", "SE*48*0002", 1)
    payments = list(read_835(two))  # claims never iterated
    assert [p.claim_count for p in payments] == [2, 2]
    assert all(p.balanced for p in payments)


def test_garbage_raises_syntax_error() -> None:
    with pytest.raises(X12SyntaxError):
        parse_835("this is not an 835")


def test_no_phi_in_problems_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    text = TEXT.replace("CAS*PR*2*20.00*1", "CAS*PR*2*1.00*1").replace("AMT*B6*160.00", "AMT*B6*x")
    (p,) = parse_835(text)
    joined = " ".join(p.problems) + caplog.text
    for phi in ("DOE", "JANE", "W111222333", "ROE", "MAIN ST", "MRN42"):
        assert phi not in joined


# --- strict X12 numbers: Decimal() alone would take '8E2', '8_00', 'NaN', 'Infinity', 'sNaN' ---


def _with(segment: int, new: str) -> str:
    """TEXT with segment number ``segment`` (1-based, as in SEGMENTS) replaced."""
    segments = list(SEGMENTS)
    segments[segment - 1] = new
    return "~".join(segments) + "~"


@pytest.mark.parametrize("bad", ["8E2", "8_00", "NaN", "Infinity", "sNaN", "-inf", "1,000.00", "+300.00", " 300"])
@pytest.mark.parametrize(
    ("segment", "template", "element", "claim_id"),
    [
        (20, "CLP*CLM0001*1*{}*190.00*50.00*12*PCN0001*11*1", "CLP03", "CLM0001"),
        (20, "CLP*CLM0001*1*300.00*{}*50.00*12*PCN0001*11*1", "CLP04", "CLM0001"),
        (32, "SVC*HC:99214:25:GT:59:XU:OFFICE VISIT*{}*130.00**1*HC:99215", "SVC02", "CLM0001"),
        (41, "SVC*HC:81002*100.00*{}**2", "SVC03", "CLM0001"),
        (34, "CAS*CO*45*{}", "CAS03", "CLM0001"),
        (47, "CAS*CO*29*{}", "CAS03", "CLM0002"),
    ],
)
def test_a_claim_with_an_unreadable_amount_is_kept_whole_and_never_balanced(
    bad: str, segment: int, template: str, element: str, claim_id: str
) -> None:
    (p,) = parse_835(_with(segment, template.format(bad)))
    claim = next(c for c in p.claims if c.claim_id == claim_id)
    sid = template[:3]
    assert not claim.balanced and not p.balanced and claim.unreadable_amounts == 1
    expected = f"{sid} at segment {segment} (claim {claim_id}"
    (problem,) = [x for x in p.problems if x.startswith(expected)]
    assert f"{element} {bad!r} is not an X12 decimal number" in problem
    assert problem.endswith("; the claim cannot be balanced.")
    # nothing dropped: both claims, every line, no "outside a claim" noise
    assert [len(c.lines) for c in p.claims] == [2, 0] and p.claim_count == 2
    assert not any("outside" in x for x in p.problems)


def test_unreadable_line_charge_no_longer_leaves_a_balanced_claim() -> None:
    # The audit's nonnum_svc.835: the line was dropped and the rest of the claim balanced without it.
    text = _with(41, "SVC*HC:81002*QQ*80.00**2")
    (p,) = parse_835(text)
    claim = p.claims[0]
    assert [ln.procedure_code for ln in claim.lines] == ["99214", "81002"]
    assert not claim.balanced and claim.lines[1].unreadable_amounts == 1
    assert p.problems == [
        "SVC at segment 41 (claim CLM0001, procedure 81002): SVC02 (2 characters, not shown) is not an "
        "X12 decimal number (expected digits, optionally a leading minus and a decimal point, e.g. 125.50); the "
        "claim cannot be balanced."
    ]


@pytest.mark.parametrize("bad", ["1.86E2", "NaN", "Infinity", "ABC"])
def test_unreadable_payment_total_or_plb_amount_is_not_balanced(bad: str) -> None:
    (p,) = parse_835(_with(4, SEGMENTS[3].replace("*186.00*", f"*{bad}*")))
    assert not p.balanced and p.problems[0].startswith("BPR at segment 4: BPR02 ")
    assert p.problems[0].endswith("the payment cannot be balanced.") and len(p.problems) == 1
    (p,) = parse_835(_with(50, SEGMENTS[49].replace("*10.00*", f"*{bad}*")))
    assert not p.balanced and len(p.problems) == 1
    assert p.problems[0].startswith("PLB at segment 50: PLB04 ")
    assert [a.reason for a in p.provider_adjustments] == ["L6", "FB", "72", "CS", "J1"]


@pytest.mark.parametrize(
    ("charge", "value"), [("300", D(300)), ("300.", D(300)), ("0300.000", D(300)), (".5E0", None), ("-300.00", D(-300))]
)
def test_x12_decimal_forms(charge: str, value: D | None) -> None:
    (p,) = parse_835(_with(20, f"CLP*CLM0001*1*{charge}*190.00*50.00*12*PCN0001*11*1"))
    claim = p.claims[0]
    if value is None:
        assert claim.unreadable_amounts == 1
    else:
        assert claim.charge == value and claim.unreadable_amounts == 0


def test_unreadable_quantities_are_problems_but_do_not_unbalance() -> None:
    text = _with(41, "SVC*HC:81002*100.00*80.00**2e0").replace("CAS*CO*45*20.00*2", "CAS*CO*45*20.00*x")
    (p,) = parse_835(text)
    assert p.balanced and not p.valid
    assert [x.split(":")[1].strip().split(" ")[0] for x in p.problems] == ["SVC05", "CAS04"]
    assert p.claims[0].lines[1].units is None


def test_problems_never_show_a_value_that_could_be_a_name() -> None:
    (p,) = parse_835(_with(20, "CLP*CLM0001*1*JOHNSMITH*190.00*50.00*12*PCN0001*11*1"))
    assert "JOHNSMITH" not in " ".join(p.problems) and "(9 characters, not shown)" in p.problems[0]
