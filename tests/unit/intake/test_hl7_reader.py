"""HL7 v2 DFT^P03 / P11 -> encounters: the mapping, file framing, per-message rejections and the clinic profile."""

from __future__ import annotations

import pytest
from ehr_builders import CANARY_LAST, NOW, dft, expected_encounter, profile, segment

from medbill.intake import read_encounter_file, read_hl7_file
from medbill.models.claim import claim_id_for

KEY = "encounters/clinic-northside/dft-2026-11-20.hl7"


def read(text: str, **profile_overrides):
    return read_hl7_file(KEY, text.encode(), profile(**profile_overrides), now=NOW)


def only_rejections(result) -> list[tuple[int, str, str]]:
    assert result.file_error is None
    return [(r.record_number, r.field, r.reason) for r in result.rejections]


def test_a_dft_becomes_the_encounter_with_the_profile_filling_the_billing_provider() -> None:
    result = read(dft())
    assert only_rejections(result) == []
    assert result.format == "hl7" and result.records == 1
    [accepted] = result.encounters
    assert accepted.record_number == 1
    assert accepted.encounter.model_dump(mode="json") == expected_encounter()
    [message] = result.messages
    assert (message.control_id, message.message_type, message.ack_code) == ("MSG0001", "DFT^P03^DFT_P03", "AA")
    assert message.claim_id == claim_id_for("clinic-northside", "V20261120-01")


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"])
def test_segment_endings_bom_batch_wrappers_and_blank_lines(sep: str) -> None:
    second = dft({("MSH", 1): {10: "MSG0002"}, ("PV1", 1): {19: "V20261120-02"}}, sep=sep)
    body = (
        "\ufeffFHS|^~\\&|EHRAPP|NORTHSIDE" + sep + "BHS|^~\\&|EHRAPP|NORTHSIDE" + sep
        + dft(sep=sep) + sep + "\x0b" + second + "\x1c" + sep
        + "BTS|2" + sep + "FTS|1" + sep
    )  # fmt: skip
    result = read_hl7_file(KEY, body.encode("utf-8"), profile(), now=NOW)
    assert only_rejections(result) == []
    assert [a.encounter.encounter_id for a in result.encounters] == ["V20261120-01", "V20261120-02"]
    assert [(m.message_number, m.control_id, m.ack_code) for m in result.messages] == [
        (1, "MSG0001", "AA"),
        (2, "MSG0002", "AA"),
    ]


def test_a_resent_message_is_the_same_claim_and_a_repeat_in_one_file_is_rejected() -> None:
    again = dft({("MSH", 1): {10: "MSG0009"}})
    first, later = read(dft()), read(again)
    assert first.messages[0].claim_id == later.messages[0].claim_id == claim_id_for("clinic-northside", "V20261120-01")
    both = read(dft() + again)
    assert [a.record_number for a in both.encounters] == [1]
    assert only_rejections(both) == [
        (2, "PV1-19", "PV1-19 (encounter_id): this encounter already appears at message 1 of this file")
    ]
    assert both.messages[1].ack_code == "AE"


def test_icd9_snomed_and_missing_fields_are_named_by_segment_and_field() -> None:
    text = dft(
        {
            ("PID", 1): {7: ""},
            ("DG1", 2): {2: "I9", 3: "401.9^Hypertension^I9"},
            ("FT1", 1): {19: "E11.9^^I10~38341003^Hypertensive disorder^SCT"},
            ("FT1", 2): {25: ""},
        }
    )
    assert only_rejections(read(text)) == [
        (
            1,
            "DG1(2)-3",
            "DG1(2)-3 (diagnoses): is an ICD-9 code: claims need ICD-10-CM (send the ICD-10-CM code, system I10)",
        ),
        (
            1,
            "FT1(1)-19",
            "FT1(1)-19 (diagnoses): is SNOMED CT only: claims need ICD-10-CM "
            "(send it as the code or as the CWE alternate, system I10)",
        ),
        (1, "FT1(2)-25", "FT1(2)-25 (service_lines.2.procedure_code): is required: the CPT / HCPCS code of the line"),
        (1, "PID-7", "PID-7 (patient.date_of_birth): is required"),
    ]


def test_a_snomed_diagnosis_with_an_icd10_alternate_is_taken() -> None:
    text = dft({("DG1", 2): {3: "38341003^Hypertensive disorder^SCT^I10^Essential hypertension^I10"}})
    [accepted] = read(text).encounters
    assert accepted.encounter.diagnoses == ["E119", "I10"]


