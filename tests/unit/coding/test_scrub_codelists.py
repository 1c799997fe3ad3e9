"""Packaged code lists: CMS place of service, SBR09, state codes, NUCC taxonomy."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from importlib import resources

from coding_builders import REPO_ROOT, encounter, found, holds, reference_data

from medbill.coding.codelists import packaged


def test_clean_encounter_has_no_holds() -> None:
    assert holds(encounter()) == []


def test_packaged_lists_and_their_versions() -> None:
    lists = packaged()
    assert lists.versions() == {
        "place_of_service": "CMS POS 2024-06",
        "claim_filing_indicator": "X12 1032 (837P 005010X222A1)",
        "state_codes": "X12 states (pyx12 codes.xml)",
        "nucc_taxonomy": "NUCC 25.1",
    }
    assert {"11", "21", "22", "23", "10", "27", "66"} <= lists.place_of_service.codes
    assert "00" not in lists.place_of_service and "28" not in lists.place_of_service  # unassigned
    assert lists.claim_filing_indicator.codes >= {"CI", "MB", "MC", "BL", "ZZ"}
    assert len(lists.claim_filing_indicator.codes) == 23
    assert {"IL", "DC", "PR", "GU", "ON"} <= lists.states.codes and "XX" not in lists.states
    assert len(lists.taxonomy.codes) == 883 and "207Q00000X" in lists.taxonomy


def test_manifest_matches_the_packaged_files() -> None:
    folder = resources.files("medbill").joinpath("data", "codes")
    manifest = json.loads(folder.joinpath("manifest.json").read_text())
    for name, entry in manifest.items():
        text = folder.joinpath(name).read_text(encoding="utf-8")
        assert hashlib.sha256(text.encode()).hexdigest() == entry["sha256"], name
        assert text.count("\n") - 1 == entry["rows"], name


def test_place_of_service_must_be_a_cms_code() -> None:
    assert holds(encounter(place_of_service="00")) == [
        "CMS POS 2024-06: place of service 00 is not a CMS place-of-service code"
    ]
    assert holds(encounter(place_of_service="29")) != []  # unassigned
    assert found(encounter(place_of_service="12"), "POS-CODE") == []


def test_claim_filing_indicator_must_be_an_sbr09_code() -> None:
    [f] = found(encounter(coverage__claim_filing_indicator="XX"), "SBR09-CODE")
    assert (f.severity, f.data_version) == ("hold", "X12 1032 (837P 005010X222A1)")
    assert f.message == (
        "X12 1032 (837P 005010X222A1): claim filing indicator XX is not a claim filing indicator code (SBR09), "
        "e.g. CI, MB, MC, BL"
    )
    assert holds(encounter(coverage__claim_filing_indicator="MB")) == []


def test_state_codes_on_every_address_without_quoting_a_patients() -> None:
    enc = encounter(billing_provider__address__state="XX", patient__address__state="ZZ")
    assert holds(enc) == [
        "X12 states (pyx12 codes.xml): billing provider address (2010AA): state XX is not a US state, "
        "territory or Canadian province code",
        "X12 states (pyx12 codes.xml): patient address: the state is not a US state, territory or Canadian "
        "province code",
    ]
    assert holds(encounter(patient__address__state="PR")) == []


def test_subscriber_address_state() -> None:
    person = {
        "last_name": "Other",
        "first_name": "Ann",
        "date_of_birth": "1960-01-01",
        "sex": "F",
        "address": {"line1": "1 A St", "city": "Springfield", "state": "QQ", "postal_code": "62701"},
    }
    enc = encounter(subscriber={"relationship": "spouse", "person": person})
    assert [f.message.split(": ", 1)[1] for f in found(enc, "STATE-CODE")] == [
        "subscriber address: the state is not a US state, territory or Canadian province code"
    ]


def test_taxonomy_must_be_in_the_nucc_list() -> None:
    enc = encounter(billing_provider__taxonomy="207Q00001X", rendering_provider__taxonomy="208D00000X")
    assert holds(enc) == ["NUCC 25.1: billing provider taxonomy 207Q00001X is not in the NUCC provider taxonomy"]
    enc = encounter(rendering_provider__taxonomy="999999999X")
    assert holds(enc) == ["NUCC 25.1: rendering provider taxonomy 999999999X is not in the NUCC provider taxonomy"]


def test_generator_reproduces_the_packaged_files() -> None:
    source = reference_data()
    spec = importlib.util.spec_from_file_location("gen_code_lists", REPO_ROOT / "scripts" / "gen_code_lists.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    folder = resources.files("medbill").joinpath("data", "codes")
    for name, text in module.build(source).items():
        assert folder.joinpath(name).read_text(encoding="utf-8") == text, f"stale: {name}"


def test_a_secondary_coverage_is_checked_like_the_primary() -> None:
    other = {
        "coverage": {"payer_id": "SEC02", "payer_name": "Second", "member_id": "S-1", "claim_filing_indicator": "XX"},
        "subscriber": {
            "relationship": "spouse",
            "person": {
                "last_name": "Roe",
                "first_name": "John",
                "date_of_birth": "1960-01-02",
                "sex": "M",
                "address": {"line1": "1 Main St", "city": "Springfield", "state": "ZZ", "postal_code": "62701"},
            },
        },
    }
    assert holds(encounter(other_coverages=[other])) == [
        "X12 1032 (837P 005010X222A1): coverage 2: claim filing indicator XX is not a claim filing indicator "
        "code (SBR09)",
        "X12 states (pyx12 codes.xml): coverage 2 subscriber address (2330A): the state is not a US state, "
        "territory or Canadian province code",
    ]
