"""837P writer: every file we write passes pyx12 with zero errors and says what the claims say."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from infra.config import ClearinghouseSettings
from medbill.x12.claim837 import ControlNumbers, summarize_837p, transactions_needed, write_837p
from medbill.x12.envelope import check_envelopes
from medbill.x12.segments import X12DataError
from medbill.x12.tokenizer import tokenize
from testkit.x12_oracle import make_claim, make_person, pyx12_errors

SETTINGS = ClearinghouseSettings()
CREATED = datetime(2025, 3, 15, 10, 5)
TWELVE_DX = ("E119", "I10", "J449", "M545", "R51", "Z0000", "E785", "K219", "F329", "G4733", "N390", "R0602")


def write(claims, **kwargs) -> str:
    return write_837p(
        claims,
        settings=SETTINGS,
        control_numbers=ControlNumbers(interchange=42, group=42),
        created=CREATED,
        **kwargs,
    )


def segs(text: str, seg_id: str) -> list:
    return [s for s in tokenize(text) if s.id == seg_id]


def assert_valid(text: str) -> None:
    """pyx12 reports nothing, our envelope checker reports nothing, and the HL tree is consistent."""
    assert pyx12_errors(text) == []
    _, problems = check_envelopes(text)
    assert problems == []
    # HL: ids run 1..n per transaction, parents exist and come first, HL04 says whether children follow.
    hls: list = []
    for seg in tokenize(text):
        if seg.id == "ST":
            hls = []
        elif seg.id == "HL":
            hls.append(seg)
        elif seg.id == "SE":
            ids = [int(h.get(1)) for h in hls]
            assert ids == list(range(1, len(hls) + 1))
            parents = {h.get(2) for h in hls if h.get(2)}
            for h in hls:
                if h.get(2):
                    assert int(h.get(2)) < int(h.get(1))
                assert (h.get(4) == "1") == (h.get(1) in parents), f"HL {h.get(1)} HL04 disagrees with its children"


def test_self_subscriber_claim_is_valid_and_complete() -> None:
    text = write([make_claim("CLM1")])
    assert_valid(text)
    assert segs(text, "GS")[0].get(8) == "005010X222A1"
    assert segs(text, "ST")[0].get(3) == "005010X222A1"
    bht = segs(text, "BHT")[0]
    assert (bht.get(1), bht.get(2), bht.get(4), bht.get(5), bht.get(6)) == (
        "0019",
        "00",
        "20250315",
        "1005",
        "CH",
    )
    sbr = segs(text, "SBR")[0]
    assert (sbr.get(1), sbr.get(2), sbr.get(3), sbr.get(9)) == ("P", "18", "GRP100", "CI")
    assert [s.get(3) for s in segs(text, "HL")] == ["20", "22"]
    assert segs(text, "PAT") == []
    assert len(segs(text, "DMG")) == 1  # the subscriber is the patient
    clm = segs(text, "CLM")[0]
    assert clm.elements[:9] == ["CLM1", "100.00", "", "", "11:B:1", "Y", "A", "Y", "Y"]
    assert segs(text, "REF")[0].elements == ["EI", "123456780"]
    assert [s.elements for s in segs(text, "NM1") if s.get(1) == "PR"] == [
        ["PR", "2", "ACME HEALTH", "", "", "", "", "PI", "PAYER01"]
    ]
    assert [s.elements for s in segs(text, "PRV")] == [["BI", "PXC", "207Q00000X"]]
    assert segs(text, "DTP")[0].elements == ["472", "D8", "20250314"]
    assert [s.elements for s in segs(text, "REF") if s.get(1) == "6R"] == [["6R", "CLM1-1"]]
    assert "DTP*431" not in text  # no onset date in our data: never invented


def test_patient_not_subscriber_gets_a_patient_loop() -> None:
    claim = make_claim("CLM2", relationship="spouse", patient=make_person("ROE", "ANN"))
    text = write([claim])
    assert_valid(text)
    assert [(s.get(1), s.get(2), s.get(3), s.get(4)) for s in segs(text, "HL")] == [
        ("1", "", "20", "1"),
        ("2", "1", "22", "1"),
        ("3", "2", "23", "0"),
    ]
    assert segs(text, "SBR")[0].get(2) == ""
    assert segs(text, "PAT")[0].elements == ["01"]
    nm1 = {s.get(1): s for s in segs(text, "NM1")}
    assert nm1["IL"].get(3) == "DOE" and nm1["IL"].get(9) == "MEM123456"
    assert nm1["QC"].elements[:3] == ["QC", "1", "ROE"]
    assert len(segs(text, "DMG")) == 1  # the patient's only: the subscriber's is not sent


def test_rendering_provider_and_four_modifiers() -> None:
    claim = make_claim("CLM3", rendering_index=0, lines=[("99213", ("25", "59", "GT", "95"), "1", "125.00", (1, 2))])
    text = write([claim])
    assert_valid(text)
    nm82 = next(s for s in segs(text, "NM1") if s.get(1) == "82")
    assert nm82.elements == ["82", "1", "WELBY", "MARCUS", "", "", "", "XX", "1003000126"]
    assert [s.elements for s in segs(text, "PRV")][1] == ["PE", "PXC", "207R00000X"]
    sv1 = segs(text, "SV1")[0]
    assert sv1.components(1) == ["HC", "99213", "25", "59", "GT", "95"]
    assert sv1.elements[1:4] == ["125.00", "UN", "1"]
    assert sv1.components(7) == ["1", "2"]


def test_rendering_provider_same_as_billing_is_not_repeated() -> None:
    claim = make_claim("CLM4", rendering_index=0)
    assert claim.encounter.rendering_provider is not None
    claim.encounter.rendering_provider.npi = claim.encounter.billing_provider.npi
    text = write([claim])
    assert_valid(text)
    assert not [s for s in segs(text, "NM1") if s.get(1) == "82"]


def test_twelve_diagnoses_and_four_pointers() -> None:
    claim = make_claim("CLM5", diagnoses=TWELVE_DX, lines=[("99214", (), "1", "150.00", (12, 1, 5, 9))])
    text = write([claim])
    assert_valid(text)
    hi = segs(text, "HI")[0]
    assert [hi.component(n, 1) for n in range(1, 13)] == ["ABK"] + ["ABF"] * 11
    assert [hi.component(n, 2) for n in range(1, 13)] == list(TWELVE_DX)
    assert segs(text, "SV1")[0].components(7) == ["12", "1", "5", "9"]


def test_replacement_claim_carries_payer_claim_number() -> None:
    text = write([make_claim("CLM6", frequency_code="7", payer_claim_number="PAYER-CLM-77")])
    assert_valid(text)
    assert segs(text, "CLM")[0].get(5) == "11:B:7"
    assert [s.elements for s in segs(text, "REF") if s.get(1) == "F8"] == [["F8", "PAYER-CLM-77"]]
    original = write([make_claim("CLM6")])
    assert "REF*F8" not in original


@pytest.mark.parametrize("frequency", ["7", "8"])
def test_replacement_or_void_without_payer_claim_number_is_refused(frequency: str) -> None:
    with pytest.raises(X12DataError, match=r"claim CLM7: frequency .* payer claim number"):
        write([make_claim("CLM7", frequency_code=frequency)])


def test_several_claims_several_billing_providers() -> None:
    claims = [
        make_claim("A1", billing_index=0),
        make_claim("B1", billing_index=1, relationship="child", patient=make_person("DOE", "KID")),
        make_claim("A2", billing_index=0, member_id="OTHER1"),
        make_claim("A3", billing_index=0),  # same subscriber as A1: same 2000B
        make_claim("B2", billing_index=1, relationship="child", patient=make_person("DOE", "KID")),
        make_claim("B3", billing_index=1, relationship="child", patient=make_person("DOE", "TWIN")),
        make_claim("C1", billing_index=2, rendering_index=1, frequency_code="8", payer_claim_number="P9"),
    ]
    text = write(claims)
    assert_valid(text)
    hl = [(s.get(1), s.get(2), s.get(3)) for s in segs(text, "HL")]
    assert [h for h in hl if h[2] == "20"] == [("1", "", "20"), ("4", "", "20"), ("8", "", "20")]
    # Provider 0: subscriber MEM123456 holds A1 and A3, subscriber OTHER1 holds A2.
    assert hl[:3] == [("1", "", "20"), ("2", "1", "22"), ("3", "1", "22")]
    # Provider 1: one subscriber, two dependants (KID with B1 and B2, TWIN with B3).
    assert hl[3:7] == [("4", "", "20"), ("5", "4", "22"), ("6", "5", "23"), ("7", "5", "23")]
    assert [s.get(1) for s in segs(text, "CLM")] == ["A1", "A3", "A2", "B1", "B2", "B3", "C1"]
    summary = summarize_837p(text)
    assert {c["claim_id"]: c["billing_npi"] for c in summary["claims"]} == {
        "A1": "1234567893",
        "A2": "1234567893",
        "A3": "1234567893",
        "B1": "1912301953",
        "B2": "1912301953",
        "B3": "1912301953",
        "C1": "1497758544",
    }


def test_claims_split_into_transactions() -> None:
    claims = [make_claim(f"CLM{n}", billing_index=n % 2) for n in range(5)]
    counter = iter(range(41, 100))
    numbers = ControlNumbers.from_counter(lambda: next(counter), transactions=transactions_needed(5, 2))
    text = write_837p(claims, settings=SETTINGS, control_numbers=numbers, created=CREATED, claims_per_transaction=2)
    assert_valid(text)
    # ISA13, GS06 and the first ST02 share the first draw; the other ST02s draw their own numbers.
    assert [s.get(2) for s in segs(text, "ST")] == ["0041", "0042", "0043"]
    assert [s.get(2) for s in segs(text, "SE")] == ["0041", "0042", "0043"]
    assert segs(text, "GE")[0].elements == ["3", "41"] and segs(text, "ISA")[0].get(13) == "000000041"
    assert [s.get(3) for s in segs(text, "BHT")] == ["0000000410041", "0000000410042", "0000000410043"]
    summary = summarize_837p(text)
    assert [t["claim_count"] for t in summary["transactions"]] == [2, 2, 1]
    assert [c["claim_id"] for c in summary["claims"]] == [f"CLM{n}" for n in range(5)]


def test_envelope_control_numbers() -> None:
    counter = iter(range(7, 100))
    numbers = ControlNumbers.from_counter(lambda: next(counter))
    assert (numbers.interchange, numbers.group, numbers.isa13) == (7, 7, "000000007")
    text = write_837p([make_claim()], settings=SETTINGS, control_numbers=numbers, created=CREATED)
    isa = segs(text, "ISA")[0]
    assert len(isa.to_x12()) == 106
    assert (isa.get(6), isa.get(8), isa.get(13), isa.get(15), isa.get(16)) == (
        "MEDBILL        ",
        "CLEARINGHOUSE  ",
        "000000007",
        "T",
        ":",
    )
    assert segs(text, "GS")[0].get(6) == "7"
    assert segs(text, "ST")[0].get(2) == "0007" and segs(text, "SE")[0].get(2) == "0007"
    assert segs(text, "IEA")[0].elements == ["1", "000000007"]
    assert ControlNumbers.from_counter(lambda: next(counter)).interchange == 8  # one draw per file
    for bad in (0, 1_000_000_000):
        with pytest.raises(ValueError, match="control number"):
            ControlNumbers(interchange=bad, group=1)
        with pytest.raises(ValueError, match="transaction control number"):
            ControlNumbers(interchange=1, group=1, transactions=(bad,))
    with pytest.raises(ValueError, match="unique"):
        ControlNumbers(interchange=1, group=1, transactions=(2, 2))


def test_st02_is_unique_across_files_drawn_from_one_counter() -> None:
    # Per-file 0001.. numbering would give every file the same ST02; the counter never repeats.
    counter = iter(range(999_999_990, 1_000_000_000))
    seen: list[str] = []
    for size in (1, 3, 1, 2):
        numbers = ControlNumbers.from_counter(lambda: next(counter), transactions=transactions_needed(size, 1))
        text = write_837p(
            [make_claim(f"C{size}{n}") for n in range(size)],
            settings=SETTINGS,
            control_numbers=numbers,
            created=CREATED,
            claims_per_transaction=1,
        )
        seen += [s.get(2) for s in segs(text, "ST")]
    assert seen == [str(n) for n in range(999_999_990, 999_999_997)]  # 9 digits: ST02's maximum length
    assert pyx12_errors(text) == []


def test_several_transactions_without_enough_st02_numbers_are_refused() -> None:
    claims = [make_claim(f"CLM{n}") for n in range(3)]
    with pytest.raises(ValueError, match="3 transactions need 3 ST02 control numbers"):
        write(claims, claims_per_transaction=1)
    with pytest.raises(ValueError, match="3 transactions need 3 ST02 control numbers but 2 were given"):
        write_837p(
            claims,
            settings=SETTINGS,
            control_numbers=ControlNumbers(1, 1, (1, 2)),
            created=CREATED,
            claims_per_transaction=1,
        )
    assert [transactions_needed(n, 2) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]


def test_claims_group_by_billing_provider_and_payer() -> None:
    claims = [
        make_claim("P0A1", billing_index=0, payer_id="PAYERA"),
        make_claim("P0B1", billing_index=0, payer_id="PAYERB"),
        make_claim("P1A1", billing_index=1, payer_id="PAYERA"),
        make_claim("P0A2", billing_index=0, payer_id="PAYERA"),  # same provider, payer and subscriber as P0A1
        make_claim("P1B1", billing_index=1, payer_id="PAYERB", relationship="child"),
    ]
    text = write(claims)
    assert_valid(text)
    tree = []
    for seg in tokenize(text):
        if seg.id == "HL":
            tree.append([seg.get(3)])
        elif seg.id == "NM1" and seg.get(1) in ("85", "PR"):
            tree[-1].append(seg.get(9))
        elif seg.id == "CLM":
            tree[-1].append(seg.get(1))
    assert tree == [
        ["20", "1234567893"],
        ["22", "PAYERA", "P0A1", "P0A2"],
        ["22", "PAYERB", "P0B1"],
        ["20", "1912301953"],
        ["22", "PAYERA", "P1A1"],
        ["22", "PAYERB"],
        ["23", "P1B1"],
    ]
    assert {c["claim_id"]: c["payer_id"] for c in summarize_837p(text)["claims"]} == {
        c.claim_id: c.payer_id for c in claims
    }


def test_se_counts_segments_and_lines_break_optionally() -> None:
    text = write([make_claim(lines=[("99213", (), "1", "10.00", (1,))] * 3)], line_breaks=False)
    assert "\n" not in text
    assert_valid(text)
    se = segs(text, "SE")[0]
    all_segs = list(tokenize(text))
    st_pos = next(s.position for s in all_segs if s.id == "ST")
    assert int(se.get(1)) == se.position - st_pos + 1


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda c: setattr(c.encounter.patient, "last_name", "O*NEIL"), "NM103"),
        (lambda c: setattr(c.encounter.patient.address, "line1", "1 MAIN ST~APT 2"), "N301"),
        (lambda c: setattr(c.lines[0], "line_control_number", "LCN:1"), "REF02"),
        (lambda c: setattr(c.encounter.patient, "first_name", "JO^ANN"), "NM104"),
        (lambda c: setattr(c.encounter.patient, "first_name", "Zoë\u200b"), "NM104"),  # not X12 text
    ],
)
def test_data_holding_a_separator_is_refused_without_echoing_it(mutate, where: str) -> None:
    claim = make_claim("CLMBAD")
    mutate(claim)
    with pytest.raises(X12DataError) as err:
        write([claim])
    message = str(err.value)
    assert "CLMBAD" in message and where in message
    for phi in ("O*NEIL", "MAIN ST", "JO^ANN", "Zo"):
        assert phi not in message


def test_accents_are_folded_not_refused() -> None:
    claim = make_claim(patient=make_person("NÚÑEZ", "JOSÉ"))
    text = write([claim])
    assert_valid(text)
    assert "NM1*IL*1*NUNEZ*JOSE" in text


def test_first_name_too_long_is_refused_not_truncated() -> None:
    # The model refuses it at intake (36 > NM104's 35); the writer still guards against an unvalidated claim.
    with pytest.raises(ValueError, match="at most 35 characters"):
        make_person("DOE", "A" * 36)
    person = make_person("DOE", "A").model_copy(update={"first_name": "A" * 36})
    claim = make_claim("CLMLONG", patient=person)
    with pytest.raises(X12DataError, match=r"CLMLONG.*NM104 is longer than 35"):
        write([claim])


def test_unpriced_or_unbalanced_claims_are_refused() -> None:
    claim = make_claim("CLMP")
    claim.lines[0].charge = None
    with pytest.raises(X12DataError, match="CLMP line 1 has no charge"):
        write([claim])
    claim = make_claim("CLMT")
    claim.total_charge = Decimal("99.99")
    with pytest.raises(X12DataError, match=r"CLMT: total charge 99.99 is not the sum of its lines 100.00"):
        write([claim])
    claim = make_claim("CLMN")
    claim.total_charge = None  # unset total: the lines' sum is written
    assert segs(write([claim]), "CLM")[0].get(2) == "100.00"


def test_duplicate_claims_and_empty_files_are_refused() -> None:
    with pytest.raises(X12DataError, match="CLMD appears twice"):
        write([make_claim("CLMD"), make_claim("CLMD")])
    with pytest.raises(X12DataError, match="at least one claim"):
        write([])


def test_summary_has_ids_and_amounts_but_no_phi() -> None:
    claim = make_claim(
        "CLMS",
        relationship="child",
        patient=make_person("PHICANARY", "KIDNAME"),
        subscriber=make_person("PHICANARY", "PARENTNAME"),
        member_id="MEMBERCANARY9",
        lines=[("99213", ("25",), "1", "80.00", (1,)), ("J1100", (), "3", "12.30", (2, 1))],
    )
    summary = summarize_837p(write([claim]))
    blob = json.dumps(summary)  # plain JSON
    for phi in ("PHICANARY", "KIDNAME", "PARENTNAME", "MEMBERCANARY9", "19800203", "MAIN ST", "SPRINGFIELD"):
        assert phi not in blob
    (c,) = summary["claims"]
    assert c == {
        "claim_id": "CLMS",
        "total_charge": "92.30",
        "place_of_service": "11",
        "frequency_code": "1",
        "payer_id": "PAYER01",
        "billing_npi": "1234567893",
        "payer_claim_number": None,
        "diagnosis_codes": ["E119", "I10"],
        "lines": [
            {
                "line_number": 1,
                "procedure_code": "99213",
                "modifiers": ["25"],
                "charge": "80.00",
                "units": "1",
                "diagnosis_pointers": [1],
                "line_control_number": "CLMS-1",
            },
            {
                "line_number": 2,
                "procedure_code": "J1100",
                "modifiers": [],
                "charge": "12.30",
                "units": "3",
                "diagnosis_pointers": [2, 1],
                "line_control_number": "CLMS-2",
            },
        ],
    }
    assert summary["claim_count"] == 1 and summary["total_charge"] == "92.30"
    assert summary["envelope_problems"] == []