def test_a_code_not_in_the_cms_code_set_and_a_bad_pointer_never_quote_the_code() -> None:
    text = dft({("DG1", 2): {3: "E11.99^^I10"}, ("FT1", 1): {19: "E11.99^^I10"}})
    [(number, field, reason)] = only_rejections(read(text))
    assert (number, field) == (1, "DG1(2)-3")
    assert reason == "DG1(2)-3 (diagnoses.2): diagnosis 2 is not an ICD-10-CM code"


def test_amounts_quantity_and_currency() -> None:
    rejected = read(dft({("FT1", 2): {11: "31.00&USD"}, ("FT1", 1): {11: "125.00&EUR"}}))
    assert only_rejections(rejected) == [
        (1, "FT1(1)-11", "FT1(1)-11 (service_lines.1.charge): is not in USD"),
        (1, "FT1(2)-11", "FT1(2)-11 (service_lines.2.charge): is not FT1-12 (unit amount) times FT1-10 (quantity)"),
    ]
    # Unit amount only: times the quantity. A zero charge is left to the fee schedule.
    [accepted] = read(dft({("FT1", 2): {11: ""}, ("FT1", 1): {11: "0.00&USD"}})).encounters
    assert [line.charge for line in accepted.encounter.service_lines] == [None, 30]


def test_a_credit_is_not_a_charge_and_lines_on_two_dates_are_refused() -> None:
    assert only_rejections(read(dft({("FT1", 2): {6: "CD"}}))) == [
        (
            1,
            "FT1(2)-6",
            "FT1(2)-6 (service_lines.2): is not CG (a charge): credits and adjustments are not read from HL7",
        )
    ]
    assert only_rejections(read(dft({("FT1", 2): {4: "20261121"}}))) == [
        (1, "FT1(2)-4", "FT1(2)-4 (date_of_service): differs between lines: send one message per date")
    ]


def test_messages_we_do_not_take_are_refused_with_ar() -> None:
    text = (
        dft({("MSH", 1): {9: "ADT^A04", 10: "M1"}})
        + dft({("MSH", 1): {10: "M2", 12: "2.2"}})
        + dft({("MSH", 1): {10: "M3", 11: "T"}})
        + dft({("MSH", 1): {10: "M4", 4: "SOUTHSIDE^2.16.840.1.113883.3.1111^ISO"}})
    )
    result = read(text)
    assert [(m.control_id, m.ack_code) for m in result.messages] == [
        ("M1", "AR"),
        ("M2", "AR"),
        ("M3", "AR"),
        ("M4", "AR"),
    ]
    assert only_rejections(result) == [
        (1, "MSH-9", "MSH-9: only DFT^P03 and DFT^P11 carry charges"),
        (2, "MSH-12", "MSH-12: the version must be 2.3 to 2.8"),
        (3, "MSH-11", "MSH-11: only production (P) messages are billed"),
        (4, "MSH-4", "MSH-4: the sending facility is not clinic clinic-northside (not in its profile)"),
    ]


def test_profile_fills_payer_route_place_of_service_and_the_insured_from_gt1() -> None:
    text = dft(
        {
            ("IN1", 1): {17: "SPO", 16: None},
            ("GT1", 1): {
                3: "Spouseperson^Pat",
                5: "12 Demo Rd^^Springfield^IL^62704",
                8: "19600101",
                9: "M",
                11: "SPO",
            },
        }
    )
    result = read(
        text,
        payers={"ACME01": {"payer_id": "PAYERA01", "payer_name": "Acme (demo)", "claim_filing_indicator": "CI"}},
        hl7={"locations": {"NSMAIN": "22"}},
    )
    [accepted] = result.encounters
    enc = accepted.encounter
    assert (enc.coverage.payer_id, enc.coverage.payer_name, enc.place_of_service) == ("PAYERA01", "Acme (demo)", "22")
    assert enc.subscriber.relationship == "spouse" and enc.subscriber.person is not None
    assert (enc.subscriber.person.last_name, str(enc.subscriber.person.date_of_birth)) == ("Spouseperson", "1960-01-01")


