"""Intake rejects only what is malformed; a well-formed record with a wrong code is held at coding."""

from __future__ import annotations

from typing import Any

import pytest
from coding_builders import PACKAGED, SCHEDULE, encounter_data

from medbill.coding import scrub
from medbill.intake.validate import validate_record


@pytest.mark.parametrize(
    ("overrides", "rule_id"),
    [
        ({"place_of_service": "00"}, "POS-CODE"),
        ({"coverage__claim_filing_indicator": "XX"}, "SBR09-CODE"),
        ({"billing_provider__address__state": "XX"}, "STATE-CODE"),
        ({"patient__address__state": "XX"}, "STATE-CODE"),
        ({"billing_provider__taxonomy": "207Q00001X"}, "TAXONOMY-CODE"),
        ({"billing_provider__address__line1": "PO Box 12"}, "BILLING-PO-BOX"),
        ({"place_of_service": "21"}, "SERVICE-FACILITY"),
        ({"billing_provider__tin": "071234567"}, "TIN-EIN-PREFIX"),
    ],
)
def test_accepted_at_intake_and_held_at_coding(overrides: dict[str, Any], rule_id: str) -> None:
    enc, rejections = validate_record(encounter_data(**overrides), 1)
    assert rejections == [] and enc is not None
    assert [f.rule_id for f in scrub(enc, PACKAGED, SCHEDULE).holds] == [rule_id]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"place_of_service": "1"}, "place_of_service"),
        ({"coverage__claim_filing_indicator": "X"}, "coverage.claim_filing_indicator"),
        ({"billing_provider__address__state": "X1"}, "billing_provider.address.state"),
        ({"billing_provider__taxonomy": "207Q0000"}, "billing_provider.taxonomy"),
        ({"billing_provider__tin": "000000000"}, "billing_provider"),
        ({"billing_provider__tin_qualifier": "XX"}, "billing_provider.tin_qualifier"),
    ],
)
def test_malformed_is_rejected_at_intake(overrides: dict[str, Any], field: str) -> None:
    enc, rejections = validate_record(encounter_data(**overrides), 1)
    assert enc is None and [r.field for r in rejections] == [field]
