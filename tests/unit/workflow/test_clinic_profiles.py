"""Clinic profiles: validated like encounters (fields named, values never), stored per clinic, cached."""

from __future__ import annotations

import copy
import json

import pytest

from medbill.workflow.clinic_profiles import (
    ClinicProfiles,
    InvalidProfile,
    ProfileNotFound,
    clinic_of_key,
    parse_profile,
    profile_key,
)
from tests.fakes import FakeClinicProfileFiles
from tests.unit.intake.ehr_builders import PROFILE


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bad_profile_names_every_field_and_no_value() -> None:
    document = {
        "clinic_id": "clinic-x",
        "billing_provider": {"npi": "1234567", "tin": "12-ZZ", "address": {"line1": "9 Secretvalue Road"}},
        "providers": {"55501": "NOTATAXONOMY"},
        "payers": {"ACME01": {"payer_id": "PAYERA01"}},
        "hl7": {"encounter_id_field": "ZZ1-1"},
        "junk": "Secretjunk",
    }
    with pytest.raises(InvalidProfile) as caught:
        parse_profile("clinic-x", document)
    assert caught.value.problems == [
        ("billing_provider.npi", "NPI must be 10 digits"),
        ("billing_provider.taxonomy", "is required"),
        ("billing_provider.tin", "String should match pattern '^\\d{9}$'"),
        ("billing_provider.address.city", "is required"),
        ("billing_provider.address.state", "is required"),
        ("billing_provider.address.postal_code", "is required"),
        ("payers.<key>.payer_name", "is required"),
        ("providers.[key]", "NPI must be 10 digits"),
        ("providers.<key>", "String should match pattern '^[0-9A-Z]{9}X$'"),
        ("hl7.encounter_id_field", "Input should be 'PV1-19', 'PV1-50', 'PID-18', 'FT1-2' or 'FT1-23'"),
        ("junk", "is not a field of the clinic profile (check the spelling)"),
    ]
    text = str(caught.value)
    assert text.startswith("the profile of clinic clinic-x is not valid: billing_provider.npi: NPI must be 10 digits;")
    values = ("1234567", "12-ZZ", "Secretvalue", "55501", "NOTATAXONOMY", "ACME01", "PAYERA01", "ZZ1-1", "Secretjunk")
    assert [v for v in values if v in text] == []


def test_a_profile_is_json_object_of_its_own_clinic() -> None:
    with pytest.raises(InvalidProfile) as caught:
        parse_profile("clinic-northside", b"{not json")
    assert caught.value.problems == [("profile", "is not valid JSON")]
    with pytest.raises(InvalidProfile) as caught:
        parse_profile("clinic-northside", b"[1, 2]")
    assert caught.value.problems == [("profile", "is not a JSON object")]
    with pytest.raises(InvalidProfile) as caught:
        parse_profile("clinic-lakeview", PROFILE)
    assert caught.value.problems == [("clinic_id", "must be clinic-lakeview, the clinic the profile is stored for")]


def test_put_stores_the_validated_profile_and_get_reads_it_back() -> None:
    files = FakeClinicProfileFiles()
    profiles = ClinicProfiles(files)
    stored = profiles.put("clinic-northside", PROFILE)
    assert profile_key("clinic-northside") == "config/clinics/clinic-northside.json"
    written = json.loads(files.files["clinic-northside"])
    assert written["default_place_of_service"] == "11"  # defaults are written out
    assert written["facility_ids"] == ["NORTHSIDE", "2.16.840.1.113883.3.9999"]
    assert ClinicProfiles(FakeClinicProfileFiles()).find("clinic-northside") is None
    fresh = FakeClinicProfileFiles()
    fresh.files = dict(files.files)
    assert ClinicProfiles(fresh).get("clinic-northside") == stored
    with pytest.raises(ProfileNotFound, match=r"^clinic clinic-lakeview has no profile: put one at "):
        profiles.get("clinic-lakeview")


def test_profiles_are_cached_for_a_minute_and_a_put_is_seen_at_once() -> None:
    files, clock = FakeClinicProfileFiles(), Clock()
    profiles = ClinicProfiles(files, clock=clock)
    assert profiles.find("clinic-northside") is None  # not cached: the first profile is seen next time
    files.write_profile("clinic-northside", json.dumps(PROFILE).encode())
    first = profiles.get("clinic-northside")
    assert files.reads == 2
    changed = copy.deepcopy(PROFILE) | {"default_place_of_service": "22"}
    files.write_profile("clinic-northside", json.dumps(changed).encode())  # another function put it
    clock.now += 59
    assert profiles.get("clinic-northside") is first and files.reads == 2
    clock.now += 2
    assert profiles.get("clinic-northside").default_place_of_service == "22" and files.reads == 3
    profiles.put("clinic-northside", copy.deepcopy(PROFILE) | {"default_place_of_service": "49"})
    assert profiles.get("clinic-northside").default_place_of_service == "49" and files.reads == 3


def test_a_stored_profile_that_does_not_validate_is_an_error_not_a_missing_profile() -> None:
    files = FakeClinicProfileFiles()
    files.write_profile("clinic-northside", b'{"clinic_id": "clinic-northside"}')
    with pytest.raises(InvalidProfile) as caught:
        ClinicProfiles(files).find("clinic-northside")
    assert caught.value.problems == [("billing_provider", "is required")]


@pytest.mark.parametrize(
    ("key", "clinic"),
    [
        ("encounters/clinic-northside/batch.hl7", "clinic-northside"),
        ("encounters/clinic_2/sub/dir/file.json", "clinic_2"),
        ("encounters/northside.json", None),
        ("encounters//x.hl7", None),
        ("encounters/two words/x.hl7", None),
        ("era/clinic-northside/x.835", None),
    ],
)
def test_the_clinic_of_a_file_is_its_folder(key: str, clinic: str | None) -> None:
    assert clinic_of_key(key) == clinic