def test_a_rendering_provider_the_profile_does_not_list_is_rejected_unless_a_default_taxonomy_is_set() -> None:
    assert only_rejections(read(dft(), providers={})) == [
        (1, "PV1-7.1", "PV1-7.1 (rendering_provider.taxonomy): names a provider the clinic profile does not list")
    ]
    [accepted] = read(dft(), providers={}, default_rendering_taxonomy="208D00000X").encounters
    assert accepted.encounter.rendering_provider is not None
    assert accepted.encounter.rendering_provider.taxonomy == "208D00000X"


def test_a_sender_charging_by_pr1() -> None:
    text = dft(
        drop=(("FT1", 1), ("FT1", 2)),
        add=[
            ("PR1", {1: "1", 3: "99213^Office visit^C4", 5: "20261120", 15: "I10^^I10", 16: "25"}),
            ("PR1", {1: "2", 3: "36415^^C4", 5: "20261120", 15: "E11.9^^I10"}),
        ],
    )
    [accepted] = read(text, hl7={"line_source": "PR1"}).encounters
    lines = [
        (sl.procedure_code, sl.modifiers, sl.diagnosis_pointers, sl.charge) for sl in accepted.encounter.service_lines
    ]
    assert lines == [("99213", ["25"], [2], None), ("36415", [], [1], None)]


def test_the_ack_is_hl7_that_the_hl7_package_reads() -> None:
    import hl7

    result = read(
        dft({("PID", 1): {8: ""}, ("MSH", 1): {12: "2.3"}}) + dft({("MSH", 1): {10: "MSG0002"}, ("PV1", 1): {19: "V2"}})
    )
    rejected, accepted = (hl7.parse(m.ack) for m in result.messages)
    assert str(rejected.segment("MSA")) == "MSA|AE|MSG0001|PID-8 (patient.sex): is required"
    # v2.3: ERR-1 (ELD) = segment ^ sequence ^ field ^ code & text & table
    assert str(rejected.segment("ERR")) == "ERR|PID^1^8^101&Required field missing&HL70357"
    assert str(accepted.segment("MSA")) == "MSA|AA|MSG0002"
    assert str(accepted.segment("MSH")(9)) == "ACK^P03^ACK" and str(accepted.segment("MSH")(12)) == "2.5.1"
    assert result.messages[1].ack.endswith("\r") and "\n" not in result.messages[1].ack


def test_a_v25_ack_names_the_field_in_err2_and_says_why_in_err8() -> None:
    import hl7

    [message] = read(dft({("FT1", 2): {25: "36415^^SCT"}})).messages
    err = hl7.parse(message.ack).segment("ERR")
    assert str(err(2)) == "FT1^2^25^1"
    assert str(err(3)) == "103^Table value not found^HL70357"
    assert str(err(4)) == "E"
    assert err.extract_field(1, 8) == (
        "FT1(2)-25 (service_lines.2.procedure_code): is not a CPT or HCPCS code (coding system C4 / HCPCS)"
    )


def test_read_encounter_file_dispatches_hl7_with_the_profile() -> None:
    body = dft().encode()
    assert [a.encounter.encounter_id for a in read_encounter_file(KEY, body, profile()).encounters] == ["V20261120-01"]
    sniffed = read_encounter_file("encounters/clinic-northside/export.txt", body, profile())
    assert sniffed.format == "hl7" and len(sniffed.encounters) == 1
    no_profile = read_encounter_file(KEY, body)
    assert no_profile.file_error == "HL7 v2 files are read with the clinic's profile, and none is set up"


def test_files_that_are_not_hl7() -> None:
    assert read_hl7_file(KEY, b"", profile()).file_error == "the file is empty"
    assert read_hl7_file(KEY, b"PID|1||x\r", profile()).file_error == (
        "the file does not start with an MSH segment (or an FHS / BHS batch header)"
    )
    bad = read_hl7_file(KEY, b"MSH|^~\\&|A|B\r\xff\xfe", profile())
    assert bad.file_error == "the file is not UTF-8 text (invalid byte at offset 13; MSH-18 may say 8859/1)"


def test_latin1_when_msh18_says_so() -> None:
    text = dft({("MSH", 1): {18: "8859/1"}, ("PID", 1): {5: f"{CANARY_LAST}^Jos\u00e9"}})
    [accepted] = read_hl7_file(KEY, text.encode("latin-1"), profile(), now=NOW).encounters
    assert accepted.encounter.patient.first_name == "Jos\u00e9"


