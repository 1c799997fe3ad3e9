"""Billing provider (2010AA street address, tax id EIN/SSN), service facility (2310C), anesthesia minutes."""

from __future__ import annotations

import pytest
from coding_builders import PACKAGED, encounter, encounter_data, found, holds
from pydantic import ValidationError

from medbill.coding import scrub
from medbill.intake.validate import validate_record
from medbill.models.encounter import Encounter

X12 = "837P 005010X222A1"
PO_BOX_HOLD = (
    f"{X12}: billing provider address (2010AA) is a PO box or lock box; it must be the street address where the "
    "practice is; put the PO box in the billing provider's pay_to_address (2010AB)"
)


# --- no PO box in 2010AA -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line1",
    ["P.O. Box 1200", "PO BOX 1200", "Post Office Box 1200", "POB 1200", "p o box 12", "PO Drawer 7", "Lockbox 5521"],
)
def test_po_box_in_the_billing_address_holds(line1: str) -> None:
    assert holds(encounter(billing_provider__address__line1=line1)) == [PO_BOX_HOLD]


@pytest.mark.parametrize("line1", ["12 Boxwood Rd", "400 Polk St", "1 Post Office Square", "7 Pobst Lane", "APO AE"])
def test_street_addresses_that_look_a_little_like_a_po_box_pass(line1: str) -> None:
    assert holds(encounter(billing_provider__address__line1=line1)) == []


def test_po_box_on_line2_holds_and_the_pay_to_address_may_be_one() -> None:
    assert holds(encounter(billing_provider__address__line2="P.O. Box 9")) == [PO_BOX_HOLD]
    pay_to = {"line1": "PO Box 9", "city": "Springfield", "state": "IL", "postal_code": "62705"}
    assert holds(encounter(billing_provider__pay_to_address=pay_to)) == []


# --- tax id: EIN or SSN ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tin", "qualifier", "reason"),
    [
        ("000000000", "EI", "an EIN cannot start with 00"),
        ("001234567", "EI", "an EIN cannot start with 00"),
        ("000123456", "SY", "an SSN cannot start with 000, 666 or 9"),
        ("666123456", "SY", "an SSN cannot start with 000, 666 or 9"),
        ("912345678", "SY", "an SSN cannot start with 000, 666 or 9"),
        ("123001234", "SY", "an SSN cannot have group 00 or serial 0000"),
        ("123450000", "SY", "an SSN cannot have group 00 or serial 0000"),
    ],
)
def test_intake_refuses_a_tax_id_that_cannot_exist(tin: str, qualifier: str, reason: str) -> None:
    raw = encounter_data(
        billing_provider__tin=tin,
        billing_provider__tin_qualifier=qualifier,
        billing_provider__last_name="SOLO",
        billing_provider__first_name="PAT",
    )
    encounter_, rejections = validate_record(raw, 1)
    assert encounter_ is None
    assert [(r.field, r.reason) for r in rejections] == [
        ("billing_provider", f"billing_provider: tin is not a valid tax id ({reason})")
    ]
    assert all(tin not in r.reason for r in rejections)


def test_scrubber_refuses_the_same_values_when_they_bypass_the_model() -> None:
    enc = encounter()
    enc.billing_provider.tin = "000000000"
    assert holds(enc) == [f"{X12}: billing provider tax id is not valid: an EIN cannot start with 00"]


def test_ein_with_a_prefix_the_irs_does_not_assign() -> None:
    [f] = found(encounter(billing_provider__tin="071234567"), "TIN-EIN-PREFIX")
    assert f.message == (
        "IRS EIN prefixes: billing provider tax id: its prefix is not one the IRS assigns to EINs; check the EIN, "
        "or set tin_qualifier SY if it is a sole proprietor's SSN"
    )
    assert found(encounter(billing_provider__tin="061234567"), "TIN-EIN-PREFIX") == []
    assert found(encounter(billing_provider__tin="991234567"), "TIN-EIN-PREFIX") == []


