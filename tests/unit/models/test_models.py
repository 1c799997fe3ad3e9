"""Models: encounter validation, claim ids, money, status transitions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from medbill.models.claim import MAX_CLAIM_ID_LENGTH, claim_id_for
from medbill.models.common import npi_check_digit_ok, to_money
from medbill.models.encounter import Encounter
from medbill.models.status import ALLOWED_TRANSITIONS, ClaimStatus, InvalidTransition, check_transition
from tests.factories import encounter_dict, make_encounter


def test_valid_encounter_normalizes_codes() -> None:
    enc = make_encounter(diagnoses=["e11.9", "I10"])
    assert enc.diagnoses == ["E119", "I10"]
    assert enc.patient_is_subscriber and enc.insured is enc.patient


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"place_of_service": "1"}, "place_of_service"),
        ({"diagnoses": []}, "diagnoses"),
        ({"diagnoses": ["11.9"]}, "not shaped like an ICD-10-CM code"),
        ({"diagnoses": ["E11.9", "E119"]}, "listed twice"),
        ({"date_of_service": "2999-01-01"}, "in the future"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_bad_encounters_say_what_is_wrong(override: dict, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Encounter.model_validate(encounter_dict(**override))
    assert message in str(err.value)


def test_pointer_beyond_diagnoses_is_rejected() -> None:
    data = encounter_dict(diagnoses=["E11.9"])
    with pytest.raises(ValidationError, match="diagnosis pointer 2 but only 1 diagnoses"):
        Encounter.model_validate(data)


def test_bad_npi_and_procedure_code() -> None:
    data = encounter_dict()
    data["billing_provider"] = {**data["billing_provider"], "npi": "1234567890"}
    with pytest.raises(ValidationError, match="fails its check digit"):
        Encounter.model_validate(data)
    data = encounter_dict()
    data["service_lines"] = [{"procedure_code": "9921", "diagnosis_pointers": [1]}]
    with pytest.raises(ValidationError, match="not a CPT or HCPCS code"):
        Encounter.model_validate(data)


def test_subscriber_person_required_unless_self() -> None:
    with pytest.raises(ValidationError, match=r"subscriber\.person is required"):
        Encounter.model_validate(encounter_dict(subscriber={"relationship": "child"}))


def test_npi_check_digit_known_values() -> None:
    assert npi_check_digit_ok("1234567893")
    assert not npi_check_digit_ok("1234567894")
    assert not npi_check_digit_ok("12345")


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=50))
def test_claim_id_is_deterministic_and_fits_clm01(clinic: str, encounter: str) -> None:
    cid = claim_id_for(clinic, encounter)
    assert cid == claim_id_for(clinic, encounter)
    assert len(cid) <= MAX_CLAIM_ID_LENGTH and cid.isalnum()


def test_claim_ids_differ_across_clinics() -> None:
    assert claim_id_for("a", "E1") != claim_id_for("b", "E1")
    # The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert claim_id_for("ab", "c") != claim_id_for("a", "bc")


def test_money_is_decimal_cents_and_refuses_float() -> None:
    assert to_money("10.005") == Decimal("10.01")
    assert to_money(3) == Decimal("3.00")
    with pytest.raises(TypeError):
        to_money(1.1)  # type: ignore[arg-type]


def test_money_fields_serialize_as_strings() -> None:
    enc = make_encounter(service_lines=[{"procedure_code": "99213", "charge": "45.5", "diagnosis_pointers": [1]}])
    assert enc.service_lines[0].charge == Decimal("45.50")
    assert enc.model_dump(mode="json")["service_lines"][0]["charge"] == "45.50"


def test_transitions() -> None:
    check_transition(ClaimStatus.RECEIVED, ClaimStatus.REGISTERED)
    check_transition(ClaimStatus.AWAITING_REMITTANCE, ClaimStatus.SHORT_PAID)
    check_transition(ClaimStatus.SUBMITTED, ClaimStatus.PAID)  # an 835 can beat the wait task
    with pytest.raises(InvalidTransition, match="cannot go from RECEIVED to PAID"):
        check_transition(ClaimStatus.RECEIVED, ClaimStatus.PAID)
    assert ALLOWED_TRANSITIONS[ClaimStatus.CLOSED] == frozenset()
    # FAILED goes back only where a staff retry restores it: every status but CLOSED and itself.
    assert ALLOWED_TRANSITIONS[ClaimStatus.FAILED] == frozenset(ClaimStatus) - {ClaimStatus.CLOSED, ClaimStatus.FAILED}
    for status, targets in ALLOWED_TRANSITIONS.items():
        if status not in (ClaimStatus.CLOSED, ClaimStatus.FAILED):
            assert ClaimStatus.FAILED in targets


def test_every_status_is_reachable_from_received() -> None:
    seen, todo = {ClaimStatus.RECEIVED}, [ClaimStatus.RECEIVED]
    while todo:
        for nxt in ALLOWED_TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(ClaimStatus)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"patient__last_name": "O~Brien"}, "patient.last_name"),  # a segment terminator
        ({"patient__first_name": "Łukasz"}, "patient.first_name"),  # no Latin-1 fold for Ł
        ({"coverage__group_number": "G*1"}, "coverage.group_number"),
        ({"patient__address__line1": "1 Main St: Apt 2"}, "patient.address.line1"),
    ],
)
def test_text_an_837p_cannot_carry_is_refused_at_intake(override: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Encounter.model_validate(encounter_dict(**override))
    errors = err.value.errors(include_input=False)
    assert [".".join(str(p) for p in e["loc"]) for e in errors] == [field]
    assert "X12 claim cannot carry" in errors[0]["msg"]


def test_a_line_break_in_a_text_field_is_named_as_such() -> None:
    with pytest.raises(ValidationError) as err:
        Encounter.model_validate(encounter_dict(patient__address__line1="1 Main St\nApt 2"))
    [error] = err.value.errors(include_input=False)
    assert error["loc"] == ("patient", "address", "line1") and "line break" in error["msg"]


def test_accented_latin_names_are_fine() -> None:
    assert make_encounter(patient__first_name="José", patient__last_name="Núñez").patient.first_name == "José"


def test_birth_after_the_visit_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValidationError) as err:
        Encounter.model_validate(encounter_dict(patient__date_of_birth="2026-11-03"))
    assert "patient.date_of_birth is after date_of_service" in str(err.value)
    assert "2026-11-03" not in err.value.errors(include_input=False)[0]["msg"]


def test_a_boolean_pointer_is_not_pointer_one() -> None:
    data = encounter_dict()
    data["service_lines"] = [{"procedure_code": "99213", "diagnosis_pointers": [True]}]
    with pytest.raises(ValidationError, match="not true/false"):
        Encounter.model_validate(data)


def test_billing_provider_needs_zip_plus_4() -> None:
    with pytest.raises(ValidationError, match="9-digit ZIP"):
        Encounter.model_validate(encounter_dict(billing_provider__address__postal_code="62701"))
    assert make_encounter(patient__address__postal_code="62701").patient.address.postal_code == "62701"
