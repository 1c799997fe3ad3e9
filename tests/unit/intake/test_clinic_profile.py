"""The clinic profile: validated like an encounter; names the clinic; fills what messages leave out."""

from __future__ import annotations

import pytest
from ehr_builders import PROFILE, profile
from pydantic import ValidationError

from medbill.models.clinic_profile import ClinicProfile


def errors(**overrides) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as exc:
        ClinicProfile.model_validate({**PROFILE, **overrides})
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.value.errors(include_url=False)]


def test_defaults() -> None:
    p = profile()
    assert (p.default_place_of_service, p.fee_schedule_name, p.pay_to_address) == ("11", "clinic-northside", None)
    assert (p.hl7.encounter_id_field, p.hl7.procedure_fields, p.hl7.charge_fields, p.hl7.line_source) == (
        "PV1-19",
        ["FT1-25"],
        ["FT1-11"],
        "FT1",
    )
    assert profile(fee_schedule="northside-2027").fee_schedule_name == "northside-2027"


def test_the_billing_provider_is_checked_as_an_837p_needs_it() -> None:
    provider = {**PROFILE["billing_provider"], "npi": "1990000015"}
    provider["address"] = {**provider["address"], "postal_code": "62701"}
    assert errors(billing_provider=provider) == [
        ("billing_provider.npi", "Value error, NPI 1990000015 fails its check digit"),
        (
            "billing_provider.address.postal_code",
            "Value error, the billing provider needs the 9-digit ZIP+4 (no dash), e.g. 627011234",
        ),
    ]


def test_other_rules() -> None:
    assert errors(default_place_of_service="1") == [
        ("default_place_of_service", "String should match pattern '^\\d{2}$'")
    ]
    assert errors(facility_ids=["NORTHSIDE", "northside"]) == [
        ("facility_ids", "Value error, a facility id is listed twice")
    ]
    assert errors(pay_to_address=PROFILE["billing_provider"]["address"]) == [
        ("", "Value error, pay_to_address repeats the billing address: omit it")
    ]
    assert errors(providers={"1290000037": "207Q0000"})[0][0] == "providers.1290000037"
    assert errors(hl7={"encounter_id_field": "PV1-99"})[0][0] == "hl7.encounter_id_field"
    assert errors(unknown=1) == [("unknown", "Extra inputs are not permitted")]


def test_which_identifiers_name_the_clinic() -> None:
    p = profile()
    assert p.names_this_clinic(["northside", ""])  # case-insensitive
    assert p.names_this_clinic(["1990000014"])  # the billing NPI always does
    assert not p.names_this_clinic(["SOUTHSIDE", "2.16.840.1.113883.3.1111"])
    assert not p.names_this_clinic([])


def test_rendering_taxonomy_and_payer_routes() -> None:
    p = profile(
        default_rendering_taxonomy="208D00000X",
        payers={"ACME01": {"payer_id": "PAYERA01", "payer_name": "Acme (demo)", "claim_filing_indicator": "MB"}},
    )
    assert (p.rendering_taxonomy("1290000037"), p.rendering_taxonomy("1588667638")) == ("207Q00000X", "208D00000X")
    assert profile().rendering_taxonomy("1588667638") is None
    route = p.payer_route(" ACME01 ")
    assert route is not None and (route.payer_id, route.claim_filing_indicator) == ("PAYERA01", "MB")
    assert p.payer_route("OTHER") is None