def test_a_broken_msh_is_one_rejected_message_not_a_lost_file() -> None:
    text = "MSH|^|X\r" + segment("PID", {1: "1"}) + "\r" + dft()
    result = read(text)
    assert [(m.message_number, m.ack_code) for m in result.messages] == [(1, "AR"), (2, "AA")]
    assert only_rejections(result)[0][1] == "MSH-9"


def test_escape_sequences_are_decoded() -> None:
    text = dft({("PID", 1): {11: "12 Demo \\T\\ Sons\\H\\^Apt\\X20\\2^Springfield^IL^62704"}})
    [accepted] = read(text).encounters
    address = accepted.encounter.patient.address
    assert (address.line1, address.line2) == ("12 Demo & Sons", "Apt 2")


def test_place_of_service_from_the_point_of_care_or_the_patient_class() -> None:
    locations = {"hl7": {"locations": {"NSMAIN": "22", "NSURG": "24"}}}
    from_ft1 = dft({("PV1", 1): {3: ""}, ("FT1", 1): {16: "NSURG^^^NORTHSIDE"}})
    assert [a.encounter.place_of_service for a in read(from_ft1, **locations).encounters] == ["24"]
    emergency = dft({("PV1", 1): {2: "E", 3: "ED"}})
    assert [a.encounter.place_of_service for a in read(emergency, **locations).encounters] == ["23"]


# --- coordination of benefits and the guarantor (issue 10 item 2, issue 14) ----------------------------


def test_repeated_in1_are_the_secondary_and_tertiary_coverages_in_order() -> None:
    address = "12 Canary Row^^Springfield^IL^62701"
    secondary = (
        "IN1",
        {1: "2", 3: "EPS05", 4: "Epsilon Supplemental", 16: "ROE^JOHN", 17: "SPO", 18: "19650302", 19: address},
    )
    secondary[1].update({36: "EPS-77", 43: "M"})
    tertiary = ("IN1", {1: "3", 3: "TER03", 4: "Third Mutual", 17: "SEL", 36: "TER-88"})
    result = read(dft(add=[secondary, tertiary]))
    assert only_rejections(result) == []
    enc = result.encounters[0].encounter
    assert enc.coverage.payer_id == "ACME01"
    got = [(o.coverage.payer_id, o.coverage.member_id, o.subscriber.relationship) for o in enc.other_coverages]
    assert got == [("EPS05", "EPS-77", "spouse"), ("TER03", "TER-88", "self")]
    assert enc.other_coverages[0].subscriber.person is not None
    assert enc.other_coverages[0].subscriber.person.last_name == "ROE"


def test_a_fourth_in1_is_rejected_naming_it() -> None:
    extra = [("IN1", {1: str(n), 3: f"PAY0{n}", 4: "Plan", 17: "SEL", 36: f"M-{n}"}) for n in (2, 3, 4)]
    result = read(dft(add=extra))
    assert only_rejections(result) == [
        (1, "IN1(4)-1", "IN1(4)-1 (other_coverages): holds a fourth coverage: at most primary, secondary, tertiary")
    ]
    assert result.messages[0].ack_code == "AE"


def test_a_secondary_in1_without_its_member_id_is_rejected_with_the_field() -> None:
    result = read(dft(add=[("IN1", {1: "2", 3: "EPS05", 4: "Epsilon Supplemental", 17: "SEL"})]))
    [(number, field, reason)] = only_rejections(result)
    assert (number, field) == (1, "IN1(2)-36")
    assert reason.startswith("IN1(2)-36 (other_coverages.1.coverage.member_id):")


def test_gt1_with_an_address_is_the_guarantor_on_the_encounter() -> None:
    gt1 = {3: "ROE^JOHN^Q", 5: "PO BOX 12^^Springfield^IL^62701-0012", 11: "SPO"}
    result = read(dft({("GT1", 1): gt1}))
    assert only_rejections(result) == []
    guarantor = result.encounters[0].encounter.guarantor
    assert guarantor is not None
    assert guarantor.model_dump(mode="json", exclude_none=True) == {
        "last_name": "ROE",
        "first_name": "JOHN",
        "middle_name": "Q",
        "address": {"line1": "PO BOX 12", "city": "Springfield", "state": "IL", "postal_code": "627010012"},
        "relationship": "spouse",
    }


def test_gt1_without_an_address_leaves_the_guarantor_to_the_statement_rules() -> None:
    result = read(dft())  # the default GT1 names the patient, no address
    assert result.encounters[0].encounter.guarantor is None