def test_sole_proprietor_bills_under_an_ssn_with_qualifier_sy() -> None:
    enc = encounter(
        billing_provider__tin="071234567",  # a valid SSN; as an EIN its prefix would hold
        billing_provider__tin_qualifier="SY",
        billing_provider__organization_name=None,
        billing_provider__last_name="SOLO",
        billing_provider__first_name="PAT",
    )
    assert enc.billing_provider.tin_qualifier == "SY"
    assert holds(enc) == []


def test_an_ssn_on_an_organization_holds() -> None:
    enc = encounter(billing_provider__tin="123456789", billing_provider__tin_qualifier="SY")
    assert holds(enc) == [
        f"{X12}: billing provider tax id is an SSN (SY) but the billing provider has no person's name; a sole "
        "proprietor billing under an SSN is named as a person (last_name, first_name)"
    ]


def test_tin_qualifier_is_ei_or_sy_only() -> None:
    with pytest.raises(ValidationError):
        Encounter.model_validate(encounter_data(billing_provider__tin_qualifier="XX"))


# --- 2310C service facility -----------------------------------------------------------------------------
FACILITY = {
    "organization_name": "SPRINGFIELD GENERAL",
    "npi": "1245319599",
    "address": {"line1": "800 Hospital Dr", "city": "Springfield", "state": "IL", "postal_code": "627019999"},
}


@pytest.mark.parametrize("pos", ["21", "22", "23", "24", "31"])
def test_a_facility_place_of_service_needs_the_service_facility(pos: str) -> None:
    assert holds(encounter(place_of_service=pos)) == [
        f"CMS POS 2024-06: place of service {pos} is a facility; the claim needs the service facility location "
        "(2310C): add service_facility with its name, street address and NPI"
    ]
    assert holds(encounter(place_of_service=pos, service_facility=FACILITY)) == []


@pytest.mark.parametrize("pos", ["11", "12", "02", "10", "41", "42"])
def test_office_home_telehealth_and_ambulance_need_no_service_facility(pos: str) -> None:
    assert found(encounter(place_of_service=pos), "SERVICE-FACILITY") == []


def test_service_facility_street_address_not_a_po_box() -> None:
    facility = {**FACILITY, "address": {**FACILITY["address"], "line1": "PO Box 4"}}
    assert holds(encounter(place_of_service="22", service_facility=facility)) == [
        f"{X12}: service facility address (2310C) is a PO box; it must be the street address where care was given"
    ]


# --- anesthesia in minutes (MJ) -------------------------------------------------------------------------
def test_anesthesia_lines_are_minutes() -> None:
    enc = encounter(("00790", ["P1"], "47"))
    [f] = found(enc, "ANESTHESIA-MINUTES")
    assert (f.severity, f.line, f.message) == (
        "info",
        1,
        f"{X12}: line 1: 00790 is anesthesia: 47 minutes, sent as MJ (SV103)",
    )
    assert holds(enc) == []


def test_anesthesia_minutes_must_be_whole() -> None:
    assert holds(encounter(("00790", [], "47.5"))) == [
        f"{X12}: line 1: 00790 is anesthesia, billed in minutes (MJ); 47.5 is not a whole number"
    ]
    assert holds(encounter(("00790", [], "999"))) == []


def test_codes_next_to_the_anesthesia_range_are_not_anesthesia() -> None:
    for code in ("00099", "02000", "99213"):
        assert found(encounter((code, [], "1.5")), "ANESTHESIA-MINUTES") == []
    assert found(encounter(("00100", [], "30"), ("01999", [], "30")), "ANESTHESIA-MINUTES") != []
    assert len(found(encounter(("00100", [], "30"), ("01999", [], "30")), "ANESTHESIA-MINUTES")) == 2


def test_scrub_result_carries_versions_for_the_claim() -> None:
    result = scrub(encounter(), PACKAGED, None)
    assert result.reasons == ["clinic clinic-test has no fee schedule; procedure codes cannot be checked or priced"]
    assert result.versions["place_of_service"] == "CMS POS 2024-06"
    assert result.versions["ncci_ptp"] == "not loaded" and result.versions["hcpcs"] == "not loaded"
    assert result.versions["icd10cm"].startswith("ICD-10-CM ")
